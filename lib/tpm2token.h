/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The "systemd-tpm2" LUKS2 token, exactly as systemd 252's systemd-cryptenroll
 * writes it (notes/tpm-probe/ §3), so that a rescue system with standard systemd
 * tools can unlock the data volume and `cryptsetup luksDump` explains it. Fields,
 * in the order written:
 *
 *   type               "systemd-tpm2"
 *   keyslots           ["1"]: the keyslot whose passphrase is sealed (decimal strings)
 *   tpm2-blob          base64 of the marshalled TPM2B_PRIVATE || TPM2B_PUBLIC
 *   tpm2-pcrs          [7]: PCRs bound by value (may be empty)
 *   tpm2-pcr-bank      "sha256"
 *   tpm2-primary-alg   "ecc" or "rsa" (the SRK template; missing means ecc)
 *   tpm2-policy-hash   lower-case hex of the sealed object's policy digest
 *   tpm2-pin           false (Airlock never sets a PIN)
 *   tpm2_pubkey_pcrs   [11]: PCRs authorized by signature (only with a key)
 *   tpm2_pubkey        base64 of the PCR-signing key's PEM file bytes (only with a key)
 *   airlock_sealed_pcrs {"7":"<hex>"}: the values the literal PCRs had when sealed
 *                      (Airlock's own field; not secret; systemd ignores it). It lets
 *                      airlock-tpm(8) say which PCR changed and what it was.
 *   airlock_floor      {"index":"0x01a1a700","base":"N"}: the version floor's NV counter
 *                      and its value when the floor was defined (lib/tpmfloor.h). The
 *                      sealed object's policy ends in PolicyNV(index >= base), so the
 *                      field cannot be changed or dropped without the TPM refusing.
 *                      systemd ignores it, so systemd-cryptsetup cannot open such a
 *                      token (its policy lacks the PolicyNV); the recovery key can.
 *
 * The sealed secret is not the volume key but 32 random bytes whose padded
 * base64 is the keyslot's passphrase (PBKDF2/SHA-512, 1000 iterations).
 * Building and parsing are pure functions.
 */

#include <stdint.h>

#include "core/macro.h"
#include "ext/json.h"
#include "ext/tpm.h"

#define TPM2_TOKEN_TYPE "systemd-tpm2"
#define TPM2_TOKEN_SEALED_PCRS "airlock_sealed_pcrs"
#define TPM2_TOKEN_FLOOR "airlock_floor"

struct tpm2_token {
	int keyslot;
	uint8_t *blob;
	size_t blob_size;
	uint32_t hash_pcr_mask;
	char *pcr_bank; /* "sha256" (anything else parses but cannot be unsealed here) */
	enum tpm_primary_alg primary_alg;
	uint8_t *policy_hash;
	size_t policy_hash_size;
	bool pin;
	uint32_t pubkey_pcr_mask;
	uint8_t *pubkey; /* PEM text, not NUL-terminated; NULL without a key */
	size_t pubkey_size;
	/* airlock_sealed_pcrs; mask 0 when absent (tokens sealed before it existed). */
	struct tpm_pcr_values sealed_pcrs;
	/* airlock_floor; has_floor false when absent (sealed without a version floor). */
	bool has_floor;
	struct tpm_floor_bind floor; /* index and base (the name is not kept) */
};

struct tpm2_token *tpm2_token_free(struct tpm2_token *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct tpm2_token *, tpm2_token_free);

/*
 * The JSON shapes of PCRs, as the token (and airlock-tpm's output and ledger records)
 * write them: [7, 11] for a mask, {"7":"<hex>"} for values. NULL when out of memory.
 */
struct json_object *tpm2_pcr_mask_json(uint32_t mask);
struct json_object *tpm2_pcr_values_json(const struct tpm_pcr_values *v);

/* Compact JSON text in systemd 252's field order; -EINVAL on an incomplete token. */
int tpm2_token_to_json(const struct tpm2_token *t, char **ret);

/*
 * Parses a token's JSON as systemd 252 reads it (missing tpm2-primary-alg means
 * ecc, missing tpm2-pin means false). Refuses other types, missing or mistyped
 * fields and the fields of newer systemd that change how to unseal (tpm2_srk,
 * tpm2_salt, tpm2_pcrlock): -EBADMSG or -EOPNOTSUPP, with *ret_error (optional)
 * naming the field.
 */
int tpm2_token_from_json(const char *json, size_t n, struct tpm2_token **ret, char **ret_error);
