/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Hashing, HMAC, randomness, base64 and RSA signatures through OpenSSL's
 * libcrypto. The only place that includes OpenSSL headers, apart from other
 * lib/ext wrappers that need their own OpenSSL types.
 */

#include <stdint.h>

#include "core/macro.h"

#define SHA256_DIGEST_SIZE 32
#define SHA256_HEX_SIZE 65

struct sha256_ctx {
	void *md_ctx; /* EVP_MD_CTX */
};

int sha256_init(struct sha256_ctx *c);
int sha256_update(struct sha256_ctx *c, const void *p, size_t n);
/* Writes the digest and releases the context. */
int sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_DIGEST_SIZE]);
/* Releases a context without a digest (NULL-safe, idempotent). */
void sha256_done(struct sha256_ctx *c);
int sha256_buf(const void *p, size_t n, uint8_t out[SHA256_DIGEST_SIZE]);
/* Hashes a whole file; *ret_size (optional) gets its length. */
int sha256_file(const char *path, uint8_t out[SHA256_DIGEST_SIZE], uint64_t *ret_size);
int sha256_fd(int fd, uint8_t out[SHA256_DIGEST_SIZE], uint64_t *ret_size);
void sha256_hex(const uint8_t digest[SHA256_DIGEST_SIZE], char out[SHA256_HEX_SIZE]);

int hmac_sha256(const void *key, size_t key_size, const void *data, size_t n,
		uint8_t out[SHA256_DIGEST_SIZE]);

/* Cryptographically secure random bytes (getrandom). */
int crypto_random_bytes(void *p, size_t n);

/* Standard base64 with padding, no newlines. */
char *base64_encode(const void *p, size_t n);
int base64_decode(const char *s, uint8_t **ret, size_t *ret_size);

/*
 * OpenSSL's subject-name hash of the first certificate in a PEM text (what
 * `openssl x509 -hash` prints and c_rehash links as HASH.0). -EBADMSG if no
 * certificate can be read.
 */
int x509_pem_subject_hash(const char *pem, size_t n, unsigned long *ret);

/* Base64 as above into a caller's buffer (e.g. secret memory) of at least BASE64_SIZE(n) bytes. */
#define BASE64_SIZE(n) (4 * (((size_t)(n) + 2) / 3) + 1)
int base64_encode_buf(const void *p, size_t n, char *out, size_t out_size);

/*
 * RSA keys for signing PCR policies (RSASSA-PKCS1-v1_5 with SHA-256, as
 * systemd-measure does). A key holds a public key and, when loaded from a
 * private key, the private half, which stays inside OpenSSL.
 */
struct rsa_key;

/* Reads a PEM private key (PKCS#8 or traditional); -EKEYREJECTED if it is not RSA. */
int rsa_key_load_private(const char *path, struct rsa_key **ret);
/* Parses a PEM SubjectPublicKeyInfo ("BEGIN PUBLIC KEY"); -EKEYREJECTED if not RSA. */
int rsa_key_from_public_pem(const void *pem, size_t n, struct rsa_key **ret);
/* A fresh key with exponent 65537 (tests, key generation). */
int rsa_key_generate(unsigned bits, struct rsa_key **ret);
struct rsa_key *rsa_key_free(struct rsa_key *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rsa_key *, rsa_key_free);
#define _cleanup_rsa_key_ _cleanup_(rsa_key_freep)

bool rsa_key_has_private(const struct rsa_key *k);
unsigned rsa_key_bits(const struct rsa_key *k);
/* Big-endian modulus, exactly bits/8 bytes. */
int rsa_key_modulus(const struct rsa_key *k, uint8_t **ret, size_t *ret_size);
/* -ERANGE if the exponent does not fit 32 bits. */
int rsa_key_exponent(const struct rsa_key *k, uint32_t *ret);
/* The public key as PEM SubjectPublicKeyInfo text (what `openssl pkey -pubout` writes). */
int rsa_key_public_pem(const struct rsa_key *k, char **ret, size_t *ret_size);
/* The public key as PKCS#1 RSAPublicKey DER (i2d_PublicKey). */
int rsa_key_public_der_pkcs1(const struct rsa_key *k, uint8_t **ret, size_t *ret_size);
/* RSASSA-PKCS1-v1_5 over SHA-256(data); needs the private key (-ENOKEY otherwise). */
int rsa_sign_sha256(const struct rsa_key *k, const void *data, size_t n, uint8_t **ret_sig,
		    size_t *ret_sig_size);
/* 0 if sig is a valid signature of data, -EBADMSG if not. */
int rsa_verify_sha256(const struct rsa_key *k, const void *data, size_t n, const void *sig,
		      size_t sig_size);

/*
 * A reusable SHA-256 hasher for many small one-shot digests (the digest algorithm is
 * fetched once, the context reused): several times faster than sha256_buf() per call.
 */
struct sha256_hasher;
int sha256_hasher_new(struct sha256_hasher **ret);
struct sha256_hasher *sha256_hasher_free(struct sha256_hasher *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct sha256_hasher *, sha256_hasher_free);
int sha256_hasher_digest(struct sha256_hasher *h, const void *p, size_t n,
			 uint8_t out[SHA256_DIGEST_SIZE]);

/*
 * Ed25519 (RFC 8032) signatures. Private keys are stored as unencrypted PKCS#8 PEM
 * ("BEGIN PRIVATE KEY", mode 0600), public keys as SubjectPublicKeyInfo PEM ("BEGIN
 * PUBLIC KEY"): the formats `openssl genpkey -algorithm ed25519` and `openssl pkey
 * -pubout` use, so the openssl tool can check our signatures.
 */
#define ED25519_PUBLIC_KEY_SIZE 32
#define ED25519_SIGNATURE_SIZE 64

struct ed25519_key;
int ed25519_key_generate(struct ed25519_key **ret);
/* -EKEYREJECTED if the file is not an Ed25519 key; -EPERM if a private key file is
 * readable or writable by group or others. */
int ed25519_key_load_private(const char *path, struct ed25519_key **ret);
int ed25519_key_load_public(const char *path, struct ed25519_key **ret);
int ed25519_key_from_raw_public(const uint8_t raw[ED25519_PUBLIC_KEY_SIZE],
				struct ed25519_key **ret);
/* Atomically writes the private key (mode 0600); -EEXIST if path exists. */
int ed25519_key_save_private(struct ed25519_key *k, const char *path);
/* Atomically writes the public key (mode 0644); -EEXIST if path exists. */
int ed25519_key_save_public(struct ed25519_key *k, const char *path);
int ed25519_key_raw_public(struct ed25519_key *k, uint8_t out[ED25519_PUBLIC_KEY_SIZE]);
bool ed25519_key_is_private(const struct ed25519_key *k);
struct ed25519_key *ed25519_key_free(struct ed25519_key *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ed25519_key *, ed25519_key_free);
/* -ENOKEY if k has no private half. */
int ed25519_sign(struct ed25519_key *k, const void *msg, size_t n,
		 uint8_t sig[ED25519_SIGNATURE_SIZE]);
/* 0 if sig is a valid signature of msg by k, -EBADMSG if not. */
int ed25519_verify(struct ed25519_key *k, const void *msg, size_t n,
		   const uint8_t sig[ED25519_SIGNATURE_SIZE]);
