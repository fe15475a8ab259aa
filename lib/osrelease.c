/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>

#include "core/parse.h"
#include "osrelease.h"

static int unquote(const char *v, size_t n, char **ret)
{
	_cleanup_free_ char *out = malloc(n + 1);
	size_t o = 0;
	char q = 0;

	if (!out)
		return -ENOMEM;
	if (n > 0 && (v[0] == '"' || v[0] == '\'')) {
		q = v[0];
		if (n < 2 || v[n - 1] != q)
			return -EBADMSG;
		v++;
		n -= 2;
	}
	for (size_t i = 0; i < n; i++) {
		char c = v[i];

		if (q == '"' && c == '\\' && i + 1 < n && strchr("\"\\$`", v[i + 1]))
			c = v[++i];
		else if (q == '"' && c == '"')
			return -EBADMSG;
		else if (q == '\'' && c == '\'')
			return -EBADMSG;
		else if (!q && (isspace((unsigned char)c) || strchr("\"'\\$`", c)))
			return -EBADMSG;
		out[o++] = c;
	}
	out[o] = '\0';
	*ret = TAKE_PTR(out);
	return 0;
}

int osrelease_get(const char *text, const char *key, char **ret)
{
	_cleanup_free_ char *value = NULL;
	size_t klen = strlen(key);

	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		while (len > 0 && isspace((unsigned char)line[len - 1]))
			len--;
		if (len > klen && strncmp(line, key, klen) == 0 && line[klen] == '=') {
			char *v;
			int q = unquote(line + klen + 1, len - klen - 1, &v);
			if (q < 0)
				return q;
			/* the last assignment wins, as in a shell */
			free_and_replace(value, v);
		}
		line = end ? end + 1 : NULL;
	}
	if (!value)
		return -ENOENT;
	*ret = TAKE_PTR(value);
	return 0;
}

int osrelease_security_version(const char *text, uint64_t *ret)
{
	_cleanup_free_ char *v = NULL;
	int r = osrelease_get(text, OSRELEASE_SECURITY_VERSION, &v);

	if (r == -ENOENT) {
		*ret = 0;
		return 0;
	}
	if (r < 0)
		return r;
	return safe_atou64(v, ret) < 0 ? -EBADMSG : 0;
}
