/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>

#include "parse.h"

static int parse_unsigned(const char *s, int base, uint64_t *ret)
{
	char *end = NULL;
	unsigned long long v;

	if (isempty(s) || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno != 0 || !end || *end != '\0')
		return -EINVAL;
	*ret = v;
	return 0;
}

int safe_atou64(const char *s, uint64_t *ret)
{
	return parse_unsigned(s, 10, ret);
}

int safe_atou(const char *s, unsigned *ret)
{
	uint64_t v;
	int r = parse_unsigned(s, 10, &v);
	if (r < 0)
		return r;
	if (v > UINT_MAX)
		return -ERANGE;
	*ret = (unsigned)v;
	return 0;
}

int safe_atoi(const char *s, int *ret)
{
	bool neg = false;
	uint64_t v;
	int r;

	if (s && *s == '-') {
		neg = true;
		s++;
	}
	r = parse_unsigned(s, 10, &v);
	if (r < 0)
		return r;
	if (v > (uint64_t)INT_MAX + neg)
		return -ERANGE;
	*ret = neg ? (int)-(int64_t)v : (int)v;
	return 0;
}

int safe_atomode(const char *s, unsigned *ret)
{
	uint64_t v;
	int r = parse_unsigned(s, 8, &v);
	if (r < 0)
		return r;
	if (v > 07777)
		return -ERANGE;
	*ret = (unsigned)v;
	return 0;
}

int parse_size(const char *s, uint64_t *ret)
{
	static const struct {
		char suffix;
		unsigned shift;
	} units[] = { { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 } };
	_cleanup_free_ char *num = NULL;
	size_t n;
	unsigned shift = 0;
	uint64_t v;
	int r;

	if (isempty(s))
		return -EINVAL;
	n = strlen(s);
	num = strdup(s);
	if (!num)
		return -ENOMEM;
	if (n > 1 && (num[n - 1] == 'B' || num[n - 1] == 'b') &&
	    !isdigit((unsigned char)num[n - 2]))
		num[--n] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(units); i++)
		if (toupper((unsigned char)num[n - 1]) == units[i].suffix) {
			shift = units[i].shift;
			num[--n] = '\0';
			break;
		}
	r = safe_atou64(num, &v);
	if (r < 0)
		return r;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*ret = v << shift;
	return 0;
}

int parse_boolean(const char *s)
{
	static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
	static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(yes); i++)
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
	for (size_t i = 0; i < ELEMENTSOF(no); i++)
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	return -EINVAL;
}

const char *format_bytes(char *buf, size_t n, uint64_t bytes)
{
	static const char *const suffix[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t i = 0;

	while (v >= 1024.0 && i + 1 < ELEMENTSOF(suffix)) {
		v /= 1024.0;
		i++;
	}
	if (i == 0)
		snprintf(buf, n, "%" PRIu64 " B", bytes);
	else
		snprintf(buf, n, "%.1f %s", v, suffix[i]);
	return buf;
}
