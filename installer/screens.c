/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The screens. Meaning is never carried by colour (there is none) nor by reverse video
 * alone: the highlighted disk also has a '>' marker, refused disks say "REFUSED" in
 * words, progress says "done" and percentages in text beside the bars. Plain ASCII,
 * so a serial console draws it as a VGA console does.
 */
#include <inttypes.h>
#include <stdio.h>

#include "core/hex.h"
#include "core/parse.h"
#include "core/progress.h"
#include "core/strv.h"
#include "ext/tui.h"
#include "recovery.h"
#include "screens.h"

#define ROW_TITLE 0
#define ROW_BODY 2
#define BAR_WIDTH 16

static unsigned rows, cols;

static void title(const struct screen_view *v, const char *what)
{
	tui_fill(ROW_TITLE, 0, cols, ' ', TUI_REVERSE);
	tui_print(ROW_TITLE, 1, TUI_REVERSE | TUI_BOLD, "Airlock installer - %s %s",
		  strna(v->source->name), strna(v->source->version));
	if (cols > 30)
		tui_print(ROW_TITLE, cols - 1 - (unsigned)strlen(what), TUI_REVERSE, "%s", what);
}

static void help(const char *text)
{
	tui_fill(rows - 1, 0, cols, ' ', TUI_REVERSE);
	tui_print(rows - 1, 1, TUI_REVERSE, "%s", text);
}

static void notice(const char *text)
{
	tui_print(rows - 2, 1, TUI_BOLD, "! %s", text);
}

/* Prints text wrapped to the screen from row y; returns the next free row. */
static unsigned wrap(unsigned y, unsigned x, unsigned attrs, const char *text)
{
	unsigned width = cols > x + 1 ? cols - x - 1 : 1;
	const char *p = text;

	while (*p && y < rows - 2) {
		size_t n = strlen(p), cut = n;
		if (n > width) {
			cut = width;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = width;
		}
		tui_print(y++, x, attrs, "%.*s", (int)cut, p);
		p += cut;
		while (*p == ' ')
			p++;
	}
	return y;
}

static const char *size_str(char buf[FORMAT_BYTES_MAX], uint64_t n)
{
	return format_bytes(buf, FORMAT_BYTES_MAX, n);
}

static void draw_welcome(const struct screen_view *v)
{
	char hex[65];
	unsigned y = ROW_BODY;

	title(v, "1 welcome");
	hex_to_buf(v->source->root_hash, 32, hex);
	y = wrap(y, 2, TUI_NORMAL,
		 "This installs the appliance image below onto a disk of this machine. The disk "
		 "you choose is erased and gets an ESP, two system slots (A and B) and an "
		 "encrypted data volume.");
	y++;
	tui_print(y++, 2, TUI_BOLD, "Image      %s %s", strna(v->source->name),
		  strna(v->source->version));
	tui_print(y++, 2, TUI_NORMAL, "Root hash  %s", hex);
	tui_print(y++, 2, TUI_NORMAL, "Medium     %s (read only; never a target)", v->source->path);
	tui_print(y, 2, TUI_BOLD, "TPM");
	if (v->tpm->usable)
		y = wrap(y, 13, TUI_NORMAL,
			 "found: the data volume will open at boot without a passphrase, and "
			 "only for kernels signed for this image.");
	else {
		char line[512];
		snprintf(line, sizeof(line), "NOT USABLE: %s", strna(v->tpm->reason));
		y = wrap(y, 13, TUI_BOLD, line);
	}
	if (v->tpm->usable && v->tpm->reason)
		y = wrap(y, 13, TUI_NORMAL, v->tpm->reason);
	if (record_available())
		tui_print(y++, 2, TUI_NORMAL,
			  "Ledger     every step is recorded in the audit ledger");
	else
		tui_print(y++, 2, TUI_BOLD,
			  "Ledger     NONE: no ledger daemon runs here; the install "
			  "is not recorded");
	y++;
	wrap(y, 2, TUI_NORMAL,
	     "Nothing is written to any disk until you type the disk's name on the summary "
	     "screen.");
	help("Enter: choose a disk   q or Ctrl-C: leave (nothing is changed)");
}

static void draw_disks(const struct screen_view *v)
{
	const struct flow *f = v->flow;
	unsigned y = ROW_BODY, list_rows;
	size_t first = 0;

	title(v, "2 target disk");
	tui_print(y++, 2, TUI_BOLD, "Choose the disk to erase and install on:");
	y++;
	if (v->n_disks == 0) {
		wrap(y, 2, TUI_NORMAL, "No disk was found.");
		help("Esc: back   Ctrl-C: leave (nothing is changed)");
		return;
	}
	tui_print(y++, 4, TUI_UNDERLINE, "%-14s %10s  %-9s %s", "DEVICE", "SIZE", "STATE",
		  "MODEL / SERIAL");
	list_rows = MIN((unsigned)v->n_disks, 7U);
	if (f->cursor >= list_rows)
		first = f->cursor - list_rows + 1;
	for (size_t i = first; i < v->n_disks && i < first + list_rows; i++) {
		const struct install_disk *d = &v->disks[i];
		char size[FORMAT_BYTES_MAX];
		bool here = i == f->cursor;
		tui_print(y++, 1, here ? TUI_REVERSE : TUI_NORMAL,
			  "%s %-14.14s %10s  %-9s %.30s%s%.20s", here ? ">" : " ",
			  install_disk_name(d), size_str(size, d->size_bytes),
			  d->refusal ? "REFUSED" : (d->removable ? "removable" : "ok"),
			  strempty(d->model), d->serial ? " / " : "", strempty(d->serial));
	}
	y++;
	{
		const struct install_disk *d = &v->disks[f->cursor];
		_cleanup_strv_free_ char **lines = NULL;
		size_t shown = 0;

		tui_print(y++, 2, TUI_BOLD, "%s", d->node);
		if (d->by_id)
			tui_print(y++, 4, TUI_NORMAL, "by-id: %s", d->by_id[0]);
		if (d->refusal) {
			char line[512];
			snprintf(line, sizeof(line), "Cannot be the target: %s", d->refusal);
			y = wrap(y, 4, TUI_BOLD, line);
		}
		if (disk_describe_contents(d, &lines) >= 0)
			STRV_FOREACH(l, lines) {
				if (y >= rows - 3) {
					tui_print(y++, 4, TUI_NORMAL, "... and %zu more",
						  strv_length(lines) - shown);
					break;
				}
				tui_print(y++, 4, TUI_NORMAL, "holds %s", *l);
				shown++;
			}
	}
	if (f->notice == FLOW_NOTICE_DISK_REFUSED)
		notice("That disk cannot be the target (see why above). Choose another.");
	help("Up/Down: move   Enter: choose   Esc: back   Ctrl-C: leave (nothing is changed)");
}

static const char *part_role(enum plan_part p)
{
	switch (p) {
	case PLAN_ESP:
		return "FAT32: boot loader, slot A's kernel image";
	case PLAN_ROOT_A:
		return "slot A system (read-only, verified)";
	case PLAN_VERITY_A:
		return "slot A hash tree";
	case PLAN_ROOT_B:
		return "slot B (empty until the first update)";
	case PLAN_VERITY_B:
		return "slot B hash tree (empty)";
	case PLAN_DATA:
		return "LUKS2 encrypted data volume (/var)";
	default:
		return "";
	}
}

static void draw_summary(const struct screen_view *v)
{
	const struct flow *f = v->flow;
	const struct install_disk *d = &v->disks[f->chosen];
	const struct install_plan *p = v->plans[f->chosen];
	_cleanup_strv_free_ char **lines = NULL;
	char size[FORMAT_BYTES_MAX];
	unsigned y = ROW_BODY, max_lines;
	size_t shown = 0;

	title(v, "3 summary");
	tui_print(y++, 2, TUI_BOLD, "Install on %s (%s%s%s)", d->node,
		  size_str(size, d->size_bytes), d->model ? ", " : "", strempty(d->model));
	tui_print(y++, 2, TUI_BOLD, "ERASED: everything on this disk, including:");
	max_lines = 5;
	if (disk_describe_contents(d, &lines) >= 0)
		STRV_FOREACH(l, lines) {
			if (shown == max_lines - 1 && strv_length(lines) > max_lines) {
				tui_print(y++, 4, TUI_NORMAL, "- ... and %zu more",
					  strv_length(lines) - shown);
				break;
			}
			tui_print(y++, 4, TUI_NORMAL, "- %s", *l);
			shown++;
		}
	y++;
	tui_print(y++, 2, TUI_BOLD, "New layout (GPT):");
	for (int i = 0; p && i < _PLAN_PART_MAX; i++) {
		const struct disklabel_part *part = plan_partition(p, i);
		tui_print(y++, 4, TUI_NORMAL, "%d %-9s %10s  %s", i + 1, part->name,
			  size_str(size, part->size_bytes), part_role(i));
	}
	y++;
	tui_print(y++, 2, TUI_BOLD,
		  "Type the device name  %s  and press Enter to erase it:", install_disk_name(d));
	tui_print(y, 2, TUI_NORMAL, "> %s", f->typed);
	if (f->notice == FLOW_NOTICE_NAME_MISMATCH)
		notice("That is not the name of the chosen disk. Nothing was changed.");
	help("Enter: erase and install   Esc: back   Ctrl-C: leave (nothing is changed)");
	tui_cursor(true, y, 4 + (unsigned)f->n_typed);
}

static void draw_no_tpm(const struct screen_view *v)
{
	const struct flow *f = v->flow;
	unsigned y = ROW_BODY;

	title(v, "3 summary: no TPM");
	tui_print(y++, 2, TUI_BOLD, "The data volume's key cannot be sealed to a TPM:");
	y = wrap(y, 4, TUI_NORMAL, strna(v->tpm->reason));
	y++;
	y = wrap(y, 2, TUI_NORMAL,
		 "You can still install. The data volume will then open only with the recovery "
		 "key, typed on the console at every boot. No key is ever stored in the clear.");
	y++;
	tui_print(y++, 2, TUI_BOLD,
		  "Type  %s  and press Enter to install without the TPM:", FLOW_NO_TPM_PHRASE);
	tui_print(y, 2, TUI_NORMAL, "> %s", f->typed);
	if (f->notice == FLOW_NOTICE_PHRASE_MISMATCH)
		notice("Not the phrase. Nothing was changed.");
	help("Enter: install   Esc: back   Ctrl-C: leave (nothing is changed)");
	tui_cursor(true, y, 4 + (unsigned)f->n_typed);
}

static void draw_progress(const struct screen_view *v)
{
	double now = progress_now();
	unsigned y = ROW_BODY;

	title(v, v->flow->screen == FLOW_PROGRESS ? "4 installing" : "6 finishing");
	tui_print(y++, 2, TUI_BOLD, "Installing on %s", v->disks[v->flow->chosen].node);
	tui_print(y++, 2, TUI_NORMAL,
		  "Do not switch the machine off; if it is, nothing claims "
		  "to be installed.");
	for (int s = 0; s < _STEP_MAX; s++) {
		const struct step_view *st = &v->steps[s];
		char state[16], bar[BAR_WIDTH + 1], amount[48] = "";
		unsigned pct = st->total ? (unsigned)(st->done * 100 / st->total) : 0;
		double t;

		if (st->finished)
			snprintf(state, sizeof(state), "done");
		else if (st->started)
			snprintf(state, sizeof(state), "%3u%%", pct);
		else
			snprintf(state, sizeof(state), "-");
		for (unsigned i = 0; i < BAR_WIDTH; i++)
			bar[i] = st->finished || (st->started && i < pct * BAR_WIDTH / 100) ? '#' :
											      '.';
		bar[BAR_WIDTH] = '\0';
		t = (st->finished ?: now) - st->started;
		if (st->started && st->total > 1 && t > 0.05) {
			char a[FORMAT_BYTES_MAX], c[FORMAT_BYTES_MAX];
			snprintf(amount, sizeof(amount), "%s %s/s", size_str(a, st->done),
				 size_str(c, (uint64_t)((double)st->done / t)));
		}
		tui_print(y++, 2, st->started && !st->finished ? TUI_BOLD : TUI_NORMAL,
			  "%-5s %-28s [%s] %s", state, install_step_title(s), bar, amount);
	}
	help(v->flow->screen == FLOW_PROGRESS ?
		     "The disk claims to be installed only when every step is done." :
		     "Writing the data volume's header: the last step.");
}

static void draw_key(const struct screen_view *v)
{
	const struct flow *f = v->flow;
	unsigned y = ROW_BODY;

	title(v, "5 recovery key");
	if (f->screen == FLOW_KEY_SHOW) {
		tui_print(y++, 2, TUI_BOLD, "RECOVERY KEY - shown once. Write it down now.");
		y++;
		for (unsigned row = 0; row < 2 && f->recovery_key; row++) {
			char line[128];
			size_t n = 0;
			for (unsigned g = row * 4; g < row * 4 + 4; g++)
				n += (size_t)snprintf(
					line + n, sizeof(line) - n, "   %u  %.8s", g + 1,
					f->recovery_key + g * (RECOVERY_KEY_GROUP + 1));
			tui_print(y++, 4, TUI_BOLD, "%s", line);
			y++;
		}
		y = wrap(y, 2, TUI_NORMAL,
			 "It opens the data volume when the TPM cannot: after a firmware or Secure "
			 "Boot change, with another kernel, or on another machine. Letters only: "
			 "they type the same on QWERTY, QWERTZ and AZERTY keyboards. It is stored "
			 "nowhere in the clear and never shown again.");
		y++;
		wrap(y, 2, TUI_NORMAL, "When it is written down, press Enter and type it back.");
		help("Enter: type it back   Ctrl-C twice: abandon (the disk is not installed)");
	} else {
		tui_print(y++, 2, TUI_BOLD,
			  "Type the recovery key back (dashes and spaces optional):");
		y++;
		tui_print(y, 2, TUI_NORMAL, "> %s", f->typed);
		tui_cursor(true, y, 4 + (unsigned)f->n_typed);
		y += 2;
		if (f->notice == FLOW_NOTICE_KEY_MISMATCH) {
			char line[128];
			snprintf(line, sizeof(line),
				 "That is not the key: group %u differs. Esc shows it again.",
				 f->key_group);
			notice(line);
		} else if (f->notice == FLOW_NOTICE_KEY_MALFORMED)
			notice("That is not a recovery key (64 letters of c b d e f g h i j k l n r t "
			       "u v).");
		help("Enter: check   Esc: show the key again   Ctrl-C twice: abandon");
	}
	if (f->notice == FLOW_NOTICE_ABORT_ARMED)
		notice("Press Ctrl-C again to abandon: the disk will NOT be installed.");
}

static void draw_passphrase(const struct screen_view *v)
{
	const struct flow *f = v->flow;
	unsigned y = ROW_BODY;

	title(v, "5 operator passphrase");
	tui_print(y++, 2, TUI_BOLD, "The operator console's passphrase");
	y++;
	y = wrap(y, 2, TUI_NORMAL,
		 "The installed appliance has no login: it is run from the operator console on "
		 "tty1, which opens with this passphrase. 8 to 256 characters. It is kept only "
		 "as a yescrypt hash on the data volume, and is never shown.");
	y++;
	tui_print(y, 2, TUI_BOLD, "%s",
		  f->screen == FLOW_PASSPHRASE ? "Operator passphrase (not shown as typed):" :
						 "The same passphrase again:");
	tui_cursor(true, y + 1, 4);
	tui_print(y + 1, 2, TUI_NORMAL, "> ");
	if (f->notice == FLOW_NOTICE_PASSPHRASE_REFUSED) {
		char line[128];

		snprintf(line, sizeof(line), "That passphrase is refused: %s.",
			 strna(f->passphrase_why));
		notice(line);
	} else if (f->notice == FLOW_NOTICE_PASSPHRASE_MISMATCH)
		notice("The two passphrases differ: type it again, twice.");
	else if (f->notice == FLOW_NOTICE_ABORT_ARMED)
		notice("Press Ctrl-C again to abandon: the disk will NOT be installed.");
	help("Enter: next   Esc: start again   Ctrl-C twice: abandon");
}

static void draw_done(const struct screen_view *v)
{
	const struct install_disk *d = &v->disks[v->flow->chosen];
	unsigned y = ROW_BODY;

	title(v, "7 done");
	tui_print(y++, 2, TUI_BOLD, "Installed: %s %s is on %s.", strna(v->source->name),
		  strna(v->source->version), d->node);
	y++;
	y = wrap(y, 2, TUI_NORMAL,
		 v->tpm->usable ?
			 "The data volume opens at boot with the TPM; the recovery key "
			 "opens it when the TPM refuses." :
			 "The data volume opens with the recovery key, typed at every boot.");
	y++;
	wrap(y, 2, TUI_NORMAL, "Remove the installer medium, then press Enter to reboot.");
	help("Enter: reboot   q: leave without rebooting");
}

static void draw_failed(const struct screen_view *v)
{
	unsigned y = ROW_BODY;

	title(v, "failed");
	tui_print(y++, 2, TUI_BOLD, "The install failed:");
	y = wrap(y, 4, TUI_NORMAL, strna(v->error));
	y++;
	wrap(y, 2, TUI_NORMAL,
	     "The disk does not claim to be installed: its data volume has no header. Correct "
	     "the cause and run the installer again.");
	help("Enter: leave");
}

void screens_draw(const struct screen_view *v)
{
	tui_size(&rows, &cols);
	tui_clear();
	tui_cursor(false, 0, 0);
	if (rows < 20 || cols < 60) {
		tui_print(0, 0, TUI_BOLD, "The terminal is %ux%u; the installer needs 80x24.", cols,
			  rows);
		tui_refresh();
		return;
	}
	switch (v->flow->screen) {
	case FLOW_WELCOME:
		draw_welcome(v);
		break;
	case FLOW_DISKS:
		draw_disks(v);
		break;
	case FLOW_SUMMARY:
		draw_summary(v);
		break;
	case FLOW_NO_TPM:
		draw_no_tpm(v);
		break;
	case FLOW_PROGRESS:
	case FLOW_FINISHING:
		draw_progress(v);
		break;
	case FLOW_KEY_SHOW:
	case FLOW_KEY_CONFIRM:
		draw_key(v);
		break;
	case FLOW_PASSPHRASE:
	case FLOW_PASSPHRASE_AGAIN:
		draw_passphrase(v);
		break;
	case FLOW_DONE:
		draw_done(v);
		break;
	case FLOW_FAILED:
		draw_failed(v);
		break;
	default:
		break;
	}
	tui_refresh();
}
