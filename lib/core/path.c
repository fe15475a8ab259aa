/* SPDX-License-Identifier: Apache-2.0 */
#include <fnmatch.h>
#include <stdarg.h>

#include "path.h"

char *path_join_internal(const char *first, ...)
{
	va_list ap;
	size_t n = 0;
	char *r, *p;

	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *))
		n += strlen(s) + 1;
	va_end(ap);

	p = r = malloc(n + 1);
	if (!r)
		return NULL;
	*p = '\0';
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *)) {
		size_t l;
		if (p > r && p[-1] != '/' && *s != '/')
			*p++ = '/';
		else if (p > r && p[-1] == '/')
			while (*s == '/')
				s++;
		l = strlen(s);
		memcpy(p, s, l);
		p += l;
		*p = '\0';
	}
	va_end(ap);
	return r;
}

char *path_simplify(char *p)
{
	char *w = p;
	const char *s = p;
	bool absolute = *s == '/';

	if (absolute)
		*w++ = *s++;
	while (*s) {
		const char *e;
		size_t l;

		while (*s == '/')
			s++;
		if (!*s)
			break;
		e = strchrnul(s, '/');
		l = (size_t)(e - s);
		if (l == 1 && s[0] == '.') {
			s = e;
			continue;
		}
		if (w > p && w[-1] != '/')
			*w++ = '/';
		memmove(w, s, l);
		w += l;
		s = e;
	}
	*w = '\0';
	return p;
}

bool path_has_dotdot(const char *p)
{
	const char *s = p;

	while (*s) {
		const char *e = strchrnul(s, '/');
		if (e - s == 2 && s[0] == '.' && s[1] == '.')
			return true;
		s = *e ? e + 1 : e;
	}
	return false;
}

const char *path_last(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

int path_parent(const char *p, char **ret)
{
	const char *s = strrchr(p, '/');
	char *r;

	if (!s)
		r = strdup("");
	else if (s == p)
		r = strdup("/");
	else
		r = strndup(p, (size_t)(s - p));
	if (!r)
		return -ENOMEM;
	*ret = r;
	return 0;
}

bool path_startswith_dir(const char *p, const char *prefix)
{
	size_t l = strlen(prefix);

	if (l == 0)
		return true;
	return strncmp(p, prefix, l) == 0 && (p[l] == '\0' || p[l] == '/');
}

bool path_glob_match(const char *pattern, const char *p)
{
	const char *star = strstr(pattern, "**");
	_cleanup_free_ char *head = NULL;
	const char *rest;
	size_t hl;

	if (!star)
		return fnmatch(pattern, p, FNM_PATHNAME) == 0;

	/* "a/ **" and "a/ ** /b": the part before must match a prefix of whole components. */
	hl = (size_t)(star - pattern);
	head = strndup(pattern, hl);
	if (!head)
		return false;
	rest = star + 2;
	if (*rest == '/')
		rest++;

	/* Try every split point of p at a component boundary. */
	for (const char *s = p;; s++) {
		if (s == p || s[-1] == '/' || *s == '\0') {
			size_t pl = (size_t)(s - p);
			_cleanup_free_ char *prefix = strndup(p, pl);
			bool head_ok;

			if (!prefix)
				return false;
			head_ok = hl == 0 ? pl == 0 : fnmatch(head, prefix, FNM_PATHNAME) == 0;
			if (head_ok) {
				/* "**" swallows zero or more components of what follows. */
				const char *t = s;
				for (;;) {
					if (*rest == '\0' || path_glob_match(rest, t))
						return true;
					t = strchr(t, '/');
					if (!t)
						break;
					t++;
				}
			}
		}
		if (*s == '\0')
			break;
	}
	return false;
}
