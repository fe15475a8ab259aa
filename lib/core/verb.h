/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Programs of verbs (airlock-build, airlock-update, airlock-ledger): one table, one
 * dispatcher, one way to say a usage error, one mapping to exit statuses. Every such
 * program documents 0 success, 1 failure, 2 usage (and may add its own, e.g. 3 refused);
 * a verb that returns a negative errno (log_oom(), log_error_errno()) exits 1, never
 * 256 - errno.
 */

#include <stddef.h>

#include "macro.h"

#define EXIT_USAGE 2 /* unknown command or option, missing or bad argument */

struct verb {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the verb */
	const char *summary; /* one line for --help */
};

/* "  NAME  SUMMARY" for each verb, names padded to the longest. */
void verb_list(const struct verb *verbs, size_t n);
/*
 * Runs the verb argv[0] names with argc and argv from it on, and returns its exit
 * status (a negative return becomes 1). An unknown verb is said, with where to look
 * (the program's --help), and is EXIT_USAGE.
 */
int verb_dispatch(const struct verb *verbs, size_t n, int argc, char **argv);
/* Logs "VERB: what (see 'PROGRAM VERB --help')" and returns EXIT_USAGE. */
int usage_error(const char *verb, const char *fmt, ...) _printf_(2, 3);
