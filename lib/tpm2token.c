/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/error.h"
#include "core/hex.h"
#include "core/parse.h"
#include "ext/crypto.h"
#include "ext/json.h"
#include "ext/luks.h"
#include "tpm2token.h"

/* LUKS2 has at most 32 keyslots. */

struct tpm2_token *tpm2_token_free(struct tpm2_token *t)
{
	if (!t)
		return NULL;
	free(t->blob);
	free(t->pcr_bank);
	free(t->policy_hash);
	free(t->pubkey);
	free(t);
	return NULL;
}

struct json_object *tpm2_pcr_mask_json(uint32_t mask)
{
	_cleanup_json_ struct json_object *a = json_object_new_array();

	if (!a)
		return NULL;
	for (int i = 0; i < TPM_PCR_MAX; i++)
		if ((mask & (UINT32_C(1) << i)) && json_array_add(a, json_object_new_int(i)) < 0)
			return NULL;
	return TAKE_PTR(a);
}

/* pcr_array() as the token writer uses it: an error code, the array in *ret. */
static int pcr_array(uint32_t mask, struct json_object **ret)
{
	*ret = tpm2_pcr_mask_json(mask);
	return *ret ? 0 : -ENOMEM;
}

static int add_base64(struct json_object *o, const char *key, const void *p, size_t n)
{
	_cleanup_free_ char *s = base64_encode(p, n);
	if (!s)
		return -ENOMEM;
	return json_add_string(o, key, s);
}

struct json_object *tpm2_pcr_values_json(const struct tpm_pcr_values *v)
{
	_cleanup_json_ struct json_object *m = json_object_new_object();

	if (!m)
		return NULL;
	for (unsigned i = 0; i < TPM_PCR_MAX; i++) {
		_cleanup_free_ char *hex = NULL;
		char key[8];

		if (!(v->mask & (UINT32_C(1) << i)))
			continue;
		hex = hexmem(v->value[i], TPM_DIGEST_SIZE);
		(void)snprintf(key, sizeof(key), "%u", i);
		if (!hex || json_add_string(m, key, hex) < 0)
			return NULL;
	}
	return TAKE_PTR(m);
}

static int parse_sealed_pcrs(struct json_object *o, struct tpm_pcr_values *ret, char **ret_error)
{
	struct json_object *m;

	*ret = (struct tpm_pcr_values){};
	if (!json_object_object_get_ex(o, TPM2_TOKEN_SEALED_PCRS, &m))
		return 0;
	if (!json_object_is_type(m, json_type_object))
		return error_set(ret_error, -EBADMSG, "\"%s\": not an object",
				 TPM2_TOKEN_SEALED_PCRS);
	json_object_object_foreach(m, key, value) {
		const char *hex = json_object_get_string(value);
		unsigned pcr;

		if (safe_atou(key, &pcr) < 0 || pcr >= TPM_PCR_MAX ||
		    !json_object_is_type(value, json_type_string) ||
		    strlen(hex) != 2 * TPM_DIGEST_SIZE ||
		    unhex_exact(hex, ret->value[pcr], TPM_DIGEST_SIZE) < 0)
			return error_set(ret_error, -EBADMSG,
					 "\"%s\": \"%s\" is not a PCR with a SHA-256 value",
					 TPM2_TOKEN_SEALED_PCRS, key);
		ret->mask |= UINT32_C(1) << pcr;
	}
	return 0;
}

static int parse_floor(struct json_object *o, struct tpm2_token *t, char **ret_error)
{
	struct json_object *f;
	const char *index, *base;

	t->has_floor = false;
	if (!json_object_object_get_ex(o, TPM2_TOKEN_FLOOR, &f))
		return 0;
	if (!json_object_is_type(f, json_type_object) || json_get_string(f, "index", &index) < 0 ||
	    json_get_string(f, "base", &base) < 0)
		return error_set(ret_error, -EBADMSG,
				 "\"%s\": not an object with the strings \"index\" and \"base\"",
				 TPM2_TOKEN_FLOOR);
	if (tpm_nv_index_parse(index, &t->floor.index) < 0)
		return error_set(ret_error, -EBADMSG, "\"%s\": \"%s\" is not an NV index",
				 TPM2_TOKEN_FLOOR, index);
	if (safe_atou64(base, &t->floor.base) < 0)
		return error_set(ret_error, -EBADMSG, "\"%s\": base \"%s\" is not a number",
				 TPM2_TOKEN_FLOOR, base);
	t->has_floor = true;
	return 0;
}

static struct json_object *floor_json(const struct tpm_floor_bind *f)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	char index[16], base[24];

	(void)snprintf(index, sizeof(index), "0x%08" PRIx32, f->index);
	(void)snprintf(base, sizeof(base), "%" PRIu64, f->base);
	if (!o || json_add_string(o, "index", index) < 0 || json_add_string(o, "base", base) < 0)
		return NULL;
	return TAKE_PTR(o);
}

int tpm2_token_to_json(const struct tpm2_token *t, char **ret)
{
	_cleanup_json_ struct json_object *o = NULL, *keyslots = NULL;
	_cleanup_free_ char *policy_hex = NULL;
	struct json_object *a;
	char slot[16];
	const char *alg, *s;
	char *text;
	int r;

	alg = tpm_primary_alg_to_string(t->primary_alg);
	if (t->keyslot < 0 || t->keyslot >= LUKS_KEYSLOTS_MAX || !t->blob || t->blob_size == 0 ||
	    !t->policy_hash || t->policy_hash_size == 0 || !alg || isempty(t->pcr_bank) ||
	    (t->hash_pcr_mask | t->pubkey_pcr_mask) & ~TPM_PCR_MASK_ALL ||
	    (t->pubkey_pcr_mask != 0) != (t->pubkey != NULL))
		return -EINVAL;

	policy_hex = hexmem(t->policy_hash, t->policy_hash_size);
	o = json_object_new_object();
	keyslots = json_object_new_array();
	if (!policy_hex || !o || !keyslots)
		return -ENOMEM;
	(void)snprintf(slot, sizeof(slot), "%d", t->keyslot);

	r = json_add_string(o, "type", TPM2_TOKEN_TYPE);
	if (r >= 0)
		r = json_array_add_string(keyslots, slot);
	if (r >= 0)
		r = json_add(o, "keyslots", TAKE_PTR(keyslots));
	if (r >= 0)
		r = add_base64(o, "tpm2-blob", t->blob, t->blob_size);
	if (r >= 0 && (r = pcr_array(t->hash_pcr_mask, &a)) >= 0)
		r = json_add(o, "tpm2-pcrs", a);
	if (r >= 0)
		r = json_add_string(o, "tpm2-pcr-bank", t->pcr_bank);
	if (r >= 0)
		r = json_add_string(o, "tpm2-primary-alg", alg);
	if (r >= 0)
		r = json_add_string(o, "tpm2-policy-hash", policy_hex);
	if (r >= 0)
		r = json_add_bool(o, "tpm2-pin", t->pin);
	if (r >= 0 && t->pubkey) {
		r = pcr_array(t->pubkey_pcr_mask, &a);
		if (r >= 0)
			r = json_add(o, "tpm2_pubkey_pcrs", a);
		if (r >= 0)
			r = add_base64(o, "tpm2_pubkey", t->pubkey, t->pubkey_size);
	}
	if (r >= 0 && t->sealed_pcrs.mask != 0)
		r = json_add(o, TPM2_TOKEN_SEALED_PCRS, tpm2_pcr_values_json(&t->sealed_pcrs));
	if (r >= 0 && t->has_floor)
		r = json_add(o, TPM2_TOKEN_FLOOR, floor_json(&t->floor));
	if (r < 0)
		return r;

	s = json_format_compact(o);
	if (!s)
		return -ENOMEM;
	text = strdup(s);
	if (!text)
		return -ENOMEM;
	*ret = text;
	return 0;
}

static int parse_pcrs(struct json_object *o, const char *key, bool required, uint32_t *ret,
		      char **ret_error)
{
	struct json_object *a;
	uint32_t mask = 0;
	size_t n;
	int r;

	r = json_get_array(o, key, &a);
	if (r == -ENOENT && !required) {
		*ret = 0;
		return 0;
	}
	if (r < 0)
		return error_set(ret_error, -EBADMSG, "\"%s\": %s", key,
				 r == -ENOENT ? "missing" : "not an array");
	n = json_object_array_length(a);
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(a, i);
		int64_t pcr;

		if (!json_object_is_type(v, json_type_int))
			return error_set(ret_error, -EBADMSG, "\"%s\": not a list of PCR numbers",
					 key);
		pcr = json_object_get_int64(v);
		if (pcr < 0 || pcr >= TPM_PCR_MAX)
			return error_set(ret_error, -EBADMSG,
					 "\"%s\": PCR %" PRId64 " out of range", key, pcr);
		mask |= UINT32_C(1) << pcr;
	}
	*ret = mask;
	return 0;
}

static int parse_base64(struct json_object *o, const char *key, uint8_t **ret, size_t *ret_size,
			char **ret_error)
{
	const char *s;
	int r = json_get_string(o, key, &s);

	if (r < 0)
		return error_set(ret_error, -EBADMSG, "\"%s\": %s", key,
				 r == -ENOENT ? "missing" : "not a string");
	if (base64_decode(s, ret, ret_size) < 0 || *ret_size == 0)
		return error_set(ret_error, -EBADMSG, "\"%s\": not base64", key);
	return 0;
}

int tpm2_token_from_json(const char *json, size_t n, struct tpm2_token **ret, char **ret_error)
{
	static const char *const newer[] = { "tpm2_srk", "tpm2_salt", "tpm2_pcrlock" };
	_cleanup_(tpm2_token_freep) struct tpm2_token *t = NULL;
	_cleanup_json_ struct json_object *o = NULL;
	_cleanup_free_ char *error = NULL;
	struct json_object *keyslots, *v;
	const char *s;
	unsigned slot;
	int r;

	r = json_parse(json, n, &o, &error);
	if (r < 0)
		return error_set(ret_error, -EBADMSG, "not JSON: %s", strna(error));
	if (!json_object_is_type(o, json_type_object))
		return error_set(ret_error, -EBADMSG, "not a JSON object");
	if (json_get_string(o, "type", &s) < 0 || !streq(s, TPM2_TOKEN_TYPE))
		return error_set(ret_error, -EBADMSG, "\"type\": not \"" TPM2_TOKEN_TYPE "\"");
	for (size_t i = 0; i < ELEMENTSOF(newer); i++)
		if (json_object_object_get_ex(o, newer[i], NULL))
			return error_set(ret_error, -EOPNOTSUPP,
					 "\"%s\": made by a newer systemd, not supported",
					 newer[i]);

	t = new0(struct tpm2_token, 1);
	if (!t)
		return -ENOMEM;

	/* systemd uses the first keyslot listed. */
	if (json_get_array(o, "keyslots", &keyslots) < 0 ||
	    json_object_array_length(keyslots) == 0 ||
	    !json_object_is_type(v = json_object_array_get_idx(keyslots, 0), json_type_string) ||
	    safe_atou(json_object_get_string(v), &slot) < 0 || slot >= LUKS_KEYSLOTS_MAX)
		return error_set(ret_error, -EBADMSG, "\"keyslots\": not a list of keyslots");
	t->keyslot = (int)slot;

	r = parse_base64(o, "tpm2-blob", &t->blob, &t->blob_size, ret_error);
	if (r < 0)
		return r;
	r = parse_pcrs(o, "tpm2-pcrs", true, &t->hash_pcr_mask, ret_error);
	if (r < 0)
		return r;

	/* Optional since systemd 250; before, the bank was SHA-256. */
	r = json_get_string(o, "tpm2-pcr-bank", &s);
	if (r == -ENOENT)
		s = "sha256";
	else if (r < 0)
		return error_set(ret_error, -EBADMSG, "\"tpm2-pcr-bank\": not a string");
	t->pcr_bank = strdup(s);
	if (!t->pcr_bank)
		return -ENOMEM;

	/* Optional since systemd 250; before, the SRK was ECC. */
	r = json_get_string(o, "tpm2-primary-alg", &s);
	if (r == -ENOENT)
		t->primary_alg = TPM_PRIMARY_ECC;
	else if (r < 0 || (t->primary_alg = tpm_primary_alg_from_string(s)) < 0)
		return error_set(ret_error, -EBADMSG,
				 "\"tpm2-primary-alg\": not \"ecc\" or \"rsa\"");

	if (json_get_string(o, "tpm2-policy-hash", &s) < 0 ||
	    unhexmem(s, strlen(s), &t->policy_hash, &t->policy_hash_size) < 0 ||
	    t->policy_hash_size == 0)
		return error_set(ret_error, -EBADMSG, "\"tpm2-policy-hash\": missing or not hex");

	r = json_get_bool(o, "tpm2-pin", &t->pin);
	if (r == -ENOENT)
		t->pin = false;
	else if (r < 0)
		return error_set(ret_error, -EBADMSG, "\"tpm2-pin\": not a boolean");

	r = parse_pcrs(o, "tpm2_pubkey_pcrs", false, &t->pubkey_pcr_mask, ret_error);
	if (r < 0)
		return r;
	if (json_object_object_get_ex(o, "tpm2_pubkey", NULL)) {
		r = parse_base64(o, "tpm2_pubkey", &t->pubkey, &t->pubkey_size, ret_error);
		if (r < 0)
			return r;
	}
	r = parse_sealed_pcrs(o, &t->sealed_pcrs, ret_error);
	if (r < 0)
		return r;
	r = parse_floor(o, t, ret_error);
	if (r < 0)
		return r;

	*ret = TAKE_PTR(t);
	return 0;
}
