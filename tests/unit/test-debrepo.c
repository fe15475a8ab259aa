/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "debrepo.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SHB "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static void test_dates(void **state)
{
	int64_t t;
	(void)state;

	assert_int_equal(debrepo_parse_date("Sat, 11 Jul 2026 10:16:37 UTC", &t), 0);
	assert_int_equal(t, 1783764997);
	assert_int_equal(debrepo_parse_date("11 Jul 2026 10:16:37 GMT", &t), 0);
	assert_int_equal(t, 1783764997);
	assert_int_equal(debrepo_parse_date("Sat, 11 Jul 2026 12:16:37 +0200", &t), 0);
	assert_int_equal(t, 1783764997);
	assert_int_equal(debrepo_parse_date("Sat, 11 Jul 2026 09:46:37 -0030", &t), 0);
	assert_int_equal(t, 1783764997);
	assert_int_equal(debrepo_parse_date("Thu, 01 Jan 1970 00:00:00 UTC", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(debrepo_parse_date("Sat, 31 Feb 2026 10:16:37 UTC", &t), -EINVAL);
	assert_int_equal(debrepo_parse_date("Sat, 11 Jux 2026 10:16:37 UTC", &t), -EINVAL);
	assert_int_equal(debrepo_parse_date("Sat, 11 Jul 2026 10:16 UTC", &t), -EINVAL);
	assert_int_equal(debrepo_parse_date("Sat, 11 Jul 2026 10:16:37 CEST", &t), -EINVAL);
	assert_int_equal(debrepo_parse_date("Sat, 11 Jul 2026 24:00:00 UTC", &t), -EINVAL);
	assert_int_equal(debrepo_parse_date("", &t), -EINVAL);
	assert_int_equal(debrepo_parse_date("yesterday", &t), -EINVAL);
}

static void test_release(void **state)
{
	static const char text[] = "Origin: Debian\n"
				   "Suite: oldstable-security\n"
				   "Codename: bookworm-security\n"
				   "Date: Sat, 21 Nov 2026 00:53:02 UTC\n"
				   "Valid-Until: Sat, 28 Nov 2026 00:53:02 UTC\n"
				   "MD5Sum:\n"
				   " 0123 12 main/binary-amd64/Packages\n"
				   "SHA256:\n"
				   " " SHA " 2523192 main/binary-amd64/Packages\n"
				   " " SHB "   763339 main/binary-amd64/Packages.xz\n";
	_cleanup_(debrepo_release_freep) struct debrepo_release *r = NULL;
	_cleanup_free_ char *error = NULL;
	const struct debrepo_release_file *f;
	(void)state;

	assert_int_equal(debrepo_release_parse(text, strlen(text), "InRelease", &r, &error), 0);
	assert_string_equal(r->suite, "oldstable-security");
	assert_string_equal(r->codename, "bookworm-security");
	assert_int_equal(r->date, 1795222382);
	assert_int_equal(r->valid_until, 1795222382 + 7 * 86400);
	assert_int_equal(r->n_files, 2);
	f = debrepo_release_find(r, "main/binary-amd64/Packages");
	assert_non_null(f);
	assert_int_equal(f->size, 2523192);
	assert_string_equal(f->sha256, SHA);
	f = debrepo_release_find(r, "main/binary-amd64/Packages.xz");
	assert_string_equal(f->sha256, SHB);
	assert_null(debrepo_release_find(r, "contrib/binary-amd64/Packages"));
}

static void expect_release_error(const char *text, const char *fragment)
{
	_cleanup_(debrepo_release_freep) struct debrepo_release *r = NULL;
	_cleanup_free_ char *error = NULL;

	assert_int_equal(debrepo_release_parse(text, strlen(text), "X/InRelease", &r, &error),
			 -EBADMSG);
	assert_null(r);
	if (!error || !strstr(error, fragment))
		fail_msg("error '%s' does not contain '%s'", strna(error), fragment);
}

static void test_release_errors(void **state)
{
	(void)state;
	expect_release_error("Suite: x\nSHA256:\n " SHA " 1 a\n", "X/InRelease:1: Date: missing");
	expect_release_error("Suite: x\nDate: tomorrow\n", "X/InRelease:2: Date: 'tomorrow'");
	expect_release_error("Suite: x\nDate: Sat, 11 Jul 2026 10:16:37 UTC\n",
			     "X/InRelease:1: SHA256: missing");
	expect_release_error("Suite: x\nDate: Sat, 11 Jul 2026 10:16:37 UTC\nSHA256:\n " SHA
			     " 1 a\n " SHA " x b\n",
			     "X/InRelease:5: SHA256: '" SHA " x b'");
	expect_release_error("Origin: x\nDate: Sat, 11 Jul 2026 10:16:37 UTC\n",
			     "neither Suite nor Codename");
	expect_release_error("", "empty Release");
}

#define PKG_HEAD "Package: libfoo1\nVersion: 1.2-3\nArchitecture: amd64\n"
#define PKG_TAIL "Filename: pool/main/f/foo/libfoo1_1.2-3_amd64.deb\nSize: 999\nSHA256: " SHA "\n"

static void test_packages(void **state)
{
	static const char text[] = PKG_HEAD "Source: foo (1.2-2)\nInstalled-Size: 10\n"
					    "Multi-Arch: same\nDepends: libc6 (>= 2.34)\n"
					    "Description: x\n long\n" PKG_TAIL "\n"
					    "Package: bar\nVersion: 1:2\nArchitecture: all\n"
					    "Essential: yes\nProvides: baz (= 1)\nSource: barsrc\n"
					    "Breaks: old\nConflicts: older\nPre-Depends: dpkg\n"
					    "Filename: pool/bar.deb\nSize: 1\nSHA256: " SHB "\n";
	struct debrepo_packages pk = {};
	_cleanup_free_ char *error = NULL;
	const struct debrepo_package *p;
	(void)state;

	assert_int_equal(debrepo_packages_parse(text, strlen(text), "bookworm", "P", &pk, &error),
			 0);
	assert_int_equal(pk.n_items, 2);
	p = &pk.items[0];
	assert_string_equal(p->name, "libfoo1");
	assert_string_equal(p->source, "foo");
	assert_string_equal(p->source_version, "1.2-2");
	assert_int_equal(p->installed_size, 10 * 1024);
	assert_int_equal(p->size, 999);
	assert_int_equal(p->multi_arch, DEBREPO_MULTI_ARCH_SAME);
	assert_false(p->essential);
	assert_string_equal(p->depends, "libc6 (>= 2.34)");
	assert_null(p->provides);
	assert_string_equal(p->suite, "bookworm");
	assert_int_equal(p->line, 1);
	p = &pk.items[1];
	assert_string_equal(p->source, "barsrc");
	assert_string_equal(p->source_version, "1:2");
	assert_true(p->essential);
	assert_int_equal(p->multi_arch, DEBREPO_MULTI_ARCH_NO);
	assert_string_equal(p->provides, "baz (= 1)");
	assert_string_equal(p->breaks, "old");
	assert_string_equal(p->conflicts, "older");
	assert_string_equal(p->pre_depends, "dpkg");
	assert_int_equal(p->line, 14);

	/* appending a second index keeps the first */
	assert_int_equal(debrepo_packages_parse(PKG_HEAD PKG_TAIL, strlen(PKG_HEAD PKG_TAIL),
						"bookworm-security", "Q", &pk, &error),
			 0);
	assert_int_equal(pk.n_items, 3);
	assert_string_equal(pk.items[0].name, "libfoo1");
	assert_string_equal(pk.items[2].suite, "bookworm-security");
	debrepo_packages_done(&pk);
}

static void expect_packages_error(const char *text, const char *fragment)
{
	struct debrepo_packages pk = {};
	_cleanup_free_ char *error = NULL;

	assert_int_equal(debrepo_packages_parse(text, strlen(text), "s", "P", &pk, &error),
			 -EBADMSG);
	if (!error || !strstr(error, fragment))
		fail_msg("error '%s' does not contain '%s'", strna(error), fragment);
	debrepo_packages_done(&pk);
}

static void test_packages_errors(void **state)
{
	(void)state;
	expect_packages_error(PKG_HEAD "Size: 1\n", "P:1: Filename: missing in package libfoo1");
	expect_packages_error(PKG_HEAD "Filename: a.deb\nSize: 1\nSHA256: ABC\n",
			      "P:6: SHA256: 'ABC' is not a sha256");
	expect_packages_error("Package: x_y\nVersion: 1\nArchitecture: all\n" PKG_TAIL,
			      "P:1: Package: 'x_y' is not a package name");
	expect_packages_error("Package: xy\nVersion: one\nArchitecture: all\n" PKG_TAIL,
			      "P:2: Version: 'one' is not a version");
	expect_packages_error(PKG_HEAD "Multi-Arch: maybe\n" PKG_TAIL,
			      "P:4: Multi-Arch: 'maybe' is not one of");
	expect_packages_error(PKG_HEAD "Source: foo (1.0\n" PKG_TAIL,
			      "P:4: Source: 'foo (1.0': expected 'NAME (VERSION)'");
	expect_packages_error(PKG_HEAD "Filename: ../../etc/passwd\nSize: 1\nSHA256: " SHA "\n",
			      "P:4: Filename: '../../etc/passwd' is not a relative path");
	expect_packages_error(PKG_HEAD "Filename: a.deb\nSize: 0\nSHA256: " SHA "\n",
			      "P:5: Size: '0' is not a size");
	expect_packages_error(PKG_HEAD "Version: 2\n" PKG_TAIL, "P:4: Version: given twice");
	expect_packages_error(PKG_HEAD PKG_TAIL "\nnot deb822\n", "P:8: not a deb822 line");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dates),		cmocka_unit_test(test_release),
		cmocka_unit_test(test_release_errors),	cmocka_unit_test(test_packages),
		cmocka_unit_test(test_packages_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
