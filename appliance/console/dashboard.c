/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dashboard: what the appliance is and how it is, on one scrolled page. The image,
 * slot and data volume come from lib/banner (as the lock screen and airlock-banner say
 * them); the slots, the TPM and the ledger are what their tools print (airlock-update
 * status, airlock-tpm status, airlock-ledger verify), never worked out again here; the
 * services are systemd's view of every airlock-* unit. Gathered when the screen opens
 * and on 'r'.
 */
#include <dirent.h>
#include <stdio.h>
#include <sys/statvfs.h>
#include <time.h>

#include "banner.h"
#include "console.h"
#include "core/fileio.h"
#include "core/path.h"
#include "core/run.h"

#define TOOL_TIMEOUT_SEC 60

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

static struct console_text page;

/* A tool's output under a heading; its failure said in full, never hidden. */
static void section_tool(const char *heading, const char *const argv[])
{
	(void)console_text_add(&page, "%s", "");
	console_run_section(&page, heading, argv, TOOL_TIMEOUT_SEC);
}

static void section_time(struct console *c)
{
	_cleanup_free_ char *up = NULL, *path = path_join(c->root, "/proc/uptime");
	char now[40] = "";
	time_t t = time(NULL);
	struct tm tm;
	double secs;

	if (gmtime_r(&t, &tm))
		(void)strftime(now, sizeof(now), "%Y-%m-%d %H:%M:%S UTC", &tm);
	if (path && read_line_file(path, 128, &up) >= 0 && sscanf(up, "%lf", &secs) == 1) {
		unsigned long s = (unsigned long)secs;

		(void)console_text_add(&page, "time       %s, up %lu d %lu h %lu min", now,
				       s / 86400, s / 3600 % 24, s / 60 % 60);
	} else
		(void)console_text_add(&page, "time       %s, uptime unknown", now);
}

static void section_data(struct console *c, const char *method)
{
	_cleanup_free_ char *var = path_join(c->root, "/var");
	struct statvfs st;

	(void)console_text_add(&page, "data       %s", method);
	if (var && statvfs(var, &st) == 0 && st.f_blocks > 0) {
		double total = (double)st.f_blocks * st.f_frsize,
		       used = (double)(st.f_blocks - st.f_bfree) * st.f_frsize;

		(void)console_text_add(&page, "           %.1f GiB, %.1f GiB used (%.0f%%)",
				       total / (1 << 30), used / (1 << 30), 100.0 * used / total);
	}
}

/* Every airlock-* unit systemd knows: state, sub-state and since when. */
static void section_services(void)
{
	_cleanup_free_ char *list = NULL, *error = NULL, *shown = NULL;
	const char *argv_list[] = { "systemctl",   "list-units", "--all",  "--plain",
				    "--no-legend", "--no-pager", "--full", "--type=service",
				    "airlock-*",   NULL };
	const char *argv_show[64] = { "systemctl", "show", "--no-pager",
				      "--property=Id,ActiveState,SubState,StateChangeTimestamp" };
	const struct run_opts o = { .timeout_sec = TOOL_TIMEOUT_SEC,
				    .stdout_mode = RUN_STDIO_CAPTURE };
	size_t n = 4;
	char *save = NULL;
	int r;

	(void)console_text_add(&page, "%s", "");
	(void)console_text_add(&page, "%s", "Services");
	r = run_argv(argv_list, &o, &list, &error);
	if (r < 0) {
		(void)console_text_add_lines(&page, 2, error ?: strerror(-r));
		return;
	}
	for (char *line = strtok_r(list, "\n", &save); line && n + 1 < ELEMENTSOF(argv_show);
	     line = strtok_r(NULL, "\n", &save)) {
		line[strcspn(line, " ")] = '\0';
		if (!isempty(line))
			argv_show[n++] = line;
	}
	if (n == 4) {
		(void)console_text_add(&page, "  none loaded");
		return;
	}
	r = run_argv(argv_show, &o, &shown, &error);
	if (r < 0) {
		(void)console_text_add_lines(&page, 2, error ?: strerror(-r));
		return;
	}
	/* Blocks of Key=Value lines, one per unit, separated by an empty line. */
	for (char *p = shown; p && *p;) {
		char id[128] = "", active[32] = "", sub[32] = "", since[64] = "";
		char *end = strstr(p, "\n\n");

		if (end)
			*end = '\0';
		for (char *l = strtok_r(p, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			(void)(sscanf(l, "Id=%127[^\n]", id) == 1 ||
			       sscanf(l, "ActiveState=%31[^\n]", active) == 1 ||
			       sscanf(l, "SubState=%31[^\n]", sub) == 1 ||
			       sscanf(l, "StateChangeTimestamp=%63[^\n]", since) == 1);
		}
		if (id[0])
			(void)console_text_add(&page, "  %-40s %-9s %-8s %s%s", id, active, sub,
					       since[0] ? "since " : "", since);
		p = end ? end + 2 : NULL;
	}
}

/* Each interface but lo: its link state; the addresses as the banner says them. */
static void section_network(struct console *c, const char *addresses)
{
	_cleanup_free_ char *net = path_join(c->root, "/sys/class/net");
	_cleanup_(closedirp) DIR *d = net ? opendir(net) : NULL;

	(void)console_text_add(&page, "%s", "");
	(void)console_text_add(&page, "%s", "Network");
	for (struct dirent *de = d ? readdir(d) : NULL; de; de = readdir(d)) {
		_cleanup_free_ char *state = NULL, *path = NULL;

		if (de->d_name[0] == '.' || streq(de->d_name, "lo"))
			continue;
		if (asprintf(&path, "%s/%s/operstate", net, de->d_name) < 0)
			continue;
		if (read_line_file(path, 32, &state) < 0)
			continue;
		(void)console_text_add(&page, "  %-16s link %s", de->d_name, state);
	}
	(void)console_text_add(&page, "  addresses %s", addresses);
}

static void dashboard_enter(struct console *c)
{
	_cleanup_(banner_facts_done) struct banner_facts f = { 0 };
	_cleanup_free_ char *sb = NULL;
	const char *update[] = { "airlock-update", "status", NULL };
	const char *tpm[] = { "airlock-tpm", "status", NULL };
	const char *ledger[5] = { "airlock-ledger", "verify", NULL };
	/* A rollback the daemon detected refuses every append until acknowledged. */
	const char *rollbacks[7] = { "airlock-ledger", "show", "--type", "ledger.rollback-*",
				     NULL };
	size_t nl = 2, nr = 4;

	console_ledger_args(c, false, ledger, &nl);
	console_ledger_args(c, false, rollbacks, &nr);

	console_text_clear(&page);
	page.width = c->cols > 2 ? c->cols - 2 : 0;
	tui_print(c->rows / 2, 2, TUI_BOLD, "Reading the appliance's state...");
	tui_refresh();
	if (banner_facts_load(c->root, &f) < 0) {
		(void)console_text_add(&page, "out of memory");
		return;
	}
	(void)banner_secure_boot(c->root, &sb);
	(void)console_text_add(&page, "image      %s %s", f.name, f.version);
	(void)console_text_add(&page, "booted     slot %s", f.slot);
	(void)console_text_add(&page, "root hash  %s", f.root_hash);
	if (f.cmdline_error)
		(void)console_text_add(&page, "           (%s)", f.cmdline_error);
	(void)console_text_add(&page, "secure boot %s", strna(sb));
	section_data(c, f.data);
	section_time(c);
	section_tool("Slots (airlock-update status)", update);
	section_tool("TPM (airlock-tpm status)", tpm);
	section_tool("Ledger (airlock-ledger verify)", ledger);
	section_tool("Ledger rollbacks detected and acknowledged (airlock-ledger show)", rollbacks);
	section_services();
	section_network(c, f.addresses);
}

static void dashboard_draw(struct console *c)
{
	console_text_draw(c, &page, CONSOLE_BODY_ROW);
}

static int dashboard_input(struct console *c, const struct tui_input *in)
{
	if (in->key == TUI_KEY_CHAR && in->ch == 'r') {
		dashboard_enter(c);
		return 1;
	}
	return console_text_scroll(c, &page, in);
}

static void dashboard_leave(struct console *c)
{
	(void)c;
	console_text_clear(&page);
}

const struct console_screen screen_dashboard = {
	.key = 'd',
	.name = "Dashboard",
	.legend = "r refresh  Up/Down/Space/b scroll",
	.enter = dashboard_enter,
	.draw = dashboard_draw,
	.input = dashboard_input,
	.leave = dashboard_leave,
};
