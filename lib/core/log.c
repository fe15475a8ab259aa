/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

/* The length of the valid UTF-8 sequence at s (of n bytes) that is not a C1 control
 * character (U+0080..U+009F), or 0. */
static size_t utf8_printable(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return len;
}

size_t log_sanitize(const char *in, char *out, size_t out_size)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n = strlen(in), o = 0;

	if (out_size == 0)
		return 0;
	for (size_t i = 0; i < n;) {
		size_t len = s[i] >= 0x20 && s[i] < 0x7f ? 1 :
			     s[i] >= 0x80		 ? utf8_printable(s + i, n - i) :
							   0;

		if (len > 0) {
			if (o + len >= out_size)
				break;
			memcpy(out + o, s + i, len);
			o += len;
			i += len;
			continue;
		}
		/* a control character (a newline, an escape sequence) or a byte that is
		 * not UTF-8: shown, never acted on by a terminal or a log reader */
		if (o + 4 >= out_size)
			break;
		snprintf(out + o, 5, "\\x%02x", s[i]);
		o += 4;
		i++;
	}
	out[o] = '\0';
	return o;
}

int log_internal(int level, int error, const char *fmt, ...)
{
	char buf[4096], clean[4096];
	const char *prefix = level <= LOG_ERR ? "" : level == LOG_WARNING ? "warning: " : "";
	va_list ap;
	int saved = errno;

	/* Make %m print the error we were given. */
	errno = error;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);

	/* One record is one line, whatever a client, a file or a medium put into it. */
	log_sanitize(buf, clean, sizeof(clean));
	dprintf(log_fd, "%s: %s%s\n", program_name, prefix, clean);
	errno = saved;
	return -error;
}
