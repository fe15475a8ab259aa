/* SPDX-License-Identifier: Apache-2.0 */
/* lib/ext/crypto.c: RSA keys and signatures for PCR policies, base64 into a buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>

#include "core/fileio.h"
#include "core/fs.h"
#include "core/path.h"
#include "ext/crypto.h"

/* TEST-ONLY: an ECC P-256 public key (private half discarded). */
static const char ec_pem[] = "-----BEGIN PUBLIC KEY-----\n"
			     "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEPz9DtbdTpXwAvdCcn90uJT82LYNZ\n"
			     "0yuYuOrEAz8RtYGWytjyGeugcOZ9LkvD5iMVtzMX4CLsDbopZ72022aQrQ==\n"
			     "-----END PUBLIC KEY-----\n";

static void test_rsa_key(void **state)
{
	_cleanup_(rsa_key_freep) struct rsa_key *k = NULL, *pub = NULL, *ec = NULL;
	_cleanup_free_ uint8_t *n = NULL, *n2 = NULL, *der = NULL, *sig = NULL;
	_cleanup_free_ char *pem = NULL;
	size_t n_size, n2_size, der_size, pem_size, sig_size;
	uint32_t e;
	(void)state;

	assert_int_equal(rsa_key_generate(2048, &k), 0);
	assert_true(rsa_key_has_private(k));
	assert_int_equal(rsa_key_bits(k), 2048);
	assert_int_equal(rsa_key_modulus(k, &n, &n_size), 0);
	assert_int_equal(n_size, 256);
	assert_true(n[0] & 0x80); /* a full 2048-bit modulus, no leading zero byte */
	assert_int_equal(rsa_key_exponent(k, &e), 0);
	assert_int_equal(e, 65537);

	/* PKCS#1 RSAPublicKey: SEQUENCE (266 bytes) { INTEGER n (257), INTEGER e (3) } */
	assert_int_equal(rsa_key_public_der_pkcs1(k, &der, &der_size), 0);
	assert_int_equal(der_size, 270);
	assert_memory_equal(der, "\x30\x82\x01\x0a\x02\x82\x01\x01\x00", 9);
	assert_memory_equal(der + 9, n, 256);
	assert_memory_equal(der + 265, "\x02\x03\x01\x00\x01", 5);

	/* the public half through PEM */
	assert_int_equal(rsa_key_public_pem(k, &pem, &pem_size), 0);
	assert_int_equal(strlen(pem), pem_size);
	assert_non_null(startswith(pem, "-----BEGIN PUBLIC KEY-----\n"));
	assert_true(endswith(pem, "-----END PUBLIC KEY-----\n"));
	assert_int_equal(rsa_key_from_public_pem(pem, pem_size, &pub), 0);
	assert_false(rsa_key_has_private(pub));
	assert_int_equal(rsa_key_modulus(pub, &n2, &n2_size), 0);
	assert_int_equal(n2_size, 256);
	assert_memory_equal(n, n2, 256);

	/* signatures: made with the private key, checked with the public one */
	assert_int_equal(rsa_sign_sha256(pub, "x", 1, &sig, &sig_size), -ENOKEY);
	assert_int_equal(rsa_sign_sha256(k, "policy", 6, &sig, &sig_size), 0);
	assert_int_equal(sig_size, 256);
	assert_int_equal(rsa_verify_sha256(pub, "policy", 6, sig, sig_size), 0);
	assert_int_equal(rsa_verify_sha256(pub, "Policy", 6, sig, sig_size), -EBADMSG);
	sig[100] ^= 1;
	assert_int_equal(rsa_verify_sha256(pub, "policy", 6, sig, sig_size), -EBADMSG);
	assert_int_equal(rsa_verify_sha256(pub, "policy", 6, sig, 10), -EBADMSG);

	/* not RSA, not a key */
	assert_int_equal(rsa_key_from_public_pem(ec_pem, strlen(ec_pem), &ec), -EKEYREJECTED);
	assert_null(ec);
	assert_int_equal(rsa_key_from_public_pem("junk", 4, &ec), -EBADMSG);
	assert_null(rsa_key_free(NULL));
}

static void test_load_private_errors(void **state)
{
	_cleanup_free_ char *dir = NULL, *pub_path = NULL;
	_cleanup_free_ char *pem = NULL;
	struct rsa_key *k = NULL, *gen = NULL;
	size_t n;
	(void)state;

	assert_int_equal(mkdtemp_in(NULL, "airlock-test-crypto.", &dir), 0);
	pub_path = path_join(dir, "pub.pem");
	assert_int_equal(rsa_key_generate(2048, &gen), 0);
	assert_int_equal(rsa_key_public_pem(gen, &pem, &n), 0);
	assert_int_equal(write_file_atomic(pub_path, pem, n, 0600), 0);

	assert_int_equal(rsa_key_load_private("/nonexistent/key.pem", &k), -ENOENT);
	assert_int_equal(rsa_key_load_private(dir, &k), -EBADFD);
	/* a public key is not a private key */
	assert_int_equal(rsa_key_load_private(pub_path, &k), -EBADMSG);
	assert_null(k);
	rsa_key_free(gen);
	assert_int_equal(rm_rf(dir), 0);
}

static void test_base64_buf(void **state)
{
	char buf[BASE64_SIZE(3)];
	char small[4];
	(void)state;

	assert_int_equal(sizeof(buf), 5);
	assert_int_equal(base64_encode_buf("abc", 3, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "YWJj");
	assert_int_equal(BASE64_SIZE(32), 45); /* the TPM keyslot passphrase: 44 characters */
	assert_int_equal(base64_encode_buf("abc", 3, small, sizeof(small)), -ENOBUFS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsa_key),
		cmocka_unit_test(test_load_private_errors),
		cmocka_unit_test(test_base64_buf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
