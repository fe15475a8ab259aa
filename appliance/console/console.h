/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * airlock-console: the operator console (airlock-console(8)). One process per terminal
 * (airlock-console@TTY.service), drawing through lib/ext/tui. It opens on the lock
 * screen; once the operator passphrase is given, the screens of console_screens[]
 * (screens.c, one file each) are reachable by their letters. Every action is recorded
 * in the ledger with the session's id before it is taken, and not taken when the ledger
 * does not take the record. Nothing here runs a shell: tools run with fixed argument
 * vectors (lib/core/run.h), and the operator's text is never part of one.
 */

#include <stdint.h>

#include "core/macro.h"
#include "ext/json.h"
#include "ext/tui.h"

#define CONSOLE_IDLE_DEFAULT 300U
#define CONSOLE_BODY_ROW 3U /* the first row a screen draws on: 0 title, 1 menu */

/* A page of text lines (what a tool printed, a screen's facts), scrolled. */
struct console_text {
	char **lines;
	size_t n;
	size_t top; /* first line shown */
	size_t width; /* lines are wrapped to it when added; 0: not wrapped */
};

struct console {
	/* settings */
	const char *tty; /* "tty1", "ttyS0": the instance */
	const char *root; /* "/" or a test root for the facts files */
	const char *hash_file;
	const char *attempts_file;
	const char *ledger_socket; /* NULL: the default */
	const char *ledger_dir; /* TEST-ONLY: airlock-ledger --ledger DIR; NULL: its default */
	const char *data_device; /* NULL: the boot disk's data partition */
	const char *update_disk; /* TEST-ONLY: airlock-update --disk, with running_version */
	const char *running_version;
	char **tpm_args; /* TEST-ONLY: appended to every airlock-tpm command */
	size_t n_tpm_args;
	unsigned idle_timeout; /* seconds; 0: never */

	char *image; /* "NAME VERSION", read once at start, for the title */

	/* the session (one per unlock) */
	char session[64]; /* "TTY-START": the id every record carries */
	int64_t session_started; /* CLOCK_REALTIME */
	bool unlocked;
	double last_input; /* monotonic seconds */

	/* the screen */
	const struct console_screen *screen;
	unsigned rows, cols;
	char *notice; /* one line above the legend, until the next key */
	bool quit;
};

struct console_screen {
	char key; /* the letter that opens it, lower case */
	const char *name; /* in the menu line */
	const char *legend; /* its own keys, on the bottom line */
	/* Gathers what it shows, when opened and on 'r'. Optional. */
	void (*enter)(struct console *c);
	/* Draws rows CONSOLE_BODY_ROW .. rows-3. */
	void (*draw)(struct console *c);
	/* A key it handles: 1; 0 for the console's own (menu letters, lock, ...). */
	int (*input)(struct console *c, const struct tui_input *in);
	/* Drops what enter() gathered (lock, quit). Optional. */
	void (*leave)(struct console *c);
};

extern const struct console_screen *const console_screens[];
extern const size_t console_screens_n;

/* screens */
extern const struct console_screen screen_dashboard;
extern const struct console_screen screen_passphrase;
extern const struct console_screen screen_power;
extern const struct console_screen screen_slots;
extern const struct console_screen screen_tpm;
extern const struct console_screen screen_ledger;

/* passphrase.c: reads a new passphrase twice (rows y, y+1) and hashes it: 0 and *ret_hash;
 * -EINVAL with *ret_why when refused; -ECANCELED, -ETIMEDOUT as console_read_secret. */
int console_new_passphrase(struct console *c, unsigned y, char **ret_hash, const char **ret_why);

/* power.c: asks question; if confirmed, records console.VERB and asks systemd to
 * reboot or poweroff: 1 when asked, 0 when not confirmed, -errno (the notice says why). */
int console_power(struct console *c, const char *verb, const char *question);

/* run.c */
/* Draws the whole unlocked screen again now (before a question, during a long step). */
void console_redraw(struct console *c);
void console_notice(struct console *c, const char *fmt, ...) _printf_(2, 3);
void console_lock(struct console *c, const char *why);

/*
 * session.c: records of this console, with {"session": {"id", "tty", "unit",
 * "started"}} added to payload (taken; NULL: out of memory). 0 when the ledger took it;
 * otherwise -errno and a notice saying the action was not taken.
 */
int console_record(struct console *c, const char *type, struct json_object *payload);
/* The record of an action about to be taken: when the ledger does not take it, the notice
 * begins with not_done ("Not done (reboot)") and the caller does not act. */
int console_record_action(struct console *c, const char *type, struct json_object *payload,
			  const char *not_done);
/* Runs argv (fixed: never operator text as a shell would see it), its output in *text
 * (lines), its error in *ret_error. */
int console_run(const char *const argv[], unsigned timeout_sec, struct console_text *text,
		char **ret_error);
/* heading, then what argv prints (indented), its error in full, or "none". */
void console_run_section(struct console_text *text, const char *heading, const char *const argv[],
			 unsigned timeout_sec);

/* session.c: appends to argv[*n] what every airlock-ledger command gets: --ledger DIR
 * (tests) for reading verbs, --socket PATH for the daemon's; argv must have room for 2. */
void console_ledger_args(const struct console *c, bool daemon, const char **argv, size_t *n);

/* view.c */
void console_text_clear(struct console_text *t);
int console_text_add(struct console_text *t, const char *fmt, ...) _printf_(2, 3);
/* Adds every line of s, each prefixed with indent spaces. */
int console_text_add_lines(struct console_text *t, unsigned indent, const char *s);
void console_text_draw(const struct console *c, struct console_text *t, unsigned y0);
/* Up, Down, Home, End, PgUp ('b'), PgDn (' '): 1 if it was one of them. */
int console_text_scroll(const struct console *c, struct console_text *t,
			const struct tui_input *in);
/* Asks yes/no on the notice row; true only for 'y'. Resets the idle clock. */
bool console_confirm(struct console *c, const char *question);
/* Reads a line without echo on row y (a secret: secret memory, *ret). -ECANCELED on
 * Escape, -ETIMEDOUT after timeout_sec without a key (0: never). */
int console_read_secret(struct console *c, unsigned y, const char *prompt, unsigned timeout_sec,
			char **ret);
/* Reads a line shown as typed (at most max characters; one more means too long). */
int console_read_line(struct console *c, unsigned y, const char *prompt, size_t max, char **ret);
