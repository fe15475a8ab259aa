/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/random.h>

#include "core/fd.h"
#include "core/hex.h"
#include "ext/crypto.h"

int sha256_init(struct sha256_ctx *c)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();

	if (!m)
		return -ENOMEM;
	if (EVP_DigestInit_ex(m, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(m);
		return -EIO;
	}
	c->md_ctx = m;
	return 0;
}

int sha256_update(struct sha256_ctx *c, const void *p, size_t n)
{
	return EVP_DigestUpdate(c->md_ctx, p, n) == 1 ? 0 : -EIO;
}

int sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_DIGEST_SIZE])
{
	unsigned len = 0;
	int r = EVP_DigestFinal_ex(c->md_ctx, out, &len) == 1 && len == SHA256_DIGEST_SIZE ? 0 :
											     -EIO;
	sha256_done(c);
	return r;
}

void sha256_done(struct sha256_ctx *c)
{
	EVP_MD_CTX_free(c->md_ctx);
	c->md_ctx = NULL;
}

int sha256_buf(const void *p, size_t n, uint8_t out[SHA256_DIGEST_SIZE])
{
	unsigned len = 0;
	return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 ? 0 : -EIO;
}

int sha256_fd(int fd, uint8_t out[SHA256_DIGEST_SIZE], uint64_t *ret_size)
{
	struct sha256_ctx c;
	uint8_t buf[256 * 1024];
	uint64_t total = 0;
	int r = sha256_init(&c);

	if (r < 0)
		return r;
	for (;;) {
		ssize_t k = read(fd, buf, sizeof(buf));
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			sha256_done(&c);
			return r;
		}
		if (k == 0)
			break;
		sha256_update(&c, buf, (size_t)k);
		total += (uint64_t)k;
	}
	if (ret_size)
		*ret_size = total;
	return sha256_final(&c, out);
}

int sha256_file(const char *path, uint8_t out[SHA256_DIGEST_SIZE], uint64_t *ret_size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return sha256_fd(fd, out, ret_size);
}

void sha256_hex(const uint8_t digest[SHA256_DIGEST_SIZE], char out[SHA256_HEX_SIZE])
{
	hex_to_buf(digest, SHA256_DIGEST_SIZE, out);
}

int hmac_sha256(const void *key, size_t key_size, const void *data, size_t n,
		uint8_t out[SHA256_DIGEST_SIZE])
{
	unsigned len = 0;
	if (!HMAC(EVP_sha256(), key, (int)key_size, data, n, out, &len) ||
	    len != SHA256_DIGEST_SIZE)
		return -EIO;
	return 0;
}

int crypto_random_bytes(void *p, size_t n)
{
	uint8_t *b = p;

	while (n > 0) {
		ssize_t k = getrandom(b, n, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

char *base64_encode(const void *p, size_t n)
{
	size_t out_size = 4 * ((n + 2) / 3) + 1;
	char *r = malloc(out_size);

	if (!r)
		return NULL;
	if (n > INT32_MAX) {
		free(r);
		return NULL;
	}
	EVP_EncodeBlock((unsigned char *)r, p, (int)n);
	return r;
}

int base64_decode(const char *s, uint8_t **ret, size_t *ret_size)
{
	size_t len = strlen(s), pad = 0;
	_cleanup_free_ uint8_t *b = NULL;
	int k;

	if (len % 4 != 0 || len > INT32_MAX)
		return -EINVAL;
	if (len > 0 && s[len - 1] == '=')
		pad++;
	if (len > 1 && s[len - 2] == '=')
		pad++;
	b = malloc(len / 4 * 3 + 1);
	if (!b)
		return -ENOMEM;
	k = EVP_DecodeBlock(b, (const unsigned char *)s, (int)len);
	if (k < 0 || (size_t)k < pad)
		return -EINVAL;
	*ret_size = (size_t)k - pad;
	*ret = TAKE_PTR(b);
	return 0;
}

int x509_pem_subject_hash(const char *pem, size_t n, unsigned long *ret)
{
	BIO *bio;
	X509 *x;

	if (n > INT32_MAX)
		return -EFBIG;
	bio = BIO_new_mem_buf(pem, (int)n);
	if (!bio)
		return -ENOMEM;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!x)
		return -EBADMSG;
	*ret = X509_subject_name_hash(x);
	X509_free(x);
	return 0;
}
