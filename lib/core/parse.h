/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Strict number, size and boolean parsing: whole string, no sign surprises, -errno on error. */

#include <inttypes.h>
#include <stdint.h>
#include <strings.h>

#include "macro.h"

int safe_atou64(const char *s, uint64_t *ret);
int safe_atou(const char *s, unsigned *ret);
int safe_atoi(const char *s, int *ret);
/* Octal (mode) parsing, e.g. "0755". */
int safe_atomode(const char *s, unsigned *ret);
/* "512", "64K", "1M", "2G", "3T" (binary units). */
int parse_size(const char *s, uint64_t *ret);
/* yes/no/true/false/1/0/on/off */
int parse_boolean(const char *s);
/* Formats bytes for humans ("1.5 MiB") into buf. */
const char *format_bytes(char *buf, size_t n, uint64_t bytes);
#define FORMAT_BYTES_MAX 32
