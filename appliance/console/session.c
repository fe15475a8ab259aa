/* SPDX-License-Identifier: Apache-2.0 */
/* The console's records in the ledger, and the tools it runs. */
#include <stdio.h>
#include <time.h>

#include "console.h"
#include "core/log.h"
#include "core/run.h"
#include "ledger-client.h"

static int session_object(const struct console *c, struct json_object **ret)
{
	struct json_object *s = json_object_new_object();
	char started[32], unit[96];
	struct tm tm;
	time_t t = (time_t)c->session_started;

	if (!s)
		return -ENOMEM;
	if (!gmtime_r(&t, &tm) ||
	    strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		started[0] = '\0';
	(void)snprintf(unit, sizeof(unit), "airlock-console@%s.service", c->tty);
	if ((c->session[0] && json_add_string(s, "id", c->session) < 0) ||
	    json_add_string(s, "tty", c->tty) < 0 || json_add_string(s, "unit", unit) < 0 ||
	    (c->session_started && json_add_string(s, "started", started) < 0)) {
		json_object_put(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

int console_record_action(struct console *c, const char *type, struct json_object *payload,
			  const char *not_done)
{
	_cleanup_(json_object_putp) struct json_object *p = payload;
	_cleanup_free_ char *error = NULL;
	struct json_object *s = NULL;
	int r;

	if (!p)
		return log_oom();
	r = session_object(c, &s);
	if (r < 0 || json_object_object_add(p, "session", s) < 0) {
		json_object_put(s);
		return log_oom();
	}
	r = ledger_client_append(c->ledger_socket, type, p, NULL, &error);
	if (r < 0) {
		log_error("ledger: %s not recorded: %s", type, error ?: strerror(-r));
		console_notice(c, "%s%sNOT RECORDED in the ledger (%s): %s", strempty(not_done),
			       not_done ? ": " : "", type, error ?: strerror(-r));
	}
	return r;
}

int console_record(struct console *c, const char *type, struct json_object *payload)
{
	return console_record_action(c, type, payload, NULL);
}

void console_run_section(struct console_text *text, const char *heading, const char *const argv[],
			 unsigned timeout_sec)
{
	_cleanup_free_ char *error = NULL;
	size_t before;
	int r;

	(void)console_text_add(text, "%s", heading);
	before = text->n;
	r = console_run(argv, timeout_sec, text, &error);
	if (r < 0)
		(void)console_text_add_lines(text, 2, error ?: strerror(-r));
	else if (text->n == before)
		(void)console_text_add(text, "  none");
}

int console_run(const char *const argv[], unsigned timeout_sec, struct console_text *text,
		char **ret_error)
{
	_cleanup_free_ char *out = NULL;
	const struct run_opts o = { .timeout_sec = timeout_sec, .stdout_mode = RUN_STDIO_CAPTURE };
	int r, k;

	r = run_argv(argv, &o, &out, ret_error);
	k = console_text_add_lines(text, 2, out);
	return r < 0 ? r : k;
}

void console_ledger_args(const struct console *c, bool daemon, const char **argv, size_t *n)
{
	const char *value = daemon ? c->ledger_socket : c->ledger_dir;

	if (!value)
		return;
	argv[(*n)++] = daemon ? "--socket" : "--ledger";
	argv[(*n)++] = value;
	argv[*n] = NULL;
}
