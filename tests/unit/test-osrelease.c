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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
