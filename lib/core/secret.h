/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Memory for secrets (volume keys, recovery keys, TPM auth values): its own
 * mapping, locked against swapping, excluded from core dumps, and wiped with
 * explicit_bzero() when freed. Never log, print or pass a secret in argv or env.
 */

#include <stdint.h>

#include "macro.h"

void *secret_alloc(size_t size);
/* Wipes and unmaps; NULL-safe; returns NULL. */
void *secret_free(void *p);
size_t secret_size(const void *p);
static inline void secret_freep(void *p)
{
	secret_free(*(void **)p);
}
#define _cleanup_secret_ _cleanup_(secret_freep)

/*
 * Reads one line typed on any of n_fds descriptors (the first to finish a line wins)
 * into secret memory, without its line ending, NUL-terminated (*ret, free with
 * secret_free()); *ret_index (optional) says which descriptor. A line longer than
 * max_size bytes is read to its end and dropped: -E2BIG. A descriptor that reaches its
 * end stops being read; -EPIPE when every one has. Partial lines typed elsewhere are
 * wiped. Waits as long as it takes.
 */
int secret_read_line(const int *fds, size_t n_fds, size_t max_size, char **ret, size_t *ret_index);

/*
 * Turns echo off on fd if it is a terminal (canonical line editing stays), saving its
 * settings in *saved for secret_echo_restore(). 0 if fd is a terminal, -ENOTTY if not
 * (nothing to restore), other -errno on failure.
 */
struct termios;
int secret_echo_off(int fd, struct termios *saved);
int secret_echo_restore(int fd, const struct termios *saved);
