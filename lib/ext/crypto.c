/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "core/fd.h"
#include "core/fs.h"
#include "core/hex.h"
#include "core/secret.h"
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

int base64_encode_buf(const void *p, size_t n, char *out, size_t out_size)
{
	if (n > INT32_MAX / 2 || out_size < BASE64_SIZE(n))
		return -ENOBUFS;
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return 0;
}

struct rsa_key {
	EVP_PKEY *pkey;
	bool private;
};

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(BIGNUM *, BN_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free);

struct rsa_key *rsa_key_free(struct rsa_key *k)
{
	if (!k)
		return NULL;
	EVP_PKEY_free(k->pkey);
	free(k);
	return NULL;
}

static int rsa_key_wrap(EVP_PKEY **pkey, bool private, struct rsa_key **ret)
{
	struct rsa_key *k;

	if (EVP_PKEY_get_base_id(*pkey) != EVP_PKEY_RSA)
		return -EKEYREJECTED;
	k = new0(struct rsa_key, 1);
	if (!k)
		return -ENOMEM;
	k->pkey = TAKE_PTR(*pkey);
	k->private = private;
	*ret = k;
	return 0;
}

/* Never prompt on a terminal for a passphrase: an encrypted key is refused instead. */
static int no_passphrase_cb(char *buf, int size, int rwflag, void *userdata)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(bool *)userdata = true;
	return -1;
}

int rsa_key_load_private(const char *path, struct rsa_key **ret)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_secret_ char *pem = NULL;
	_cleanup_(BIO_freep) BIO *bio = NULL;
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
	bool wanted_passphrase = false;
	struct stat st;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	if (st.st_size > 64 * 1024)
		return -EFBIG;
	/* The private key's PEM text lives in locked memory that is wiped when freed. */
	pem = secret_alloc((size_t)st.st_size + 1);
	if (!pem)
		return -ENOMEM;
	n = loop_read(fd, pem, (size_t)st.st_size);
	if (n < 0)
		return (int)n;
	bio = BIO_new_mem_buf(pem, (int)n);
	if (!bio)
		return -ENOMEM;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase_cb, &wanted_passphrase);
	if (!pkey) {
		ERR_clear_error();
		return wanted_passphrase ? -ENOKEY : -EBADMSG;
	}
	return rsa_key_wrap(&pkey, true, ret);
}

int rsa_key_from_public_pem(const void *pem, size_t n, struct rsa_key **ret)
{
	_cleanup_(BIO_freep) BIO *bio = NULL;
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;

	if (n > INT32_MAX)
		return -EFBIG;
	bio = BIO_new_mem_buf(pem, (int)n);
	if (!bio)
		return -ENOMEM;
	pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (!pkey) {
		ERR_clear_error();
		return -EBADMSG;
	}
	return rsa_key_wrap(&pkey, false, ret);
}

int rsa_key_generate(unsigned bits, struct rsa_key **ret)
{
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = EVP_RSA_gen(bits);

	if (!pkey)
		return -EIO;
	return rsa_key_wrap(&pkey, true, ret);
}

bool rsa_key_has_private(const struct rsa_key *k)
{
	return k->private;
}

unsigned rsa_key_bits(const struct rsa_key *k)
{
	int b = EVP_PKEY_get_bits(k->pkey);
	return b > 0 ? (unsigned)b : 0;
}

int rsa_key_modulus(const struct rsa_key *k, uint8_t **ret, size_t *ret_size)
{
	_cleanup_(BN_freep) BIGNUM *bn = NULL;
	_cleanup_free_ uint8_t *b = NULL;
	size_t size = DIV_ROUND_UP(rsa_key_bits(k), 8);

	if (size == 0 || size > INT32_MAX)
		return -EINVAL;
	if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &bn) != 1)
		return -EIO;
	b = malloc(size);
	if (!b)
		return -ENOMEM;
	if (BN_bn2binpad(bn, b, (int)size) != (int)size)
		return -EIO;
	*ret = TAKE_PTR(b);
	*ret_size = size;
	return 0;
}

int rsa_key_exponent(const struct rsa_key *k, uint32_t *ret)
{
	_cleanup_(BN_freep) BIGNUM *bn = NULL;
	BN_ULONG w;

	if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, &bn) != 1)
		return -EIO;
	if (BN_num_bits(bn) > 32)
		return -ERANGE;
	w = BN_get_word(bn);
	*ret = (uint32_t)w;
	return 0;
}

static int bio_take(BIO *bio, char **ret, size_t *ret_size)
{
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);
	char *s;

	if (n <= 0 || !data)
		return -EIO;
	s = malloc((size_t)n + 1);
	if (!s)
		return -ENOMEM;
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	*ret = s;
	*ret_size = (size_t)n;
	return 0;
}

int rsa_key_public_pem(const struct rsa_key *k, char **ret, size_t *ret_size)
{
	_cleanup_(BIO_freep) BIO *bio = BIO_new(BIO_s_mem());

	if (!bio)
		return -ENOMEM;
	if (PEM_write_bio_PUBKEY(bio, k->pkey) != 1)
		return -EIO;
	return bio_take(bio, ret, ret_size);
}

int rsa_key_public_der_pkcs1(const struct rsa_key *k, uint8_t **ret, size_t *ret_size)
{
	unsigned char *der = NULL;
	int n = i2d_PublicKey(k->pkey, &der);
	uint8_t *b;

	if (n <= 0)
		return -EIO;
	/* Copy into malloc() memory so that callers free it with free(). */
	b = malloc((size_t)n);
	if (b)
		memcpy(b, der, (size_t)n);
	OPENSSL_free(der);
	if (!b)
		return -ENOMEM;
	*ret = b;
	*ret_size = (size_t)n;
	return 0;
}

int rsa_sign_sha256(const struct rsa_key *k, const void *data, size_t n, uint8_t **ret_sig,
		    size_t *ret_sig_size)
{
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
	_cleanup_free_ uint8_t *sig = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	size_t size = 0;

	if (!k->private)
		return -ENOKEY;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, k->pkey) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		return -EIO;
	if (EVP_DigestSign(ctx, NULL, &size, data, n) != 1 || size == 0)
		return -EIO;
	sig = malloc(size);
	if (!sig)
		return -ENOMEM;
	if (EVP_DigestSign(ctx, sig, &size, data, n) != 1)
		return -EIO;
	*ret_sig = TAKE_PTR(sig);
	*ret_sig_size = size;
	return 0;
}

int rsa_verify_sha256(const struct rsa_key *k, const void *data, size_t n, const void *sig,
		      size_t sig_size)
{
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;

	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, k->pkey) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		return -EIO;
	if (EVP_DigestVerify(ctx, sig, sig_size, data, n) != 1) {
		ERR_clear_error();
		return -EBADMSG;
	}
	return 0;
}

struct sha256_hasher {
	EVP_MD *md;
	EVP_MD_CTX *ctx;
};

int sha256_hasher_new(struct sha256_hasher **ret)
{
	struct sha256_hasher *h = new0(struct sha256_hasher, 1);

	if (!h)
		return -ENOMEM;
	h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	h->ctx = EVP_MD_CTX_new();
	if (!h->md || !h->ctx) {
		sha256_hasher_free(h);
		return -ENOMEM;
	}
	*ret = h;
	return 0;
}

struct sha256_hasher *sha256_hasher_free(struct sha256_hasher *h)
{
	if (!h)
		return NULL;
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	return mfree(h);
}

int sha256_hasher_digest(struct sha256_hasher *h, const void *p, size_t n,
			 uint8_t out[SHA256_DIGEST_SIZE])
{
	unsigned len = 0;

	if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1 || EVP_DigestUpdate(h->ctx, p, n) != 1 ||
	    EVP_DigestFinal_ex(h->ctx, out, &len) != 1 || len != SHA256_DIGEST_SIZE)
		return -EIO;
	return 0;
}

struct ed25519_key {
	EVP_PKEY *pkey;
	bool private;
};

#define KEY_FILE_MAX 16384

static int ed25519_key_wrap(EVP_PKEY *pkey, bool private, struct ed25519_key **ret)
{
	struct ed25519_key *k;

	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		return -EKEYREJECTED;
	}
	k = new0(struct ed25519_key, 1);
	if (!k) {
		EVP_PKEY_free(pkey);
		return -ENOMEM;
	}
	k->pkey = pkey;
	k->private = private;
	*ret = k;
	return 0;
}

int ed25519_key_generate(struct ed25519_key **ret)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	if (!pkey)
		return -EIO;
	return ed25519_key_wrap(pkey, true, ret);
}

/* Reads a key file into locked memory that is wiped afterwards. */
static int key_file_read(const char *path, bool private, void **ret, size_t *ret_size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_secret_ void *buf = NULL;
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	if (private && (st.st_mode & 077))
		return -EPERM;
	if (st.st_size > KEY_FILE_MAX)
		return -EFBIG;
	buf = secret_alloc(KEY_FILE_MAX + 1);
	if (!buf)
		return -ENOMEM;
	n = loop_read(fd, buf, KEY_FILE_MAX + 1);
	if (n < 0)
		return (int)n;
	if (n > KEY_FILE_MAX)
		return -EFBIG;
	*ret = TAKE_PTR(buf);
	*ret_size = (size_t)n;
	return 0;
}

static int ed25519_key_load(const char *path, bool private, struct ed25519_key **ret)
{
	_cleanup_secret_ void *buf = NULL;
	EVP_PKEY *pkey;
	size_t n = 0;
	BIO *bio;
	int r = key_file_read(path, private, &buf, &n);

	if (r < 0)
		return r;
	bio = BIO_new_mem_buf(buf, (int)n);
	if (!bio)
		return -ENOMEM;
	pkey = private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) :
			 PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!pkey)
		return -EKEYREJECTED;
	return ed25519_key_wrap(pkey, private, ret);
}

int ed25519_key_load_private(const char *path, struct ed25519_key **ret)
{
	return ed25519_key_load(path, true, ret);
}

int ed25519_key_load_public(const char *path, struct ed25519_key **ret)
{
	return ed25519_key_load(path, false, ret);
}

int ed25519_key_from_raw_public(const uint8_t raw[ED25519_PUBLIC_KEY_SIZE],
				struct ed25519_key **ret)
{
	EVP_PKEY *pkey =
		EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, ED25519_PUBLIC_KEY_SIZE);

	if (!pkey)
		return -EKEYREJECTED;
	return ed25519_key_wrap(pkey, false, ret);
}

static int ed25519_key_save(struct ed25519_key *k, const char *path, bool private)
{
	_cleanup_atomic_file_ struct atomic_file f = ATOMIC_FILE_INIT;
	BIO *bio;
	int r, ok;

	if (private && !k->private)
		return -ENOKEY;
	if (access(path, F_OK) == 0)
		return -EEXIST;
	r = atomic_file_open(&f, path, private ? 0600 : 0644);
	if (r < 0)
		return r;
	/* Straight to the file descriptor: no user-space copy of the private key. */
	bio = BIO_new_fd(f.fd, BIO_NOCLOSE);
	if (!bio)
		return -ENOMEM;
	ok = private ? PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL) :
		       PEM_write_bio_PUBKEY(bio, k->pkey);
	ok = ok == 1 && BIO_flush(bio) == 1;
	BIO_free(bio);
	if (!ok)
		return -EIO;
	if (fsync(f.fd) < 0)
		return -errno;
	/* Never replace an existing key, even one that appeared meanwhile. */
	if (renameat2(AT_FDCWD, f.tmp_path, AT_FDCWD, path, RENAME_NOREPLACE) < 0)
		return -errno;
	f.tmp_path = mfree(f.tmp_path);
	return fsync_directory_of(path);
}

int ed25519_key_save_private(struct ed25519_key *k, const char *path)
{
	return ed25519_key_save(k, path, true);
}

int ed25519_key_save_public(struct ed25519_key *k, const char *path)
{
	return ed25519_key_save(k, path, false);
}

int ed25519_key_raw_public(struct ed25519_key *k, uint8_t out[ED25519_PUBLIC_KEY_SIZE])
{
	size_t n = ED25519_PUBLIC_KEY_SIZE;

	if (EVP_PKEY_get_raw_public_key(k->pkey, out, &n) != 1 || n != ED25519_PUBLIC_KEY_SIZE)
		return -EIO;
	return 0;
}

bool ed25519_key_is_private(const struct ed25519_key *k)
{
	return k && k->private;
}

struct ed25519_key *ed25519_key_free(struct ed25519_key *k)
{
	if (!k)
		return NULL;
	EVP_PKEY_free(k->pkey);
	return mfree(k);
}

int ed25519_sign(struct ed25519_key *k, const void *msg, size_t n,
		 uint8_t sig[ED25519_SIGNATURE_SIZE])
{
	EVP_MD_CTX *ctx;
	size_t len = ED25519_SIGNATURE_SIZE;
	int ok;

	if (!k->private)
		return -ENOKEY;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	     EVP_DigestSign(ctx, sig, &len, msg, n) == 1 && len == ED25519_SIGNATURE_SIZE;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

int ed25519_verify(struct ed25519_key *k, const void *msg, size_t n,
		   const uint8_t sig[ED25519_SIGNATURE_SIZE])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r;

	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) != 1) {
		EVP_MD_CTX_free(ctx);
		return -EIO;
	}
	r = EVP_DigestVerify(ctx, sig, ED25519_SIGNATURE_SIZE, msg, n);
	EVP_MD_CTX_free(ctx);
	return r == 1 ? 0 : -EBADMSG;
}
