/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

#include "macro.h"

/* Lower-case hex of n bytes into a new string. */
char *hexmem(const void *p, size_t n);
/* Writes 2n+1 bytes (with NUL) into out. */
void hex_to_buf(const void *p, size_t n, char *out);
/* True if s is exactly len lower-case hex digits (as we write digests). */
bool hex_is_lower(const char *s, size_t len);
/* Decodes hex (either case, even length) into a new buffer; -EINVAL on bad input. */
int unhexmem(const char *s, size_t len, uint8_t **ret, size_t *ret_size);
/* Decodes exactly n bytes of hex into out. */
int unhex_exact(const char *s, void *out, size_t n);
