/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The TPM through tpm2-tss ESAPI (lib/ext/tpm*.c are the only files that include tss2
 * headers).
 *
 * Sealing follows systemd 252 (notes/tpm-probe/): a transient storage root key
 * (SRK) with systemd 252's ECC P-256 template (attributes 0x00030072, no noDA),
 * a KEYEDHASH object holding the secret (fixedTPM|fixedParent, policy only),
 * and the policy
 *
 *     PolicyPCR(signed PCRs, e.g. 11) -> PolicyAuthorize(PCR key) -> PolicyPCR(literal PCRs, e.g. 7)
 *         [-> PolicyNV(version floor counter >= base)]
 *
 * The last step binds the object to one NV counter and the value it had when the floor
 * was defined (lib/tpmfloor.h): the object opens only while that counter exists, and
 * the base a token records cannot be changed without the TPM refusing.
 *
 * The sealed object's policy does not depend on the signed PCRs: the vendor signs
 * the PolicyPCR(11) digest of each UKI (see lib/pcr.h). Commands that carry the
 * secret run under an HMAC session salted by the SRK, so the secret crosses the bus
 * encrypted. Every object and session is flushed before a function returns (a raw
 * TCTI such as swtpm has no resource manager).
 *
 * Only the SHA-256 PCR bank is supported. PCR masks: bit n is PCR n.
 *
 * tss2 prints its own errors on stderr unless TSS2_LOG says otherwise;
 * tpm_context_new() sets TSS2_LOG=all+none when it is unset, so that nothing but
 * our callers speak. Failures are logged at debug level with the decoded TSS2_RC.
 */

#include <stdint.h>

#include "core/macro.h"
#include "ext/crypto.h"

#define TPM_PCR_MAX 24
#define TPM_DIGEST_SIZE 32 /* SHA-256 */
#define TPM_NAME_SIZE (2 + TPM_DIGEST_SIZE) /* nameAlg || digest */
#define TPM_PCR_MASK_ALL ((UINT32_C(1) << TPM_PCR_MAX) - 1)
#define TPM_DEFAULT_TCTI "device:/dev/tpmrm0"

enum tpm_primary_alg {
	TPM_PRIMARY_ECC, /* ECC P-256, systemd 252's default */
	TPM_PRIMARY_RSA, /* RSA-2048, systemd 252's fallback */
	_TPM_PRIMARY_ALG_MAX,
	_TPM_PRIMARY_ALG_INVALID = -EINVAL,
};

/* "ecc", "rsa" (the spelling of the systemd-tpm2 token's tpm2-primary-alg). */
const char *tpm_primary_alg_to_string(enum tpm_primary_alg a);
enum tpm_primary_alg tpm_primary_alg_from_string(const char *s);

/*
 * Why the TPM refused to release a secret, for messages that say why. Each has a
 * sentence from tpm_refusal_to_string().
 */
enum tpm_refusal {
	TPM_REFUSAL_NONE, /* not a refusal: an I/O, memory or input error */
	TPM_REFUSAL_NO_TPM, /* no TPM at the TCTI */
	TPM_REFUSAL_NOT_SIGNED, /* no signature for the current signed-PCR value (0x1C4) */
	TPM_REFUSAL_OTHER_KEY, /* signatures exist, but only by keys other than the enrolled one */
	TPM_REFUSAL_BAD_SIGNATURE, /* the signature does not verify with the key (0x2DB) */
	TPM_REFUSAL_PCR_CHANGED, /* literal PCRs (7) differ from when sealed (0x99D) */
	TPM_REFUSAL_WRONG_SRK, /* sealed by another TPM, or this one was cleared (0x1DF) */
	TPM_REFUSAL_LOCKOUT, /* dictionary-attack lockout (0x921) */
	TPM_REFUSAL_FLOOR_GONE, /* the floor's NV counter is not defined, or not the one sealed to */
	TPM_REFUSAL_BELOW_FLOOR, /* not asked: this release is below the version floor */
	TPM_REFUSAL_TPM_ERROR, /* any other TPM error */
	_TPM_REFUSAL_MAX,
	_TPM_REFUSAL_INVALID = -EINVAL,
};
const char *tpm_refusal_to_string(enum tpm_refusal r);
/* "none", "no-tpm", "not-signed", "other-key", "bad-signature", "pcr-changed",
 * "wrong-srk", "lockout", "tpm-error": the names in reports and ledger records. */
const char *tpm_refusal_to_name(enum tpm_refusal r);
enum tpm_refusal tpm_refusal_from_name(const char *s);

/*
 * Maps a TSS2_RC to -errno: 0 for success; TPM policy refusals to -EPERM, bad
 * signatures to -EKEYREJECTED, integrity failures (wrong SRK) to -ESTALE, lockout
 * to -ENOLCK, TPM warnings that ask for a retry to -EAGAIN, TPM memory exhaustion
 * to -ENOSPC, TCTI failures to -ENODEV, anything else to -EIO.
 */
int tpm_rc_to_errno(uint32_t rc);
/* Classifies a TSS2_RC returned by a command; TPM_REFUSAL_NONE for success. */
enum tpm_refusal tpm_rc_to_refusal(uint32_t rc);

/* A connection to a TPM. */
struct tpm_context;

/*
 * Opens a TCTI: "device:/dev/tpmrm0", "swtpm:host=127.0.0.1,port=2321",
 * "mssim:...", or an absolute device path. NULL or "" means TPM_DEFAULT_TCTI.
 * -ENODEV when nothing answers there.
 */
int tpm_context_new(const char *tcti, struct tpm_context **ret);
struct tpm_context *tpm_context_free(struct tpm_context *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct tpm_context *, tpm_context_free);
#define _cleanup_tpm_context_ _cleanup_(tpm_context_freep)

struct tpm_pcr_values {
	uint32_t mask;
	uint8_t value[TPM_PCR_MAX][TPM_DIGEST_SIZE]; /* only the entries in mask are meaningful */
};

int tpm_pcr_read(struct tpm_context *t, uint32_t mask, struct tpm_pcr_values *ret);
/*
 * The PCRs of v->mask that hold all zeros or all ones: nothing was measured into
 * them (firmware that does not measure Secure Boot state), so binding to them
 * protects nothing. systemd-cryptenroll warns about this; so should its callers.
 */
uint32_t tpm_pcr_values_unset(const struct tpm_pcr_values *v);
/*
 * Resets the TPM's dictionary-attack counter (TPM2_DictionaryAttackLockReset) with the
 * lockout hierarchy's empty authorization: -EACCES when its owner set one, -ENOLCK
 * when that authorization is itself locked out for a while.
 */
int tpm_da_reset(struct tpm_context *t);
/* Extends a SHA-256 PCR with a digest (tests, and capping a PCR after unlocking). */
int tpm_pcr_extend(struct tpm_context *t, unsigned pcr, const uint8_t digest[TPM_DIGEST_SIZE]);

/* ---- policy digests computed in software (TPM 2.0 Part 3), SHA-256 ---- */

/* PolicyPCR: H(old || TPM_CC_PolicyPCR || TPML_PCR_SELECTION || H(values in PCR order)). */
int tpm_policy_pcr(const uint8_t old[TPM_DIGEST_SIZE], const struct tpm_pcr_values *v,
		   uint8_t ret[TPM_DIGEST_SIZE]);
/*
 * The TPM name (0x000b || SHA-256 of the TPMT_PUBLIC) of an RSA public key as
 * LoadExternal sees it: sign|decrypt|userWithAuth, NULL scheme, exponent as is.
 */
int tpm_rsa_key_name(const struct rsa_key *k, uint8_t ret[TPM_NAME_SIZE]);
/* PolicyAuthorize with an empty policyRef: H(H(0 || TPM_CC_PolicyAuthorize || name)). */
int tpm_policy_authorize(const uint8_t name[TPM_NAME_SIZE], uint8_t ret[TPM_DIGEST_SIZE]);
/*
 * A sealed object's binding to the version floor's NV counter: PolicyNV(the counter at
 * index, read with the owner's authorization, is >= base, unsigned). name is the
 * index's TPM name (tpm_nv_name()), which the software digest needs; trial sessions
 * and unseals look it up themselves.
 */
struct tpm_floor_bind {
	uint32_t index;
	uint64_t base;
	uint8_t name[TPM_NAME_SIZE];
};
/* PolicyNV: H(old || TPM_CC_PolicyNV || H(base as 8 bytes BE || offset 0 || UNSIGNED_GE) || name). */
int tpm_policy_nv(const uint8_t old[TPM_DIGEST_SIZE], const struct tpm_floor_bind *f,
		  uint8_t ret[TPM_DIGEST_SIZE]);
/*
 * The sealing policy: PolicyAuthorize(pubkey) if pubkey is given, then
 * PolicyPCR(hash_pcrs) if hash_pcrs->mask is not empty, then PolicyNV(floor) if floor
 * is given.
 */
int tpm_policy_compute(const struct rsa_key *pubkey, const struct tpm_pcr_values *hash_pcrs,
		       const struct tpm_floor_bind *floor, uint8_t ret[TPM_DIGEST_SIZE]);
/*
 * The same policy as the TPM computes it in a trial session with the current PCR
 * values (PolicyPCR(pubkey_pcr_mask) first, as the unseal does, when a key is given).
 * floor (index and base; its name is not used) or NULL. -ENOENT when the floor's
 * index is not defined.
 */
int tpm_policy_trial(struct tpm_context *t, const struct rsa_key *pubkey, uint32_t pubkey_pcr_mask,
		     uint32_t hash_pcr_mask, const struct tpm_floor_bind *floor,
		     uint8_t ret[TPM_DIGEST_SIZE]);

/* The SRK template as a marshalled TPM2B_PUBLIC (for tests and diagnostics). */
int tpm_srk_template(enum tpm_primary_alg alg, uint8_t **ret, size_t *ret_size);

/* ---- sealing ---- */

struct tpm_seal_params {
	enum tpm_primary_alg primary_alg;
	const struct rsa_key *pubkey; /* PCR-signing key (RSA-2048), or NULL */
	uint32_t pubkey_pcr_mask; /* the PCRs it signs (11); not part of the object's policy */
	uint32_t hash_pcr_mask; /* literal PCRs (7), sealed to their current values */
	const struct tpm_floor_bind *floor; /* index and base, or NULL; the name is looked up */
};

struct tpm_sealed {
	uint8_t *blob; /* marshalled TPM2B_PRIVATE || TPM2B_PUBLIC */
	size_t blob_size;
	uint8_t policy_hash[TPM_DIGEST_SIZE];
	struct tpm_pcr_values hash_pcrs; /* the literal PCR values sealed to (not secret) */
};
struct tpm_sealed *tpm_sealed_free(struct tpm_sealed *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct tpm_sealed *, tpm_sealed_free);

/*
 * Seals secret (at most 128 bytes) to the policy. The software policy digest is
 * checked against the TPM's trial session before anything is created: -EPROTO if
 * they differ. The secret crosses the bus encrypted; tss2 keeps a plaintext copy of
 * the command's input in its context until tpm_context_free(), which does not wipe
 * it: free the context soon after sealing.
 */
int tpm_seal(struct tpm_context *t, const struct tpm_seal_params *p, const void *secret,
	     size_t secret_size, struct tpm_sealed **ret);

/* ---- unsealing ---- */

/* One signed PolicyPCR digest (a .pcrsig entry already matched to the key). */
struct tpm_policy_signature {
	uint32_t pcr_mask;
	uint8_t policy[TPM_DIGEST_SIZE];
	const uint8_t *sig; /* RSASSA-PKCS1-v1_5/SHA-256 over the 32 policy bytes */
	size_t sig_size;
};

struct tpm_unseal_params {
	enum tpm_primary_alg primary_alg;
	const uint8_t *blob;
	size_t blob_size;
	const uint8_t *policy_hash; /* the token's; checked before Unseal for a clear reason */
	size_t policy_hash_size;
	uint32_t hash_pcr_mask;
	const struct rsa_key *pubkey; /* NULL: no PolicyAuthorize */
	uint32_t pubkey_pcr_mask;
	const struct tpm_policy_signature *signatures; /* candidates for pubkey */
	size_t n_signatures;
	const struct tpm_floor_bind *floor; /* as sealed (index and base), or NULL */
};

/*
 * Unseals into secret_alloc() memory (*ret_secret, free with secret_free()).
 * On failure only, *ret_refusal (optional) says why the TPM refused, and the return
 * value is -ENOKEY (not signed), -EKEYREJECTED (bad signature), -EPERM (PCRs
 * changed), -ESTALE (wrong SRK), -ENOLCK (lockout) or another -errno.
 */
int tpm_unseal(struct tpm_context *t, const struct tpm_unseal_params *p, uint8_t **ret_secret,
	       size_t *ret_secret_size, enum tpm_refusal *ret_refusal);

/* ---- properties and dictionary-attack state (tpm-info.c) ---- */

struct tpm_info {
	char manufacturer[5]; /* TPM2_PT_MANUFACTURER: four ASCII letters ("IBM ", "MSFT") */
	char vendor[17]; /* TPM2_PT_VENDOR_STRING_1..4, trailing NULs and spaces cut */
	uint32_t firmware_version[2]; /* TPM2_PT_FIRMWARE_VERSION_1, _2 (vendor-specific) */
	uint32_t spec_level, spec_revision; /* TPM2_PT_LEVEL, TPM2_PT_REVISION (x100) */
	/* Dictionary-attack protection (TPM 2.0 Part 1 §19.8). */
	uint32_t lockout_counter; /* failedTries now */
	uint32_t max_auth_fail; /* failedTries at which the TPM locks out */
	uint32_t lockout_interval; /* seconds for failedTries to drop by one */
	uint32_t lockout_recovery; /* seconds before lockoutAuth may be tried again */
	bool in_lockout; /* TPMA_PERMANENT_INLOCKOUT */
	bool owner_auth_set, lockout_auth_set;
};

/*
 * Reads the fixed properties (manufacturer, firmware) and the dictionary-attack
 * state in one TPM2_GetCapability call each. Nothing is authorized, nothing changes.
 */
int tpm_info_read(struct tpm_context *t, struct tpm_info *ret);
/* The firmware version as most tools print it: the high and low 16 bits of
 * TPM2_PT_FIRMWARE_VERSION_1, then _2 in full ("1.38.0"), in new memory. */
int tpm_info_firmware_string(const struct tpm_info *i, char **ret);

/* ---- NV counters (tpm-nv.c) ---- */

/*
 * An NV index of type TPM2_NT_COUNTER in the owner hierarchy: 64 bits that only ever
 * increase, by one per TPM2_NV_Increment. The TPM starts a new counter at the highest
 * value any counter on it ever held (TPM 2.0 Part 1, NV counters): undefining and
 * defining it again never lowers it. Increments need auth (the index's authValue, e.g.
 * a secret kept on the data volume); reads need only the owner hierarchy's (empty)
 * authorization. Not TPMA_NV_ORDERLY: every increment is written to NV at once.
 */
#define TPM_NV_INDEX_RANGE 0x01000000U /* TPM2_HT_NV_INDEX in the handle's top byte */
#define TPM_NV_INDEX_RANGE_MASK 0xFF000000U
#define TPM_NV_COUNTER_ATTRIBUTES_DOC "nt=counter|authwrite|ownerread|authread|no_da"

struct tpm_nv_public {
	uint32_t index;
	uint32_t attributes; /* TPMA_NV */
	uint16_t size;
	bool counter; /* TPM2_NT_COUNTER */
	bool written; /* TPMA_NV_WRITTEN: incremented at least once */
	bool ours; /* exactly the attributes tpm_nv_counter_define() gives */
};

/* An NV index in hexadecimal ("0x01a1a701" or "01a1a701"): -EINVAL unless it is one. */
int tpm_nv_index_parse(const char *s, uint32_t *ret);
/* -EEXIST if the index is defined already (whatever it is). auth at most 32 bytes. */
int tpm_nv_counter_define(struct tpm_context *t, uint32_t index, const void *auth,
			  size_t auth_size);
/* -ENOENT if the index is not defined. */
int tpm_nv_read_public(struct tpm_context *t, uint32_t index, struct tpm_nv_public *ret);
/*
 * The counter's value: -ENOENT if not defined, -EMEDIUMTYPE if it is not a counter of 8
 * bytes, -ENODATA if it was never incremented (it holds no value yet).
 */
int tpm_nv_counter_read(struct tpm_context *t, uint32_t index, uint64_t *ret);
/* Increments by one with the index's auth; the new value in *ret (optional). -EACCES for
 * a wrong auth (which counts against nothing: the index is no_da). */
int tpm_nv_counter_increment(struct tpm_context *t, uint32_t index, const void *auth,
			     size_t auth_size, uint64_t *ret);
/* The index's TPM name (nameAlg || H(TPMS_NV_PUBLIC)), as ESAPI checked it. */
int tpm_nv_name(struct tpm_context *t, uint32_t index, uint8_t ret[TPM_NAME_SIZE]);
/* Removes the index (owner authorization, empty). -ENOENT if it is not defined. */
int tpm_nv_undefine(struct tpm_context *t, uint32_t index);
