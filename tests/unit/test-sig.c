/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gpgme signatures against the TEST-ONLY fixtures of tests/data/sig/ (see
 * make-fixtures.sh there): key A signs, key B is another key, key E expired before
 * it signed, key R was revoked after, key X signed data.txt once with a signature that
 * expired and once without expiry and was revoked after, key S's signing subkey was
 * revoked after it signed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "core/fs.h"
#include "core/path.h"
#include "core/strv.h"
#include "ext/sig.h"

#define FPR_A "F58CB06CF36152B6B7C4FDD8771720EFFABA4329"
#define FPR_B "6B62623519EECC819D875EA601B6C6CA48D6CFEC"

static char *tmp;

static char *fixture(const char *name)
{
	const char *src = getenv("AIRLOCK_SRC");
	char *p = path_join(isempty(src) ? "." : src, "tests/data/sig", name);

	assert_non_null(p);
	return p;
}

static char *read_fixture(const char *name, size_t *ret_size)
{
	_cleanup_free_ char *p = fixture(name);
	char *text = NULL;

	if (read_full_file(p, 1 << 20, &text, ret_size) < 0)
		fail_msg("cannot read %s (run from the source tree or set AIRLOCK_SRC)", p);
	return text;
}

static struct sig_keyring *keyring(const char *name)
{
	_cleanup_free_ char *p = fixture(name), *error = NULL;
	struct sig_keyring *k = NULL;
	int r = sig_keyring_open(p, &k, &error);

	if (r < 0)
		fail_msg("keyring %s: %s", name, strna(error));
	return k;
}

static int setup(void **state)
{
	(void)state;
	/* every GnuPG home goes here, so that the tests can see them go */
	if (mkdtemp_in(NULL, "airlock-test-sig-", &tmp) < 0)
		return -1;
	return setenv("TMPDIR", tmp, 1);
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(tmp);
	tmp = mfree(tmp);
	return 0;
}

static size_t entries_in_tmp(void)
{
	DIR *d = opendir(tmp);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += !streq(de->d_name, ".") && !streq(de->d_name, "..");
	closedir(d);
	return n;
}

static int verify(const char *keys, const char *text, size_t size, char **ret_text, char **ret_fpr,
		  char **ret_error)
{
	struct sig_keyring *k = keyring(keys);
	int r = sig_verify_clearsigned(k, text, size, ret_text, NULL, ret_fpr, ret_error);

	sig_keyring_free(k);
	return r;
}

static void test_good(void **state)
{
	_cleanup_free_ char *signed_text = NULL, *data = NULL, *out = NULL, *fpr = NULL;
	size_t n, dn;
	(void)state;

	signed_text = read_fixture("signed-a.txt", &n);
	data = read_fixture("data.txt", &dn);
	assert_int_equal(verify("a.pub", signed_text, n, &out, &fpr, NULL), 0);
	/* exactly the signed text, nothing of the armor */
	assert_string_equal(out, data);
	assert_string_equal(fpr, FPR_A);
	/* the private home is gone */
	assert_int_equal(entries_in_tmp(), 0);
}

static void test_one_of_two_known(void **state)
{
	_cleanup_free_ char *text = NULL, *out = NULL, *fpr = NULL;
	size_t n;
	(void)state;

	/* signed by A and B; only A is trusted: B's signature is passed over */
	text = read_fixture("signed-ab.txt", &n);
	assert_int_equal(verify("a.pub", text, n, &out, &fpr, NULL), 0);
	assert_string_equal(fpr, FPR_A);
}

static void test_unknown_key(void **state)
{
	_cleanup_free_ char *text = NULL, *out = NULL, *error = NULL;
	size_t n;
	(void)state;

	text = read_fixture("signed-a.txt", &n);
	assert_int_equal(verify("b.pub", text, n, &out, NULL, &error), -ENOKEY);
	assert_null(out);
	assert_non_null(strstr(error, FPR_A));
	assert_non_null(strstr(error, "not in keyring"));
	assert_int_equal(entries_in_tmp(), 0);
}

static void test_altered(void **state)
{
	_cleanup_free_ char *text = NULL, *out = NULL, *error = NULL;
	char *p;
	size_t n;
	(void)state;

	/* one byte of the signed text */
	text = read_fixture("signed-a.txt", &n);
	p = strstr(text, "Suite: test");
	assert_non_null(p);
	p[7] = 'T';
	assert_int_equal(verify("a.pub", text, n, &out, NULL, &error), -EBADMSG);
	if (!strstr(error, "bad signature") || !strstr(error, FPR_A + 24))
		fail_msg("unexpected error: %s", error);
	assert_null(out);
	error = mfree(error);
	text = mfree(text);

	/* one character of the signature itself */
	text = read_fixture("signed-a.txt", &n);
	p = strstr(text, "-----BEGIN PGP SIGNATURE-----\n\n");
	assert_non_null(p);
	p += strlen("-----BEGIN PGP SIGNATURE-----\n\n") + 20;
	*p = *p == 'A' ? 'B' : 'A';
	assert_int_equal(verify("a.pub", text, n, &out, NULL, &error), -EBADMSG);
	if (!strstr(error, "corrupt signature") && !strstr(error, "bad signature"))
		fail_msg("unexpected error: %s", error);
	assert_null(out);
}

static void test_no_signature(void **state)
{
	_cleanup_free_ char *text = NULL, *out = NULL, *error = NULL;
	size_t n;
	(void)state;

	text = read_fixture("data.txt", &n);
	assert_int_equal(verify("a.pub", text, n, &out, NULL, &error), -ENODATA);
	assert_non_null(strstr(error, "no OpenPGP signature"));
}

static void test_expired_and_revoked(void **state)
{
	_cleanup_free_ char *text = NULL, *error = NULL, *out = NULL;
	size_t n;
	(void)state;

	text = read_fixture("signed-expired.txt", &n);
	assert_int_equal(verify("expired.pub", text, n, &out, NULL, &error), -EKEYEXPIRED);
	assert_non_null(strstr(error, "expired"));
	error = mfree(error);
	text = mfree(text);

	text = read_fixture("signed-revoked.txt", &n);
	assert_int_equal(verify("revoked.pub", text, n, &out, NULL, &error), -EKEYREVOKED);
	assert_non_null(strstr(error, "revoked"));
	assert_null(out);
}

static void test_detached(void **state)
{
	_cleanup_free_ char *data = NULL, *sig = NULL, *fpr = NULL, *error = NULL;
	struct sig_keyring *a = keyring("a.pub"), *b = keyring("b.pub");
	size_t dn, sn;
	(void)state;

	data = read_fixture("data.txt", &dn);
	sig = read_fixture("data.txt.sig", &sn);
	assert_int_equal(sig_verify_detached(a, data, dn, sig, sn, &fpr, NULL), 0);
	assert_string_equal(fpr, FPR_A);
	assert_int_equal(sig_verify_detached(b, data, dn, sig, sn, NULL, &error), -ENOKEY);
	assert_non_null(strstr(error, FPR_A));
	error = mfree(error);
	data[0] ^= 1;
	assert_int_equal(sig_verify_detached(a, data, dn, sig, sn, NULL, &error), -EBADMSG);
	assert_non_null(strstr(error, "bad signature"));
	error = mfree(error);
	assert_int_equal(sig_verify_detached(a, data, dn, "", 0, NULL, &error), -ENODATA);
	error = mfree(error);
	assert_int_equal(sig_verify_detached(a, data, dn, "garbage", 7, NULL, &error), -EBADMSG);
	assert_non_null(strstr(error, "not an OpenPGP packet header"));
	error = mfree(error);
	sig_keyring_free(a);
	sig_keyring_free(b);
	assert_int_equal(entries_in_tmp(), 0);
}

static void test_not_a_keyring(void **state)
{
	_cleanup_free_ char *p = fixture("data.txt"), *q = fixture("no-such-file"), *error = NULL;
	struct sig_keyring *k = NULL;
	(void)state;

	assert_int_equal(sig_keyring_open(p, &k, &error), -ENOKEY);
	assert_non_null(strstr(error, "no OpenPGP public key"));
	assert_null(k);
	error = mfree(error);
	assert_int_equal(sig_keyring_open(q, &k, &error), -ENOENT);
	assert_non_null(strstr(error, "no-such-file"));
	assert_int_equal(entries_in_tmp(), 0);
}

static struct sig_keyring *keyring_flags(const char *name, enum sig_keyring_flags flags)
{
	_cleanup_free_ char *p = fixture(name), *error = NULL;
	char *paths[] = { p, NULL };
	struct sig_keyring *k = NULL;

	if (sig_keyring_open_many(paths, flags, &k, &error) < 0)
		fail_msg("keyring %s: %s", name, strna(error));
	return k;
}

static void test_ignore_time(void **state)
{
	_cleanup_free_ char *text = NULL, *out = NULL, *fpr = NULL, *error = NULL;
	struct sig_keyring *k;
	size_t n;
	(void)state;

	/* E expired before it was checked: without the clock, its good signature counts */
	text = read_fixture("signed-expired.txt", &n);
	k = keyring_flags("expired.pub", SIG_KEYRING_IGNORE_TIME);
	assert_int_equal(sig_verify_clearsigned(k, text, n, &out, NULL, &fpr, &error), 0);
	assert_non_null(fpr);
	sig_keyring_free(k);
	text = mfree(text);
	out = mfree(out);

	/* revocation does not depend on the clock: still refused */
	text = read_fixture("signed-revoked.txt", &n);
	k = keyring_flags("revoked.pub", SIG_KEYRING_IGNORE_TIME);
	assert_int_equal(sig_verify_clearsigned(k, text, n, &out, NULL, NULL, &error),
			 -EKEYREVOKED);
	assert_null(out);
	sig_keyring_free(k);
	assert_int_equal(entries_in_tmp(), 0);
}

/* detached signatures of data.txt, against fixture keyring kr, judged without the clock */
static int verify_detached_fixture(const char *kr, const char *signame, char **ret_error)
{
	_cleanup_free_ char *data = NULL, *sig = NULL;
	struct sig_keyring *k = keyring_flags(kr, SIG_KEYRING_IGNORE_TIME);
	size_t dn, sn;
	int r;

	data = read_fixture("data.txt", &dn);
	sig = read_fixture(signame, &sn);
	free(*ret_error);
	*ret_error = NULL;
	r = sig_verify_detached(k, data, dn, sig, sn, NULL, ret_error);
	sig_keyring_free(k);
	return r;
}

static void test_revoked_whatever_the_signature_says(void **state)
{
	_cleanup_free_ char *error = NULL, *data = NULL, *sig = NULL;
	struct sig_keyring *k;
	size_t dn, sn;
	(void)state;

	/* X revoked: neither its expired signature nor its valid one counts */
	assert_int_equal(verify_detached_fixture("x-revoked.pub", "data.txt.x-expired.sig", &error),
			 -EKEYREVOKED);
	assert_non_null(strstr(error, "revoked"));
	assert_int_equal(verify_detached_fixture("x-revoked.pub", "data.txt.x.sig", &error),
			 -EKEYREVOKED);
	assert_non_null(strstr(error, "revoked"));
	/* X not revoked: without the clock, its expired signature counts (no trusted clock) */
	assert_int_equal(verify_detached_fixture("x.pub", "data.txt.x-expired.sig", &error), 0);
	assert_int_equal(verify_detached_fixture("x.pub", "data.txt.x.sig", &error), 0);
	/* with the clock, the expired one is expired */
	data = read_fixture("data.txt", &dn);
	sig = read_fixture("data.txt.x-expired.sig", &sn);
	k = keyring_flags("x.pub", 0);
	error = mfree(error);
	assert_int_equal(sig_verify_detached(k, data, dn, sig, sn, NULL, &error), -EKEYEXPIRED);
	sig_keyring_free(k);
	/* S's signing subkey revoked after it signed: refused; before: good */
	assert_int_equal(verify_detached_fixture("s-subkey-revoked.pub", "data.txt.s.sig", &error),
			 -EKEYREVOKED);
	assert_non_null(strstr(error, "revoked"));
	assert_int_equal(verify_detached_fixture("s.pub", "data.txt.s.sig", &error), 0);
	assert_int_equal(entries_in_tmp(), 0);
}

static void *concat(const void *a, size_t an, const void *b, size_t bn, size_t *ret_size)
{
	uint8_t *p = malloc(an + bn + 1);

	assert_non_null(p);
	memcpy(p, a, an);
	memcpy(p + an, b, bn);
	*ret_size = an + bn;
	return p;
}

static void test_detached_strict(void **state)
{
	_cleanup_free_ char *data = NULL, *sig = NULL, *xsig = NULL, *armored = NULL, *error = NULL;
	struct sig_keyring *a = keyring_flags("a.pub", SIG_KEYRING_IGNORE_TIME);
	size_t dn, sn, xn, an, n;
	uint8_t key_packet[] = { 0x98, 0x33, 0x04 }; /* old-format public key header */
	uint8_t marker[] = { 0xca, 0x03, 'P', 'G', 'P' };
	uint8_t partial[] = { 0xc2, 0xe0, 0x04, 0x00 };
	(void)state;

	data = read_fixture("data.txt", &dn);
	sig = read_fixture("data.txt.sig", &sn);
	xsig = read_fixture("data.txt.x.sig", &xn);
	armored = read_fixture("a.pub", &an);
	assert_int_equal(sig_detached_check(sig, sn, NULL), 0);
	assert_int_equal(sig_detached_check("", 0, NULL), -ENODATA);

	/* every tail after a good signature is refused, before gpg sees it */
	for (unsigned i = 0; i < 64; i++) {
		uint8_t tail[37];
		_cleanup_free_ void *t = NULL;

		for (size_t j = 0; j < sizeof(tail); j++)
			tail[j] = (uint8_t)((i * 131 + j * 7 + 1) * 2654435761U >> 13);
		t = concat(sig, sn, tail, 1 + i % sizeof(tail), &n);
		error = mfree(error);
		assert_int_equal(sig_verify_detached(a, data, dn, t, n, NULL, &error), -EBADMSG);
		assert_non_null(error);
	}
	{
		_cleanup_free_ void *t = concat(sig, sn, key_packet, sizeof(key_packet), &n);
		error = mfree(error);
		assert_int_equal(sig_verify_detached(a, data, dn, t, n, NULL, &error), -EBADMSG);
		assert_non_null(strstr(error, "public key"));
	}
	{
		_cleanup_free_ void *t = concat(sig, sn, armored, an, &n);
		error = mfree(error);
		assert_int_equal(sig_verify_detached(a, data, dn, t, n, NULL, &error), -EBADMSG);
	}
	/* a key block alone, armor, a marker, a partial length, a cut signature */
	error = mfree(error);
	assert_int_equal(sig_verify_detached(a, data, dn, armored, an, NULL, &error), -EBADMSG);
	assert_non_null(strstr(error, "armored"));
	assert_int_equal(sig_detached_check(marker, sizeof(marker), NULL), -EBADMSG);
	assert_int_equal(sig_detached_check(partial, sizeof(partial), NULL), -EBADMSG);
	assert_int_equal(sig_detached_check(sig, sn - 1, NULL), -EBADMSG);
	/* two signatures, one by a key the keyring lacks: still one packet sequence, good */
	{
		_cleanup_free_ void *t = concat(sig, sn, xsig, xn, &n);
		assert_int_equal(sig_detached_check(t, n, NULL), 0);
		assert_int_equal(sig_verify_detached(a, data, dn, t, n, NULL, NULL), 0);
	}
	sig_keyring_free(a);
	assert_int_equal(entries_in_tmp(), 0);
}

static void test_open_many(void **state)
{
	_cleanup_free_ char *a = fixture("a.pub"), *b = fixture("b.pub"),
			    *data = fixture("data.txt"), *error = NULL;
	_cleanup_strv_free_ char **fprs = NULL;
	char *both[] = { a, b, NULL }, *bad[] = { a, data, NULL }, *none[] = { NULL };
	struct sig_keyring *k = NULL;
	(void)state;

	assert_int_equal(sig_keyring_open_many(both, 0, &k, &error), 0);
	assert_int_equal(sig_keyring_fingerprints(k, &fprs), 0);
	assert_int_equal(strv_length(fprs), 2);
	assert_string_equal(fprs[0], FPR_B); /* sorted */
	assert_string_equal(fprs[1], FPR_A);
	k = sig_keyring_free(k);
	/* every file must hold a key, and the message names the one that does not */
	assert_int_equal(sig_keyring_open_many(bad, 0, &k, &error), -ENOKEY);
	assert_non_null(strstr(error, "data.txt"));
	assert_null(k);
	assert_int_equal(sig_keyring_open_many(none, 0, &k, &error), -ENOKEY);
	assert_int_equal(entries_in_tmp(), 0);
}

/* Keys made here, signatures by one and by two signers, as release makes them. */
static void test_sign(void **state)
{
	_cleanup_free_ char *home_a = path_join(tmp, "sign-a"), *home_b = path_join(tmp, "sign-b"),
			    *home_empty = path_join(tmp, "sign-empty"), *fpr_a = NULL,
			    *fpr_b = NULL, *error = NULL, *pub_a = NULL, *pub_b = NULL, *pa = NULL,
			    *pb = NULL;
	_cleanup_free_ void *sig_a = NULL, *sig_b = NULL;
	_cleanup_free_ uint8_t *both = NULL;
	struct sig_signer *a = NULL, *b = NULL;
	static const char data[] = "{\"version\": \"1.0.1\"}\n";
	size_t na, nb, pna, pnb;
	(void)state;

	assert_int_equal(sig_key_generate(home_a, "Airlock TEST-ONLY sign A", &fpr_a, &error), 0);
	assert_int_equal(sig_key_generate(home_b, "Airlock TEST-ONLY sign B", &fpr_b, &error), 0);
	assert_int_equal(strlen(fpr_a), 40);
	/* the home exists now: no second key into it */
	{
		_cleanup_free_ char *again = NULL;
		assert_int_equal(sig_key_generate(home_a, "again", &again, &error), -EEXIST);
		assert_null(again);
	}
	assert_int_equal(sig_signer_open(home_a, &a, &error), 0);
	assert_int_equal(sig_signer_open(home_b, &b, &error), 0);
	assert_string_equal(sig_signer_fingerprint(a), fpr_a);
	assert_int_equal(sig_sign_detached(a, data, sizeof(data) - 1, &sig_a, &na, &error), 0);
	assert_int_equal(sig_sign_detached(b, data, sizeof(data) - 1, &sig_b, &nb, &error), 0);
	assert_int_equal(sig_signer_export_public(a, &pub_a, &pna, &error), 0);
	assert_int_equal(sig_signer_export_public(b, &pub_b, &pnb, &error), 0);
	assert_non_null(strstr(pub_a, "BEGIN PGP PUBLIC KEY BLOCK"));
	assert_null(strstr(pub_a, "PRIVATE"));
	pa = path_join(tmp, "a.asc");
	pb = path_join(tmp, "b.asc");
	assert_int_equal(write_file_atomic(pa, pub_a, pna, 0644), 0);
	assert_int_equal(write_file_atomic(pb, pub_b, pnb, 0644), 0);
	a = sig_signer_free(a);
	b = sig_signer_free(b);

	both = malloc(na + nb);
	memcpy(both, sig_a, na);
	memcpy(both + na, sig_b, nb);
	{
		struct sig_keyring *ka = NULL, *kb = NULL;
		char *only_a[] = { pa, NULL }, *only_b[] = { pb, NULL };
		_cleanup_free_ char *f1 = NULL, *f2 = NULL, *f3 = NULL;

		assert_int_equal(
			sig_keyring_open_many(only_a, SIG_KEYRING_IGNORE_TIME, &ka, &error), 0);
		assert_int_equal(
			sig_keyring_open_many(only_b, SIG_KEYRING_IGNORE_TIME, &kb, &error), 0);
		assert_int_equal(
			sig_verify_detached(ka, data, sizeof(data) - 1, sig_a, na, &f1, &error), 0);
		assert_string_equal(f1, fpr_a);
		/* the concatenation verifies for a holder of either key */
		assert_int_equal(sig_verify_detached(ka, data, sizeof(data) - 1, both, na + nb, &f2,
						     &error),
				 0);
		assert_string_equal(f2, fpr_a);
		assert_int_equal(sig_verify_detached(kb, data, sizeof(data) - 1, both, na + nb, &f3,
						     &error),
				 0);
		assert_string_equal(f3, fpr_b);
		/* B's signature alone means nothing to a holder of A only */
		assert_int_equal(sig_verify_detached(ka, data, sizeof(data) - 1, sig_b, nb, NULL,
						     &error),
				 -ENOKEY);
		sig_keyring_free(ka);
		sig_keyring_free(kb);
	}

	/* a home without a secret key */
	assert_int_equal(mkdir_p(home_empty, 0700), 0);
	assert_int_equal(sig_signer_open(home_empty, &a, &error), -ENOKEY);
	assert_non_null(strstr(error, "0 secret keys"));
	assert_null(a);
	rm_rf(home_a);
	rm_rf(home_b);
	rm_rf(home_empty);
	unlink(pa);
	unlink(pb);
}

/* A home deeper than a Unix socket's path allows (gpg-agent's sockets live in it) still
 * makes keys and signs, through a short alias that is removed afterwards. */
static void test_sign_deep_home(void **state)
{
	_cleanup_free_ char *top = path_join(tmp, "deep"), *parent = NULL, *home = NULL,
			    *fpr = NULL, *error = NULL;
	_cleanup_free_ void *sig = NULL;
	struct sig_signer *s = NULL;
	static const char data[] = "{\"version\": \"1.0.1\"}\n";
	size_t n, before = entries_in_tmp();
	(void)state;

	parent = strdup(top);
	assert_non_null(parent);
	while (strlen(parent) < 110) {
		char *d = path_join(parent, "a-directory-of-the-build-tree");

		assert_non_null(d);
		free(parent);
		parent = d;
	}
	assert_int_equal(mkdir_p(parent, 0700), 0);
	home = path_join(parent, "gnupg");
	assert_non_null(home);
	assert_int_equal(sig_key_generate(home, "Airlock TEST-ONLY deep", &fpr, &error), 0);
	assert_int_equal(sig_signer_open(home, &s, &error), 0);
	assert_string_equal(sig_signer_fingerprint(s), fpr);
	assert_int_equal(sig_sign_detached(s, data, sizeof(data) - 1, &sig, &n, &error), 0);
	assert_true(n > 0);
	s = sig_signer_free(s);
	/* the aliases are gone, the home stays */
	assert_int_equal(entries_in_tmp(), before + 1);
	assert_int_equal(access(home, F_OK), 0);
	rm_rf(top);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_one_of_two_known),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_altered),
		cmocka_unit_test(test_no_signature),
		cmocka_unit_test(test_expired_and_revoked),
		cmocka_unit_test(test_detached),
		cmocka_unit_test(test_not_a_keyring),
		cmocka_unit_test(test_ignore_time),
		cmocka_unit_test(test_open_many),
		cmocka_unit_test(test_revoked_whatever_the_signature_says),
		cmocka_unit_test(test_detached_strict),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_sign_deep_home),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
