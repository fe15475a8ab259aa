/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * airlock-build: one file per pipeline stage, main.c parses options and runs the
 * verbs. Verbs take their own argv (argv[0] is the verb) and return an exit
 * status; stages take their inputs as arguments and return outputs, never reaching
 * into globals or earlier stages.
 */

#include <stdint.h>

#include "core/macro.h"

/* Exit statuses shared by the verbs (documented in airlock-build(1)). */
#define EXIT_STALE_LOCK 3 /* fetch: the archive no longer has a locked version */

/* Options every verb understands, parsed by main.c before the verb. */
struct build_globals {
	bool quiet;
	const char *tools_dir;
};
extern struct build_globals arg_globals;

/* Verbs */
int verb_lock(int argc, char *argv[]);
int verb_fetch(int argc, char *argv[]);
int verb_build(int argc, char *argv[]);

/* The default pool directory (~/.cache/airlock/pool, or $AIRLOCK_POOL). */
int default_pool_dir(char **ret);
/* Directory of this executable, where its sibling programs were built. */
int self_dir(char **ret);
