/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* File descriptors: full reads and writes, copying. */

#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* Writes all of buf; -errno on error. */
int loop_write(int fd, const void *buf, size_t n);
/* All n bytes at offset, whatever the kernel splits them into (EINTR retried); -EIO
 * when a write makes no progress. */
int pwrite_all(int fd, const void *buf, size_t n, uint64_t offset);
/* Exactly n bytes from offset; -EIO when the file or device ends before them. */
int pread_exact(int fd, void *buf, size_t n, uint64_t offset);
/* Reads up to n bytes, stopping early only at EOF; returns the count read. */
ssize_t loop_read(int fd, void *buf, size_t n);
/* Reads exactly n bytes; -EIO on a short read. */
int loop_read_exact(int fd, void *buf, size_t n);
/* Copies until EOF (max_bytes == UINT64_MAX) or max_bytes; -EFBIG if more was there. */
int copy_bytes(int fdf, int fdt, uint64_t max_bytes, uint64_t *ret_copied);
