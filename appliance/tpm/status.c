/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-tpm status: the TPM (manufacturer, firmware, PCR 7 and 11, dictionary-attack
 * state) and, for each systemd-tpm2 token of the data volume, whether the TPM would
 * release its key at the next boot of this image: a trial policy session, so nothing is
 * unsealed and the dictionary-attack counter does not move.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "core/hex.h"
#include "core/log.h"
#include "core/fileio.h"
#include "osrelease.h"
#include "pcr.h"
#include "tpm-tool.h"
#include "tpmnv.h"

static void help(void)
{
	printf("Usage: airlock-tpm status [OPTIONS]\n"
	       "\n"
	       "The TPM and whether it would open the data volume at the next boot.\n"
	       "\n"
	       "  -h --help               this text\n"
	       "      --json              one JSON object (fields in airlock-tpm(8))\n" TPM_COMMON_HELP);
}

struct status {
	const char *tcti;
	int tpm_error; /* 0, or why the TPM could not be read */
	struct tpm_info info;
	struct tpm_pcr_values pcrs; /* 7 and 11 */
	char *device;
	const char *uuid;
	int volume_error;
	struct tpm2luks_state *state;
	/* The ledger's high-water counter (lib/tpmnv.h): its value, or why there is none. */
	int ledger_counter_r;
	uint64_t ledger_counter;
	uint64_t security_version; /* the running image's (os-release), 0 when it says none */
};

static bool token_would_unseal(const struct tpm2luks_token_state *t, const struct status *s)
{
	return !t->error && t->literal_ok && (t->pubkey_pcr_mask == 0 || t->n_signatures > 0) &&
	       !s->info.in_lockout &&
	       (!t->has_floor || (t->floor_r >= 0 && t->floor_value <= s->security_version));
}

/* "floor 2 (counter 0x01a1a700, base 6)", or why there is none. */
static char *floor_string(const struct tpm2luks_token_state *t)
{
	char *p = NULL;

	if (!t->has_floor)
		return strdup("none: sealed without one (airlock-tpm reseal keeps it so)");
	if (t->floor_r >= 0) {
		if (asprintf(&p, "%" PRIu64 " (counter 0x%08" PRIx32 ", base %" PRIu64 ")",
			     t->floor_value, t->floor.index, t->floor.base) < 0)
			return NULL;
	} else if (asprintf(&p, "counter 0x%08" PRIx32 " %s", t->floor.index,
			    t->floor_r == -ENOENT ?
				    "is not defined any more: nothing unseals" :
			    t->floor_r == -ESTALE ?
				    "holds less than the token's base: not the one sealed to" :
				    "cannot be read") < 0)
		return NULL;
	return p;
}

static void print_text(const struct status *s)
{
	_cleanup_free_ char *fw = NULL;

	if (s->tpm_error) {
		printf("TPM:              none at %s (%s)\n", s->tcti, strerror(-s->tpm_error));
	} else {
		(void)tpm_info_firmware_string(&s->info, &fw);
		printf("TPM:              %s, manufacturer %s, vendor \"%s\", firmware %s, TPM 2.0 "
		       "revision %u.%02u\n",
		       s->tcti, s->info.manufacturer, s->info.vendor, strna(fw),
		       s->info.spec_revision / 100, s->info.spec_revision % 100);
		for (unsigned pcr = 0; pcr < TPM_PCR_MAX; pcr++) {
			char hex[2 * TPM_DIGEST_SIZE + 1];

			if (!(s->pcrs.mask & (UINT32_C(1) << pcr)))
				continue;
			hex_to_buf(s->pcrs.value[pcr], TPM_DIGEST_SIZE, hex);
			printf("PCR %-2u            %s\n", pcr, hex);
		}
		printf("Dictionary attack: %u of %u failures%s; one is forgiven every %u s\n",
		       s->info.lockout_counter, s->info.max_auth_fail,
		       s->info.in_lockout ? ", IN LOCKOUT: the TPM releases no key" : "",
		       s->info.lockout_interval);
		printf("Security version:  %" PRIu64 " (this image; a token sealed to a version "
		       "floor above it does not unseal)\n",
		       s->security_version);
		if (s->ledger_counter_r >= 0)
			printf("Ledger high-water: counter 0x%08x = %" PRIu64 "\n", TPMNV_LEDGER,
			       s->ledger_counter);
		else
			printf("Ledger high-water: counter 0x%08x %s\n", TPMNV_LEDGER,
			       s->ledger_counter_r == -ENOENT  ? "not defined (not kept here)" :
			       s->ledger_counter_r == -ENODATA ? "defined, never incremented" :
								 "unreadable");
	}
	if (s->volume_error) {
		printf("Data volume:      %s (%s)\n", s->device ?: "not found",
		       strerror(-s->volume_error));
		return;
	}
	printf("Data volume:      %s (LUKS2 %s)\n", s->device, strna(s->uuid));
	if (!s->state || s->state->n_tokens == 0) {
		printf("  no TPM token: only the recovery key opens it (airlock-tpm reseal)\n");
		return;
	}
	for (size_t i = 0; i < s->state->n_tokens; i++) {
		const struct tpm2luks_token_state *t = &s->state->tokens[i];
		_cleanup_free_ char *changed = NULL, *floor = NULL;

		printf("  token %d (keyslot %d): ", t->token, t->keyslot);
		if (t->error) {
			printf("cannot be used: %s\n", t->error);
			continue;
		}
		if (t->literal_ok)
			printf("PCR 7 matches what it was sealed to");
		else if (t->sealed.mask && t->changed_pcr_mask) {
			changed = tpm_pcr_mask_string(t->changed_pcr_mask);
			printf("PCR %s changed since it was sealed", strna(changed));
		} else
			printf("the literal PCRs no longer match the sealed policy");
		printf("; %u signature%s of this image by the enrolled key%s\n", t->n_signatures,
		       t->n_signatures == 1 ? "" : "s",
		       t->signed_now ? " (today's PCR 11 among them)" : "");
		floor = floor_string(t);
		printf("    version floor: %s\n", strna(floor));
		printf("    would unseal at the next boot of this image: %s\n",
		       token_would_unseal(t, s) ?
			       "yes" :
		       s->info.in_lockout ?
			       "no (the TPM is in lockout)" :
		       t->has_floor && t->floor_r < 0 ?
			       "no: the version floor's counter is not the one sealed to" :
		       !t->literal_ok ? "no: re-seal with the recovery key (airlock-tpm reseal)" :
					"no: this image carries no signature by its key");
	}
}

static struct json_object *status_json(const struct status *s)
{
	_cleanup_json_ struct json_object *o = json_object_new_object(), *tpm = NULL, *vol = NULL,
					  *tokens = NULL;
	int r;

	tpm = json_object_new_object();
	vol = json_object_new_object();
	tokens = json_object_new_array();
	if (!o || !tpm || !vol || !tokens)
		return NULL;
	r = json_add_string(tpm, "tcti", s->tcti);
	if (r >= 0)
		r = json_add_bool(tpm, "present", s->tpm_error == 0);
	if (r >= 0 && s->tpm_error)
		r = json_add_string(tpm, "error", strerror(-s->tpm_error));
	if (r >= 0 && !s->tpm_error) {
		_cleanup_free_ char *fw = NULL;
		struct json_object *da = json_object_new_object();

		if (tpm_info_firmware_string(&s->info, &fw) < 0 || !da)
			return NULL;
		r = json_add_string(tpm, "manufacturer", s->info.manufacturer);
		if (r >= 0)
			r = json_add_string(tpm, "vendor", s->info.vendor);
		if (r >= 0)
			r = json_add_string(tpm, "firmware", fw);
		if (r >= 0)
			r = json_add(tpm, "pcrs", tpm2_pcr_values_json(&s->pcrs));
		if (r >= 0)
			r = json_add(tpm, "dictionary_attack", da);
		if (r >= 0)
			r = json_add_int(da, "counter", s->info.lockout_counter);
		if (r >= 0)
			r = json_add_int(da, "max", s->info.max_auth_fail);
		if (r >= 0)
			r = json_add_int(da, "interval_sec", s->info.lockout_interval);
		if (r >= 0)
			r = json_add_int(da, "recovery_sec", s->info.lockout_recovery);
		if (r >= 0)
			r = json_add_bool(da, "lockout", s->info.in_lockout);
		if (r >= 0)
			r = json_add_int(tpm, "security_version", (int64_t)s->security_version);
		if (r >= 0 && s->ledger_counter_r >= 0)
			r = json_add_int(tpm, "ledger_counter", (int64_t)s->ledger_counter);
		else if (r >= 0)
			r = json_object_object_add(tpm, "ledger_counter", NULL) < 0 ? -ENOMEM : 0;
	}
	if (r >= 0)
		r = json_add_string(vol, "device", s->device);
	if (r >= 0 && s->volume_error)
		r = json_add_string(vol, "error", strerror(-s->volume_error));
	if (r >= 0 && s->uuid)
		r = json_add_string(vol, "uuid", s->uuid);
	for (size_t i = 0; r >= 0 && s->state && i < s->state->n_tokens; i++) {
		const struct tpm2luks_token_state *t = &s->state->tokens[i];
		struct json_object *j = json_object_new_object();
		char hex[2 * TPM_DIGEST_SIZE + 1];

		if (!j)
			return NULL;
		r = json_array_add(tokens, j);
		if (r >= 0)
			r = json_add_int(j, "token", t->token);
		if (r >= 0)
			r = json_add_int(j, "keyslot", t->keyslot);
		if (r >= 0 && t->error) {
			r = json_add_string(j, "error", t->error);
			continue;
		}
		hex_to_buf(t->policy_hash, TPM_DIGEST_SIZE, hex);
		if (r >= 0)
			r = json_add(j, "pcrs", tpm2_pcr_mask_json(t->hash_pcr_mask));
		if (r >= 0)
			r = json_add(j, "signed_pcrs", tpm2_pcr_mask_json(t->pubkey_pcr_mask));
		if (r >= 0)
			r = json_add_string(j, "policy_hash", hex);
		if (r >= 0 && t->sealed.mask)
			r = json_add(j, "sealed", tpm2_pcr_values_json(&t->sealed));
		if (r >= 0)
			r = json_add(j, "changed_pcrs", tpm2_pcr_mask_json(t->changed_pcr_mask));
		if (r >= 0)
			r = json_add_bool(j, "literal_ok", t->literal_ok);
		if (r >= 0)
			r = json_add_int(j, "signatures", t->n_signatures);
		if (r >= 0)
			r = json_add_bool(j, "signed_now", t->signed_now);
		if (r >= 0)
			r = json_add_bool(j, "would_unseal_at_boot", token_would_unseal(t, s));
		if (r >= 0 && t->has_floor) {
			struct json_object *f = json_object_new_object();
			char index[16];

			(void)snprintf(index, sizeof(index), "0x%08" PRIx32, t->floor.index);
			r = json_add(j, "floor", f);
			if (r >= 0)
				r = json_add_string(f, "index", index);
			if (r >= 0)
				r = json_add_int(f, "base", (int64_t)t->floor.base);
			if (r >= 0 && t->floor_r >= 0)
				r = json_add_int(f, "value", (int64_t)t->floor_value);
			else if (r >= 0)
				r = json_add_string(f, "error",
						    t->floor_r == -ENOENT ? "not-defined" :
						    t->floor_r == -ESTALE ? "below-base" :
									    "unreadable");
		} else if (r >= 0)
			r = json_object_object_add(j, "floor", NULL) < 0 ? -ENOMEM : 0;
	}
	if (r >= 0)
		r = json_add(vol, "tokens", TAKE_PTR(tokens));
	if (r >= 0)
		r = json_add(o, "tpm", TAKE_PTR(tpm));
	if (r >= 0)
		r = json_add(o, "volume", TAKE_PTR(vol));
	return r < 0 ? NULL : TAKE_PTR(o);
}

int verb_status(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, ARG_VERB_FIRST },
		TPM_COMMON_OPTIONS,
		{},
	};
	struct tpm_options o = TPM_OPTIONS_INIT;
	_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;
	struct tpm_image_keys keys = {};
	struct status s = {};
	bool json = false;
	int c, r, ret = EXIT_SUCCESS;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		if (tpm_options_take(&o, c, optarg))
			continue;
		if (c == 'h') {
			help();
			return EXIT_SUCCESS;
		}
		if (c == ARG_VERB_FIRST) {
			json = true;
			continue;
		}
		return EXIT_USAGE;
	}
	if (optind != argc)
		return usage_error("status", "unexpected argument '%s'", argv[optind]);

	s.tcti = o.tcti ?: TPM_DEFAULT_TCTI;
	r = tpm_context_new(o.tcti, &t);
	if (r >= 0)
		r = tpm_info_read(t, &s.info);
	if (r >= 0)
		r = tpm_pcr_read(t, UINT32_C(1) << 7 | UINT32_C(1) << PCR_KERNEL_BOOT, &s.pcrs);
	if (r >= 0)
		s.ledger_counter_r = tpm_nv_counter_read(t, TPMNV_LEDGER, &s.ledger_counter);
	{
		_cleanup_free_ char *osrel = NULL;

		if (read_full_file("/usr/lib/os-release", 64U << 10, &osrel, NULL) >= 0)
			(void)osrelease_security_version(osrel, &s.security_version);
	}
	if (r < 0) {
		s.tpm_error = r;
		t = tpm_context_free(t);
	}

	r = tpm_volume_node(&o, &s.device);
	if (r >= 0)
		r = tpm_image_keys_read(&o, &keys);
	if (r >= 0) {
		r = luks_open(s.device, &v);
		if (r < 0)
			log_error_errno(r, "%s: not a LUKS2 volume: %m", s.device);
	}
	if (r >= 0) {
		s.uuid = luks_volume_uuid(v);
		if (t) {
			r = tpm2luks_state_read(v, t,
						&(struct tpm2luks_unlock_params){
							.pcrsig = keys.pcrsig,
							.pcrsig_size = keys.pcrsig_size,
							.pcrpkey = keys.pcrpkey,
							.pcrpkey_size = keys.pcrpkey_size,
						},
						&s.state);
			if (r < 0)
				log_error_errno(r, "cannot read the TPM state of %s's tokens: %m",
						s.device);
		}
	}
	if (r < 0) {
		s.volume_error = r;
		ret = EXIT_FAILURE;
	}

	if (json) {
		_cleanup_json_ struct json_object *j = status_json(&s);

		if (!j)
			ret = log_oom();
		else
			printf("%s\n", json_object_to_json_string_ext(
					       j, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
	} else
		print_text(&s);

	tpm_image_keys_done(&keys);
	tpm2luks_state_free(s.state);
	free(s.device);
	return ret;
}
