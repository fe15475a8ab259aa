/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-console run TTY: the frame (title, menu, notice, key legend), the lock screen
 * and the loop. Locked, only the banner's facts are shown and only the passphrase is
 * read; unlocked, a menu letter opens a screen, 'x' locks, and an idle timeout locks.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "banner.h"
#include "console.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/progress.h"
#include "core/secret.h"
#include "core/verb.h"
#include "dataunlock.h"
#include "operator.h"
#include "verbs.h"

#define LOCK_REFRESH_SEC 30 /* the lock screen's facts (addresses) are read again */

static int64_t now_realtime(void)
{
	return (int64_t)time(NULL);
}

void console_notice(struct console *c, const char *fmt, ...)
{
	va_list ap;

	free(c->notice);
	c->notice = NULL;
	va_start(ap, fmt);
	if (vasprintf(&c->notice, fmt, ap) < 0)
		c->notice = NULL;
	va_end(ap);
}

/*
 * text wrapped to the terminal's width after prefix, from row y down (or, with up, ending
 * on row y), at most 3 rows: a reason is shown whole, not cut at the edge.
 */
static void print_wrapped(struct console *c, unsigned y, unsigned attrs, const char *prefix,
			  const char *text, bool up)
{
	struct console_text t = { .width = c->cols > 8 ? c->cols - 3 : 0 };
	size_t n;

	if (console_text_add(&t, "%s%s", prefix, text) < 0)
		return;
	n = MIN(t.n, (size_t)3);
	for (size_t i = 0; i < n; i++) {
		unsigned row = up ? y - (unsigned)(n - 1 - i) : y + (unsigned)i;

		tui_fill(row, 0, c->cols, ' ', TUI_NORMAL);
		tui_print(row, 1, attrs, "%s", t.lines[i]);
	}
	console_text_clear(&t);
}

static void frame(struct console *c, const char *right)
{
	char clock[32];
	time_t t = time(NULL);
	struct tm tm;

	tui_size(&c->rows, &c->cols);
	tui_clear();
	if (!gmtime_r(&t, &tm) || strftime(clock, sizeof(clock), "%Y-%m-%d %H:%M UTC", &tm) == 0)
		clock[0] = '\0';
	tui_fill(0, 0, c->cols, ' ', TUI_REVERSE);
	tui_print(0, 1, TUI_REVERSE | TUI_BOLD, "Airlock console - %s", strna(c->image));
	if (c->cols > 60)
		tui_print(0, c->cols - 1 - (unsigned)strlen(clock) - (unsigned)strlen(c->tty) - 2,
			  TUI_REVERSE, "%s  %s", c->tty, clock);
	tui_fill(c->rows - 1, 0, c->cols, ' ', TUI_REVERSE);
	tui_print(c->rows - 1, 1, TUI_REVERSE, "%s", right);
	if (c->notice)
		print_wrapped(c, c->rows - 2, TUI_BOLD, "! ", c->notice, true);
}

/* ---- locked ------------------------------------------------------------------------ */

static void draw_lock(struct console *c, const char *status, const char *legend)
{
	_cleanup_(banner_facts_done) struct banner_facts f = { 0 };
	unsigned y = 2;

	frame(c, legend ?: "Enter: unlock with the operator passphrase");
	if (banner_facts_load(c->root, &f) < 0)
		return;
	tui_print(y++, 2, TUI_BOLD, "%s %s", f.name, f.version);
	y++;
	tui_print(y++, 2, TUI_NORMAL, "slot       %s", f.slot);
	tui_print(y++, 2, TUI_NORMAL, "root hash  %s", f.root_hash);
	tui_print(y++, 2, TUI_NORMAL, "data       %s", f.data);
	tui_print(y++, 2, TUI_NORMAL, "addresses  %s", f.addresses);
	y++;
	tui_print(y++, 2, TUI_NORMAL, "This console is locked.");
	if (status)
		print_wrapped(c, y + 1, TUI_BOLD, " ", status, false);
}

static struct json_object *attempts_payload(const struct operator_attempts *a, unsigned wait)
{
	struct json_object *p = json_object_new_object();

	if (p && (json_add_int(p, "failures", a->failures) < 0 ||
		  json_add_int(p, "next_attempt_in", wait) < 0 ||
		  json_add_bool(p, "locked_out", a->failures >= OPERATOR_LOCKOUT_FAILURES) < 0))
		p = (json_object_put(p), NULL);
	return p;
}

static void unlocked(struct console *c, unsigned failures_before)
{
	struct json_object *p = json_object_new_object();

	c->session_started = now_realtime();
	(void)snprintf(c->session, sizeof(c->session), "%s-%lld", c->tty,
		       (long long)c->session_started);
	c->unlocked = true;
	c->last_input = progress_now();
	if (p && json_add_int(p, "failures_before", failures_before) < 0)
		p = (json_object_put(p), NULL);
	(void)console_record(c, "console.unlocked", p);
	c->screen = console_screens[0];
	if (c->screen->enter)
		c->screen->enter(c);
}

/* A failed attempt (a wrong passphrase or recovery key): counted, then recorded. */
static void count_failure(struct console *c, struct operator_attempts *a, const char *type,
			  const char *reason)
{
	struct json_object *p;
	unsigned wait;
	int r;

	a->failures++;
	a->last_failure = now_realtime();
	r = operator_attempts_save(c->attempts_file, a);
	if (r < 0)
		log_error_errno(r, "%s: %m: the failure is not counted", c->attempts_file);
	wait = operator_wait(a, now_realtime());
	p = attempts_payload(a, wait);
	if (p && reason && json_add_string(p, "reason", reason) < 0)
		p = (json_object_put(p), NULL);
	(void)console_record(c, type, p);
}

static void clear_failures(struct console *c, struct operator_attempts *a)
{
	int r;

	if (a->failures == 0)
		return;
	*a = (struct operator_attempts){ 0 };
	r = operator_attempts_save(c->attempts_file, a);
	if (r < 0)
		log_warning_errno(r, "%s: %m", c->attempts_file);
}

/*
 * No usable passphrase hash (none set yet: an install without one, a box updated from a
 * release without the console; or a damaged file): the data volume's recovery key is the
 * proof of authority to set one. A wrong key counts as a failed attempt.
 */
static int set_with_recovery(struct console *c, struct operator_attempts *a, const char *status)
{
	_cleanup_secret_ char *typed = NULL;
	_cleanup_free_ char *node = NULL, *error = NULL, *hash = NULL;
	struct json_object *p;
	unsigned before = a->failures, ry;
	const char *why;
	int r, keyslot = -1;

	draw_lock(c, status, "Enter: check the recovery key, then set the operator passphrase");
	ry = MIN(c->rows - 5, 16U);
	tui_print(ry - 1, 2, TUI_NORMAL,
		  "To set one, type the data volume's recovery key (given at install).");
	r = console_read_secret(c, ry, "Recovery key:", LOCK_REFRESH_SEC, &typed);
	if (r == -ETIMEDOUT || r == -ECANCELED)
		return 0;
	if (r < 0)
		return r;
	if (isempty(typed))
		return 0;
	tui_print(ry, 1, TUI_BOLD, "Checking the recovery key...");
	tui_refresh();
	if (c->data_device)
		node = strdup(c->data_device);
	else
		r = data_volume_node(&node, &error);
	if (r < 0 || !node) {
		console_notice(c, "the data volume cannot be found: %s",
			       error ?: strerror(r < 0 ? -r : ENOMEM));
		return 0;
	}
	r = data_recovery_key_check(node, typed, &keyslot, &error);
	typed = secret_free(typed);
	if (r == -EINVAL || r == -EPERM) {
		count_failure(c, a, "console.recovery-key-refused", error);
		console_notice(c, "%s.", strna(error));
		return 0;
	}
	if (r < 0) {
		console_notice(c, "%s", strna(error));
		return 0;
	}
	clear_failures(c, a);
	r = console_new_passphrase(c, ry + 1, &hash, &why);
	if (r < 0) {
		if (why)
			console_notice(c, "No passphrase was set: %s.", why);
		return 0;
	}
	p = json_object_new_object();
	if (p &&
	    (json_add_string(p, "by", "recovery-key") < 0 ||
	     json_add_int(p, "keyslot", keyslot) < 0 || json_add_string(p, "device", node) < 0))
		p = (json_object_put(p), NULL);
	/* Recorded first: what the ledger does not take is not done. */
	if (console_record_action(c, "console.passphrase-set", p, "No passphrase was set") < 0)
		return 0;
	r = operator_hash_save(c->hash_file, hash);
	if (r < 0) {
		console_notice(c, "%s: %s: no passphrase was set", c->hash_file, strerror(-r));
		return 0;
	}
	unlocked(c, before);
	console_notice(c, "The operator passphrase was set.");
	return 1;
}

/* One pass of the lock screen: 1 when it unlocked, 0 to come again, -errno to stop. */
static int lock_screen(struct console *c)
{
	_cleanup_free_ char *hash = NULL, *status = NULL;
	_cleanup_secret_ char *typed = NULL;
	struct operator_attempts a;
	unsigned wait, ry;
	int r, hash_r;

	hash_r = operator_hash_load(c->hash_file, &hash);
	r = operator_attempts_load(c->attempts_file, &a);
	if (r < 0) {
		struct tui_input in;

		/* Forgetting the count would undo the delays: refuse instead. */
		if (asprintf(&status, "Attempts are refused: %s cannot be read (%s).",
			     c->attempts_file, strerror(-r)) < 0)
			return -ENOMEM;
		draw_lock(c, status, NULL);
		tui_refresh();
		r = tui_read(LOCK_REFRESH_SEC * 1000, &in);
		return r < 0 ? r : 0;
	}
	wait = operator_wait(&a, now_realtime());
	if (wait > 0) {
		struct tui_input in;

		if (asprintf(&status,
			     operator_locked_out(&a, now_realtime()) ?
				     "LOCKED OUT after %u failed attempts: the next in %u s." :
				     "%u failed attempts: the next is taken in %u s.",
			     a.failures, wait) < 0)
			return -ENOMEM;
		draw_lock(c, status, NULL);
		tui_refresh();
		/* Keys typed now are dropped, not queued for the next attempt. */
		r = tui_read(1000, &in);
		return r < 0 ? r : 0;
	}
	if (hash_r < 0) {
		if (asprintf(&status,
			     hash_r == -ENOENT ?
				     "No operator passphrase is set (%s does not exist)." :
				     "The operator passphrase file %s is unusable (%s).",
			     c->hash_file, strerror(-hash_r)) < 0)
			return -ENOMEM;
		return set_with_recovery(c, &a, status);
	}
	if (a.failures > 0 && asprintf(&status, "%u failed attempt%s since the last unlock.",
				       a.failures, a.failures == 1 ? "" : "s") < 0)
		return -ENOMEM;
	draw_lock(c, status, NULL);
	ry = MIN(c->rows - 3, 16U);
	r = console_read_secret(c, ry, "Operator passphrase:", LOCK_REFRESH_SEC, &typed);
	if (r == -ETIMEDOUT || r == -ECANCELED)
		return 0;
	if (r < 0)
		return r;
	if (isempty(typed))
		return 0;
	tui_print(ry, 1, TUI_BOLD, "Checking...");
	tui_refresh();
	r = operator_hash_verify(hash, typed);
	if (r < 0) {
		console_notice(c, "the operator passphrase file %s is unusable: %s", c->hash_file,
			       strerror(-r));
		return 0;
	}
	if (r > 0) {
		unsigned before = a.failures;

		clear_failures(c, &a);
		free(c->notice);
		c->notice = NULL;
		unlocked(c, before);
		return 1;
	}
	count_failure(c, &a, "console.unlock-failed", NULL);
	if (!c->notice)
		console_notice(c, "Wrong passphrase.");
	return 0;
}

void console_lock(struct console *c, const char *why)
{
	struct json_object *p = json_object_new_object();

	if (c->screen && c->screen->leave)
		c->screen->leave(c);
	if (p && json_add_string(p, "reason", why) < 0)
		p = (json_object_put(p), NULL);
	(void)console_record(c, "console.locked", p);
	c->unlocked = false;
	c->screen = NULL;
	c->session[0] = '\0';
	c->session_started = 0;
}

/* ---- unlocked ---------------------------------------------------------------------- */

static void draw_unlocked(struct console *c)
{
	char legend[160];
	unsigned x = 1;

	(void)snprintf(legend, sizeof(legend), "%s%sx lock", strempty(c->screen->legend),
		       isempty(c->screen->legend) ? "" : "  ");
	frame(c, legend);
	for (size_t i = 0; i < console_screens_n; i++) {
		const struct console_screen *s = console_screens[i];
		unsigned attrs = s == c->screen ? TUI_REVERSE : TUI_NORMAL;

		tui_print(1, x, attrs, "%c %s", s->key, s->name);
		x += (unsigned)strlen(s->name) + 4;
	}
	c->screen->draw(c);
}

void console_redraw(struct console *c)
{
	if (!c->unlocked || !c->screen)
		return;
	draw_unlocked(c);
	tui_refresh();
}

static int unlocked_pass(struct console *c)
{
	struct tui_input in;
	int r;

	draw_unlocked(c);
	tui_refresh();
	r = tui_read(1000, &in);
	if (r < 0)
		return r;
	if (r == 0) {
		if (c->idle_timeout && progress_now() - c->last_input >= c->idle_timeout)
			console_lock(c, "idle timeout");
		return 0;
	}
	c->last_input = progress_now();
	free(c->notice);
	c->notice = NULL;
	if (in.key == TUI_KEY_REDRAW)
		return 0;
	if (c->screen->input && c->screen->input(c, &in) > 0)
		return 0;
	if (in.key != TUI_KEY_CHAR)
		return 0;
	if (in.ch == 'x' || in.ch == 'X') {
		console_lock(c, "by the operator");
		return 0;
	}
	for (size_t i = 0; i < console_screens_n; i++)
		if (console_screens[i]->key == in.ch || console_screens[i]->key == in.ch + 32) {
			if (c->screen->leave)
				c->screen->leave(c);
			c->screen = console_screens[i];
			if (c->screen->enter)
				c->screen->enter(c);
			return 0;
		}
	return 0;
}

static void help(void)
{
	printf("Usage: airlock-console run [OPTIONS] TTY\n"
	       "\n"
	       "The console on the terminal of standard input and output (TTY names it in\n"
	       "records: tty1, ttyS0). It opens locked.\n"
	       "\n"
	       "  --idle-timeout S     lock after S seconds without a key (default %u; 0: never)\n"
	       "  --hash-file FILE     the operator passphrase's hash (default\n"
	       "                       " OPERATOR_HASH_FILE ")\n"
	       "  --attempts-file FILE failed attempts (default " OPERATOR_ATTEMPTS_FILE ")\n"
	       "  --ledger-socket PATH the ledger daemon (default: its socket)\n"
	       "  --ledger DIR         the ledger the screens read (default: airlock-ledger's)\n"
	       "  --data-device NODE   the data volume whose recovery key may set a passphrase\n"
	       "                       when none is set (default: the boot disk's)\n"
	       "  --root DIR           read the banner's facts below DIR (for tests)\n"
	       "  --update-disk IMAGE  the slots of a disk image, not the running system's, with\n"
	       "  --running-version V  the version booted from it (for tests)\n"
	       "  --tpm-arg ARG        add ARG to every airlock-tpm command (for tests:\n"
	       "                       --tcti, --device, --pcrsig, --pcrpkey)\n"
	       "  -h, --help           show this help\n",
	       CONSOLE_IDLE_DEFAULT);
}

int verb_run(int argc, char **argv)
{
	enum {
		ARG_IDLE = 0x100,
		ARG_HASH,
		ARG_ATTEMPTS,
		ARG_SOCKET,
		ARG_ROOT,
		ARG_DATA,
		ARG_UPDATE_DISK,
		ARG_RUNNING_VERSION,
		ARG_TPM_ARG,
		ARG_LEDGER_DIR,
	};
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "idle-timeout", required_argument, NULL, ARG_IDLE },
		{ "hash-file", required_argument, NULL, ARG_HASH },
		{ "attempts-file", required_argument, NULL, ARG_ATTEMPTS },
		{ "ledger-socket", required_argument, NULL, ARG_SOCKET },
		{ "root", required_argument, NULL, ARG_ROOT },
		{ "data-device", required_argument, NULL, ARG_DATA },
		{ "update-disk", required_argument, NULL, ARG_UPDATE_DISK },
		{ "running-version", required_argument, NULL, ARG_RUNNING_VERSION },
		{ "tpm-arg", required_argument, NULL, ARG_TPM_ARG },
		{ "ledger", required_argument, NULL, ARG_LEDGER_DIR },
		{},
	};
	struct console c = {
		.root = "/",
		.hash_file = OPERATOR_HASH_FILE,
		.attempts_file = OPERATOR_ATTEMPTS_FILE,
		.idle_timeout = CONSOLE_IDLE_DEFAULT,
	};
	int o, r;

	while ((o = getopt_long(argc, argv, "h", options, NULL)) >= 0)
		switch (o) {
		case 'h':
			help();
			return EXIT_SUCCESS;
		case ARG_IDLE:
			if (safe_atou(optarg, &c.idle_timeout) < 0)
				return usage_error("run", "--idle-timeout %s: seconds expected",
						   optarg);
			break;
		case ARG_HASH:
			c.hash_file = optarg;
			break;
		case ARG_ATTEMPTS:
			c.attempts_file = optarg;
			break;
		case ARG_SOCKET:
			c.ledger_socket = optarg;
			break;
		case ARG_ROOT:
			c.root = optarg;
			break;
		case ARG_DATA:
			c.data_device = optarg;
			break;
		case ARG_UPDATE_DISK:
			c.update_disk = optarg;
			break;
		case ARG_RUNNING_VERSION:
			c.running_version = optarg;
			break;
		case ARG_LEDGER_DIR:
			c.ledger_dir = optarg;
			break;
		case ARG_TPM_ARG: {
			char **grown = reallocarray(c.tpm_args, c.n_tpm_args + 1, sizeof(char *));

			if (!grown)
				return log_oom(), EXIT_FAILURE;
			c.tpm_args = grown;
			c.tpm_args[c.n_tpm_args++] = optarg;
			break;
		}
		default:
			return EXIT_USAGE;
		}
	if (optind + 1 != argc)
		return usage_error("run", "the terminal's name (tty1, ttyS0) expected");
	if (!c.update_disk != !c.running_version)
		return usage_error("run", "--update-disk and --running-version go together");
	c.tty = argv[optind];
	if (isempty(c.tty) || strlen(c.tty) > 32 || strchr(c.tty, '/'))
		return usage_error("run", "%s: a terminal's name (tty1, ttyS0) expected", c.tty);

	/* The image's name and version, for the title: they do not change while it runs. */
	{
		_cleanup_(banner_facts_done) struct banner_facts f = { 0 };

		if (banner_facts_load(c.root, &f) >= 0 &&
		    asprintf(&c.image, "%s %s", f.name, f.version) < 0)
			c.image = NULL;
	}
	r = tui_begin();
	if (r < 0) {
		free(c.image);
		free(c.tpm_args);
		return log_error_errno(r, "the console needs a terminal on standard input and "
					  "output: %m"),
		       EXIT_FAILURE;
	}
	while (!c.quit) {
		r = c.unlocked ? unlocked_pass(&c) : lock_screen(&c);
		if (r < 0 && r != -EINTR)
			break;
	}
	if (c.unlocked)
		console_lock(&c, r == -EPIPE ? "the terminal hung up" : "the console stopped");
	tui_end();
	free(c.notice);
	free(c.image);
	free(c.tpm_args);
	if (r == -EPIPE) {
		log_info("%s hung up", c.tty);
		return EXIT_SUCCESS;
	}
	if (r < 0)
		return log_error_errno(r, "%s: %m", c.tty), EXIT_FAILURE;
	return EXIT_SUCCESS;
}
