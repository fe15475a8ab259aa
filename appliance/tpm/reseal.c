/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-tpm reseal: after a firmware or Secure Boot change moved PCR 7, seal the data
 * volume's key again, with the recovery key as the proof of authority. lib/tpm2luks does
 * the work in an order a power cut cannot break (airlock-tpm(8)); this file reads the
 * key, refuses with reasons, and records tpm.resealed (old and new PCR 7, never a secret)
 * or tpm.reseal-refused.
 */
#include <getopt.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#include "core/error.h"
#include "core/fileio.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/secret.h"
#include "recovery.h"
#include "tpm-tool.h"

static void help(void)
{
	printf("Usage: airlock-tpm reseal [OPTIONS]\n"
	       "\n"
	       "Seal the data volume's key to the TPM's PCR 7 as it is now and the signed PCR 11\n"
	       "policy, replacing the old TPM token. Needs the recovery key, typed (not shown)\n"
	       "or from a file.\n"
	       "\n"
	       "  -h --help                    this text\n"
	       "      --recovery-key-file FILE the recovery key, in a file (e.g. on a stick)\n" TPM_COMMON_HELP);
}

static struct ledger_recorder recorder;

static int record(const char *type, const char *device, const char *reason,
		  struct json_object *extra)
{
	_cleanup_json_ struct json_object *p = extra ?: json_object_new_object();
	int r;

	if (!p)
		return log_oom();
	r = json_add_string(p, "device", device);
	if (r >= 0 && reason)
		r = json_add_string(p, "reason", reason);
	if (r < 0)
		return log_oom();
	return ledger_recorder_append(&recorder, type, TAKE_PTR(p));
}

/* A refusal: said, recorded, EXIT_REFUSED. */
static int refuse(const char *device, const char *reason)
{
	log_error("refused: %s", reason);
	(void)record("tpm.reseal-refused", device, reason, NULL);
	return EXIT_REFUSED;
}

/* The recovery key, canonical, in secret memory; a refusal's reason in *ret_error. */
static int read_recovery_key(const char *file, char **ret, char **ret_error)
{
	_cleanup_secret_ char *line = NULL;
	_cleanup_free_ char *error = NULL;
	int r;

	if (file) {
		_cleanup_free_ char *text = NULL;
		size_t size;

		r = read_full_file(file, DATA_KEY_LINE_MAX, &text, &size);
		if (r < 0) {
			log_error_errno(r, "cannot read the recovery key from %s: %m", file);
			return r;
		}
		line = secret_alloc(size + 1);
		if (!line) {
			explicit_bzero(text, size);
			return log_oom();
		}
		memcpy(line, text, size);
		explicit_bzero(text, size);
	} else {
		const int fd = STDIN_FILENO;
		struct termios saved;
		bool echo_off;

		/* Asked on a terminal only: a pipe (the operator console's) needs no prompt. */
		if (isatty(fd)) {
			fprintf(stderr, "Type the recovery key of the data volume and press Enter "
					"(it is not shown): ");
			fflush(stderr);
		}
		echo_off = secret_echo_off(fd, &saved) >= 0;
		r = secret_read_line(&fd, 1, DATA_KEY_LINE_MAX, &line, NULL);
		if (echo_off) {
			(void)secret_echo_restore(fd, &saved);
			fputc('\n', stderr);
		}
		if (r == -E2BIG)
			return error_set(ret_error, -EINVAL,
					 "that is not a recovery key: the line is longer than %d "
					 "characters",
					 DATA_KEY_LINE_MAX);
		if (r < 0) {
			log_error_errno(r, "cannot read the recovery key: %m");
			return r;
		}
	}
	r = recovery_key_normalize(line, ret, &error);
	if (r == -EINVAL || r == -ERANGE)
		return error_set(ret_error, -EINVAL, "that is not a recovery key: %s",
				 strna(error));
	if (r < 0)
		return log_error_errno(r, "cannot read the recovery key: %m");
	return 0;
}

static struct json_object *resealed_payload(const struct tpm2luks_reseal_result *res,
					    const char *uuid, const struct tpm_pcr_values *now)
{
	_cleanup_json_ struct json_object *p = json_object_new_object();
	char old_hex[2 * TPM_DIGEST_SIZE + 1], new_hex[2 * TPM_DIGEST_SIZE + 1];
	int r;

	if (!p)
		return NULL;
	hex_to_buf(res->old_policy_hash, TPM_DIGEST_SIZE, old_hex);
	hex_to_buf(res->enrolment.policy_hash, TPM_DIGEST_SIZE, new_hex);
	r = json_add_string(p, "uuid", uuid);
	if (r >= 0)
		r = json_add_int(p, "token", res->enrolment.token);
	if (r >= 0)
		r = json_add_int(p, "keyslot", res->enrolment.keyslot);
	if (r >= 0)
		r = json_add_int(p, "recovery_keyslot", res->recovery_keyslot);
	if (r >= 0)
		r = json_add(p, "pcrs", tpm2_pcr_mask_json(now->mask));
	if (r >= 0)
		r = json_add(p, "old_pcrs",
			     res->old_sealed.mask ? tpm2_pcr_values_json(&res->old_sealed) :
						    json_object_new_string("unknown"));
	if (r >= 0)
		r = json_add(p, "new_pcrs", tpm2_pcr_values_json(now));
	if (r >= 0)
		r = json_add_string(p, "old_policy_hash", old_hex);
	if (r >= 0)
		r = json_add_string(p, "new_policy_hash", new_hex);
	if (r >= 0)
		r = json_add_int(p, "removed_tokens", res->n_removed_tokens);
	if (r >= 0)
		r = json_add_int(p, "removed_unused_keyslots", res->n_orphan_keyslots);
	return r < 0 ? NULL : TAKE_PTR(p);
}

int verb_reseal(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "recovery-key-file", required_argument, NULL, ARG_VERB_FIRST },
		TPM_COMMON_OPTIONS,
		{},
	};
	struct tpm_options o = TPM_OPTIONS_INIT;
	_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;
	_cleanup_secret_ char *key = NULL;
	_cleanup_free_ char *device = NULL, *error = NULL;
	struct tpm2luks_reseal_result res = {};
	struct tpm_image_keys keys = {};
	struct tpm_pcr_values now = {};
	const char *key_file = NULL;
	struct tpm_info info;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		if (tpm_options_take(&o, c, optarg))
			continue;
		if (c == 'h') {
			help();
			return EXIT_SUCCESS;
		}
		if (c == ARG_VERB_FIRST) {
			key_file = optarg;
			continue;
		}
		return EXIT_USAGE;
	}
	if (optind != argc)
		return usage_error("reseal", "unexpected argument '%s'", argv[optind]);

	r = ledger_recorder_open(&recorder, o.ledger,
				 "this re-seal is NOT recorded in an audit ledger; its records are "
				 "logged instead");
	if (r < 0)
		return EXIT_FAILURE;
	r = tpm_volume_node(&o, &device);
	if (r < 0)
		return EXIT_FAILURE;
	r = luks_open(device, &v);
	if (r < 0) {
		log_error_errno(r, "%s: cannot read its LUKS2 header: %m", device);
		return EXIT_FAILURE;
	}
	r = tpm_image_keys_read(&o, &keys);
	if (r < 0)
		return EXIT_FAILURE;

	r = tpm_context_new(o.tcti, &t);
	if (r < 0) {
		_cleanup_free_ char *why = NULL;

		if (asprintf(&why, "there is no TPM at %s (%s)", o.tcti ?: TPM_DEFAULT_TCTI,
			     strerror(-r)) < 0)
			return log_oom();
		tpm_image_keys_done(&keys);
		return refuse(device, why);
	}
	r = tpm_info_read(t, &info);
	if (r < 0) {
		log_error_errno(r, "cannot read the TPM's state: %m");
		tpm_image_keys_done(&keys);
		return EXIT_FAILURE;
	}
	if (info.in_lockout) {
		tpm_image_keys_done(&keys);
		return refuse(device,
			      "the TPM is in dictionary-attack lockout: nothing can be sealed "
			      "until it recovers (airlock-tpm status says when)");
	}

	r = read_recovery_key(key_file, &key, &error);
	if (r < 0) {
		tpm_image_keys_done(&keys);
		return error ? refuse(device, error) : EXIT_FAILURE;
	}

	r = tpm2luks_reseal(v, t, key, strlen(key), keys.pcrpkey, keys.pcrpkey_size, &res, &error);
	key = secret_free(key);
	tpm_image_keys_done(&keys);
	if (r == -EPERM || r == -EKEYREJECTED || r == -ENOMEDIUM || r == -ENOLCK || r == -ENOENT ||
	    r == -ENOKEY)
		return refuse(device, strna(error));
	if (r < 0) {
		log_error("%s: re-sealing failed: %s", device, strna(error));
		(void)record("tpm.reseal-failed", device, error, NULL);
		return EXIT_FAILURE;
	}

	r = tpm_pcr_read(t, UINT32_C(1) << 7, &now);
	if (r < 0)
		return log_error_errno(r, "the key was sealed again, but reading PCR 7 back "
					  "failed: %m");
	{
		char old_hex[2 * TPM_DIGEST_SIZE + 1] = "unknown", new_hex[2 * TPM_DIGEST_SIZE + 1];

		if (res.old_sealed.mask & UINT32_C(1) << 7)
			hex_to_buf(res.old_sealed.value[7], TPM_DIGEST_SIZE, old_hex);
		hex_to_buf(now.value[7], TPM_DIGEST_SIZE, new_hex);
		printf("re-sealed %s: token %d (keyslot %d) seals to PCR 7 = %s (was %s); "
		       "%u old token%s removed\n",
		       device, res.enrolment.token, res.enrolment.keyslot, new_hex, old_hex,
		       res.n_removed_tokens, res.n_removed_tokens == 1 ? "" : "s");
	}
	r = ledger_recorder_append(&recorder, "tpm.resealed",
				   resealed_payload(&res, luks_volume_uuid(v), &now));
	if (r < 0)
		return log_error_errno(r, "the key was sealed again, but its record is missing "
					  "from the ledger");
	return EXIT_SUCCESS;
}
