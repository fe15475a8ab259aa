/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Logging. Programs log once, where they decide to fail; lib/ logs at debug level
 * at most. The *_errno() variants take a negative or positive errno, make it
 * available to "%m" and return it negated, so that
 *
 *     return log_error_errno(r, "verity: '%s': %m", path);
 *
 * both reports and propagates the error. Messages go to stderr, prefixed with the
 * program name; nothing here ever formats a secret: callers must not pass one.
 */

#include <stddef.h>
#include <syslog.h>

#include "macro.h"

void log_set_program_name(const char *name);
const char *log_get_program_name(void);
void log_set_max_level(int level);
int log_get_max_level(void);
/* Reads AIRLOCK_LOG_LEVEL (err, warning, notice, info, debug or 3..7). */
void log_parse_environment(void);
/* Send log lines to fd instead of stderr (e.g. /dev/console in airlock-init). */
void log_set_fd(int fd);

int log_internal(int level, int error, const char *fmt, ...) _printf_(3, 4);

/*
 * Copies in to out (NUL-terminated, cut to fit) with every byte that a terminal or a
 * log reader could act on written as \xNN: control characters (newline, carriage
 * return, escape, DEL...), C1 controls, bytes that are not UTF-8. Every log line goes
 * through it, so that no string from a client, a file or a medium can end a line,
 * forge another or move a terminal's cursor. Returns the length written.
 */
size_t log_sanitize(const char *in, char *out, size_t out_size);

#define log_full_errno(level, error, ...)                                                        \
	({                                                                                       \
		int _e = (error) < 0 ? -(error) : (error);                                       \
		(log_get_max_level() >= (level)) ? log_internal((level), _e, __VA_ARGS__) : -_e; \
	})

#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_notice_errno(e, ...) log_full_errno(LOG_NOTICE, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, e, __VA_ARGS__)

#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)

#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
