/* SPDX-License-Identifier: Apache-2.0 */
/* lib/slot.c: boot entry names, systemd-boot's next entry, rollback and mark-good renames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/strv.h"
#include "slot.h"

static void test_parse(void **state)
{
	struct slot_entry e;

	(void)state;
	assert_int_equal(slot_entry_parse("airlock-1.0.1-b+3.efi", &e), 0);
	assert_string_equal(e.name, "airlock");
	assert_string_equal(e.version, "1.0.1");
	assert_int_equal(e.slot, 'b');
	assert_int_equal(e.tries_left, 3);
	assert_int_equal(e.tries_done, 0);
	assert_int_equal(slot_entry_state(&e), SLOT_TRYING);
	slot_entry_done(&e);
	assert_int_equal(slot_entry_parse("my-image-2026.1-a+0-3.efi", &e), 0);
	assert_string_equal(e.name, "my-image");
	assert_string_equal(e.version, "2026.1");
	assert_int_equal(e.tries_done, 3);
	assert_int_equal(slot_entry_state(&e), SLOT_BAD);
	slot_entry_done(&e);
	assert_int_equal(slot_entry_parse("airlock-1.0.0-a.efi", &e), 0);
	assert_int_equal(slot_entry_state(&e), SLOT_GOOD);
	slot_entry_done(&e);
	for (const char *const *bad =
		     (const char *const[]){ "airlock-1.0.0-c.efi", "airlock-1.0.0-a+3.efi.tmp",
					    "airlock-1.x-a.efi", "1.0-a.efi", "airlock-1.0-a+x.efi",
					    "-1.0-a.efi", "airlock-1.0-a+3-.efi", NULL };
	     *bad; bad++)
		assert_int_equal(slot_entry_parse(*bad, &e), -EINVAL);
}

static void test_format(void **state)
{
	char *s = NULL;

	(void)state;
	assert_int_equal(slot_entry_format("airlock", "1.0.1", 'b', 3, 0, &s), 0);
	assert_string_equal(s, "airlock-1.0.1-b+3.efi");
	free(s);
	assert_int_equal(slot_entry_format("airlock", "1.0.1", 'a', 0, 2, &s), 0);
	assert_string_equal(s, "airlock-1.0.1-a+0-2.efi");
	free(s);
	assert_int_equal(slot_entry_format("airlock", "1.0.1", 'a', SLOT_TRIES_NONE, 0, &s), 0);
	assert_string_equal(s, "airlock-1.0.1-a.efi");
	free(s);
	assert_int_equal(slot_entry_format("airlock", "1.0.1", 'c', 3, 0, &s), -EINVAL);
}

static char next_of(const char *const *files)
{
	struct slot_table t;
	char n;

	assert_int_equal(slot_table_build((char *const *)files, "airlock", &t, NULL), 0);
	n = slot_table_next(&t);
	slot_table_done(&t);
	return n;
}

static void test_next(void **state)
{
	(void)state;
	assert_int_equal(next_of((const char *const[]){ NULL }), 0);
	assert_int_equal(next_of((const char *const[]){ "airlock-1.0.0-a+3.efi", NULL }), 'a');
	/* the newer one first, whatever its slot */
	assert_int_equal(next_of((const char *const[]){ "airlock-1.0.0-a.efi",
							"airlock-1.0.1-b+3.efi", NULL }),
			 'b');
	assert_int_equal(next_of((const char *const[]){ "airlock-1.10-a+1-2.efi",
							"airlock-1.9-b.efi", NULL }),
			 'a');
	/* spent tries: the other one */
	assert_int_equal(next_of((const char *const[]){ "airlock-1.0.0-a.efi",
							"airlock-1.0.1-b+0-3.efi", NULL }),
			 'a');
	/* other images' entries and temporary files do not count */
	assert_int_equal(next_of((const char *const[]){ "airlock-1.0.0-a.efi", "other-9-b.efi",
							"airlock-2.0-b+3.efi.tmp", NULL }),
			 'a');
}

static void test_two_entries(void **state)
{
	const char *const files[] = { "airlock-1.0.0-a.efi", "airlock-1.0.1-a+3.efi", NULL };
	struct slot_table t;
	char *error = NULL;

	(void)state;
	assert_int_equal(slot_table_build((char *const *)files, NULL, &t, &error), -ENOTUNIQ);
	assert_non_null(strstr(error, "slot a has two boot entries"));
	free(error);
}

static void test_plans(void **state)
{
	const char *const files[] = { "airlock-1.0.0-a.efi", "airlock-1.0.1-b+2-1.efi", NULL };
	const char *const bad[] = { "airlock-1.0.0-a.efi", "airlock-1.0.1-b+0-3.efi", NULL };
	struct slot_table t;
	char *from = NULL, *to = NULL;

	(void)state;
	assert_int_equal(slot_table_build((char *const *)files, NULL, &t, NULL), 0);
	assert_int_equal(slot_table_find_version(&t, "1.0.1"), 'b');
	assert_int_equal(slot_table_find_version(&t, "2"), 0);
	/* rollback to a: b marked bad, keeping its count */
	assert_int_equal(slot_plan_rollback(&t, 'a', &from, &to), 0);
	assert_string_equal(from, "airlock-1.0.1-b+2-1.efi");
	assert_string_equal(to, "airlock-1.0.1-b+0-1.efi");
	free(from), free(to);
	/* to b: next already */
	assert_int_equal(slot_plan_rollback(&t, 'b', &from, &to), 0);
	assert_null(from);
	assert_null(to);
	assert_int_equal(slot_plan_mark_good(&t, 'b', &from, &to), 0);
	assert_string_equal(to, "airlock-1.0.1-b.efi");
	free(from), free(to);
	assert_int_equal(slot_plan_mark_good(&t, 'a', &from, &to), 0);
	assert_null(from);
	slot_table_done(&t);

	assert_int_equal(slot_table_build((char *const *)bad, NULL, &t, NULL), 0);
	assert_int_equal(slot_plan_rollback(&t, 'b', &from, &to), -EPERM);
	slot_table_done(&t);
	assert_int_equal(
		slot_table_build((char *const *)(const char *const[]){ NULL }, NULL, &t, NULL), 0);
	assert_int_equal(slot_plan_rollback(&t, 'a', &from, &to), -ENOENT);
	slot_table_done(&t);
}

static enum slot_failed_action failed(const char *a, const char *b, char running)
{
	const char *files[3] = { a, b, NULL };
	enum slot_failed_action act;
	struct slot_table t;

	assert_int_equal(slot_table_build((char *const *)(a ? files : files + 1), NULL, &t, NULL),
			 0);
	act = slot_plan_failed_boot(&t, running);
	slot_table_done(&t);
	return act;
}

static void test_failed_boot(void **state)
{
	(void)state;
	/* a counted try with tries left: again */
	assert_int_equal(failed("airlock-1.0.0-a.efi", "airlock-1.0.1-b+2-1.efi", 'b'),
			 SLOT_FAILED_RETRY);
	/* the last try spent, a good slot to fall back to */
	assert_int_equal(failed("airlock-1.0.0-a.efi", "airlock-1.0.1-b+0-3.efi", 'b'),
			 SLOT_FAILED_FALL_BACK);
	assert_int_equal(failed("airlock-1.0.0-a+1-2.efi", "airlock-1.0.1-b+0-1.efi", 'b'),
			 SLOT_FAILED_FALL_BACK);
	/* the good slot itself failed: a reboot would fail the same way */
	assert_int_equal(failed("airlock-1.0.0-a.efi", "airlock-1.0.1-b+0-3.efi", 'a'),
			 SLOT_FAILED_STAY_GOOD);
	/* nothing to fall back to: the other slot bad, or none */
	assert_int_equal(failed("airlock-1.0.0-a+0-3.efi", "airlock-1.0.1-b+0-3.efi", 'b'),
			 SLOT_FAILED_STAY_LAST);
	assert_int_equal(failed(NULL, "airlock-1.0.1-b+0-1.efi", 'b'), SLOT_FAILED_STAY_LAST);
	/* the running slot has no entry */
	assert_int_equal(failed("airlock-1.0.0-a.efi", NULL, 'b'), SLOT_FAILED_STAY_NO_ENTRY);
	assert_string_equal(slot_failed_action_to_string(SLOT_FAILED_FALL_BACK), "fall-back");
	assert_true(slot_failed_action_reboots(SLOT_FAILED_RETRY));
	assert_false(slot_failed_action_reboots(SLOT_FAILED_STAY_GOOD));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse), cmocka_unit_test(test_format),
		cmocka_unit_test(test_next),  cmocka_unit_test(test_two_entries),
		cmocka_unit_test(test_plans), cmocka_unit_test(test_failed_boot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
