/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "osrelease.h"

static const char text[] = "# comment\n"
			   "PRETTY_NAME=\"Airlock 1.0.0 (\\\"quoted\\\")\"\n"
			   "ID=debian\n"
			   "IMAGE_ID=airlock\n"
			   "IMAGE_VERSION='1.0.0'  \n"
			   "BROKEN=\"unterminated\n"
			   "SPACES=a b\n";

static void test_get(void **state)
{
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	char *x = NULL;
	(void)state;

	assert_int_equal(osrelease_get(text, "IMAGE_ID", &a), 0);
	assert_string_equal(a, "airlock");
	assert_int_equal(osrelease_get(text, "IMAGE_VERSION", &b), 0);
	assert_string_equal(b, "1.0.0");
	assert_int_equal(osrelease_get(text, "PRETTY_NAME", &c), 0);
	assert_string_equal(c, "Airlock 1.0.0 (\"quoted\")");
	assert_int_equal(osrelease_get(text, "ID", &d), 0);
	assert_string_equal(d, "debian");
	assert_int_equal(osrelease_get(text, "VERSION_ID", &x), -ENOENT);
	assert_int_equal(osrelease_get(text, "BROKEN", &x), -EBADMSG);
	assert_int_equal(osrelease_get(text, "SPACES", &x), -EBADMSG);
	assert_int_equal(osrelease_get(text, "IMAGE", &x), -ENOENT);
	assert_null(x);
}

static void test_security_version(void **state)
{
	uint64_t v = 99;
	(void)state;

	assert_int_equal(osrelease_security_version("IMAGE_ID=x\n", &v), 0);
	assert_int_equal(v, 0); /* absent: built before the version floor */
	assert_int_equal(osrelease_security_version("AIRLOCK_SECURITY_VERSION=3\n", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(osrelease_security_version("AIRLOCK_SECURITY_VERSION=\"12\"\n", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(osrelease_security_version("AIRLOCK_SECURITY_VERSION=-1\n", &v), -EBADMSG);
	assert_int_equal(osrelease_security_version("AIRLOCK_SECURITY_VERSION=1.0\n", &v),
			 -EBADMSG);
	assert_int_equal(osrelease_security_version("AIRLOCK_SECURITY_VERSION=\n", &v), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_security_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
