/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "parse.h"

static const char *program_name = "airlock";
static int max_level = LOG_INFO;
static int log_fd = STDERR_FILENO;

void log_set_program_name(const char *name)
{
	const char *slash = strrchr(name, '/');
	program_name = slash ? slash + 1 : name;
}

const char *log_get_program_name(void)
{
	return program_name;
}

void log_set_max_level(int level)
{
	max_level = level;
}

int log_get_max_level(void)
{
	return max_level;
}

void log_set_fd(int fd)
{
	log_fd = fd;
}

void log_parse_environment(void)
{
	static const char *const names[] = {
		[LOG_ERR] = "err",   [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
		[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
	};
	const char *e = getenv("AIRLOCK_LOG_LEVEL");
	unsigned u;

	if (isempty(e))
		return;
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (names[i] && streq(names[i], e)) {
			max_level = (int)i;
			return;
		}
	if (safe_atou(e, &u) >= 0 && u >= LOG_ERR && u <= LOG_DEBUG)
		max_level = (int)u;
}

int log_internal(int level, int error, const char *fmt, ...)
{
	char buf[4096];
	const char *prefix = level <= LOG_ERR ? "" : level == LOG_WARNING ? "warning: " : "";
	va_list ap;
	int saved = errno;

	/* Make %m print the error we were given. */
	errno = error;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);

	dprintf(log_fd, "%s: %s%s\n", program_name, prefix, buf);
	errno = saved;
	return -error;
}
