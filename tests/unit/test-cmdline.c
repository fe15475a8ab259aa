/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>

#include "cmdline.h"

#define HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_split(void **state)
{
	_cleanup_(cmdline_freep) struct cmdline *c = NULL;
	(void)state;

	assert_int_equal(cmdline_parse("  console=ttyS0,115200 quiet\tro a=b=c "
				       "x=\"has space\" \"y=quoted whole\" z=\"\" nul=\n",
				       &c),
			 0);
	assert_int_equal(c->n_words, 8);
	assert_string_equal(c->words[0].key, "console");
	assert_string_equal(c->words[0].value, "ttyS0,115200");
	assert_string_equal(c->words[1].key, "quiet");
	assert_null(c->words[1].value);
	assert_string_equal(cmdline_get(c, "quiet"), "");
	assert_string_equal(cmdline_get(c, "a"), "b=c");
	assert_string_equal(cmdline_get(c, "x"), "has space");
	assert_string_equal(cmdline_get(c, "y"), "quoted whole");
	assert_string_equal(cmdline_get(c, "z"), "");
	assert_string_equal(cmdline_get(c, "nul"), "");
	assert_null(cmdline_get(c, "missing"));
	assert_null(cmdline_get(NULL, "x"));
}

static void test_last_wins(void **state)
{
	_cleanup_(cmdline_freep) struct cmdline *c = NULL;
	(void)state;

	assert_int_equal(cmdline_parse("k=1 k=2 k=3", &c), 0);
	assert_string_equal(cmdline_get(c, "k"), "3");
}

static void test_refused(void **state)
{
	struct cmdline *c = NULL;
	char big[CMDLINE_MAX_SIZE + 2];
	(void)state;

	assert_int_equal(cmdline_parse("a=\"unterminated", &c), -EINVAL);
	assert_int_equal(cmdline_parse("a=\x01", &c), -EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(cmdline_parse(big, &c), -E2BIG);
	assert_null(c);
	assert_int_equal(cmdline_parse("", &c), 0);
	assert_int_equal(c->n_words, 0);
	cmdline_free(c);
}

static int parse(const char *text, struct boot_args *a, char **error,
		 enum boot_failure_action *action)
{
	_cleanup_(cmdline_freep) struct cmdline *c = NULL;
	int r = cmdline_parse(text, &c);

	if (r < 0)
		return r;
	return boot_args_parse(c, a, error, action);
}

static void test_boot_args(void **state)
{
	struct boot_args a;
	enum boot_failure_action act;
	(void)state;

	assert_int_equal(parse("quiet airlock.slot=b airlock.roothash=" HASH, &a, NULL, &act), 0);
	assert_int_equal(a.slot, 'b');
	assert_string_equal(a.root_hash_hex, HASH);
	assert_int_equal(a.root_hash[0], 0x01);
	assert_int_equal(a.root_hash[31], 0xef);
	assert_int_equal(a.on_failure, BOOT_FAILURE_HALT);
	assert_int_equal(act, BOOT_FAILURE_HALT);
	assert_false(a.debug);
	assert_int_equal(a.device_timeout_sec, BOOT_DEVICE_TIMEOUT_DEFAULT_SEC);

	/* Upper-case hex is accepted and printed lower case. */
	assert_int_equal(parse("airlock.slot=a airlock.on_failure=reboot airlock.debug "
			       "airlock.device_timeout=5 airlock.roothash=0123456789ABCDEF"
			       "0123456789abcdef0123456789abcdef0123456789abcdef",
			       &a, NULL, &act),
			 0);
	assert_string_equal(a.root_hash_hex, HASH);
	assert_int_equal(a.on_failure, BOOT_FAILURE_REBOOT);
	assert_int_equal(act, BOOT_FAILURE_REBOOT);
	assert_true(a.debug);
	assert_int_equal(a.device_timeout_sec, 5);

	assert_int_equal(
		parse("airlock.slot=a airlock.debug=no airlock.roothash=" HASH, &a, NULL, NULL), 0);
	assert_false(a.debug);
}

static void expect_error(const char *text, const char *fragment,
			 enum boot_failure_action expected_action)
{
	struct boot_args a = { .slot = 'x' };
	enum boot_failure_action act = _BOOT_FAILURE_INVALID;
	_cleanup_free_ char *error = NULL;

	assert_int_equal(parse(text, &a, &error, &act), -EINVAL);
	assert_non_null(error);
	if (!strstr(error, fragment))
		fail_msg("'%s' does not contain '%s'", error, fragment);
	assert_int_equal(act, expected_action);
	assert_int_equal(a.slot, 'x'); /* untouched on failure */
}

static void test_boot_args_refused(void **state)
{
	(void)state;

	expect_error("quiet", "airlock.slot= is missing", BOOT_FAILURE_HALT);
	expect_error("airlock.slot=c airlock.roothash=" HASH, "airlock.slot=c is not valid",
		     BOOT_FAILURE_HALT);
	expect_error("airlock.slot airlock.roothash=" HASH, "airlock.slot= is not valid",
		     BOOT_FAILURE_HALT);
	expect_error("airlock.slot=a", "airlock.roothash= is missing", BOOT_FAILURE_HALT);
	expect_error("airlock.slot=a airlock.roothash=1234", "airlock.roothash=1234 is not valid",
		     BOOT_FAILURE_HALT);
	expect_error("airlock.slot=a airlock.roothash=" HASH "00", "is not valid",
		     BOOT_FAILURE_HALT);
	expect_error("airlock.slot=a airlock.roothash="
		     "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		     "is not valid", BOOT_FAILURE_HALT);
	/* The failure action is known even when something else is wrong. */
	expect_error("airlock.on_failure=reboot airlock.slot=a", "airlock.roothash= is missing",
		     BOOT_FAILURE_REBOOT);
	expect_error("airlock.on_failure=explode airlock.slot=a airlock.roothash=" HASH,
		     "airlock.on_failure=explode is not valid", BOOT_FAILURE_HALT);
	expect_error("airlock.slot=a airlock.roothash=" HASH " airlock.slots=b",
		     "unknown key airlock.slots", BOOT_FAILURE_HALT);
	expect_error("airlock.slot=a airlock.roothash=" HASH " airlock.debug=maybe",
		     "airlock.debug=maybe", BOOT_FAILURE_HALT);
	expect_error("airlock.slot=a airlock.roothash=" HASH " airlock.device_timeout=0",
		     "airlock.device_timeout=0", BOOT_FAILURE_HALT);
	expect_error("airlock.slot=a airlock.roothash=" HASH " airlock.device_timeout=1x",
		     "airlock.device_timeout=1x", BOOT_FAILURE_HALT);
}

static void test_boot_slot(void **state)
{
	char path[] = "/tmp/airlock-test-slot.XXXXXX", slot = '?';
	int fd;
	(void)state;

	assert_int_equal(boot_slot_parse("a", &slot), 0);
	assert_int_equal(slot, 'a');
	assert_int_equal(boot_slot_parse("b\n", &slot), 0);
	assert_int_equal(slot, 'b');
	slot = '?';
	assert_int_equal(boot_slot_parse("", &slot), -EINVAL);
	assert_int_equal(boot_slot_parse("c\n", &slot), -EINVAL);
	assert_int_equal(boot_slot_parse("ab", &slot), -EINVAL);
	assert_int_equal(boot_slot_parse("a\n\n", &slot), -EINVAL);
	assert_int_equal(boot_slot_parse("A", &slot), -EINVAL);
	assert_int_equal(boot_slot_parse(NULL, &slot), -EINVAL);
	assert_int_equal(slot, '?');

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "b\n", 2), 2);
	close(fd);
	assert_int_equal(boot_slot_load(path, &slot), 0);
	assert_int_equal(slot, 'b');
	/* a NUL byte does not hide garbage */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "a\0x", 3), 3);
	close(fd);
	assert_int_equal(boot_slot_load(path, &slot), -EINVAL);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(boot_slot_load(path, &slot), -ENOENT);
	assert_int_equal(slot, 'b');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_last_wins),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_boot_args),
		cmocka_unit_test(test_boot_args_refused),
		cmocka_unit_test(test_boot_slot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
