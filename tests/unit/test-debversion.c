/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "debdep.h"
#include "debversion.h"

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

/* a < b, and the comparison is antisymmetric */
static void lt(const char *a, const char *b)
{
	if (sign(debversion_compare(a, b)) != -1 || sign(debversion_compare(b, a)) != 1)
		fail_msg("expected %s < %s", a, b);
}

static void eq(const char *a, const char *b)
{
	if (debversion_compare(a, b) != 0 || debversion_compare(b, a) != 0)
		fail_msg("expected %s == %s", a, b);
}

/* The examples of Debian policy §5.6.12 and dpkg's documented ordering. */
static void test_policy_examples(void **state)
{
	(void)state;
	/* '~' sorts before everything, even the end of the part */
	lt("1.0~rc1", "1.0");
	lt("1.0~~", "1.0~~a");
	lt("1.0~~a", "1.0~");
	lt("1.0~", "1.0");
	lt("1.0", "1.0a");
	/* letters sort before non-letters */
	lt("1.0a", "1.0+");
	lt("1.0a", "1.0.");
	lt("1.0+", "1.0.");
	/* digit runs compare as numbers */
	lt("1.2", "1.10");
	lt("9", "10");
	eq("1.002", "1.2");
	eq("1.0", "1.00");
	lt("1.0", "1.0.1");
	/* epochs */
	lt("2.0", "1:1.0");
	lt("1:2.0", "2:0.1");
	eq("0:1.0", "1.0");
	eq("00:1.0", "0:1.0");
	lt("1:9.9", "1:10.0");
	/* revisions */
	lt("1.0-1", "1.0-2");
	lt("1.0-2", "1.0-10");
	lt("1.0-1", "1.0.1-1");
	eq("1.0", "1.0-0");
	lt("1.0-0", "1.0-0.1");
	lt("1.0-1~bpo1", "1.0-1");
	lt("1.0-1", "1.0-1+b1");
	lt("1.0-1+deb12u1", "1.0-1+deb12u2");
	lt("1.0-1+deb12u9", "1.0-1+deb12u10");
	/* the last hyphen separates the revision */
	lt("1.0-a-1", "1.0-a-2");
	lt("1.0-1-1", "1.0-1.1-1");
	/* real cases from the archive */
	lt("252.38-1~deb12u1", "252.39-1~deb12u2");
	lt("2.38.1-5+deb12u2", "2.38.1-5+deb12u3");
	lt("1:2.66-4+deb12u2+b2", "1:2.66-4+deb12u3+b1");
	lt("5.2.15-2+b8", "5.2.15-2+b13");
	lt("3.0.17-1~deb12u3", "3.0.22-1~deb12u2");
	lt("1:7.2+dfsg-7+deb12u18", "1:7.2+dfsg-7+deb12u18+b3");
	lt("6.1.0-1~exp1", "6.1.0-1");
	eq("1.0-1", "1.0-1");
}

static void test_valid(void **state)
{
	static const char *const good[] = {
		"1",
		"1.0",
		"1:1.0",
		"1.0-1",
		"1:2.66-4+deb12u3+b1",
		"1.0~rc1-1~bpo1",
		"0.0",
		"2.9.14+dfsg-1.3~deb12u6",
		"1.0-a-1",
		"10:1",
	};
	static const char *const bad[] = {
		"",	 "a1.0",    ":1.0", "1:",  "1.0-",    "x:1.0", "1.0 1",
		"1.0_1", "1.0-1_1", "-1",   "1:a", "1.0-1:1", "1:2:3", "1.0/1",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!debversion_is_valid(good[i]))
			fail_msg("'%s' should be valid", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (debversion_is_valid(bad[i]))
			fail_msg("'%s' should be invalid", bad[i]);
}

static void test_satisfies(void **state)
{
	(void)state;
	assert_true(debdep_version_satisfies("1.0", DEBDEP_OP_ANY, NULL));
	assert_true(debdep_version_satisfies("1.0", DEBDEP_OP_GE, "1.0"));
	assert_true(debdep_version_satisfies("1.1", DEBDEP_OP_GE, "1.0"));
	assert_false(debdep_version_satisfies("1.0~rc1", DEBDEP_OP_GE, "1.0"));
	assert_true(debdep_version_satisfies("1.0~rc1", DEBDEP_OP_GE, "1.0~"));
	assert_true(debdep_version_satisfies("1.0", DEBDEP_OP_LE, "1.0"));
	assert_false(debdep_version_satisfies("1.0", DEBDEP_OP_LT, "1.0"));
	assert_true(debdep_version_satisfies("0.9", DEBDEP_OP_LT, "1.0"));
	assert_true(debdep_version_satisfies("1:0.1", DEBDEP_OP_GT, "9.9"));
	assert_false(debdep_version_satisfies("1.0", DEBDEP_OP_GT, "1.0"));
	assert_true(debdep_version_satisfies("0:1.0-0", DEBDEP_OP_EQ, "1.0"));
	assert_false(debdep_version_satisfies("1.0-1", DEBDEP_OP_EQ, "1.0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_examples),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_satisfies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
