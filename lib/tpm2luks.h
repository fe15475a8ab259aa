/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A LUKS2 volume unlocked by the TPM, the systemd 252 way: what the installer calls
 * to enrol the data volume and airlock-init calls to open it.
 *
 * Enrolment: 32 random bytes are sealed (lib/ext/tpm.h) under the policy
 * PolicyPCR(11) -> PolicyAuthorize(PCR key) -> PolicyPCR(7); their padded base64 is
 * the passphrase of a new keyslot (PBKDF2/SHA-512/1000); a "systemd-tpm2" token
 * (lib/tpm2token.h) records the sealed blob, the PCRs and the key, so that
 * systemd-cryptsetup on a rescue system unlocks the same volume.
 *
 * Unlocking: every systemd-tpm2 token in turn; the UKI's .pcrsig supplies the
 * signed PCR 11 policy. Secrets stay in secret_alloc() memory and are wiped.
 */

#include <stdint.h>

#include "core/macro.h"
#include "ext/luks.h"
#include "ext/tpm.h"

struct tpm2luks_enroll_params {
	enum tpm_primary_alg primary_alg; /* TPM_PRIMARY_ECC */
	const void *pubkey_pem; /* the PCR-signing key (RSA, PEM text), or NULL */
	size_t pubkey_pem_size;
	uint32_t pubkey_pcr_mask; /* 1 << 11 */
	uint32_t hash_pcr_mask; /* 1 << 7 */
	const struct tpm_floor_bind *floor; /* the version floor (index, base), or NULL */
};

struct tpm2luks_enrolment {
	int keyslot;
	int token;
	uint8_t policy_hash[TPM_DIGEST_SIZE]; /* for the ledger; not a secret */
	/* Literal PCRs sealed to that hold nothing measured (tpm_pcr_values_unset()):
	 * the binding to them is ineffective; say so. */
	uint32_t unset_pcr_mask;
};

/*
 * Seals a new keyslot passphrase and writes the keyslot and its token. unlock is an
 * existing passphrase (e.g. the recovery key), or NULL right after luks_format().
 * Nothing is left behind on failure: a keyslot added is destroyed again.
 */
int tpm2luks_enroll(struct luks_volume *v, struct tpm_context *t, const void *unlock,
		    size_t unlock_size, const struct tpm2luks_enroll_params *p,
		    struct tpm2luks_enrolment *ret);

struct tpm2luks_unlock_params {
	const char *pcrsig; /* the UKI's .pcrsig (JSON), or NULL */
	size_t pcrsig_size;
	const void *pcrpkey; /* the UKI's .pcrpkey (PEM), used when a token has no key */
	size_t pcrpkey_size;
	const char *name; /* device-mapper name, or NULL to check only */
	/* Compare the booting release's security version with the floor of a token sealed
	 * to one before unsealing it (lib/tpmfloor.h); below it, nothing is unsealed. */
	bool check_floor;
	uint64_t security_version;
};

/*
 * Unseals and opens the volume with the first systemd-tpm2 token that works.
 * Returns the keyslot that opened. -ENOENT: no systemd-tpm2 token. On failure
 * *ret_refusal (optional) gets the TPM's reason and *ret_reason (optional) a
 * sentence naming the token and why it did not open the volume.
 */
int tpm2luks_unlock(struct luks_volume *v, struct tpm_context *t,
		    const struct tpm2luks_unlock_params *p, int *ret_keyslot,
		    enum tpm_refusal *ret_refusal, char **ret_reason);

/*
 * Removes every systemd-tpm2 token other than keep_token (-1: all) and its keyslots;
 * returns how many tokens it removed.
 */
int tpm2luks_wipe(struct luks_volume *v, int keep_token);

/* ---- the lifecycle after install: airlock-tpm(8) ---- */

/* One systemd-tpm2 token of a volume, and whether the TPM would release it. */
struct tpm2luks_token_state {
	int token, keyslot;
	char *error; /* the token cannot be used at all (malformed, PIN, bank): why; else NULL */
	uint32_t hash_pcr_mask, pubkey_pcr_mask;
	uint8_t policy_hash[TPM_DIGEST_SIZE];
	struct tpm_pcr_values sealed; /* mask 0: sealed before Airlock recorded the values */
	struct tpm_pcr_values now; /* the literal PCRs now */
	uint32_t changed_pcr_mask; /* literal PCRs whose value differs from sealed (when known) */
	bool literal_ok; /* the TPM's trial policy with today's PCRs equals the sealed policy */
	/* Sealed to a version floor (lib/tpmfloor.h): its binding, and tpm_floor_read()'s
	 * result (floor_r 0: floor_value is the floor; -ENOENT: the counter is gone, ...). */
	bool has_floor;
	struct tpm_floor_bind floor;
	int floor_r;
	uint64_t floor_value;
	unsigned n_signatures; /* entries of the image's .pcrsig by the token's key */
	bool signed_now; /* the current signed-PCR value is among them (false once capped) */
};

struct tpm2luks_state {
	struct tpm2luks_token_state *tokens;
	size_t n_tokens;
};
struct tpm2luks_state *tpm2luks_state_free(struct tpm2luks_state *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct tpm2luks_state *, tpm2luks_state_free);

/*
 * For every systemd-tpm2 token: the PCR values now, the sealed ones (when the token
 * records them), whether the policy's literal part holds (a trial session: nothing is
 * unsealed, no secret leaves the TPM, the dictionary-attack counter does not move) and
 * how many of the image's PCR signatures are by the token's key. A token "would unseal
 * at boot" when literal_ok and n_signatures > 0.
 */
int tpm2luks_state_read(struct luks_volume *v, struct tpm_context *t,
			const struct tpm2luks_unlock_params *p, struct tpm2luks_state **ret);

struct tpm2luks_reseal_result {
	int recovery_keyslot;
	struct tpm2luks_enrolment enrolment;
	struct tpm_pcr_values old_sealed; /* of the first old token, mask 0 if unknown */
	uint8_t old_policy_hash[TPM_DIGEST_SIZE];
	unsigned n_removed_tokens, n_orphan_keyslots;
};

/*
 * Seals a fresh secret to today's literal PCRs and the signed policy, after checking
 * that recovery opens a keyslot that is not a TPM keyslot (-EPERM: it opens none;
 * -EKEYREJECTED: it opens a TPM keyslot). It seals with the primary algorithm, key and
 * PCRs and version floor of the existing token (-ENOENT if there is none; pcrpkey, the
 * image's .pcrpkey, when that token carries no key of its own). -ENOMEDIUM when a literal PCR holds
 * nothing measured. The order keeps the volume openable at every point a power cut
 * could stop it: the new keyslot, then its token, then the old tokens and their
 * keyslots are removed, then TPM keyslots that no token names (left by an earlier cut
 * between the first two steps; only keyslots with the TPM keyslots' key derivation).
 * *ret_error (optional) says what was refused or failed.
 */
int tpm2luks_reseal(struct luks_volume *v, struct tpm_context *t, const void *recovery,
		    size_t recovery_size, const void *pcrpkey, size_t pcrpkey_size,
		    struct tpm2luks_reseal_result *ret, char **ret_error);

/* The version floor the volume's first token sealed to one names; -ENOENT: none is. */
int tpm2luks_floor(struct luks_volume *v, struct tpm_floor_bind *ret);
