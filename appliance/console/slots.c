/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Slots: the A/B slots as airlock-update status says them (versions, states, tries, the
 * next boot, and why the booted slot is not the newest), the boot failures the ledger
 * holds (update.boot-failed), and a rollback: after a confirmation with that page on
 * the screen, console.rollback is recorded, airlock-update rollback makes the other slot
 * the next boot (it checks that slot against its root hash and records update.rollback
 * itself), what it said is shown, and a reboot is offered.
 */
#include "console.h"
#include "core/run.h"

#define TOOL_TIMEOUT_SEC 60
#define ROLLBACK_TIMEOUT_SEC 600 /* it reads the whole other slot */

static struct console_text page;

/* airlock-update VERB, on the running system or (tests) on --update-disk as booted from
 * --running-version (given together). */
static void update_argv(const struct console *c, const char *verb, const char *argv[7])
{
	size_t n = 0;

	argv[n++] = "airlock-update";
	argv[n++] = verb;
	if (c->update_disk) {
		argv[n++] = "--disk";
		argv[n++] = c->update_disk;
		argv[n++] = "--running-version";
		argv[n++] = c->running_version;
	}
	argv[n] = NULL;
}

static void section(const char *heading, const char *const argv[], unsigned timeout)
{
	console_run_section(&page, heading, argv, timeout);
	(void)console_text_add(&page, "%s", "");
}

static void slots_enter(struct console *c)
{
	const char *status[7];
	const char *failed[7] = { "airlock-ledger", "show", "--type", "update.boot-failed", NULL };
	size_t nf = 4;

	console_text_clear(&page);
	page.width = c->cols > 2 ? c->cols - 2 : 0;
	console_ledger_args(c, false, failed, &nf);
	update_argv(c, "status", status);
	section("The A/B slots (airlock-update status)", status, TOOL_TIMEOUT_SEC);
	section("Boots that failed (airlock-ledger show --type update.boot-failed)", failed,
		TOOL_TIMEOUT_SEC);
}

static void slots_draw(struct console *c)
{
	console_text_draw(c, &page, CONSOLE_BODY_ROW);
}

static void rollback(struct console *c)
{
	_cleanup_free_ char *out = NULL, *error = NULL;
	const char *argv[7];
	struct run_opts o = { .timeout_sec = ROLLBACK_TIMEOUT_SEC,
			      .stdout_mode = RUN_STDIO_CAPTURE };
	int r;

	if (!console_confirm(c, "Roll back: make the other slot (above) the next boot?"))
		return;
	if (console_record_action(c, "console.rollback", json_object_new_object(),
				  "Not done (rollback)") < 0)
		return;
	update_argv(c, "rollback", argv);
	tui_fill(c->rows - 2, 0, c->cols, ' ', TUI_NORMAL);
	tui_print(c->rows - 2, 1, TUI_BOLD, "Checking the other slot against its root hash...");
	tui_refresh();
	r = run_argv(argv, &o, &out, &error);
	slots_enter(c);
	if (r < 0) {
		/* The refusal in full, on the page (a notice is at most three lines). */
		(void)console_text_add(&page, "%s", "Rollback REFUSED or failed:");
		(void)console_text_add_lines(&page, 2, error ?: strerror(-r));
		page.top = page.n; /* the end of the page, where the reason is */
		console_notice(c, "The rollback was not done: the reason is on the page.");
		return;
	}
	(void)console_text_add(&page, "%s", "Rollback (airlock-update rollback)");
	(void)console_text_add_lines(&page, 2, out);
	page.top = page.n;
	console_redraw(c);
	(void)console_power(c, "reboot", "Rolled back. Reboot into it now?");
}

static int slots_input(struct console *c, const struct tui_input *in)
{
	if (in->key == TUI_KEY_CHAR && in->ch == 'r') {
		slots_enter(c);
		return 1;
	}
	if (in->key == TUI_KEY_CHAR && in->ch == 'B') {
		rollback(c);
		return 1;
	}
	return console_text_scroll(c, &page, in);
}

static void slots_leave(struct console *c)
{
	(void)c;
	console_text_clear(&page);
}

const struct console_screen screen_slots = {
	.key = 's',
	.name = "Slots",
	.legend = "B roll back  r refresh  Up/Down/Space/b scroll",
	.enter = slots_enter,
	.draw = slots_draw,
	.input = slots_input,
	.leave = slots_leave,
};
