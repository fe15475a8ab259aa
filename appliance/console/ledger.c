/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ledger: the newest records first (airlock-ledger show --json --last N, filtered by type
 * and time as the tool filters), one line each; Enter shows the selected record whole.
 * 'v' runs airlock-ledger verify and shows what it says; 'A' acknowledges a detected
 * rollback (airlock-ledger acknowledge-rollback, which records it), after which the
 * ledger takes records again. What the operator types as a filter is checked here and
 * passed only as the value of --type or --since.
 */
#include "console.h"
#include "core/run.h"

#define LIST_MAX "500" /* records fetched: the newest */
#define TOOL_TIMEOUT_SEC 120
#define FILTER_MAX 64

static struct json_object **records; /* newest first */
static size_t n_records;
static size_t cursor, top;
static char *filter_type, *filter_since;
static struct console_text detail; /* a record, a tool's words: shown instead of the list */
static bool showing_detail;
static char *list_error;

static void records_clear(void)
{
	for (size_t i = 0; i < n_records; i++)
		json_object_put(records[i]);
	records = mfree(records);
	n_records = cursor = top = 0;
	list_error = mfree(list_error);
}

static void ledger_enter(struct console *c)
{
	_cleanup_free_ char *out = NULL, *error = NULL;
	const char *argv[12] = { "airlock-ledger", "show", "--json", "--last", LIST_MAX };
	const struct run_opts o = { .timeout_sec = TOOL_TIMEOUT_SEC,
				    .stdout_mode = RUN_STDIO_CAPTURE };
	size_t n = 5;
	int r;

	records_clear();
	console_text_clear(&detail);
	showing_detail = false;
	if (filter_type) {
		argv[n++] = "--type";
		argv[n++] = filter_type;
	}
	if (filter_since) {
		argv[n++] = "--since";
		argv[n++] = filter_since;
	}
	argv[n] = NULL;
	console_ledger_args(c, false, argv, &n);
	r = run_argv(argv, &o, &out, &error);
	if (r < 0) {
		list_error = strdup(error ?: strerror(-r));
		return;
	}
	/* One JSON record a line, oldest first: kept newest first. */
	for (char *save = NULL, *l = strtok_r(out, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		struct json_object *rec = json_tokener_parse(l), **grown;

		if (!rec)
			continue;
		grown = reallocarray(records, n_records + 1, sizeof(*records));
		if (!grown) {
			json_object_put(rec);
			break;
		}
		records = grown;
		records[n_records++] = rec;
	}
	for (size_t i = 0; i < n_records / 2; i++) {
		struct json_object *t = records[i];

		records[i] = records[n_records - 1 - i];
		records[n_records - 1 - i] = t;
	}
}

static const char *field(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return "-";
	return json_object_get_string(v) ?: "-";
}

static unsigned list_rows(const struct console *c)
{
	return c->rows > CONSOLE_BODY_ROW + 4 ? c->rows - CONSOLE_BODY_ROW - 4 : 1;
}

static void ledger_draw(struct console *c)
{
	unsigned y = CONSOLE_BODY_ROW, h = list_rows(c);

	if (showing_detail) {
		console_text_draw(c, &detail, CONSOLE_BODY_ROW);
		return;
	}
	tui_print(y++, 1, TUI_BOLD,
		  "Ledger, newest first (%zu shown, at most " LIST_MAX ")%s%s%s%s", n_records,
		  filter_type ? "  type " : "", strempty(filter_type),
		  filter_since ? "  since " : "", strempty(filter_since));
	if (list_error) {
		struct console_text t = { .width = c->cols > 2 ? c->cols - 2 : 0 };

		(void)console_text_add(&t, "%s", list_error);
		for (size_t i = 0; i < t.n && y < c->rows - 2; i++)
			tui_print(y++, 2, TUI_NORMAL, "%s", t.lines[i]);
		console_text_clear(&t);
		return;
	}
	if (n_records == 0) {
		tui_print(y, 2, TUI_NORMAL, "no records%s",
			  filter_type || filter_since ? " match the filter" : "");
		return;
	}
	if (cursor < top)
		top = cursor;
	if (cursor >= top + h)
		top = cursor - h + 1;
	for (size_t i = top; i < n_records && i < top + h; i++) {
		struct json_object *actor = NULL;
		char line[256];

		(void)json_object_object_get_ex(records[i], "actor", &actor);
		(void)snprintf(line, sizeof(line), "%-7s %.19s  %-32s %s", field(records[i], "seq"),
			       field(records[i], "time"), field(records[i], "type"),
			       actor ? field(actor, "unit") : "-");
		tui_print(y++, 1, i == cursor ? TUI_REVERSE : TUI_NORMAL, "%-*.*s",
			  (int)(c->cols - 2), (int)(c->cols - 2), line);
	}
}

static void show_detail(struct console *c)
{
	const char *pretty;

	if (cursor >= n_records)
		return;
	console_text_clear(&detail);
	detail.width = c->cols > 2 ? c->cols - 2 : 0;
	pretty = json_object_to_json_string_ext(
		records[cursor], JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	(void)console_text_add(&detail, "Record %s (Esc: back to the list)",
			       field(records[cursor], "seq"));
	(void)console_text_add_lines(&detail, 2, pretty);
	showing_detail = true;
}

/* A tool's words instead of the list, until Esc. */
static void show_tool(struct console *c, const char *heading, const char *const argv[])
{
	console_text_clear(&detail);
	detail.width = c->cols > 2 ? c->cols - 2 : 0;
	(void)console_text_add(&detail, "%s", "Esc: back to the list");
	tui_fill(c->rows - 2, 0, c->cols, ' ', TUI_NORMAL);
	tui_print(c->rows - 2, 1, TUI_BOLD, "Running %s %s...", argv[0], argv[1]);
	tui_refresh();
	console_run_section(&detail, heading, argv, TOOL_TIMEOUT_SEC);
	showing_detail = true;
}

static bool filter_ok(const char *s, const char *allowed)
{
	return !isempty(s) && strlen(s) <= FILTER_MAX && strspn(s, allowed) == strlen(s);
}

static void set_filter(struct console *c, bool type)
{
	_cleanup_free_ char *typed = NULL;
	int r;

	r = console_read_line(c, c->rows - 2,
			      type ? "Type (e.g. update.* or console.*; empty: all):" :
				     "Since (UTC YYYY-MM-DD[THH:MM]; empty: all):",
			      FILTER_MAX, &typed);
	if (r < 0)
		return;
	if (isempty(typed)) {
		if (type)
			filter_type = mfree(filter_type);
		else
			filter_since = mfree(filter_since);
	} else if (!filter_ok(typed, type ? "abcdefghijklmnopqrstuvwxyz0123456789.-_*?" :
					    "0123456789-:TZ@ ")) {
		console_notice(c, "Not a %s filter: %s", type ? "type" : "time",
			       type ? "letters, digits, '.', '-', '_', '*' and '?' only" :
				      "digits, '-', ':', 'T', 'Z', '@' and a space only");
		return;
	} else if (type)
		free_and_replace(filter_type, typed);
	else
		free_and_replace(filter_since, typed);
	ledger_enter(c);
}

static void acknowledge(struct console *c)
{
	const char *argv[5] = { "airlock-ledger", "acknowledge-rollback", NULL };
	size_t n = 2;

	console_ledger_args(c, true, argv, &n);
	if (!console_confirm(c, "Acknowledge the ledger's rollback (it takes records again)?"))
		return;
	show_tool(c, "Acknowledge the rollback (airlock-ledger acknowledge-rollback)", argv);
}

static int ledger_input(struct console *c, const struct tui_input *in)
{
	const char *verify[5] = { "airlock-ledger", "verify", NULL };
	size_t nv = 2;
	unsigned h = list_rows(c);

	console_ledger_args(c, false, verify, &nv);
	if (showing_detail) {
		if (in->key == TUI_KEY_ESCAPE) {
			showing_detail = false;
			return 1;
		}
		return console_text_scroll(c, &detail, in);
	}
	switch (in->key) {
	case TUI_KEY_UP:
		cursor = cursor > 0 ? cursor - 1 : 0;
		return 1;
	case TUI_KEY_DOWN:
		if (cursor + 1 < n_records)
			cursor++;
		return 1;
	case TUI_KEY_HOME:
		cursor = 0;
		return 1;
	case TUI_KEY_END:
		cursor = n_records ? n_records - 1 : 0;
		return 1;
	case TUI_KEY_ENTER:
		show_detail(c);
		return 1;
	case TUI_KEY_CHAR:
		break;
	default:
		return 0;
	}
	switch (in->ch) {
	case ' ':
		cursor = MIN(cursor + h, n_records ? n_records - 1 : 0);
		return 1;
	case 'b':
		cursor = cursor > h ? cursor - h : 0;
		return 1;
	case 'r':
		ledger_enter(c);
		return 1;
	case 'f':
		set_filter(c, true);
		return 1;
	case 'w':
		set_filter(c, false);
		return 1;
	case 'v':
		show_tool(c, "Verify (airlock-ledger verify)", verify);
		return 1;
	case 'A':
		acknowledge(c);
		return 1;
	default:
		return 0;
	}
}

static void ledger_leave(struct console *c)
{
	(void)c;
	records_clear();
	console_text_clear(&detail);
	showing_detail = false;
	filter_type = mfree(filter_type);
	filter_since = mfree(filter_since);
}

const struct console_screen screen_ledger = {
	.key = 'l',
	.name = "Ledger",
	.legend = "Enter record  f type  w since  v verify  A ack rollback  r",
	.enter = ledger_enter,
	.draw = ledger_draw,
	.input = ledger_input,
	.leave = ledger_leave,
};
