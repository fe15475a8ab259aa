/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Power: reboot or power off, each asked to be confirmed and recorded before systemd is
 * asked (console.reboot, console.poweroff); a refusal of the ledger is a refusal.
 */
#include "console.h"
#include "core/run.h"

static void power_draw(struct console *c)
{
	unsigned y = CONSOLE_BODY_ROW;

	tui_print(y++, 2, TUI_BOLD, "Power");
	y++;
	tui_print(y++, 2, TUI_NORMAL, "R  reboot: the services stop, the ledger is closed, the");
	tui_print(y++, 2, TUI_NORMAL, "   next boot is the slot 'airlock-update status' names");
	tui_print(y++, 2, TUI_NORMAL, "P  power off");
	y++;
	tui_print(y, 2, TUI_NORMAL, "Both ask to be confirmed.");
	(void)c;
}

int console_power(struct console *c, const char *verb, const char *question)
{
	_cleanup_free_ char *error = NULL, *type = NULL, *not_done = NULL;
	const char *argv[] = { "systemctl", "--no-block", verb, NULL };
	const struct run_opts o = { .timeout_sec = 30 };
	int r;

	if (!console_confirm(c, question))
		return 0;
	if (asprintf(&type, "console.%s", verb) < 0)
		return -ENOMEM;
	if (asprintf(&not_done, "Not done (%s)", verb) < 0)
		return -ENOMEM;
	r = console_record_action(c, type, json_object_new_object(), not_done);
	if (r < 0)
		return r;
	r = run_argv(argv, &o, NULL, &error);
	if (r < 0)
		console_notice(c, "%s failed: %s", verb, error ?: strerror(-r));
	else
		console_notice(c, "%s requested: the system is going down", verb);
	return r < 0 ? r : 1;
}

static int power_input(struct console *c, const struct tui_input *in)
{
	if (in->key != TUI_KEY_CHAR)
		return 0;
	if (in->ch == 'R') {
		(void)console_power(c, "reboot", "Reboot the appliance now?");
		return 1;
	}
	if (in->ch == 'P') {
		(void)console_power(c, "poweroff", "Power the appliance off now?");
		return 1;
	}
	return 0;
}

const struct console_screen screen_power = {
	.key = 'p',
	.name = "Power",
	.legend = "R reboot  P power off",
	.draw = power_draw,
	.input = power_input,
};
