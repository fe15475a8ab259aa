/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "core/fileio.h"
#include "core/fs.h"
#include "core/path.h"
#include "lockfile.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SHA_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

#define HEADER                             \
	"Format: airlock-lock 1\n"         \
	"Image: airlock\n"                 \
	"Architecture: amd64\n"            \
	"Manifest-Digest: " SHA_A "\n"     \
	"Source-Date-Epoch: 1700000000\n"  \
	"Suites:\n"                        \
	" bookworm 1690000000 " SHA_B "\n" \
	" bookworm-security 1700000000 " SHA_C "\n"

#define PKG(name, version, arch, sha)                                                 \
	"\nPackage: " name "\nVersion: " version "\nArchitecture: " arch "\nSource: " \
	"src\nSource-Version: " version "\nSuite: bookworm\nFilename: pool/main/s/"   \
	"src/" name ".deb\nSize: 1234\nSHA256: " sha "\n"

static char *dir;

static int setup(void **state)
{
	(void)state;
	return mkdtemp_in(NULL, "airlock-test-lockfile-", &dir) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(dir);
	dir = mfree(dir);
	return 0;
}

static char *write_tmp(const char *name, const char *text)
{
	char *p = path_join(dir, name);

	assert_non_null(p);
	assert_int_equal(write_file_atomic(p, text, strlen(text), 0644), 0);
	return p;
}

/* Loading must fail with a message that contains each of the given fragments. */
static void expect_error(const char *text, const char *const *fragments)
{
	_cleanup_free_ char *p = write_tmp("bad.lock", text), *error = NULL;
	struct lockfile *lf = NULL;

	assert_int_equal(lockfile_load(p, &lf, &error), -EBADMSG);
	assert_null(lf);
	assert_non_null(error);
	for (const char *const *f = fragments; *f; f++)
		if (!strstr(error, *f))
			fail_msg("error '%s' does not contain '%s'", error, *f);
}

static void test_round_trip(void **state)
{
	_cleanup_free_ char *p = write_tmp("a.lock",
					   HEADER PKG("libfoo1", "1:2.0-1+deb12u1", "amd64", SHA_A)
						   PKG("zlib1g", "1.2.13", "amd64", SHA_B));
	_cleanup_free_ char *out = NULL, *orig = NULL, *again = NULL, *pool = NULL;
	_cleanup_(lockfile_freep) struct lockfile *lf = NULL;
	_cleanup_free_ char *error = NULL;
	const struct lock_package *lp;
	size_t n1, n2;
	(void)state;

	assert_int_equal(lockfile_load(p, &lf, &error), 0);
	assert_string_equal(lf->image, "airlock");
	assert_string_equal(lf->architecture, "amd64");
	assert_int_equal(lf->source_date_epoch, 1700000000);
	assert_int_equal(lf->n_suites, 2);
	assert_string_equal(lf->suites[1].name, "bookworm-security");
	assert_int_equal(lf->suites[1].date, 1700000000);
	assert_string_equal(lf->suites[1].inrelease_sha256, SHA_C);
	assert_int_equal(lf->n_packages, 2);
	lp = lockfile_find(lf, "libfoo1");
	assert_non_null(lp);
	assert_string_equal(lp->version, "1:2.0-1+deb12u1");
	assert_int_equal(lp->size, 1234);
	assert_int_equal(lp->line, 10);
	assert_null(lockfile_find(lf, "libfoo"));
	assert_int_equal(lock_package_pool_name(lp, &pool), 0);
	assert_string_equal(pool, "libfoo1_1%3a2.0-1+deb12u1_amd64.deb");

	/* written back byte for byte */
	out = path_join(dir, "b.lock");
	assert_int_equal(lockfile_write(lf, out), 0);
	assert_int_equal(read_full_file(p, 1 << 20, &orig, &n1), 0);
	assert_int_equal(read_full_file(out, 1 << 20, &again, &n2), 0);
	assert_int_equal(n1, n2);
	assert_string_equal(orig, again);
}

static void test_write_sorts(void **state)
{
	struct lock_package pk[2] = {
		{ .name = (char *)"zz",
		  .version = (char *)"1",
		  .architecture = (char *)"all",
		  .source = (char *)"zz",
		  .source_version = (char *)"1",
		  .suite = (char *)"s",
		  .filename = (char *)"pool/zz.deb",
		  .size = 1,
		  .sha256 = (char *)SHA_A },
		{ .name = (char *)"aa",
		  .version = (char *)"2",
		  .architecture = (char *)"all",
		  .source = (char *)"aa",
		  .source_version = (char *)"2",
		  .suite = (char *)"s",
		  .filename = (char *)"pool/aa.deb",
		  .size = 2,
		  .sha256 = (char *)SHA_B },
	};
	struct lock_suite su = { .name = (char *)"s",
				 .date = 5,
				 .inrelease_sha256 = (char *)SHA_C };
	struct lockfile lf = {
		.image = (char *)"x",
		.architecture = (char *)"amd64",
		.manifest_digest = (char *)SHA_A,
		.source_date_epoch = 5,
		.suites = &su,
		.n_suites = 1,
		.packages = pk,
		.n_packages = 2,
	};
	_cleanup_free_ char *out = path_join(dir, "sorted.lock"), *error = NULL;
	_cleanup_(lockfile_freep) struct lockfile *back = NULL;
	(void)state;

	assert_int_equal(lockfile_write(&lf, out), 0);
	assert_int_equal(lockfile_load(out, &back, &error), 0);
	assert_int_equal(back->n_packages, 2);
	assert_string_equal(back->packages[0].name, "aa");
	assert_string_equal(back->packages[1].name, "zz");
}

static void test_errors(void **state)
{
	(void)state;
	/* a package out of order, and one listed twice */
	expect_error(HEADER PKG("zlib1g", "1", "amd64", SHA_A) PKG("adduser", "1", "all", SHA_B),
		     (const char *const[]){ "bad.lock:20: Package:", "'adduser' is out of order",
					    NULL });
	expect_error(HEADER PKG("a1", "1", "all", SHA_A) PKG("a1", "1", "all", SHA_A),
		     (const char *const[]){ "bad.lock:20: Package:", "listed twice", NULL });
	/* a bad hash names its line and field */
	expect_error(HEADER PKG("a1", "1", "all", "ABC"),
		     (const char *const[]){ "bad.lock:18: SHA256:", "package a1", NULL });
	/* a missing field names the paragraph */
	expect_error(HEADER "\nPackage: a1\nVersion: 1\n",
		     (const char *const[]){ "bad.lock:10: Architecture: missing", NULL });
	/* a bad size */
	expect_error(HEADER
		     "\nPackage: a1\nVersion: 1\nArchitecture: all\nSource: a\n"
		     "Source-Version: 1\nSuite: s\nFilename: pool/a.deb\nSize: 12x\nSHA256: " SHA_A
		     "\n",
		     (const char *const[]){ "bad.lock:17: Size: '12x' is not a size", NULL });
	/* a path out of the archive */
	expect_error(HEADER
		     "\nPackage: a1\nVersion: 1\nArchitecture: all\nSource: a\n"
		     "Source-Version: 1\nSuite: s\nFilename: ../etc/passwd\nSize: 1\nSHA256: " SHA_A
		     "\n",
		     (const char *const[]){ "bad.lock:16: Filename:", "../etc/passwd", NULL });
	/* the header: format, digest, epoch, suites (the line of the bad suite) */
	expect_error("Format: airlock-lock 2\n",
		     (const char *const[]){ "bad.lock:1: Format: 'airlock-lock 2' is not supported",
					    NULL });
	expect_error("Image: x\n", (const char *const[]){ "bad.lock:1: Format: missing", NULL });
	expect_error("Format: airlock-lock 1\nImage: x\nArchitecture: amd64\nManifest-Digest: 12\n",
		     (const char *const[]){ "bad.lock:4: Manifest-Digest:", NULL });
	expect_error(
		"Format: airlock-lock 1\nImage: x\nArchitecture: amd64\nManifest-Digest: " SHA_A
		"\nSource-Date-Epoch: -1\n",
		(const char *const[]){ "bad.lock:5: Source-Date-Epoch:", NULL });
	expect_error(
		"Format: airlock-lock 1\nImage: x\nArchitecture: amd64\nManifest-Digest: " SHA_A
		"\nSource-Date-Epoch: 1\nSuites:\n a 1 " SHA_B "\n b x " SHA_B "\n",
		(const char *const[]){ "bad.lock:8: Suites:", "'b x ", NULL });
	/* no packages at all, and not deb822 */
	expect_error(HEADER, (const char *const[]){ "no packages", NULL });
	expect_error(HEADER "\nthis is not deb822\n",
		     (const char *const[]){ "bad.lock:10: not a deb822 line", NULL });
}

static void test_missing_file(void **state)
{
	_cleanup_free_ char *p = path_join(dir, "nope.lock"), *error = NULL;
	struct lockfile *lf = NULL;
	(void)state;

	assert_int_equal(lockfile_load(p, &lf, &error), -ENOENT);
	assert_non_null(strstr(error, "nope.lock"));
}

static void test_path_for_manifest(void **state)
{
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
	(void)state;

	assert_int_equal(lockfile_path_for_manifest("manifests/airlock.manifest", &a), 0);
	assert_string_equal(a, "manifests/airlock.lock");
	assert_int_equal(lockfile_path_for_manifest("a.b/plain", &b), 0);
	assert_string_equal(b, "a.b/plain.lock");
	assert_int_equal(lockfile_path_for_manifest("x.y.manifest", &c), 0);
	assert_string_equal(c, "x.y.lock");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_write_sorts),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_path_for_manifest),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
