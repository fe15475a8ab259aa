/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Progress of long operations on stderr: a bar redrawn in place when stderr is a
 * terminal, otherwise plain lines (start, about every 10 s, and the end), so logs
 * of unattended runs stay readable. Nothing at all with progress_set_quiet(true).
 */

#include <stdint.h>

#include "macro.h"

enum progress_unit {
	PROGRESS_COUNT, /* items; the noun is given to progress_begin() */
	PROGRESS_BYTES,
};

struct progress;

void progress_set_quiet(bool quiet);
bool progress_get_quiet(void);
/* A one-line stage report ("build: 176 packages, 312.4 MiB"), unless quiet. */
void progress_line(const char *fmt, ...) _printf_(1, 2);

struct progress *progress_begin(const char *label, uint64_t total, enum progress_unit unit,
				const char *noun);
void progress_update(struct progress *p, uint64_t done);
/* A short text shown after the amount, e.g. "12/40 packages" beside a byte count. */
void progress_set_note(struct progress *p, const char *note);
/* Ends the bar with a summary line (suffixed with the elapsed time); frees p. */
void progress_end(struct progress *p, const char *fmt, ...) _printf_(2, 3);
/* Ends without a summary (on failure); frees p. NULL-safe. */
void progress_abort(struct progress *p);
static inline void progress_abortp(struct progress **p)
{
	progress_abort(*p);
}
double progress_now(void);
