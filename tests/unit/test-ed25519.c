/* SPDX-License-Identifier: Apache-2.0 */
/* Ed25519 keys and signatures, and the reusable SHA-256 hasher (lib/ext/crypto.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "core/fileio.h"
#include "core/fs.h"
#include "core/hex.h"
#include "core/path.h"
#include "ext/crypto.h"

static void test_hasher(void **state)
{
	_cleanup_(sha256_hasher_freep) struct sha256_hasher *h = NULL;
	uint8_t a[SHA256_DIGEST_SIZE], b[SHA256_DIGEST_SIZE];
	char buf[1000];
	(void)state;

	assert_int_equal(sha256_hasher_new(&h), 0);
	for (size_t n = 0; n < sizeof(buf); n += 37) {
		memset(buf, (int)n, sizeof(buf));
		assert_int_equal(sha256_hasher_digest(h, buf, n, a), 0);
		assert_int_equal(sha256_buf(buf, n, b), 0);
		assert_memory_equal(a, b, sizeof(a));
	}
}

/* RFC 8032, section 7.1, TEST 2 (one-byte message 0x72). */
static void test_rfc8032_vector(void **state)
{
	_cleanup_(ed25519_key_freep) struct ed25519_key *k = NULL;
	uint8_t pub[ED25519_PUBLIC_KEY_SIZE], sig[ED25519_SIGNATURE_SIZE], raw[32];
	const uint8_t msg[] = { 0x72 };
	(void)state;

	assert_int_equal(
		unhex_exact("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", pub,
			    sizeof(pub)),
		0);
	assert_int_equal(unhex_exact("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb"
				     "69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d2916"
				     "12bb0c00",
				     sig, sizeof(sig)),
			 0);
	assert_int_equal(ed25519_key_from_raw_public(pub, &k), 0);
	assert_false(ed25519_key_is_private(k));
	assert_int_equal(ed25519_key_raw_public(k, raw), 0);
	assert_memory_equal(raw, pub, sizeof(pub));
	assert_int_equal(ed25519_verify(k, msg, sizeof(msg), sig), 0);
	sig[10] ^= 1;
	assert_int_equal(ed25519_verify(k, msg, sizeof(msg), sig), -EBADMSG);
	assert_int_equal(ed25519_sign(k, msg, sizeof(msg), sig), -ENOKEY);
}

static void test_sign_save_load(void **state)
{
	_cleanup_(ed25519_key_freep) struct ed25519_key *k = NULL, *priv = NULL, *pub = NULL,
							*other = NULL;
	_cleanup_free_ char *dir = NULL, *kp = NULL, *pp = NULL, *junk = NULL;
	uint8_t sig[ED25519_SIGNATURE_SIZE], sig2[ED25519_SIGNATURE_SIZE];
	uint8_t r1[ED25519_PUBLIC_KEY_SIZE], r2[ED25519_PUBLIC_KEY_SIZE];
	const char msg[] = "airlock-ledger-checkpoint:test";
	struct stat st;
	(void)state;

	assert_int_equal(mkdtemp_in(NULL, "airlock-test-", &dir), 0);
	kp = path_join(dir, "ledger.key");
	pp = path_join(dir, "ledger.pub");
	junk = path_join(dir, "junk.pem");

	assert_int_equal(ed25519_key_generate(&k), 0);
	assert_true(ed25519_key_is_private(k));
	assert_int_equal(ed25519_sign(k, msg, strlen(msg), sig), 0);
	assert_int_equal(ed25519_verify(k, msg, strlen(msg), sig), 0);
	/* Deterministic: the same message gives the same signature. */
	assert_int_equal(ed25519_sign(k, msg, strlen(msg), sig2), 0);
	assert_memory_equal(sig, sig2, sizeof(sig));
	assert_int_equal(ed25519_verify(k, msg, strlen(msg) - 1, sig), -EBADMSG);

	assert_int_equal(ed25519_key_save_private(k, kp), 0);
	assert_int_equal(ed25519_key_save_public(k, pp), 0);
	assert_int_equal(stat(kp, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(pp, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(ed25519_key_save_private(k, kp), -EEXIST);

	assert_int_equal(ed25519_key_load_private(kp, &priv), 0);
	assert_int_equal(ed25519_key_load_public(pp, &pub), 0);
	assert_int_equal(ed25519_key_raw_public(priv, r1), 0);
	assert_int_equal(ed25519_key_raw_public(pub, r2), 0);
	assert_memory_equal(r1, r2, sizeof(r1));
	assert_int_equal(ed25519_verify(pub, msg, strlen(msg), sig), 0);
	assert_int_equal(ed25519_sign(priv, msg, strlen(msg), sig2), 0);
	assert_memory_equal(sig, sig2, sizeof(sig));

	/* Another key does not verify it. */
	assert_int_equal(ed25519_key_generate(&other), 0);
	assert_int_equal(ed25519_verify(other, msg, strlen(msg), sig), -EBADMSG);

	/* A private key readable by others is refused; so is a file that is no key. */
	assert_int_equal(chmod(kp, 0640), 0);
	priv = ed25519_key_free(priv);
	assert_int_equal(ed25519_key_load_private(kp, &priv), -EPERM);
	assert_int_equal(write_file_atomic(junk, "not a key\n", 10, 0600), 0);
	assert_int_equal(ed25519_key_load_private(junk, &priv), -EKEYREJECTED);
	assert_int_equal(ed25519_key_load_public(junk, &pub), -EKEYREJECTED);
	/* A public key file is not a private key. */
	assert_int_equal(chmod(pp, 0600), 0);
	assert_int_equal(ed25519_key_load_private(pp, &priv), -EKEYREJECTED);

	assert_int_equal(rm_rf(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hasher),
		cmocka_unit_test(test_rfc8032_vector),
		cmocka_unit_test(test_sign_save_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
