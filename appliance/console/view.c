/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every screen draws with: a scrolled page of text lines, a yes/no question and a
 * secret typed without echo, each on the rows the frame (main.c) leaves free.
 */
#include <stdarg.h>
#include <stdio.h>

#include "console.h"
#include "core/progress.h"
#include "core/secret.h"
#include "operator.h"

void console_text_clear(struct console_text *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->lines[i]);
	free(t->lines);
	*t = (struct console_text){ 0 };
}

static int add_one(struct console_text *t, char *line)
{
	char **grown = reallocarray(t->lines, t->n + 1, sizeof(*t->lines));

	if (!grown) {
		free(line);
		return -ENOMEM;
	}
	t->lines = grown;
	t->lines[t->n++] = line;
	return 0;
}

/* Adds line, wrapped at t->width on spaces (a word longer than that is cut), each
 * continuation indented two more than the line: nothing a tool says is cut off. */
static int add(struct console_text *t, char *line)
{
	size_t indent, n;
	const char *rest;

	/* A tab is a space here; anything else unprintable tui_print() shows as '?' (one
	 * column for one byte, so the wrapping below is right either way). */
	for (char *p = line; *p; p++)
		if (*p == '\t')
			*p = ' ';
	n = strlen(line);
	if (t->width < 16 || n <= t->width)
		return add_one(t, line);
	indent = strspn(line, " ") + 2;
	if (indent > t->width / 2)
		indent = 2;
	rest = line;
	for (bool first = true; *rest; first = false) {
		size_t room = t->width - (first ? 0 : indent), take = strlen(rest);
		char *piece = NULL;
		int r;

		if (take > room) {
			take = room;
			for (size_t i = room; i > room / 2; i--)
				if (rest[i] == ' ') {
					take = i;
					break;
				}
		}
		if (asprintf(&piece, "%*s%.*s", first ? 0 : (int)indent, "", (int)take, rest) < 0) {
			free(line);
			return -ENOMEM;
		}
		r = add_one(t, piece);
		if (r < 0) {
			free(line);
			return r;
		}
		rest += take;
		rest += strspn(rest, " ");
	}
	free(line);
	return 0;
}

int console_text_add(struct console_text *t, const char *fmt, ...)
{
	char *line = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	return add(t, line);
}

int console_text_add_lines(struct console_text *t, unsigned indent, const char *s)
{
	while (s && *s) {
		size_t n = strcspn(s, "\n");
		int r = console_text_add(t, "%*s%.*s", (int)indent, "", (int)n, s);

		if (r < 0)
			return r;
		s += n;
		if (*s == '\n')
			s++;
	}
	return 0;
}

/* The rows of a page: from y0 to the row above the one that says where it is. */
static unsigned page_rows(const struct console *c, unsigned y0)
{
	return c->rows > y0 + 3 ? c->rows - y0 - 3 : 1;
}

void console_text_draw(const struct console *c, struct console_text *t, unsigned y0)
{
	unsigned h = page_rows(c, y0);

	if (t->top + h > t->n)
		t->top = t->n > h ? t->n - h : 0;
	for (unsigned i = 0; i < h && t->top + i < t->n; i++)
		tui_print(y0 + i, 1, TUI_NORMAL, "%s", t->lines[t->top + i]);
	/* Below the page, at its right end (the notice row is the notices'). */
	if (t->n > h)
		tui_print(y0 + h, c->cols > 24 ? c->cols - 24 : 0, TUI_NORMAL,
			  "lines %zu-%zu of %zu", t->top + 1, MIN(t->top + h, t->n), t->n);
}

int console_text_scroll(const struct console *c, struct console_text *t, const struct tui_input *in)
{
	unsigned h = page_rows(c, CONSOLE_BODY_ROW);
	size_t max = t->n > h ? t->n - h : 0;

	switch (in->key) {
	case TUI_KEY_UP:
		t->top = t->top > 0 ? t->top - 1 : 0;
		return 1;
	case TUI_KEY_DOWN:
		t->top = MIN(t->top + 1, max);
		return 1;
	case TUI_KEY_HOME:
		t->top = 0;
		return 1;
	case TUI_KEY_END:
		t->top = max;
		return 1;
	case TUI_KEY_CHAR:
		if (in->ch == ' ') {
			t->top = MIN(t->top + h, max);
			return 1;
		}
		if (in->ch == 'b') {
			t->top = t->top > h ? t->top - h : 0;
			return 1;
		}
		return 0;
	default:
		return 0;
	}
}

bool console_confirm(struct console *c, const char *question)
{
	for (;;) {
		struct tui_input in;
		int r;

		tui_fill(c->rows - 2, 0, c->cols, ' ', TUI_NORMAL);
		tui_print(c->rows - 2, 1, TUI_BOLD, "%s [y/N] ", question);
		tui_refresh();
		r = tui_read(c->idle_timeout ? (int)c->idle_timeout * 1000 : -1, &in);
		c->last_input = progress_now();
		if (r <= 0)
			return false;
		if (in.key == TUI_KEY_REDRAW)
			continue;
		return in.key == TUI_KEY_CHAR && (in.ch == 'y' || in.ch == 'Y');
	}
}

/* A line typed on row y: echoed (plain text) or not (a secret: secret memory). */
static int read_line(struct console *c, unsigned y, const char *prompt, unsigned timeout_sec,
		     bool echo, size_t max, char **ret)
{
	_cleanup_secret_ char *buf = secret_alloc(max + 2);
	size_t n = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		struct tui_input in;
		int r;

		tui_fill(y, 0, c->cols, ' ', TUI_NORMAL);
		/* No echo of a secret, not even a '*' per key: the length is a secret too. */
		tui_print(y, 1, TUI_BOLD, "%s", prompt);
		if (echo)
			tui_print(y, 2 + (unsigned)strlen(prompt), TUI_NORMAL, "%s", buf);
		tui_cursor(true, y, 2 + (unsigned)strlen(prompt) + (echo ? (unsigned)n : 0));
		tui_refresh();
		r = tui_read(timeout_sec ? (int)timeout_sec * 1000 : -1, &in);
		if (r < 0)
			return r;
		if (r == 0)
			return -ETIMEDOUT;
		c->last_input = progress_now();
		switch (in.key) {
		case TUI_KEY_ENTER:
			tui_cursor(false, 0, 0);
			buf[n] = '\0';
			if (echo) {
				*ret = strdup(buf);
				return *ret ? 0 : -ENOMEM;
			}
			*ret = TAKE_PTR(buf);
			return 0;
		case TUI_KEY_ESCAPE:
		case TUI_KEY_INTERRUPT:
			tui_cursor(false, 0, 0);
			return -ECANCELED;
		case TUI_KEY_BACKSPACE:
			if (n > 0)
				buf[--n] = '\0';
			break;
		case TUI_KEY_CHAR:
			if (n < max + 1) /* one more: "too long" is said */
				buf[n++] = in.ch;
			break;
		default:
			break;
		}
	}
}

int console_read_secret(struct console *c, unsigned y, const char *prompt, unsigned timeout_sec,
			char **ret)
{
	return read_line(c, y, prompt, timeout_sec, false, OPERATOR_PASSPHRASE_MAX, ret);
}

int console_read_line(struct console *c, unsigned y, const char *prompt, size_t max, char **ret)
{
	return read_line(c, y, prompt, c->idle_timeout, true, max, ret);
}
