/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "macro.h"

/*
 * For functions that explain a failure in one line through an optional char **ret_error:
 * formats the message into a new string in *ret_error (NULL when out of memory) if
 * ret_error is not NULL, and returns r, so that "return error_set(ret_error, -EINVAL,
 * ...)" both says and returns. *ret_error must not hold a message already.
 */
int error_set(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);

/* As error_set(), but *ret_error may hold a message already (from an earlier step, or
 * an earlier try): it is freed and replaced. */
int error_replace(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);

/*
 * As error_replace(), positioned: "PATH:LINE: message", or "PATH: message" when line is 0
 * (a file, a field of one, a record), for parsers of files that name where they fail.
 */
int error_at(char **ret_error, int r, const char *path, unsigned line, const char *fmt, ...)
	_printf_(5, 6);
