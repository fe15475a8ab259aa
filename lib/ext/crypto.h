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
 * OpenSSL's subject-name hash of the first certificate in a PEM text (what
 * `openssl x509 -hash` prints and c_rehash links as HASH.0). -EBADMSG if no
 * certificate can be read.
 */
int x509_pem_subject_hash(const char *pem, size_t n, unsigned long *ret);
