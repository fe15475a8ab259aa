/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* File-system operations: directories, removal, durability, atomic replacement. */

#include <sys/types.h>

#include "macro.h"

int mkdir_p(const char *path, mode_t mode);
/* Creates the parent directories of path. */
int mkdir_parents(const char *path, mode_t mode);
/* Removes path recursively without following symlinks. Refuses "" and "/". */
int rm_rf(const char *path);
int fsync_directory_of(const char *path);
/* fsyncs a file by path (opened read-only). */
int fsync_path(const char *path);
/* Creates a fresh directory "<dir>/<prefix>XXXXXX"; dir NULL means $TMPDIR or /tmp. */
int mkdtemp_in(const char *dir, const char *prefix, char **ret);
/* Copies a regular file (contents and mode) to a new path, atomically. */
int copy_file_atomic(const char *from, const char *to, mode_t mode);

/*
 * A file written under a temporary name next to its final path and renamed into
 * place on commit (fsync of the file, the rename, fsync of the directory). A file
 * that is never committed is removed by atomic_file_done(), so a failed run
 * leaves the old file, if any, untouched.
 */
struct atomic_file {
	char *path;
	char *tmp_path;
	int fd;
};
#define ATOMIC_FILE_INIT     \
	{                    \
		.fd = -EBADF \
	}
int atomic_file_open(struct atomic_file *f, const char *path, mode_t mode);
int atomic_file_commit(struct atomic_file *f);
void atomic_file_done(struct atomic_file *f);
#define _cleanup_atomic_file_ _cleanup_(atomic_file_done)
