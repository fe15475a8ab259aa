/* SPDX-License-Identifier: Apache-2.0 */
/*
 * installer/flow.c: the screens as a state machine, driven by events without a
 * terminal. Above all: no path reaches FLOW_ACTION_WRITE without the typed device name
 * (and, without a TPM, the second confirmation), and leaving before it writes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../installer/flow.h"
#include "core/secret.h"
#include "recovery.h"

#define KEY "cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv"

static const struct flow_disk disks[] = {
	{ "sda", true }, /* the boot medium */
	{ "sdb", false },
	{ "nvme0n1", false },
};

static enum flow_action key(struct flow *f, enum tui_key k)
{
	struct flow_event e = { .type = FLOW_EVENT_KEY, .input = { .key = k } };
	return flow_handle(f, &e);
}

static enum flow_action ch(struct flow *f, char c)
{
	struct flow_event e = { .type = FLOW_EVENT_KEY, .input = { .key = TUI_KEY_CHAR, .ch = c } };
	return flow_handle(f, &e);
}

static enum flow_action type(struct flow *f, const char *s)
{
	enum flow_action a = FLOW_ACTION_NONE;
	for (; *s; s++)
		a = ch(f, *s);
	return a;
}

static enum flow_action event(struct flow *f, enum flow_event_type t)
{
	struct flow_event e = { .type = t };
	return flow_handle(f, &e);
}

/* From WELCOME to SUMMARY of disk index i (moving the cursor down to it). */
static void to_summary(struct flow *f, size_t i)
{
	assert_int_equal(key(f, TUI_KEY_ENTER), FLOW_ACTION_NONE);
	assert_int_equal(f->screen, FLOW_DISKS);
	for (size_t k = 0; k < i; k++)
		assert_int_equal(key(f, TUI_KEY_DOWN), FLOW_ACTION_NONE);
	assert_int_equal(key(f, TUI_KEY_ENTER), FLOW_ACTION_NONE);
	assert_int_equal(f->screen, FLOW_SUMMARY);
	assert_int_equal(f->chosen, i);
}

static void test_happy_path(void **state)
{
	_cleanup_secret_ char *k = secret_alloc(sizeof(KEY));
	struct flow f;
	(void)state;

	memcpy(k, KEY, sizeof(KEY));
	assert_int_equal(flow_init(&f, disks, 3, true, k), 0);
	assert_int_equal(f.screen, FLOW_WELCOME);
	to_summary(&f, 1);
	assert_true(flow_nothing_written(&f));

	assert_int_equal(type(&f, "sdb"), FLOW_ACTION_NONE);
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_WRITE);
	assert_int_equal(f.screen, FLOW_PROGRESS);
	assert_false(flow_nothing_written(&f));
	/* keys during the long steps do nothing */
	assert_int_equal(key(&f, TUI_KEY_INTERRUPT), FLOW_ACTION_NONE);
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_NONE);
	assert_int_equal(f.screen, FLOW_PROGRESS);

	assert_int_equal(event(&f, FLOW_EVENT_WRITTEN), FLOW_ACTION_NONE);
	assert_int_equal(f.screen, FLOW_KEY_SHOW);
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_NONE);
	assert_int_equal(f.screen, FLOW_KEY_CONFIRM);
	/* typed without dashes, in upper case: the same key */
	assert_int_equal(type(&f, "CBDEFGHIJKLNRTUV CBDEFGHIJKLNRTUV cbdefghijklnrtuv"
				  "cbdefghijklnrtuv"),
			 FLOW_ACTION_NONE);
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_NONE);
	assert_int_equal(f.screen, FLOW_PASSPHRASE);
	assert_false(flow_nothing_written(&f));
	/* the operator passphrase: refused when short, then twice */
	type(&f, "short");
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_NONE);
	assert_int_equal(f.notice, FLOW_NOTICE_PASSPHRASE_REFUSED);
	assert_non_null(strstr(f.passphrase_why, "too short"));
	assert_int_equal(f.n_typed, 0);
	assert_int_equal(f.screen, FLOW_PASSPHRASE);
	type(&f, "correct horse battery");
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_NONE);
	assert_int_equal(f.screen, FLOW_PASSPHRASE_AGAIN);
	type(&f, "correct horse batterY");
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_NONE);
	assert_int_equal(f.notice, FLOW_NOTICE_PASSPHRASE_MISMATCH);
	assert_int_equal(f.screen, FLOW_PASSPHRASE);
	assert_string_equal(f.passphrase, "");
	type(&f, "correct horse battery");
	key(&f, TUI_KEY_ENTER);
	/* Esc starts again */
	key(&f, TUI_KEY_ESCAPE);
	assert_int_equal(f.screen, FLOW_PASSPHRASE);
	type(&f, "correct horse battery");
	key(&f, TUI_KEY_ENTER);
	type(&f, "correct horse battery");
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_COMMIT);
	assert_string_equal(f.passphrase, "correct horse battery");
	assert_int_equal(f.screen, FLOW_FINISHING);
	assert_int_equal(event(&f, FLOW_EVENT_COMMITTED), FLOW_ACTION_NONE);
	assert_int_equal(f.screen, FLOW_DONE);
	assert_int_equal(f.outcome, FLOW_OUTCOME_INSTALLED);
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_REBOOT);
	assert_int_equal(ch(&f, 'q'), FLOW_ACTION_EXIT);
	assert_int_equal(f.outcome, FLOW_OUTCOME_INSTALLED);
	flow_done(&f);
}

static void test_confirmation_must_match(void **state)
{
	struct flow f;
	(void)state;

	assert_int_equal(flow_init(&f, disks, 3, true, KEY), 0);
	to_summary(&f, 2);
	/* another disk's name, a prefix, a longer name, the full path: all refused */
	static const char *const wrong[] = { "sdb", "nvme0n", "nvme0n1x", "/dev/nvme0n1", "" };
	for (size_t i = 0; i < ELEMENTSOF(wrong); i++) {
		assert_int_equal(type(&f, wrong[i]), FLOW_ACTION_NONE);
		assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_NONE);
		assert_int_equal(f.screen, FLOW_SUMMARY);
		assert_int_equal(f.notice, FLOW_NOTICE_NAME_MISMATCH);
		assert_int_equal(f.n_typed, 0); /* cleared for the next try */
	}
	/* editing: backspace fixes a typo */
	type(&f, "nvme0n2");
	key(&f, TUI_KEY_BACKSPACE);
	assert_int_equal(type(&f, "1"), FLOW_ACTION_NONE);
	assert_string_equal(f.typed, "nvme0n1");
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_WRITE);
	flow_done(&f);
}

static void test_refused_disk(void **state)
{
	struct flow f;
	(void)state;

	assert_int_equal(flow_init(&f, disks, 3, true, KEY), 0);
	key(&f, TUI_KEY_ENTER);
	assert_int_equal(f.cursor, 0);
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_NONE);
	assert_int_equal(f.screen, FLOW_DISKS);
	assert_int_equal(f.notice, FLOW_NOTICE_DISK_REFUSED);
	/* the cursor stops at both ends */
	key(&f, TUI_KEY_UP);
	assert_int_equal(f.cursor, 0);
	for (int i = 0; i < 5; i++)
		key(&f, TUI_KEY_DOWN);
	assert_int_equal(f.cursor, 2);
	key(&f, TUI_KEY_HOME);
	assert_int_equal(f.cursor, 0);
	key(&f, TUI_KEY_END);
	assert_int_equal(f.cursor, 2);
	flow_done(&f);

	/* no disks at all */
	assert_int_equal(flow_init(&f, NULL, 0, true, KEY), 0);
	key(&f, TUI_KEY_ENTER);
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_NONE);
	assert_int_equal(f.notice, FLOW_NOTICE_NO_DISKS);
	assert_int_equal(f.screen, FLOW_DISKS);
	flow_done(&f);
}

/* Every way out before the confirmation leaves with CANCELLED and never asks to write. */
static void test_cancel_before_confirmation(void **state)
{
	const enum flow_screen where[] = { FLOW_WELCOME, FLOW_DISKS, FLOW_SUMMARY, FLOW_NO_TPM };
	(void)state;

	for (size_t i = 0; i < ELEMENTSOF(where); i++) {
		struct flow f;

		assert_int_equal(flow_init(&f, disks, 3, false, KEY), 0);
		if (where[i] >= FLOW_DISKS)
			key(&f, TUI_KEY_ENTER);
		if (where[i] >= FLOW_SUMMARY) {
			key(&f, TUI_KEY_DOWN);
			key(&f, TUI_KEY_ENTER);
		}
		if (where[i] >= FLOW_NO_TPM) {
			type(&f, "sdb");
			assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_NONE);
		}
		assert_int_equal(f.screen, where[i]);
		type(&f, "sd"); /* half-typed */
		assert_int_equal(key(&f, TUI_KEY_INTERRUPT), FLOW_ACTION_EXIT);
		assert_int_equal(f.screen, FLOW_EXIT);
		assert_int_equal(f.outcome, FLOW_OUTCOME_CANCELLED);
		assert_true(flow_nothing_written(&f));
		flow_done(&f);
	}
}

static void test_escape_goes_back(void **state)
{
	struct flow f;
	(void)state;

	assert_int_equal(flow_init(&f, disks, 3, false, KEY), 0);
	to_summary(&f, 1);
	type(&f, "sdb");
	key(&f, TUI_KEY_ENTER);
	assert_int_equal(f.screen, FLOW_NO_TPM);
	key(&f, TUI_KEY_ESCAPE);
	assert_int_equal(f.screen, FLOW_SUMMARY);
	assert_int_equal(f.n_typed, 0); /* the name must be typed again */
	key(&f, TUI_KEY_ESCAPE);
	assert_int_equal(f.screen, FLOW_DISKS);
	key(&f, TUI_KEY_ESCAPE);
	assert_int_equal(f.screen, FLOW_WELCOME);
	assert_int_equal(key(&f, TUI_KEY_ESCAPE), FLOW_ACTION_EXIT);
	assert_int_equal(f.outcome, FLOW_OUTCOME_CANCELLED);
	flow_done(&f);
}

static void test_no_tpm_needs_second_confirmation(void **state)
{
	struct flow f;
	(void)state;

	assert_int_equal(flow_init(&f, disks, 3, false, KEY), 0);
	to_summary(&f, 1);
	type(&f, "sdb");
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_NONE);
	assert_int_equal(f.screen, FLOW_NO_TPM);
	assert_int_equal(type(&f, "yes"), FLOW_ACTION_NONE);
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_NONE);
	assert_int_equal(f.notice, FLOW_NOTICE_PHRASE_MISMATCH);
	assert_int_equal(f.screen, FLOW_NO_TPM);
	type(&f, FLOW_NO_TPM_PHRASE);
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_WRITE);
	assert_int_equal(f.screen, FLOW_PROGRESS);
	flow_done(&f);
}

static void to_key_confirm(struct flow *f)
{
	to_summary(f, 1);
	type(f, "sdb");
	assert_int_equal(key(f, TUI_KEY_ENTER), FLOW_ACTION_WRITE);
	event(f, FLOW_EVENT_WRITTEN);
	key(f, TUI_KEY_ENTER);
	assert_int_equal(f->screen, FLOW_KEY_CONFIRM);
}

static void test_recovery_key_retype(void **state)
{
	struct flow f;
	(void)state;

	assert_int_equal(flow_init(&f, disks, 3, true, KEY), 0);
	to_key_confirm(&f);
	/* not a key at all */
	type(&f, "cbdefghi");
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_NONE);
	assert_int_equal(f.notice, FLOW_NOTICE_KEY_MALFORMED);
	assert_int_equal(f.screen, FLOW_KEY_CONFIRM);
	while (f.n_typed)
		key(&f, TUI_KEY_BACKSPACE);
	/* another key: the group that differs is named */
	type(&f, "cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuc-cbdefghi-jklnrtuv");
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_NONE);
	assert_int_equal(f.notice, FLOW_NOTICE_KEY_MISMATCH);
	assert_int_equal(f.key_group, 6);
	assert_int_equal(f.n_typed, 0);
	/* Esc shows the key again, Enter comes back */
	key(&f, TUI_KEY_ESCAPE);
	assert_int_equal(f.screen, FLOW_KEY_SHOW);
	key(&f, TUI_KEY_ENTER);
	type(&f, KEY);
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_NONE);
	assert_int_equal(f.n_typed, 0);
	assert_int_equal(f.screen, FLOW_PASSPHRASE);
	/* Ctrl-C twice abandons here too */
	assert_int_equal(key(&f, TUI_KEY_INTERRUPT), FLOW_ACTION_NONE);
	assert_int_equal(f.notice, FLOW_NOTICE_ABORT_ARMED);
	ch(&f, 'p');
	key(&f, TUI_KEY_BACKSPACE);
	type(&f, "eight chars");
	key(&f, TUI_KEY_ENTER);
	type(&f, "eight chars");
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_COMMIT);
	/* a failure while finishing */
	event(&f, FLOW_EVENT_FAILED);
	assert_int_equal(f.screen, FLOW_FAILED);
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_EXIT);
	assert_int_equal(f.outcome, FLOW_OUTCOME_FAILED);
	flow_done(&f);
}

static void test_abandon_needs_two_interrupts(void **state)
{
	struct flow f;
	(void)state;

	assert_int_equal(flow_init(&f, disks, 3, true, KEY), 0);
	to_key_confirm(&f);
	assert_int_equal(key(&f, TUI_KEY_INTERRUPT), FLOW_ACTION_NONE);
	assert_int_equal(f.notice, FLOW_NOTICE_ABORT_ARMED);
	/* any other key disarms */
	ch(&f, 'c');
	assert_false(f.abort_armed);
	assert_int_equal(key(&f, TUI_KEY_INTERRUPT), FLOW_ACTION_NONE);
	assert_int_equal(key(&f, TUI_KEY_INTERRUPT), FLOW_ACTION_EXIT);
	assert_int_equal(f.outcome, FLOW_OUTCOME_ABANDONED);
	assert_false(flow_nothing_written(&f));
	flow_done(&f);
}

static void test_write_failure(void **state)
{
	struct flow f;
	(void)state;

	assert_int_equal(flow_init(&f, disks, 3, true, KEY), 0);
	to_summary(&f, 2);
	type(&f, "nvme0n1");
	assert_int_equal(key(&f, TUI_KEY_ENTER), FLOW_ACTION_WRITE);
	/* events that do not belong to the screen change nothing */
	event(&f, FLOW_EVENT_COMMITTED);
	assert_int_equal(f.screen, FLOW_PROGRESS);
	event(&f, FLOW_EVENT_FAILED);
	assert_int_equal(f.screen, FLOW_FAILED);
	assert_int_equal(f.outcome, FLOW_OUTCOME_FAILED);
	assert_int_equal(ch(&f, 'x'), FLOW_ACTION_NONE);
	assert_int_equal(key(&f, TUI_KEY_INTERRUPT), FLOW_ACTION_EXIT);
	flow_done(&f);
}

static void test_typed_is_bounded(void **state)
{
	struct flow f;
	(void)state;

	assert_int_equal(flow_init(&f, disks, 3, true, KEY), 0);
	to_summary(&f, 1);
	for (int i = 0; i < FLOW_TYPED_MAX + 50; i++)
		ch(&f, 'x');
	assert_int_equal(f.n_typed, FLOW_TYPED_MAX);
	assert_int_equal(strlen(f.typed), FLOW_TYPED_MAX);
	assert_int_equal(key(&f, TUI_KEY_REDRAW), FLOW_ACTION_NONE);
	assert_int_equal(f.screen, FLOW_SUMMARY);
	flow_done(&f);
	assert_null(f.typed);
	assert_string_equal(flow_screen_to_string(FLOW_KEY_CONFIRM), "key-confirm");
	assert_string_equal(flow_screen_to_string(FLOW_PASSPHRASE_AGAIN), "passphrase-again");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_happy_path),
		cmocka_unit_test(test_confirmation_must_match),
		cmocka_unit_test(test_refused_disk),
		cmocka_unit_test(test_cancel_before_confirmation),
		cmocka_unit_test(test_escape_goes_back),
		cmocka_unit_test(test_no_tpm_needs_second_confirmation),
		cmocka_unit_test(test_recovery_key_retype),
		cmocka_unit_test(test_abandon_needs_two_interrupts),
		cmocka_unit_test(test_write_failure),
		cmocka_unit_test(test_typed_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
