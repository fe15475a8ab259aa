/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * PCR 11 of a Unified Kernel Image and its signature, as systemd 252 does it
 * (notes/tpm-probe/ §2).
 *
 * systemd-stub 252 extends PCR 11 (SHA-256 bank), starting from zero, for each
 * section present in the fixed order .linux .osrel .cmdline .initrd .splash .dtb
 * .pcrpkey (never .pcrsig): first SHA-256 of the section name with its NUL, then
 * SHA-256 of the section's contents (VirtualSize bytes). systemd-pcrphase later
 * extends SHA-256 of each boot-phase word (no NUL). airlock-init unseals in an
 * initramfs without systemd, so Airlock signs the sections-only value (phase "").
 *
 * The vendor signs PolicyPCR(11 = value) from a zero digest with an RSA key
 * (RSASSA-PKCS1-v1_5/SHA-256) and the UKI carries the result as .pcrsig, in
 * systemd-measure's JSON:
 *
 *     {"sha256":[{"pcrs":[11],"pkfp":"<hex>","pol":"<hex>","sig":"<base64>"}]}
 *
 * pkfp is SHA-256 of the key's PKCS#1 RSAPublicKey DER, pol the signed policy
 * digest. The UKI's .pcrpkey is the PEM public key (rsa_key_public_pem()).
 */

#include <stdint.h>

#include "core/macro.h"
#include "ext/crypto.h"
#include "ext/tpm.h"

#define PCR_KERNEL_BOOT 11 /* systemd-stub's UKI measurements */
#define PCR_SECURE_BOOT_POLICY 7

enum pcr_uki_section {
	PCR_UKI_LINUX,
	PCR_UKI_OSREL,
	PCR_UKI_CMDLINE,
	PCR_UKI_INITRD,
	PCR_UKI_SPLASH,
	PCR_UKI_DTB,
	PCR_UKI_PCRPKEY,
	_PCR_UKI_SECTION_MAX,
	_PCR_UKI_SECTION_INVALID = -EINVAL,
};

/* ".linux", ".osrel", ... */
const char *pcr_uki_section_to_string(enum pcr_uki_section s);
enum pcr_uki_section pcr_uki_section_from_string(const char *s);

/* The measured sections of one UKI: which are present and the SHA-256 of each. */
struct pcr_uki {
	bool present[_PCR_UKI_SECTION_MAX];
	uint8_t digest[_PCR_UKI_SECTION_MAX][SHA256_DIGEST_SIZE];
};

int pcr_uki_add_data(struct pcr_uki *u, enum pcr_uki_section s, const void *data, size_t size);
int pcr_uki_add_file(struct pcr_uki *u, enum pcr_uki_section s, const char *path);

/*
 * The PCR 11 value after systemd-stub measured u and, if phase is not empty, each
 * ':'-separated phase word was extended ("enter-initrd:leave-initrd"). NULL or ""
 * is the sections-only value Airlock signs.
 */
int pcr_uki_predict(const struct pcr_uki *u, const char *phase, uint8_t ret[SHA256_DIGEST_SIZE]);

/*
 * The word airlock-init extends into PCR 11 once the data volume is open (or the TPM
 * refused it), the way systemd-pcrphase extends its boot phases: SHA-256 of these
 * ASCII bytes, no NUL. PCR 11 then holds pcr_uki_predict(u, PCR_KERNEL_BOOT_CAP_WORD),
 * which no release signs, so nothing that runs after the initramfs can satisfy the
 * signed policy and unseal the data volume's key again until the next boot.
 */
#define PCR_KERNEL_BOOT_CAP_WORD "airlock-initrd-done"
/* SHA-256 of PCR_KERNEL_BOOT_CAP_WORD: the digest extended. */
int pcr_cap_digest(uint8_t ret[SHA256_DIGEST_SIZE]);
/* Extends PCR 11 of the TPM with pcr_cap_digest(). */
int pcr_cap_kernel_boot(struct tpm_context *t);

/* PolicyPCR(pcr = value) from a zero digest: the "pol" that is signed. */
int pcr_policy_digest(unsigned pcr, const uint8_t value[SHA256_DIGEST_SIZE],
		      uint8_t ret[SHA256_DIGEST_SIZE]);

/* systemd's key fingerprint ("pkfp"): SHA-256 of the PKCS#1 RSAPublicKey DER. */
int pcr_key_fingerprint(const struct rsa_key *k, uint8_t ret[SHA256_DIGEST_SIZE]);

/*
 * Signs PolicyPCR(11 = v) for each of the n values and returns the .pcrsig text,
 * as `systemd-measure sign --json=short` writes it (with a final newline).
 */
int pcr_signature_build(const struct rsa_key *key, const uint8_t (*values)[SHA256_DIGEST_SIZE],
			size_t n, char **ret);

/* The entries of a .pcrsig that can unlock with one key and PCR set. */
struct pcr_signatures {
	struct tpm_policy_signature *entries; /* for the key (or without pkfp) and PCR set */
	size_t n_entries;
	size_t n_other_keys; /* entries for the same bank and PCRs, by other keys */
	uint8_t **sigs; /* owns entries[i].sig */
};
struct pcr_signatures *pcr_signatures_free(struct pcr_signatures *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pcr_signatures *, pcr_signatures_free);

/*
 * Parses a .pcrsig and keeps the SHA-256 entries for exactly pcr_mask whose pkfp
 * is key's (entries without pkfp are kept too: the TPM checks the signature).
 * -EBADMSG on malformed input, with *ret_error (optional) naming the entry and field.
 */
int pcr_signatures_parse(const char *json, size_t n, const struct rsa_key *key, uint32_t pcr_mask,
			 struct pcr_signatures **ret, char **ret_error);
