/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TPM: what airlock-tpm status says (the TPM, PCR 7 and 11, the dictionary-attack state,
 * each token and whether it would unseal, the version floor, the ledger's counter), and
 * the re-seal after a firmware or Secure Boot change: the recovery key typed here (never
 * shown), console.reseal recorded, then airlock-tpm reseal with the key on its standard
 * input (a pipe: never a file, never an argument), which checks the key, seals anew and
 * records tpm.resealed itself; what it said, or its refusal in full, is shown.
 */
#include "console.h"
#include "core/fd.h"
#include "core/run.h"
#include "core/secret.h"

#define TOOL_TIMEOUT_SEC 60
#define RESEAL_TIMEOUT_SEC 300

static struct console_text page;

/* airlock-tpm VERB and the --tpm-arg arguments (tests: --tcti, --device, ...). */
static int tpm_argv(const struct console *c, const char *verb, const char ***ret)
{
	size_t n = c->n_tpm_args;
	const char **argv = new0(const char *, n + 3);

	if (!argv)
		return -ENOMEM;
	argv[0] = "airlock-tpm";
	argv[1] = verb;
	for (size_t i = 0; i < n; i++)
		argv[2 + i] = c->tpm_args[i];
	*ret = argv;
	return 0;
}

static void tpm_enter(struct console *c)
{
	_cleanup_free_ const char **argv = NULL;

	console_text_clear(&page);
	page.width = c->cols > 2 ? c->cols - 2 : 0;
	if (tpm_argv(c, "status", &argv) < 0)
		return;
	console_run_section(&page, "The TPM and the data volume's tokens (airlock-tpm status)",
			    argv, TOOL_TIMEOUT_SEC);
	(void)console_text_add(&page, "%s", "");
	(void)console_text_add(&page, "%s",
			       "After a firmware or Secure Boot change (a db/dbx or BIOS update) "
			       "the TPM no longer opens the data volume and every boot asks for "
			       "the recovery key: 'S' seals the key to this machine again.");
}

/* airlock-tpm reseal with the key on its standard input: 0, or -errno and *ret_error. */
static int reseal_with(struct console *c, const char *key, char **ret_out, char **ret_error)
{
	_cleanup_free_ const char **argv = NULL;
	const struct run_opts o = { .timeout_sec = RESEAL_TIMEOUT_SEC,
				    .stdin_mode = RUN_STDIO_PIPE,
				    .stdout_mode = RUN_STDIO_CAPTURE };
	struct run_proc p;
	int r;

	r = tpm_argv(c, "reseal", &argv);
	if (r < 0)
		return r;
	r = run_spawn(argv, &o, &p);
	if (r < 0)
		return r;
	r = loop_write(p.stdin_fd, key, strlen(key));
	if (r >= 0)
		r = loop_write(p.stdin_fd, "\n", 1);
	p.stdin_fd = safe_close(p.stdin_fd);
	if (r < 0) {
		run_proc_kill(&p);
		return r;
	}
	return run_proc_wait(&p, ret_out, ret_error);
}

static void reseal(struct console *c)
{
	_cleanup_secret_ char *key = NULL;
	_cleanup_free_ char *out = NULL, *error = NULL;
	int r;

	if (!console_confirm(c, "Seal the data volume's key to this machine's PCR 7 again?"))
		return;
	r = console_read_secret(c, c->rows - 2, "Recovery key (not shown):", c->idle_timeout, &key);
	if (r < 0 || isempty(key))
		return;
	if (console_record_action(c, "console.reseal", json_object_new_object(),
				  "Not done (re-seal)") < 0)
		return;
	tui_fill(c->rows - 2, 0, c->cols, ' ', TUI_NORMAL);
	tui_print(c->rows - 2, 1, TUI_BOLD, "Re-sealing (the key is checked first)...");
	tui_refresh();
	r = reseal_with(c, key, &out, &error);
	key = secret_free(key);
	tpm_enter(c);
	(void)console_text_add(&page, "%s", "");
	if (r < 0) {
		/* The refusal in full, on the page (a notice is at most three lines). */
		(void)console_text_add(&page, "%s", "Re-seal REFUSED or failed:");
		(void)console_text_add_lines(&page, 2, error ?: strerror(-r));
		console_notice(c, "The key was not sealed again: the reason is on the page.");
	} else {
		(void)console_text_add(&page, "%s", "Re-seal (airlock-tpm reseal)");
		(void)console_text_add_lines(&page, 2, out);
		console_notice(c, "Sealed again: the TPM opens the data volume at the next boot.");
	}
	page.top = page.n;
}

static void tpm_draw(struct console *c)
{
	console_text_draw(c, &page, CONSOLE_BODY_ROW);
}

static int tpm_input(struct console *c, const struct tui_input *in)
{
	if (in->key == TUI_KEY_CHAR && in->ch == 'r') {
		tpm_enter(c);
		return 1;
	}
	if (in->key == TUI_KEY_CHAR && in->ch == 'S') {
		reseal(c);
		return 1;
	}
	return console_text_scroll(c, &page, in);
}

static void tpm_leave(struct console *c)
{
	(void)c;
	console_text_clear(&page);
}

const struct console_screen screen_tpm = {
	.key = 't',
	.name = "TPM",
	.legend = "S re-seal  r refresh  Up/Down/Space/b scroll",
	.enter = tpm_enter,
	.draw = tpm_draw,
	.input = tpm_input,
	.leave = tpm_leave,
};
