/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>

#include "core/secret.h"
#include "recovery.h"

#define KEY_0_31 "cccbcdce-cfcgchci-cjckclcn-crctcucv-bcbbbdbe-bfbgbhbi-bjbkblbn-brbtbubv"

static void test_from_bytes(void **state)
{
	uint8_t b[RECOVERY_KEY_BYTES];
	_cleanup_secret_ char *k = NULL, *f = NULL;
	(void)state;

	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)i;
	/* high nibble first, "cbdefghijklnrtuv" for 0..15, '-' after every 8 letters */
	assert_int_equal(recovery_key_from_bytes(b, &k), 0);
	assert_string_equal(k, KEY_0_31);
	assert_int_equal(strlen(k), RECOVERY_KEY_LENGTH);
	assert_int_equal(RECOVERY_KEY_LENGTH, 71);

	memset(b, 0xff, sizeof(b));
	assert_int_equal(recovery_key_from_bytes(b, &f), 0);
	assert_string_equal(
		f, "vvvvvvvv-vvvvvvvv-vvvvvvvv-vvvvvvvv-vvvvvvvv-vvvvvvvv-vvvvvvvv-vvvvvvvv");
}

static void test_generate(void **state)
{
	_cleanup_secret_ char *a = NULL, *b = NULL;
	(void)state;

	assert_int_equal(recovery_key_generate(&a), 0);
	assert_int_equal(recovery_key_generate(&b), 0);
	assert_true(recovery_key_is_canonical(a));
	assert_true(recovery_key_is_canonical(b));
	assert_string_not_equal(a, b);
	/* in secret memory */
	assert_int_equal(secret_size(a), RECOVERY_KEY_LENGTH + 1);
	for (size_t i = 0; a[i]; i++)
		assert_true(a[i] == '-' || strchr(RECOVERY_KEY_ALPHABET, a[i]));
}

static void check_normalize(const char *input, const char *expected)
{
	_cleanup_secret_ char *k = NULL;
	_cleanup_free_ char *error = NULL;

	assert_int_equal(recovery_key_normalize(input, &k, &error), 0);
	assert_null(error);
	assert_string_equal(k, expected);
}

static void check_refused(const char *input, int r, const char *message)
{
	_cleanup_secret_ char *k = NULL;
	_cleanup_free_ char *error = NULL;

	assert_int_equal(recovery_key_normalize(input, &k, &error), r);
	assert_null(k);
	assert_non_null(error);
	if (!strstr(error, message))
		fail_msg("error '%s' does not say '%s'", error, message);
}

static void test_normalize(void **state)
{
	(void)state;
	check_normalize(KEY_0_31, KEY_0_31);
	/* no dashes, upper case, spaces, tabs, a final newline, stray dashes */
	check_normalize("cccbcdcecfcgchcicjckclcncrctcucvbcbbbdbebfbgbhbibjbkblbnbrbtbubv",
			KEY_0_31);
	check_normalize(
		"CCCBCDCE CFCGCHCI cjckclcn crctcucv\tBCBBBDBE bfbgbhbi bjbkblbn brbtbubv\n",
		KEY_0_31);
	check_normalize(
		"cccb-cdce-cfcg-chci-cjck-clcn-crct-cucv-bcbb-bdbe-bfbg-bhbi-bjbk-blbn-brbt-"
		"bubv\r\n",
		KEY_0_31);

	/* a character outside the alphabet: its position, never the character */
	check_refused("cccbcdca-cfcgchci-cjckclcn-crctcucv-bcbbbdbe-bfbgbhbi-bjbkblbn-brbtbubv",
		      -EINVAL, "character 8 is not one of");
	check_refused("0ccbcdce", -EINVAL, "character 1 is not");
	check_refused(
		"cccbcdce-cfcgchci-cjckclcn-crctcucv-bcbbbdbe-bfbgbhbi-bjbkblbn-brbtbu\xc3\xbc",
		-EINVAL, "character 70 is not");
	/* too short, too long */
	check_refused("cccbcdce-cfcgchci-cjckclcn-crctcucv-bcbbbdbe-bfbgbhbi-bjbkblbn-brbtbub",
		      -ERANGE, "63 letters typed; a recovery key has 64");
	check_refused(KEY_0_31 "c", -ERANGE, "65 letters typed");
	check_refused("", -ERANGE, "0 letters typed");
}

static void test_canonical(void **state)
{
	(void)state;
	assert_true(recovery_key_is_canonical(KEY_0_31));
	assert_false(recovery_key_is_canonical(""));
	assert_false(recovery_key_is_canonical(KEY_0_31 "-"));
	assert_false(recovery_key_is_canonical(
		"CCCBCDCE-cfcgchci-cjckclcn-crctcucv-bcbbbdbe-bfbgbhbi-bjbkblbn-brbtbubv"));
	assert_false(recovery_key_is_canonical(
		"cccbcdcecfcgchci-cjckclcn-crctcucv-bcbbbdbe-bfbgbhbi-bjbkblbn-brbtbubv-"));
	assert_false(recovery_key_is_canonical(
		"cccbcdce-cfcgchci-cjckclcn-crctcucv-bcbbbdbe-bfbgbhbi-bjbkblbn-brbtbuba"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_bytes),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_canonical),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
