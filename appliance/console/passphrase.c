/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Passphrase: change the operator passphrase. The current one is asked first (an
 * unlocked console left alone must not let a passer-by take it over), then the new one
 * twice; the new hash replaces the old atomically (lib/operator). Every change and
 * every refusal is recorded (console.passphrase-changed, console.passphrase-refused);
 * no passphrase is ever shown, logged or recorded.
 */
#include "console.h"
#include "core/secret.h"
#include "operator.h"

static void passphrase_draw(struct console *c)
{
	unsigned y = CONSOLE_BODY_ROW;

	tui_print(y++, 2, TUI_BOLD, "Operator passphrase");
	y++;
	tui_print(y++, 2, TUI_NORMAL, "Enter: change it. The current passphrase is asked first,");
	tui_print(y++, 2, TUI_NORMAL, "then the new one twice (%d to %d printable characters).",
		  OPERATOR_PASSPHRASE_MIN, OPERATOR_PASSPHRASE_MAX);
	tui_print(y++, 2, TUI_NORMAL, "Every console uses it from its next unlock on.");
	y++;
	tui_print(y, 2, TUI_NORMAL, "Stored as a yescrypt hash in %s.", c->hash_file);
}

static void refused(struct console *c, const char *reason)
{
	struct json_object *p = json_object_new_object();

	if (p && json_add_string(p, "reason", reason) < 0)
		p = (json_object_put(p), NULL);
	(void)console_record(c, "console.passphrase-refused", p);
	if (!c->notice)
		console_notice(c, "The passphrase was not changed: %s.", reason);
}

int console_new_passphrase(struct console *c, unsigned y, char **ret_hash, const char **ret_why)
{
	_cleanup_secret_ char *new1 = NULL, *new2 = NULL;
	int r;

	*ret_why = NULL;
	r = console_read_secret(c, y, "New passphrase:", c->idle_timeout, &new1);
	if (r < 0)
		return r;
	*ret_why = operator_passphrase_refusal(new1);
	if (*ret_why)
		return -EINVAL;
	r = console_read_secret(c, y + 1, "New passphrase again:", c->idle_timeout, &new2);
	if (r < 0)
		return r;
	if (!streq(new1, new2)) {
		*ret_why = "the two new passphrases differ";
		return -EINVAL;
	}
	tui_print(y + 2, 1, TUI_BOLD, "Hashing...");
	tui_refresh();
	r = operator_hash_new(new1, ret_hash);
	if (r < 0)
		*ret_why = "hashing the passphrase failed";
	return r;
}

static void change(struct console *c)
{
	_cleanup_secret_ char *current = NULL;
	_cleanup_free_ char *hash = NULL, *fresh = NULL;
	unsigned y = CONSOLE_BODY_ROW + 9;
	const char *why;
	int r;

	r = operator_hash_load(c->hash_file, &hash);
	if (r < 0) {
		console_notice(c, "%s: %s", c->hash_file, strerror(-r));
		return;
	}
	r = console_read_secret(c, y, "Current passphrase:", c->idle_timeout, &current);
	if (r < 0)
		return;
	r = operator_hash_verify(hash, current);
	if (r <= 0)
		return refused(c, r < 0 ? "the stored hash is unusable" :
					  "the current passphrase is wrong");
	r = console_new_passphrase(c, y + 1, &fresh, &why);
	if (r < 0) {
		if (why)
			refused(c, why);
		return;
	}
	/* Recorded first: a change the ledger does not take is not made. */
	if (console_record_action(c, "console.passphrase-changed", json_object_new_object(),
				  "Not changed") < 0)
		return;
	r = operator_hash_save(c->hash_file, fresh);
	if (r < 0) {
		console_notice(c, "%s: %s: the old passphrase stays", c->hash_file, strerror(-r));
		return;
	}
	console_notice(c, "The operator passphrase was changed.");
}

static int passphrase_input(struct console *c, const struct tui_input *in)
{
	if (in->key != TUI_KEY_ENTER)
		return 0;
	change(c);
	return 1;
}

const struct console_screen screen_passphrase = {
	.key = 'c',
	.name = "Passphrase",
	.legend = "Enter change",
	.draw = passphrase_draw,
	.input = passphrase_input,
};
