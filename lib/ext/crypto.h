/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Hashing, HMAC, randomness and base64 through OpenSSL's libcrypto. The only
 * place that includes OpenSSL headers, apart from other lib/ext wrappers that
 * need their own OpenSSL types.
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
