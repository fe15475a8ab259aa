/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Whole-file reads and writes. */

#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* Reads a whole file, NUL-terminated; -EFBIG if larger than max_size. */
int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size);
int read_full_fd(int fd, size_t max_size, char **ret, size_t *ret_size);
/* A small file's first line without its newline (a sysfs attribute, a /run record). */
int read_line_file(const char *path, size_t max_size, char **ret);
/* Writes data to path atomically (temporary name, fsync, rename, fsync of the directory). */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode);
#define READ_FULL_MAX_DEFAULT (64U * 1024U * 1024U)
