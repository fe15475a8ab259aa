/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <termios.h>

#include "core/error.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/secret.h"
#include "bootdisk.h"
#include "dataunlock.h"
#include "ext/json.h"
#include "ext/luks.h"
#include "ext/tpm.h"
#include "gpt.h"
#include "pcr.h"
#include "recovery.h"
#include "tpm2luks.h"

static const char *const method_names[_DATA_UNLOCK_METHOD_MAX] = {
	[DATA_UNLOCK_NONE] = "none",
	[DATA_UNLOCK_TPM] = "tpm",
	[DATA_UNLOCK_RECOVERY] = "recovery",
};

const char *data_unlock_method_to_string(enum data_unlock_method m)
{
	return m >= 0 && m < _DATA_UNLOCK_METHOD_MAX ? method_names[m] : NULL;
}

enum data_unlock_method data_unlock_method_from_string(const char *s)
{
	for (int i = 0; s && i < _DATA_UNLOCK_METHOD_MAX; i++)
		if (streq(method_names[i], s))
			return i;
	return _DATA_UNLOCK_METHOD_INVALID;
}

int data_partition_find(const struct disk_info *d, size_t *ret_index, char **ret_error)
{
	size_t found = SIZE_MAX;

	for (size_t i = 0; i < d->n_partitions; i++) {
		if (!streq_ptr(d->partitions[i].type_uuid, GPT_TYPE_VAR))
			continue;
		if (found != SIZE_MAX)
			return error_set(ret_error, -ENOTUNIQ,
					 "%s has two data partitions (%u and %u, type %s): "
					 "cannot tell which holds /var",
					 d->node, d->partitions[found].number,
					 d->partitions[i].number, GPT_TYPE_VAR);
		found = i;
	}
	if (found == SIZE_MAX)
		return -ENOENT;
	*ret_index = found;
	return 0;
}

static void say(const struct data_unlock_params *p, const char *fmt, ...) _printf_(2, 3);
static void say(const struct data_unlock_params *p, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (p->say)
		p->say(line, p->userdata);
}

/*
 * Once the volume is open, by the TPM or by the recovery key: the TPM's
 * dictionary-attack counter back to zero. The sealed key has no secret to guess (the
 * policy is PCRs and a signature), but the storage root key it is loaded under is
 * DA-protected as systemd 252 makes it, and the TPM counts every power cut after such
 * a use as a failure: without this, a few power cuts (3 on swtpm, 32 on many chips)
 * would lock it out and every boot would ask for the recovery key until it healed.
 * Only possible while the lockout hierarchy has no authorization, which anyone could
 * use for the same reset; when its owner set one, the counter is left, and said so.
 */
static void da_reset(const struct data_unlock_params *p, struct tpm_context *t, bool was_locked)
{
	int r = tpm_da_reset(t);

	if (r >= 0) {
		if (was_locked)
			say(p, "the TPM was in dictionary-attack lockout: reset now that the "
			       "recovery key opened the volume; the next boot asks the TPM again");
		return;
	}
	say(p, "the TPM's dictionary-attack counter %s (%s): power cuts count against it",
	    was_locked ? "stays in lockout" : "was not reset",
	    r == -EACCES ? "the lockout hierarchy has an authorization" : strerror(-r));
}

/* Asks the TPM; returns the keyslot opened, or -errno with *why (one phrase). */
static int try_tpm(const struct data_unlock_params *p, struct luks_volume *v,
		   struct data_unlock_result *res, char **why)
{
	_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
	const struct tpm2luks_unlock_params up = {
		.pcrsig = p->pcrsig,
		.pcrsig_size = p->pcrsig_size,
		.pcrpkey = p->pcrpkey,
		.pcrpkey_size = p->pcrpkey_size,
		.name = p->name,
		.check_floor = true,
		.security_version = p->security_version,
	};
	int r, keyslot = -1, cap_r;

	if (!p->tcti)
		return error_set(why, -ENODEV, "%s", p->no_tpm_reason ?: "there is no TPM");
	r = tpm_context_new(p->tcti, &t);
	if (r < 0)
		return error_set(why, r, "%s at %s (%s)", tpm_refusal_to_string(TPM_REFUSAL_NO_TPM),
				 p->tcti, strerror(-r));
	r = tpm2luks_unlock(v, t, &up, &keyslot, &res->refusal, why);
	if (r >= 0)
		da_reset(p, t, false);
	if (!p->cap_pcr)
		return r < 0 ? r : keyslot;

	/* Whatever the TPM answered: nothing after us may satisfy the signed policy. */
	cap_r = pcr_cap_kernel_boot(t);
	if (cap_r >= 0) {
		res->capped = true;
		return r < 0 ? r : keyslot;
	}
	if (r < 0) {
		say(p, "cannot cap PCR %d after the TPM refused (%s), continuing", PCR_KERNEL_BOOT,
		    strerror(-cap_r));
		return r;
	}
	/* The key was released and could be again: do not keep what it opened. */
	if (p->name)
		(void)luks_deactivate(p->name);
	free(*why);
	*why = NULL;
	return error_set(why, -ENOLINK,
			 "the TPM opened the data volume but PCR %d could not be capped (%s); "
			 "the volume was closed again",
			 PCR_KERNEL_BOOT, strerror(-cap_r));
}

/* "2 tries left", "1 try left", "no tries left" */
static const char *tries_left(unsigned left, char buf[static 32])
{
	if (left == 0)
		return "no tries left";
	snprintf(buf, 32, "%u %s left", left, left == 1 ? "try" : "tries");
	return buf;
}

static bool blank(const char *s)
{
	return s[strspn(s, " \t")] == '\0';
}

/* The recovery-key prompt; returns the keyslot opened or -errno with *ret_error. */
static int ask_recovery_key(const struct data_unlock_params *p, struct luks_volume *v,
			    char **ret_error)
{
	unsigned tries = p->tries ?: DATA_KEY_TRIES, failed = 0;

	while (failed < tries) {
		_cleanup_secret_ char *line = NULL, *key = NULL;
		_cleanup_free_ char *error = NULL;
		char left[32];
		int r;

		say(p,
		    "type the recovery key of the data volume and press Enter (try %u of %u; "
		    "it is not shown as you type)",
		    failed + 1, tries);
		r = secret_read_line(p->key_fds, p->n_key_fds, DATA_KEY_LINE_MAX, &line, NULL);
		if (r == -E2BIG) {
			failed++;
			say(p,
			    "that is not a recovery key: the line is longer than %d characters (%s)",
			    DATA_KEY_LINE_MAX, tries_left(tries - failed, left));
			continue;
		}
		if (r < 0)
			return error_set(ret_error, r,
					 "cannot read the recovery key from the console: %s",
					 r == -EPIPE ? "the input was closed" : strerror(-r));
		if (blank(line))
			continue; /* Enter alone (waking a screen up) is not a try */

		r = recovery_key_normalize(line, &key, &error);
		line = secret_free(line);
		if (r == -EINVAL || r == -ERANGE) {
			failed++;
			say(p, "that is not a recovery key: %s (%s)", strna(error),
			    tries_left(tries - failed, left));
			continue;
		}
		if (r < 0)
			return error_set(ret_error, r, "cannot read the recovery key: %s",
					 strerror(-r));

		r = luks_activate(v, p->name, -1, key, strlen(key));
		if (r >= 0)
			return r;
		if (r != -EPERM)
			return error_set(ret_error, r,
					 "the recovery key was typed but the data volume %s could "
					 "not be opened%s%s: %s",
					 p->node, p->name ? " as /dev/mapper/" : "",
					 strempty(p->name), strerror(-r));
		failed++;
		say(p, "wrong recovery key: it does not open the data volume (%s)",
		    tries_left(tries - failed, left));
	}
	return error_set(ret_error, -EPERM, "no recovery key opened the data volume %s in %u tries",
			 p->node, tries);
}

int data_unlock(const struct data_unlock_params *p, struct data_unlock_result *ret,
		char **ret_error)
{
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;
	struct data_unlock_result res = { .method = DATA_UNLOCK_TPM, .keyslot = -1 };
	_cleanup_free_ char *why = NULL;
	struct termios saved[8];
	bool echo_off[8] = {};
	int r, tpm_r;

	r = luks_open(p->node, &v);
	if (r == -EBADMSG || r == -EINVAL)
		return error_set(ret_error, r,
				 "the data partition %s holds no LUKS2 header (the install did not "
				 "finish?)",
				 p->node);
	if (r < 0)
		return error_set(ret_error, r, "cannot read the LUKS2 header of %s: %s", p->node,
				 strerror(-r));

	r = tpm_r = try_tpm(p, v, &res, &why);
	if (r == -ENOLINK)
		return error_set(ret_error, r, "%s", strna(why));
	if (r >= 0) {
		res.keyslot = r;
		*ret = res;
		return 0;
	}
	say(p, "the TPM did not open the data volume: %s", strna(why));
	if (tpm_r != -ENODEV)
		(void)snprintf(res.reason, sizeof(res.reason), "%s", strna(why));
	else
		res.refusal = TPM_REFUSAL_NO_TPM;

	for (size_t i = 0; i < p->n_key_fds && i < ELEMENTSOF(saved); i++)
		echo_off[i] = secret_echo_off(p->key_fds[i], &saved[i]) >= 0;
	r = ask_recovery_key(p, v, ret_error);
	for (size_t i = 0; i < p->n_key_fds && i < ELEMENTSOF(saved); i++)
		if (echo_off[i])
			(void)secret_echo_restore(p->key_fds[i], &saved[i]);
	if (r < 0)
		return r;
	if (tpm_r == -ENOLCK) {
		_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
		if (tpm_context_new(p->tcti, &t) >= 0)
			da_reset(p, t, true);
	}
	if (data_unlock_policy_mismatch(res.refusal))
		say(p,
		    "the TPM's policy no longer matches this machine (%s): the recovery key "
		    "opened the data volume; it will be asked for at every boot until the key "
		    "is sealed again with `airlock-tpm reseal`",
		    res.refusal == TPM_REFUSAL_PCR_CHANGED ?
			    "PCR 7, the firmware and Secure Boot state, changed since it was sealed" :
			    "PCR 11: this boot image is not signed for the enrolled key");
	if (res.refusal == TPM_REFUSAL_BELOW_FLOOR)
		say(p, "this release is older than the version floor: the recovery key opened the "
		       "data volume; boot a release at or above the floor (airlock-tpm status "
		       "shows it) and the TPM opens it again");
	res.method = DATA_UNLOCK_RECOVERY;
	res.keyslot = r;
	*ret = res;
	return 0;
}

int data_volume_node(char **ret, char **ret_error)
{
	_cleanup_(disk_info_freep) struct disk_info *disk = NULL;
	_cleanup_free_ char *error = NULL;
	struct bootdisk boot = {};
	size_t idx;
	char *node;
	int r;

	r = bootdisk_find(NULL, &boot, &error);
	if (r < 0)
		return error_set(ret_error, r, "%s", strna(error));
	r = disk_info_probe(boot.node, &disk);
	if (r < 0) {
		r = error_set(ret_error, r, "cannot read the partition table of %s: %s", boot.node,
			      strerror(-r));
		bootdisk_done(&boot);
		return r;
	}
	r = data_partition_find(disk, &idx, &error);
	if (r == -ENOENT)
		r = error_set(ret_error, r,
			      "%s has no data partition: this is the installer medium, which has "
			      "no data volume",
			      boot.node);
	else if (r < 0)
		r = error_set(ret_error, r, "%s", strna(error));
	else if (!disk->partitions[idx].node)
		r = error_set(ret_error, -ENODEV, "the data partition %u of %s has no device node",
			      disk->partitions[idx].number, boot.node);
	bootdisk_done(&boot);
	if (r < 0)
		return r;
	node = strdup(disk->partitions[idx].node);
	if (!node)
		return -ENOMEM;
	*ret = node;
	return 0;
}

bool data_unlock_policy_mismatch(enum tpm_refusal r)
{
	return r == TPM_REFUSAL_PCR_CHANGED || r == TPM_REFUSAL_NOT_SIGNED ||
	       r == TPM_REFUSAL_OTHER_KEY || r == TPM_REFUSAL_BAD_SIGNATURE;
}

uint32_t data_unlock_refusal_pcrs(enum tpm_refusal r, uint32_t literal_mask, uint32_t signed_mask)
{
	if (r == TPM_REFUSAL_PCR_CHANGED)
		return literal_mask;
	if (data_unlock_policy_mismatch(r))
		return signed_mask;
	return 0;
}

int data_unlock_report_write(const char *path, const struct data_unlock_result *r)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	const char *text;
	int k;

	if (!o)
		return -ENOMEM;
	k = json_add_string(o, "method", data_unlock_method_to_string(r->method));
	if (k >= 0 && r->method == DATA_UNLOCK_RECOVERY) {
		k = json_add_string(o, "refusal", tpm_refusal_to_name(r->refusal));
		if (k >= 0)
			k = json_add_string(o, "reason", r->reason);
	}
	if (k < 0)
		return k;
	text = json_format_compact(o);
	if (!text)
		return -ENOMEM;
	return write_file_atomic(path, text, strlen(text), 0644);
}

int data_unlock_report_read(const char *path, struct data_unlock_result *ret, char **ret_error)
{
	_cleanup_json_ struct json_object *o = NULL;
	_cleanup_free_ char *text = NULL, *error = NULL;
	struct data_unlock_result res = { .keyslot = -1 };
	const char *s;
	size_t size;
	int r;

	r = read_full_file(path, 4096, &text, &size);
	if (r < 0)
		return error_set(ret_error, r, "%s: cannot be read: %s", path, strerror(-r));
	r = json_parse(text, size, &o, &error);
	if (r < 0)
		return error_set(ret_error, r, "%s: not JSON: %s", path, strna(error));
	if (json_get_string(o, "method", &s) < 0 ||
	    (res.method = data_unlock_method_from_string(s)) < 0)
		return error_set(ret_error, -EBADMSG, "%s: \"method\": missing or unknown", path);
	if (res.method == DATA_UNLOCK_RECOVERY) {
		if (json_get_string(o, "refusal", &s) < 0 ||
		    (res.refusal = tpm_refusal_from_name(s)) < 0)
			return error_set(ret_error, -EBADMSG, "%s: \"refusal\": missing or unknown",
					 path);
		if (json_get_string(o, "reason", &s) >= 0)
			(void)snprintf(res.reason, sizeof(res.reason), "%s", s);
	}
	*ret = res;
	return 0;
}

int data_recovery_key_check(const char *node, const char *typed, int *ret_keyslot, char **ret_error)
{
	_cleanup_(luks_volume_freep) struct luks_volume *v = NULL;
	_cleanup_free_ char *error = NULL;
	char *key = NULL;
	int r;

	r = recovery_key_normalize(typed, &key, &error);
	if (r < 0)
		return error_set(ret_error, -EINVAL, "that is not a recovery key: %s",
				 strna(error));
	r = luks_open(node, &v);
	if (r < 0) {
		key = secret_free(key);
		return error_set(ret_error, r, "cannot read the LUKS2 header of %s: %s", node,
				 strerror(-r));
	}
	r = luks_activate(v, NULL, -1, key, strlen(key));
	key = secret_free(key);
	if (r == -EPERM)
		return error_set(ret_error, -EPERM,
				 "that is not the recovery key of the data volume %s", node);
	if (r < 0)
		return error_set(ret_error, r, "checking the key against %s: %s", node,
				 strerror(-r));
	if (ret_keyslot)
		*ret_keyslot = r;
	return 0;
}
