/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>

#include "strv.h"

char **strv_free(char **l)
{
	STRV_FOREACH(s, l)
		free(*s);
	free(l);
	return NULL;
}

size_t strv_length(char *const *l)
{
	size_t n = 0;
	STRV_FOREACH(s, l)
		n++;
	return n;
}

bool strv_contains(char *const *l, const char *s)
{
	STRV_FOREACH(i, l)
		if (streq(*i, s))
			return true;
	return false;
}

int strv_push(char ***l, char *value)
{
	size_t n = strv_length(*l);
	char **c;

	if (!value)
		return -ENOMEM;
	c = reallocarray(*l, n + 2, sizeof(char *));
	if (!c) {
		free(value);
		return -ENOMEM;
	}
	c[n] = value;
	c[n + 1] = NULL;
	*l = c;
	return 0;
}

int strv_extend(char ***l, const char *value)
{
	return strv_push(l, strdup(value));
}

int strv_extend_strv(char ***l, char *const *other)
{
	STRV_FOREACH(s, other) {
		int r = strv_extend(l, *s);
		if (r < 0)
			return r;
	}
	return 0;
}

int strv_extendf(char ***l, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	return strv_push(l, s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_sort(char **l)
{
	size_t n = strv_length(l);
	if (n > 1)
		qsort(l, n, sizeof(char *), cmp_str);
}

void strv_uniq(char **l)
{
	size_t w = 0;

	if (!l)
		return;
	for (size_t r = 0; l[r]; r++) {
		if (w > 0 && streq(l[w - 1], l[r])) {
			free(l[r]);
			continue;
		}
		l[w++] = l[r];
	}
	l[w] = NULL;
}

int strv_split(const char *s, const char *separators, char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;
	const char *p = s;

	while (p && *p) {
		size_t skip = strspn(p, separators), len;
		p += skip;
		if (!*p)
			break;
		len = strcspn(p, separators);
		if (strv_push(&l, strndup(p, len)) < 0)
			return -ENOMEM;
		p += len;
	}
	if (!l) {
		l = new0(char *, 1);
		if (!l)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

char *strv_join(char *const *l, const char *separator)
{
	size_t n = 1, k = strlen(separator);
	char *r, *p;

	STRV_FOREACH(s, l)
		n += strlen(*s) + k;
	p = r = malloc(n);
	if (!r)
		return NULL;
	*p = '\0';
	STRV_FOREACH(s, l) {
		if (s != l) {
			memcpy(p, separator, k);
			p += k;
		}
		size_t m = strlen(*s);
		memcpy(p, *s, m);
		p += m;
	}
	*p = '\0';
	return r;
}

char **strv_copy(char *const *l)
{
	_cleanup_strv_free_ char **c = new0(char *, strv_length(l) + 1);
	size_t i = 0;

	if (!c)
		return NULL;
	STRV_FOREACH(s, l) {
		c[i] = strdup(*s);
		if (!c[i])
			return NULL;
		i++;
	}
	return TAKE_PTR(c);
}
