/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Small language helpers used everywhere: cleanup attributes, ownership transfer,
 * array sizes, string comparison. libc only.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _noreturn_ __attribute__((noreturn))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_result_ __attribute__((warn_unused_result))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define DIV_ROUND_UP(x, y) (((x) + (y)-1) / (y))
#define ALIGN_TO(x, a) (((x) + (a)-1) / (a) * (a))

/* Take ownership of a pointer or fd out of a _cleanup_ variable. */
#define TAKE_PTR(p)                      \
	({                               \
		__typeof__(p) _tp = (p); \
		(p) = NULL;              \
		_tp;                     \
	})
#define TAKE_FD(fd)             \
	({                      \
		int _tf = (fd); \
		(fd) = -EBADF;  \
		_tf;            \
	})

#define new0(t, n) ((t *)calloc((n) ?: 1, sizeof(t)))

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static inline const char *strempty(const char *s)
{
	return s ?: "";
}

static inline const char *strna(const char *s)
{
	return s ?: "n/a";
}

static inline bool isempty(const char *s)
{
	return !s || !*s;
}

/* Returns the rest of s after prefix, or NULL. */
static inline const char *startswith(const char *s, const char *prefix)
{
	size_t l = strlen(prefix);
	return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

static inline bool endswith(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void *mfree(void *p)
{
	free(p);
	return NULL;
}

/* Assign a newly allocated value, freeing the old one. */
#define free_and_replace(a, b) \
	({                     \
		free(a);       \
		(a) = (b);     \
		(b) = NULL;    \
		0;             \
	})

int safe_close(int fd);
static inline void closep(int *fd)
{
	safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) \
	static inline void func##p(type *p)     \
	{                                       \
		if (*p)                         \
			func(*p);               \
	}

/* errno of a negative return, for functions that set errno. */
static inline int negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

#define RET_NERRNO(expr)                        \
	({                                      \
		int _r = (expr);                \
		_r < 0 ? negative_errno() : _r; \
	})

/* Last, so that system headers included above still declare what it bans. */
#include "banned.h"
