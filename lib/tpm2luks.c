/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>

#include "core/error.h"
#include "core/log.h"
#include "core/secret.h"
#include "ext/crypto.h"
#include "pcr.h"
#include "tpm2luks.h"
#include "tpm2token.h"

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
	};
	struct tpm2_token token = {
		.pcr_bank = (char *)"sha256",
		.primary_alg = p->primary_alg,
		.hash_pcr_mask = p->hash_pcr_mask,
		.pubkey_pcr_mask = p->pubkey_pcr_mask,
	};
	size_t passphrase_size;
	int keyslot, token_id, r;

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

	r = luks_token_get(v, token_id, &json);
	if (r < 0)
		return error_replace(why, r, "token %d: cannot be read", token_id);
	r = tpm2_token_from_json(json, strlen(json), &token, &error);
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
	};

	if (token->pubkey_pcr_mask != 0) {
		/* The key enrolled in the token wins over the one the UKI carries. */
		const void *pem = token->pubkey ?: p->pcrpkey;
		size_t pem_size = token->pubkey ? token->pubkey_size : p->pcrpkey_size;

		if (!pem)
			return error_replace(
				why, -ENOKEY,
				"token %d: no PCR public key in the token or the boot image",
				token_id);
		r = rsa_key_from_public_pem(pem, pem_size, &key);
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
	int token_id = -1, r;

	for (;;) {
		_cleanup_(tpm2_token_freep) struct tpm2_token *token = NULL;
		_cleanup_free_ char *json = NULL;

		r = luks_token_find(v, TPM2_TOKEN_TYPE, token_id + 1, &token_id);
		if (r == -ENOENT)
			return 0;
		if (r < 0)
			return r;
		if (token_id == keep_token)
			continue;
		r = luks_token_get(v, token_id, &json);
		if (r < 0)
			return r;
		(void)tpm2_token_from_json(json, strlen(json), &token, NULL);
		/* The token first: a keyslot nobody knows the passphrase of is harmless. */
		r = luks_token_remove(v, token_id);
		if (r < 0)
			return r;
		if (token) {
			r = luks_keyslot_destroy(v, token->keyslot);
			if (r < 0 && r != -ENOENT && r != -EINVAL)
				return r;
		}
	}
}
