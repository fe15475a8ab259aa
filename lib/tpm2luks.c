/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/error.h"
#include "core/parse.h"
#include "ext/json.h"
#include "core/log.h"
#include "core/secret.h"
#include "ext/crypto.h"
#include "pcr.h"
#include "tpm2luks.h"
#include "tpm2token.h"
#include "tpmfloor.h"

/* What systemd seals: 32 random bytes, whose padded base64 is the keyslot passphrase. */
#define TPM2_SECRET_SIZE 32

/* base64 of secret into new secret memory. */
static int passphrase_from_secret(const uint8_t *secret, size_t size, char **ret, size_t *ret_size)
{
	char *p = secret_alloc(BASE64_SIZE(size));
	int r;

	if (!p)
		return -ENOMEM;
	r = base64_encode_buf(secret, size, p, BASE64_SIZE(size));
	if (r < 0) {
		secret_free(p);
		return r;
	}
	*ret = p;
	*ret_size = strlen(p);
	return 0;
}

int tpm2luks_enroll(struct luks_volume *v, struct tpm_context *t, const void *unlock,
		    size_t unlock_size, const struct tpm2luks_enroll_params *p,
		    struct tpm2luks_enrolment *ret)
{
	_cleanup_(rsa_key_freep) struct rsa_key *key = NULL;
	_cleanup_(tpm_sealed_freep) struct tpm_sealed *sealed = NULL;
	_cleanup_secret_ uint8_t *secret = NULL;
	_cleanup_secret_ char *passphrase = NULL;
	_cleanup_free_ char *json = NULL;
	struct tpm_seal_params seal = {
		.primary_alg = p->primary_alg,
		.pubkey_pcr_mask = p->pubkey_pcr_mask,
		.hash_pcr_mask = p->hash_pcr_mask,
		.floor = p->floor,
	};
	struct tpm2_token token = {
		.pcr_bank = (char *)"sha256",
		.primary_alg = p->primary_alg,
		.hash_pcr_mask = p->hash_pcr_mask,
		.pubkey_pcr_mask = p->pubkey_pcr_mask,
		.has_floor = p->floor != NULL,
	};
	size_t passphrase_size;
	int keyslot, token_id, r;

	if (p->floor)
		token.floor = *p->floor;

	if (p->pubkey_pem) {
		r = rsa_key_from_public_pem(p->pubkey_pem, p->pubkey_pem_size, &key);
		if (r < 0)
			return log_debug_errno(
				r, "tpm2luks: the PCR public key is not an RSA PEM key");
		seal.pubkey = key;
		token.pubkey = (uint8_t *)p->pubkey_pem;
		token.pubkey_size = p->pubkey_pem_size;
	}

	secret = secret_alloc(TPM2_SECRET_SIZE);
	if (!secret)
		return -ENOMEM;
	r = crypto_random_bytes(secret, TPM2_SECRET_SIZE);
	if (r < 0)
		return r;
	r = tpm_seal(t, &seal, secret, TPM2_SECRET_SIZE, &sealed);
	if (r < 0)
		return r;
	r = passphrase_from_secret(secret, TPM2_SECRET_SIZE, &passphrase, &passphrase_size);
	if (r < 0)
		return r;

	r = luks_keyslot_add(v, unlock, unlock_size, passphrase, passphrase_size, &luks_pbkdf_tpm2,
			     &keyslot);
	if (r < 0)
		return log_debug_errno(r, "tpm2luks: adding the TPM keyslot failed: %m");

	token.keyslot = keyslot;
	token.blob = sealed->blob;
	token.blob_size = sealed->blob_size;
	token.policy_hash = sealed->policy_hash;
	token.policy_hash_size = sizeof(sealed->policy_hash);
	token.sealed_pcrs = sealed->hash_pcrs;
	r = tpm2_token_to_json(&token, &json);
	if (r >= 0)
		r = luks_token_set(v, -1, json, &token_id);
	if (r < 0) {
		int k = luks_keyslot_destroy(v, keyslot);
		if (k < 0)
			log_debug_errno(k, "tpm2luks: removing keyslot %d again failed: %m",
					keyslot);
		return log_debug_errno(r, "tpm2luks: writing the token failed: %m");
	}

	ret->keyslot = keyslot;
	ret->token = token_id;
	memcpy(ret->policy_hash, sealed->policy_hash, sizeof(ret->policy_hash));
	ret->unset_pcr_mask = tpm_pcr_values_unset(&sealed->hash_pcrs);
	return 0;
}

/* A systemd-tpm2 token, read and parsed; *ret_error says what was wrong (no "token N:"). */
static int token_read(struct luks_volume *v, int token_id, struct tpm2_token **ret,
		      char **ret_error)
{
	_cleanup_free_ char *json = NULL;
	int r;

	r = luks_token_get(v, token_id, &json);
	if (r < 0)
		return error_replace(ret_error, r, "cannot be read");
	return tpm2_token_from_json(json, strlen(json), ret, ret_error);
}

/*
 * The token's PCR key: the one enrolled in the token wins over the one the UKI carries
 * (p->pcrpkey). NULL when the token has no signed PCRs; -ENOKEY when it has and neither
 * carries a key; another -errno when the PEM is not an RSA key.
 */
static int token_key(const struct tpm2_token *token, const struct tpm2luks_unlock_params *p,
		     struct rsa_key **ret)
{
	const void *pem = token->pubkey ?: p->pcrpkey;
	size_t pem_size = token->pubkey ? token->pubkey_size : p->pcrpkey_size;

	*ret = NULL;
	if (token->pubkey_pcr_mask == 0)
		return 0;
	if (!pem)
		return -ENOKEY;
	return rsa_key_from_public_pem(pem, pem_size, ret);
}

/* Tries one token; *refusal and *why say why it did not open. */
static int unlock_token(struct luks_volume *v, struct tpm_context *t, int token_id,
			const struct tpm2luks_unlock_params *p, enum tpm_refusal *refusal,
			char **why)
{
	_cleanup_(tpm2_token_freep) struct tpm2_token *token = NULL;
	_cleanup_(rsa_key_freep) struct rsa_key *key = NULL;
	_cleanup_(pcr_signatures_freep) struct pcr_signatures *sigs = NULL;
	_cleanup_free_ char *json = NULL, *error = NULL;
	_cleanup_secret_ uint8_t *secret = NULL;
	_cleanup_secret_ char *passphrase = NULL;
	struct tpm_unseal_params u = {};
	size_t secret_size, passphrase_size;
	int r;

	r = token_read(v, token_id, &token, &error);
	if (r < 0)
		return error_replace(why, r, "token %d: %s", token_id, strna(error));
	if (token->pin)
		return error_replace(why, -EOPNOTSUPP,
				     "token %d: needs a TPM PIN, which Airlock does not support",
				     token_id);
	if (!streq(token->pcr_bank, "sha256"))
		return error_replace(why, -EOPNOTSUPP,
				     "token %d: PCR bank %s is not supported (only sha256)",
				     token_id, token->pcr_bank);

	u = (struct tpm_unseal_params){
		.primary_alg = token->primary_alg,
		.blob = token->blob,
		.blob_size = token->blob_size,
		.policy_hash = token->policy_hash,
		.policy_hash_size = token->policy_hash_size,
		.hash_pcr_mask = token->hash_pcr_mask,
		.pubkey_pcr_mask = token->pubkey_pcr_mask,
		.floor = token->has_floor ? &token->floor : NULL,
	};

	if (token->has_floor && p->check_floor) {
		uint64_t floor;

		r = tpm_floor_read(t, &token->floor, &floor);
		if (r == -ENOENT || r == -ESTALE || r == -EMEDIUMTYPE) {
			*refusal = TPM_REFUSAL_FLOOR_GONE;
			return error_replace(why, -EPERM, "token %d: %s", token_id,
					     tpm_refusal_to_string(*refusal));
		}
		if (r < 0)
			return error_replace(why, r, "token %d: reading the version floor: %s",
					     token_id, strerror(-r));
		if (p->security_version < floor) {
			*refusal = TPM_REFUSAL_BELOW_FLOOR;
			return error_replace(why, -EPERM,
					     "token %d: this release's security version %" PRIu64
					     " is below the version floor %" PRIu64
					     " kept in the TPM: it is older than a release this "
					     "appliance has already run, so the TPM was not asked "
					     "for the key",
					     token_id, p->security_version, floor);
		}
	}

	if (token->pubkey_pcr_mask != 0) {
		r = token_key(token, p, &key);
		if (r == -ENOKEY)
			return error_replace(
				why, -ENOKEY,
				"token %d: no PCR public key in the token or the boot image",
				token_id);
		if (r < 0)
			return error_replace(why, r,
					     "token %d: the PCR public key is not an RSA PEM key",
					     token_id);
		if (!p->pcrsig) {
			*refusal = TPM_REFUSAL_NOT_SIGNED;
			return error_replace(why, -ENOKEY,
					     "token %d: the boot image carries no PCR signature",
					     token_id);
		}
		error = mfree(error);
		r = pcr_signatures_parse(p->pcrsig, p->pcrsig_size, key, token->pubkey_pcr_mask,
					 &sigs, &error);
		if (r < 0)
			return error_replace(why, r, "token %d: the PCR signature is malformed: %s",
					     token_id, strna(error));
		if (sigs->n_entries == 0 && sigs->n_other_keys > 0) {
			*refusal = TPM_REFUSAL_OTHER_KEY;
			return error_replace(why, -ENOKEY, "token %d: %s", token_id,
					     tpm_refusal_to_string(*refusal));
		}
		u.pubkey = key;
		u.signatures = sigs->entries;
		u.n_signatures = sigs->n_entries;
	}

	r = tpm_unseal(t, &u, &secret, &secret_size, refusal);
	if (r < 0) {
		if (*refusal != TPM_REFUSAL_NONE)
			return error_replace(why, r, "token %d: %s", token_id,
					     tpm_refusal_to_string(*refusal));
		return error_replace(why, r, "token %d: unsealing failed: %s", token_id,
				     strerror(-r));
	}
	r = passphrase_from_secret(secret, secret_size, &passphrase, &passphrase_size);
	if (r < 0)
		return r;
	r = luks_activate(v, p->name, token->keyslot, passphrase, passphrase_size);
	if (r < 0)
		return error_replace(why, r,
				     "token %d: the unsealed key did not open keyslot %d: %s",
				     token_id, token->keyslot, strerror(-r));
	return r;
}

int tpm2luks_unlock(struct luks_volume *v, struct tpm_context *t,
		    const struct tpm2luks_unlock_params *p, int *ret_keyslot,
		    enum tpm_refusal *ret_refusal, char **ret_reason)
{
	enum tpm_refusal first_refusal = TPM_REFUSAL_NONE;
	_cleanup_free_ char *first_reason = NULL;
	int first_error = 0, token_id = -1;

	for (;;) {
		enum tpm_refusal refusal = TPM_REFUSAL_NONE;
		_cleanup_free_ char *why = NULL;
		int r;

		r = luks_token_find(v, TPM2_TOKEN_TYPE, token_id + 1, &token_id);
		if (r == -ENOENT)
			break;
		if (r < 0)
			return r;
		r = unlock_token(v, t, token_id, p, &refusal, &why);
		if (r >= 0) {
			if (ret_keyslot)
				*ret_keyslot = r;
			return 0;
		}
		log_debug_errno(r, "tpm2luks: %s", strna(why));
		if (first_error == 0) {
			first_error = r;
			first_refusal = refusal;
			first_reason = TAKE_PTR(why);
		}
	}
	if (first_error == 0) {
		first_error = -ENOENT;
		(void)error_replace(&first_reason, 0, "no systemd-tpm2 token in the LUKS2 header");
	}
	if (ret_refusal)
		*ret_refusal = first_refusal;
	if (ret_reason)
		*ret_reason = TAKE_PTR(first_reason);
	return first_error;
}

int tpm2luks_wipe(struct luks_volume *v, int keep_token)
{
	int token_id = -1, removed = 0, r;

	for (;;) {
		_cleanup_(tpm2_token_freep) struct tpm2_token *token = NULL;

		r = luks_token_find(v, TPM2_TOKEN_TYPE, token_id + 1, &token_id);
		if (r == -ENOENT)
			return removed;
		if (r < 0)
			return r;
		if (token_id == keep_token)
			continue;
		r = token_read(v, token_id, &token, NULL);
		if (r < 0 && r != -EBADMSG && r != -EOPNOTSUPP)
			return r; /* not readable at all; a malformed token is still removed */
		/* The token first: a keyslot nobody knows the passphrase of is harmless. */
		r = luks_token_remove(v, token_id);
		if (r < 0)
			return r;
		removed++;
		if (token) {
			r = luks_keyslot_destroy(v, token->keyslot);
			if (r < 0 && r != -ENOENT && r != -EINVAL)
				return r;
		}
	}
}

/* ---- state and re-seal ---- */

struct tpm2luks_state *tpm2luks_state_free(struct tpm2luks_state *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_tokens; i++)
		free(s->tokens[i].error);
	free(s->tokens);
	free(s);
	return NULL;
}

static int token_state(struct luks_volume *v, struct tpm_context *t, int token_id,
		       const struct tpm2luks_unlock_params *p, struct tpm2luks_token_state *st)
{
	_cleanup_(tpm2_token_freep) struct tpm2_token *token = NULL;
	_cleanup_(rsa_key_freep) struct rsa_key *key = NULL;
	_cleanup_(pcr_signatures_freep) struct pcr_signatures *sigs = NULL;
	_cleanup_free_ char *error = NULL;
	struct tpm_pcr_values pcrs;
	uint8_t trial[TPM_DIGEST_SIZE];
	int r;

	*st = (struct tpm2luks_token_state){ .token = token_id, .keyslot = -1 };
	r = token_read(v, token_id, &token, &error);
	if (r == -EBADMSG || r == -EOPNOTSUPP)
		return error_replace(&st->error, 0, "%s", strna(error));
	if (r < 0)
		return r;
	st->keyslot = token->keyslot;
	st->hash_pcr_mask = token->hash_pcr_mask;
	st->pubkey_pcr_mask = token->pubkey_pcr_mask;
	st->sealed = token->sealed_pcrs;
	if (token->policy_hash_size == TPM_DIGEST_SIZE)
		memcpy(st->policy_hash, token->policy_hash, TPM_DIGEST_SIZE);
	if (token->pin || !streq(token->pcr_bank, "sha256"))
		return error_replace(&st->error, 0, "%s",
				     token->pin ?
					     "needs a TPM PIN, which Airlock does not support" :
					     "its PCR bank is not sha256");
	r = token_key(token, p, &key);
	if (r < 0)
		return error_replace(&st->error, 0, "%s",
				     r == -ENOKEY ? "no PCR public key in the token or the image" :
						    "its PCR public key is not an RSA PEM key");

	/* One read for both: the literal PCRs (st->now) and the signed ones (below). */
	r = tpm_pcr_read(t, token->hash_pcr_mask | token->pubkey_pcr_mask, &pcrs);
	if (r < 0)
		return r;
	st->now = pcrs;
	st->now.mask = token->hash_pcr_mask;
	for (unsigned i = 0; i < TPM_PCR_MAX; i++) {
		uint32_t bit = UINT32_C(1) << i;

		if ((st->sealed.mask & st->now.mask & bit) &&
		    memcmp(st->sealed.value[i], st->now.value[i], TPM_DIGEST_SIZE) != 0)
			st->changed_pcr_mask |= bit;
	}
	st->has_floor = token->has_floor;
	st->floor = token->floor;
	if (token->has_floor) {
		st->floor_r = tpm_floor_read(t, &token->floor, &st->floor_value);
		if (st->floor_r < 0)
			return 0; /* not the counter sealed to: nothing would unseal */
	}
	r = tpm_policy_trial(t, key, token->pubkey_pcr_mask, token->hash_pcr_mask,
			     token->has_floor ? &token->floor : NULL, trial);
	if (r < 0)
		return r;
	st->literal_ok = token->policy_hash_size == TPM_DIGEST_SIZE &&
			 memcmp(trial, token->policy_hash, TPM_DIGEST_SIZE) == 0;

	if (key && p->pcrsig) {
		struct tpm_pcr_values signed_now = pcrs;
		uint8_t zero[TPM_DIGEST_SIZE] = {}, pol[TPM_DIGEST_SIZE];

		error = mfree(error);
		r = pcr_signatures_parse(p->pcrsig, p->pcrsig_size, key, token->pubkey_pcr_mask,
					 &sigs, &error);
		if (r < 0)
			return error_replace(&st->error, 0,
					     "the image's PCR signature is malformed: %s",
					     strna(error));
		st->n_signatures = sigs->n_entries;
		signed_now.mask = token->pubkey_pcr_mask;
		r = tpm_policy_pcr(zero, &signed_now, pol);
		if (r < 0)
			return r;
		for (size_t i = 0; i < sigs->n_entries; i++)
			if (memcmp(sigs->entries[i].policy, pol, TPM_DIGEST_SIZE) == 0)
				st->signed_now = true;
	}
	return 0;
}

int tpm2luks_state_read(struct luks_volume *v, struct tpm_context *t,
			const struct tpm2luks_unlock_params *p, struct tpm2luks_state **ret)
{
	_cleanup_(tpm2luks_state_freep) struct tpm2luks_state *s = new0(struct tpm2luks_state, 1);
	int token_id = -1, r;

	if (!s)
		return -ENOMEM;
	for (;;) {
		struct tpm2luks_token_state *n;

		r = luks_token_find(v, TPM2_TOKEN_TYPE, token_id + 1, &token_id);
		if (r == -ENOENT)
			break;
		if (r < 0)
			return r;
		n = reallocarray(s->tokens, s->n_tokens + 1, sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->tokens = n;
		r = token_state(v, t, token_id, p, &s->tokens[s->n_tokens++]);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(s);
	return 0;
}

/* Whether keyslot is named by a token of any type. */
static int keyslot_has_token(struct luks_volume *v, int keyslot)
{
	for (int token_id = 0; token_id < LUKS_TOKENS_MAX; token_id++) {
		_cleanup_free_ char *json = NULL;
		_cleanup_(json_object_putp) struct json_object *o = NULL;
		struct json_object *slots;
		int r;

		r = luks_token_get(v, token_id, &json);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		/* A token we cannot read keeps its keyslots: never guess them away. */
		if (json_parse(json, strlen(json), &o, NULL) < 0 ||
		    json_get_array(o, "keyslots", &slots) < 0)
			return 1;
		for (size_t i = 0; i < json_object_array_length(slots); i++) {
			unsigned k;

			if (safe_atou(json_object_get_string(json_object_array_get_idx(slots, i)),
				      &k) < 0 ||
			    (int)k == keyslot)
				return 1;
		}
	}
	return 0;
}

/* Keyslots that look like a TPM keyslot (luks_pbkdf_tpm2) but no token names. */
static int remove_orphans(struct luks_volume *v, int recovery_keyslot, unsigned *ret_removed)
{
	for (int k = 0; k < LUKS_KEYSLOTS_MAX; k++) {
		struct luks_pbkdf kdf;
		int r;

		if (k == recovery_keyslot)
			continue;
		r = luks_keyslot_pbkdf(v, k, &kdf);
		if (r == -ENOENT || r == -EINVAL)
			continue;
		if (r < 0)
			return r;
		if (kdf.type != luks_pbkdf_tpm2.type ||
		    !streq_ptr(kdf.hash, luks_pbkdf_tpm2.hash) ||
		    kdf.iterations != luks_pbkdf_tpm2.iterations)
			continue;
		r = keyslot_has_token(v, k);
		if (r != 0) {
			if (r < 0)
				return r;
			continue;
		}
		r = luks_keyslot_destroy(v, k);
		if (r < 0)
			return r;
		log_debug("tpm2luks: removed keyslot %d, a TPM keyslot no token names", k);
		(*ret_removed)++;
	}
	return 0;
}

int tpm2luks_reseal(struct luks_volume *v, struct tpm_context *t, const void *recovery,
		    size_t recovery_size, const void *pcrpkey, size_t pcrpkey_size,
		    struct tpm2luks_reseal_result *ret, char **ret_error)
{
	_cleanup_(tpm2_token_freep) struct tpm2_token *old = NULL;
	struct tpm2luks_reseal_result res = { .recovery_keyslot = -1 };
	struct tpm2luks_enroll_params params;
	struct tpm_pcr_values now;
	int token_id = -1, keyslot, r;
	uint32_t unset;

	/* The recovery key first: nothing changes for someone who does not hold it. */
	keyslot = luks_activate(v, NULL, -1, recovery, recovery_size);
	if (keyslot == -EPERM)
		return error_set(ret_error, -EPERM,
				 "the recovery key does not open any keyslot of the volume");
	if (keyslot < 0)
		return error_set(ret_error, keyslot, "checking the recovery key failed: %s",
				 strerror(-keyslot));
	r = keyslot_has_token(v, keyslot);
	if (r < 0)
		return error_set(ret_error, r, "reading the volume's tokens failed: %s",
				 strerror(-r));
	if (r > 0)
		return error_set(ret_error, -EKEYREJECTED,
				 "that key opens keyslot %d, which a token (the TPM's) holds, not "
				 "the recovery keyslot",
				 keyslot);
	res.recovery_keyslot = keyslot;

	/* The first readable old token: what it was sealed to, and how to seal again. */
	for (;;) {
		r = luks_token_find(v, TPM2_TOKEN_TYPE, token_id + 1, &token_id);
		if (r == -ENOENT)
			return error_set(ret_error, -ENOENT,
					 "the volume has no TPM token to take the policy from");
		if (r < 0)
			return error_set(ret_error, r, "reading the volume's tokens failed: %s",
					 strerror(-r));
		if (token_read(v, token_id, &old, NULL) >= 0)
			break;
	}
	res.old_sealed = old->sealed_pcrs;
	if (old->policy_hash_size == TPM_DIGEST_SIZE)
		memcpy(res.old_policy_hash, old->policy_hash, TPM_DIGEST_SIZE);
	params = (struct tpm2luks_enroll_params){
		.primary_alg = old->primary_alg,
		.pubkey_pem = old->pubkey ?: pcrpkey,
		.pubkey_pem_size = old->pubkey ? old->pubkey_size : pcrpkey_size,
		.pubkey_pcr_mask = old->pubkey_pcr_mask,
		.hash_pcr_mask = old->hash_pcr_mask,
		.floor = old->has_floor ? &old->floor : NULL,
	};
	if (params.pubkey_pcr_mask != 0 && !params.pubkey_pem)
		return error_set(ret_error, -ENOKEY, "no PCR-signing public key to seal to");

	r = tpm_pcr_read(t, params.hash_pcr_mask, &now);
	if (r < 0)
		return error_set(ret_error, r, "reading the TPM's PCRs failed: %s", strerror(-r));
	unset = tpm_pcr_values_unset(&now);
	if (unset != 0) {
		unsigned pcr = (unsigned)__builtin_ctz(unset);

		return error_set(ret_error, -ENOMEDIUM,
				 "PCR %u holds nothing measured (all zeros or all ones): the "
				 "firmware does not measure Secure Boot state into it, so sealing "
				 "to it would protect nothing",
				 pcr);
	}

	if (params.floor) {
		uint64_t floor;

		r = tpm_floor_read(t, params.floor, &floor);
		if (r < 0)
			return error_set(
				ret_error, r == -ENOENT ? -ENXIO : r,
				"the token is sealed to the version floor's counter 0x%08x, "
				"which %s: a re-seal cannot bring it back, so the recovery key "
				"stays the only way in (a re-install defines a new one)",
				params.floor->index,
				r == -ENOENT ? "is not defined any more" :
				r == -ESTALE ? "holds less than the token's base" :
					       "cannot be read");
	}
	r = tpm2luks_enroll(v, t, recovery, recovery_size, &params, &res.enrolment);
	if (r < 0)
		return error_set(ret_error, r, "sealing a new key to the TPM failed: %s",
				 strerror(-r));

	/* The new token is complete: the old ones can go. */
	r = tpm2luks_wipe(v, res.enrolment.token);
	if (r >= 0)
		res.n_removed_tokens = (unsigned)r;
	if (r < 0)
		return error_set(
			ret_error, r,
			"the new token %d is in place, but removing the old ones failed: %s",
			res.enrolment.token, strerror(-r));
	r = remove_orphans(v, res.recovery_keyslot, &res.n_orphan_keyslots);
	if (r < 0)
		return error_set(ret_error, r,
				 "the new token %d is in place, but removing unused TPM keyslots "
				 "failed: %s",
				 res.enrolment.token, strerror(-r));
	*ret = res;
	return 0;
}

int tpm2luks_floor(struct luks_volume *v, struct tpm_floor_bind *ret)
{
	int token_id = -1, r;

	for (;;) {
		_cleanup_(tpm2_token_freep) struct tpm2_token *token = NULL;

		r = luks_token_find(v, TPM2_TOKEN_TYPE, token_id + 1, &token_id);
		if (r < 0)
			return r; /* -ENOENT: no more tokens */
		if (token_read(v, token_id, &token, NULL) >= 0 && token->has_floor) {
			*ret = token->floor;
			return 0;
		}
	}
}
