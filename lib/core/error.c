/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"

int error_set(char **ret_error, int r, const char *fmt, ...)
{
	va_list ap;

	if (ret_error) {
		va_start(ap, fmt);
		if (vasprintf(ret_error, fmt, ap) < 0)
			*ret_error = NULL;
		va_end(ap);
	}
	return r;
}

int error_replace(char **ret_error, int r, const char *fmt, ...)
{
	va_list ap;

	if (ret_error) {
		free(*ret_error);
		va_start(ap, fmt);
		if (vasprintf(ret_error, fmt, ap) < 0)
			*ret_error = NULL;
		va_end(ap);
	}
	return r;
}

int error_at(char **ret_error, int r, const char *path, unsigned line, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int k;

	if (!ret_error)
		return r;
	va_start(ap, fmt);
	k = vasprintf(&msg, fmt, ap);
	va_end(ap);
	free(*ret_error);
	*ret_error = NULL;
	if (k < 0)
		return r;
	if (line > 0)
		k = asprintf(ret_error, "%s:%u: %s", path ?: "(unknown)", line, msg);
	else
		k = asprintf(ret_error, "%s: %s", path ?: "(unknown)", msg);
	if (k < 0)
		*ret_error = NULL;
	free(msg);
	return r;
}
