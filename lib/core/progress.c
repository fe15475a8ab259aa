/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "parse.h"
#include "progress.h"

struct progress {
	char *label;
	char *noun;
	char *note;
	uint64_t total;
	uint64_t done;
	enum progress_unit unit;
	bool tty;
	double start;
	double last_draw;
};

static bool quiet;

void progress_set_quiet(bool q)
{
	quiet = q;
}

bool progress_get_quiet(void)
{
	return quiet;
}

double progress_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_line(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", buf);
}

struct progress *progress_begin(const char *label, uint64_t total, enum progress_unit unit,
				const char *noun)
{
	struct progress *p = new0(struct progress, 1);

	if (!p)
		return NULL;
	p->label = strdup(label);
	p->noun = strdup(noun ?: "");
	if (!p->label || !p->noun) {
		progress_abort(p);
		return NULL;
	}
	p->total = total;
	p->unit = unit;
	p->tty = isatty(STDERR_FILENO) && !getenv("CI");
	p->start = p->last_draw = progress_now();
	if (!quiet && !p->tty)
		fprintf(stderr, "%s: started\n", label);
	return p;
}

static void format_amount(const struct progress *p, uint64_t v, char *buf, size_t n)
{
	if (p->unit == PROGRESS_BYTES)
		format_bytes(buf, n, v);
	else
		snprintf(buf, n, "%" PRIu64 "%s%s", v, isempty(p->noun) ? "" : " ", p->noun);
}

static void draw(struct progress *p, double now)
{
	char done[FORMAT_BYTES_MAX + 32], rate[FORMAT_BYTES_MAX + 8] = "";
	double elapsed = now - p->start;
	unsigned pct = p->total ? (unsigned)(p->done * 100 / p->total) : 0;

	format_amount(p, p->done, done, sizeof(done));
	if (p->unit == PROGRESS_BYTES && elapsed > 0.2) {
		format_bytes(rate, sizeof(rate), (uint64_t)((double)p->done / elapsed));
	}
	if (p->tty) {
		char bar[31];
		unsigned fill = pct * 30 / 100;
		for (unsigned i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[30] = '\0';
		fprintf(stderr, "\r\033[K%s [%s] %3u%% %s%s%s", p->label, bar, pct, done,
			*rate ? " " : "", *rate ? rate : "");
		if (*rate)
			fputs("/s", stderr);
		if (p->note)
			fprintf(stderr, " %s", p->note);
	} else
		fprintf(stderr, "%s: %u%% (%s%s%s%s%s%s)\n", p->label, pct, done, *rate ? ", " : "",
			rate, *rate ? "/s" : "", p->note ? ", " : "", strempty(p->note));
	fflush(stderr);
	p->last_draw = now;
}

void progress_update(struct progress *p, uint64_t done)
{
	double now;

	if (!p)
		return;
	p->done = done;
	if (quiet)
		return;
	now = progress_now();
	if (now - p->last_draw >= (p->tty ? 0.1 : 10.0))
		draw(p, now);
}

void progress_set_note(struct progress *p, const char *note)
{
	if (!p)
		return;
	free(p->note);
	p->note = note ? strdup(note) : NULL;
}

static void progress_free(struct progress *p)
{
	free(p->note);
	free(p->label);
	free(p->noun);
	free(p);
}

void progress_end(struct progress *p, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (!p)
		return;
	if (!quiet) {
		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		fprintf(stderr, "%s%s: %s (%.1f s)\n", p->tty ? "\r\033[K" : "", p->label, buf,
			progress_now() - p->start);
	}
	progress_free(p);
}

void progress_abort(struct progress *p)
{
	if (!p)
		return;
	if (!quiet && p->tty)
		fputs("\r\033[K", stderr);
	progress_free(p);
}
