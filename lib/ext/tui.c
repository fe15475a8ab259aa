/* SPDX-License-Identifier: Apache-2.0 */
#include <curses.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "ext/tui.h"

#define TUI_ESCDELAY_MS 100
#define TUI_LINE_MAX 512

static bool active;

int tui_begin(void)
{
	if (active)
		return 0;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return -ENOTTY;
	/* A serial console often has no TERM worth the name; vt100 is what it speaks. */
	if (isempty(getenv("TERM")) || streq(getenv("TERM"), "dumb"))
		setenv("TERM", "vt100", 1);
	set_escdelay(TUI_ESCDELAY_MS);
	if (!initscr())
		return -ENOTTY;
	active = true;
	raw(); /* Ctrl-C and Ctrl-Z arrive as keys */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	clear();
	return 0;
}

void tui_end(void)
{
	if (!active)
		return;
	clear();
	refresh();
	endwin();
	active = false;
}

bool tui_active(void)
{
	return active;
}

void tui_size(unsigned *ret_rows, unsigned *ret_cols)
{
	int rows = 0, cols = 0;

	if (active)
		getmaxyx(stdscr, rows, cols);
	*ret_rows = rows > 0 ? (unsigned)rows : 0;
	*ret_cols = cols > 0 ? (unsigned)cols : 0;
}

void tui_clear(void)
{
	if (active)
		erase();
}

static attr_t to_curses(unsigned attrs)
{
	attr_t a = A_NORMAL;

	if (attrs & TUI_BOLD)
		a |= A_BOLD;
	if (attrs & TUI_REVERSE)
		a |= A_REVERSE;
	if (attrs & TUI_UNDERLINE)
		a |= A_UNDERLINE;
	return a;
}

void tui_print(unsigned y, unsigned x, unsigned attrs, const char *fmt, ...)
{
	char buf[TUI_LINE_MAX];
	unsigned rows, cols;
	va_list ap;
	size_t n;

	tui_size(&rows, &cols);
	if (y >= rows || x >= cols)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* Plain ASCII on screen: anything else (a disk model's bytes) becomes '?'. */
	for (char *c = buf; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
	n = MIN(strlen(buf), (size_t)(cols - x));
	attrset(to_curses(attrs));
	mvaddnstr((int)y, (int)x, buf, (int)n);
	attrset(A_NORMAL);
}

void tui_fill(unsigned y, unsigned x, unsigned width, char c, unsigned attrs)
{
	unsigned rows, cols;

	tui_size(&rows, &cols);
	if (y >= rows || x >= cols)
		return;
	width = MIN(width, cols - x);
	attrset(to_curses(attrs));
	mvhline((int)y, (int)x, (chtype)(unsigned char)c, (int)width);
	attrset(A_NORMAL);
}

void tui_cursor(bool visible, unsigned y, unsigned x)
{
	if (!active)
		return;
	if (visible) {
		move((int)y, (int)x);
		curs_set(1);
	} else
		curs_set(0);
}

void tui_refresh(void)
{
	if (active)
		refresh();
}

int tui_read(int timeout_ms, struct tui_input *ret)
{
	int c;

	if (!active)
		return -ENOTTY;
	timeout(timeout_ms);
	c = getch();
	if (c == ERR) {
		/* A timeout, or a terminal that is gone (a serial line hung up, the tty
		 * vhangup()ed): getch() then fails at once, for ever. */
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };

		if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLNVAL)))
			return -EPIPE;
		return 0;
	}

	*ret = (struct tui_input){ .key = TUI_KEY_NONE };
	switch (c) {
	case '\r':
	case '\n':
	case KEY_ENTER:
		ret->key = TUI_KEY_ENTER;
		break;
	case 27:
		ret->key = TUI_KEY_ESCAPE;
		break;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		ret->key = TUI_KEY_BACKSPACE;
		break;
	case KEY_UP:
		ret->key = TUI_KEY_UP;
		break;
	case KEY_DOWN:
		ret->key = TUI_KEY_DOWN;
		break;
	case KEY_HOME:
		ret->key = TUI_KEY_HOME;
		break;
	case KEY_END:
		ret->key = TUI_KEY_END;
		break;
	case '\t':
		ret->key = TUI_KEY_TAB;
		break;
	case 3: /* Ctrl-C */
		ret->key = TUI_KEY_INTERRUPT;
		break;
	case 12: /* Ctrl-L */
	case KEY_RESIZE:
		/* The next refresh repaints every cell, not only what changed: whatever
		 * else wrote to the terminal (a kernel or systemd line on the console) is
		 * gone. */
		clearok(curscr, TRUE);
		ret->key = TUI_KEY_REDRAW;
		break;
	default:
		if (c >= 0x20 && c < 0x7f) {
			ret->key = TUI_KEY_CHAR;
			ret->ch = (char)c;
		}
		break;
	}
	return 1;
}
