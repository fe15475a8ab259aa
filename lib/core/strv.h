/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* NULL-terminated string vectors (char **). A NULL vector is an empty one. */

#include "macro.h"

char **strv_free(char **l);
static inline void strv_freep(char ***l)
{
	strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
bool strv_contains(char *const *l, const char *s);
/* Appends value, taking ownership of it (freed on failure). */
int strv_push(char ***l, char *value);
/* Appends a copy of value. */
int strv_extend(char ***l, const char *value);
/* Appends a copy of each of other. */
int strv_extend_strv(char ***l, char *const *other);
/* Appends a formatted string. */
int strv_extendf(char ***l, const char *fmt, ...) _printf_(2, 3);
void strv_sort(char **l);
/* Removes adjacent duplicates of a sorted vector. */
void strv_uniq(char **l);
/* Splits at any of the separator characters, dropping empty words. */
int strv_split(const char *s, const char *separators, char ***ret);
char *strv_join(char *const *l, const char *separator);
char **strv_copy(char *const *l);

#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)
