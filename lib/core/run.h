/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Running external tools: an argv vector, never a shell. The environment is the
 * caller's with LC_ALL=C and TZ=UTC forced, SOURCE_DATE_EPOCH set when one was
 * given, plus opts->env. stderr is always captured (into a memfd, so a chatty
 * tool cannot block) and its tail becomes part of the error message. Tools are
 * looked up first in the tools directories (run_set_tools_dirs() or
 * $AIRLOCK_TOOLS_DIR, colon-separated), so a test can put a fake first, then in
 * $PATH, then in /usr/sbin and /sbin.
 */

#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

enum run_stdio {
	RUN_STDIO_NULL = 0, /* /dev/null (the default) */
	RUN_STDIO_INHERIT, /* ours */
	RUN_STDIO_FD, /* the given fd */
	RUN_STDIO_PIPE, /* stdin only, run_spawn() only: a pipe we write to */
	RUN_STDIO_CAPTURE, /* stdout only, run_argv() only: returned in *ret_stdout */
};

struct run_opts {
	const char *const *env; /* extra "KEY=VALUE" entries, overriding inherited ones */
	enum run_stdio stdin_mode;
	int stdin_fd;
	enum run_stdio stdout_mode;
	int stdout_fd;
	unsigned timeout_sec; /* 0: no limit */
	const char *cwd;
	/*
	 * Run as uid/gid 0 of a new user namespace that maps only our own ids, when we are
	 * not root already: for tools that record the caller's ids (sqfstar stamps its own
	 * uid on the root directory and ignores -root-uid). Nothing gains privileges.
	 */
	bool userns_root;
};

struct run_proc {
	pid_t pid;
	int stdin_fd; /* write end, with RUN_STDIO_PIPE */
	int stdout_capture_fd;
	int stderr_fd;
	char *name;
	unsigned timeout_sec;
};

void run_set_tools_dirs(const char *dirs);
/* Sets SOURCE_DATE_EPOCH for every tool run from now on (-1: unset). */
void run_set_source_date_epoch(int64_t epoch);
/* Finds an executable; -ENOENT if it is nowhere. */
int run_find_tool(const char *name, char **ret_path);

/*
 * Runs argv to completion. Returns 0 when it exited with status 0; otherwise a
 * negative errno (-ENOENT: not found, -ETIMEDOUT, -EPROTO: non-zero exit or
 * killed by a signal) and, if ret_error is given, a message naming the tool, how
 * it ended and the tail of what it printed on stderr.
 */
int run_argv(const char *const argv[], const struct run_opts *opts, char **ret_stdout,
	     char **ret_error);

int run_spawn(const char *const argv[], const struct run_opts *opts, struct run_proc *ret);
/* Closes the stdin pipe if still open, waits, and reports as run_argv() does. */
int run_proc_wait(struct run_proc *p, char **ret_stdout, char **ret_error);
/* Kills and reaps a process that is no longer wanted. */
void run_proc_kill(struct run_proc *p);
