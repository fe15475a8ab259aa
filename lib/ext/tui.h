/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Text screens through ncurses (the only file that includes it): a full-screen,
 * keyboard-only terminal for the installer on a serial console (80x24, any TERM) or
 * the VGA console. Plain ASCII only (no line-drawing characters a serial terminal may
 * not have) and no colours: meaning is carried by text, markers and reverse video,
 * so every screen reads the same in monochrome. Keys come back as struct tui_input;
 * Ctrl-C is a key (TUI_KEY_INTERRUPT), not a signal, while the screen is up.
 */

#include "core/macro.h"

enum tui_key {
	TUI_KEY_NONE,
	TUI_KEY_CHAR, /* a printable ASCII character in ch */
	TUI_KEY_ENTER,
	TUI_KEY_ESCAPE,
	TUI_KEY_BACKSPACE,
	TUI_KEY_UP,
	TUI_KEY_DOWN,
	TUI_KEY_HOME,
	TUI_KEY_END,
	TUI_KEY_TAB,
	TUI_KEY_INTERRUPT, /* Ctrl-C */
	TUI_KEY_REDRAW, /* Ctrl-L, or the terminal was resized */
	_TUI_KEY_MAX,
	_TUI_KEY_INVALID = -EINVAL,
};

struct tui_input {
	enum tui_key key;
	char ch;
};

enum {
	TUI_NORMAL = 0,
	TUI_BOLD = 1 << 0,
	TUI_REVERSE = 1 << 1,
	TUI_UNDERLINE = 1 << 2,
};

/* Takes over the terminal on stdin/stdout; -ENOTTY if it is not one ncurses can drive. */
int tui_begin(void);
/* Gives the terminal back (NULL-safe to call twice). */
void tui_end(void);
bool tui_active(void);
void tui_size(unsigned *ret_rows, unsigned *ret_cols);
void tui_clear(void);
/* Text at row y, column x, cut at the right edge; attrs a mask of TUI_BOLD, ... */
void tui_print(unsigned y, unsigned x, unsigned attrs, const char *fmt, ...) _printf_(4, 5);
/* A row of c from column x, width characters wide. */
void tui_fill(unsigned y, unsigned x, unsigned width, char c, unsigned attrs);
/* Shows the cursor at (y, x), or hides it when visible is false. */
void tui_cursor(bool visible, unsigned y, unsigned x);
void tui_refresh(void);
/*
 * Waits up to timeout_ms (-1: for ever) for a key. Returns 1 with *ret filled, 0 on
 * timeout, -EPIPE when the terminal hung up, -errno on other errors.
 */
int tui_read(int timeout_ms, struct tui_input *ret);
