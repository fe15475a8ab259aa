/* SPDX-License-Identifier: Apache-2.0 */
#include "hex.h"

void hex_to_buf(const void *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

char *hexmem(const void *p, size_t n)
{
	char *r = malloc(2 * n + 1);
	if (r)
		hex_to_buf(p, n, r);
	return r;
}

bool hex_is_lower(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(s[i] >= '0' && s[i] <= '9') && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return true;
}

static int unhexchar(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -EINVAL;
}

static int unhex_into(const char *s, size_t len, uint8_t *out)
{
	for (size_t i = 0; i < len / 2; i++) {
		int a = unhexchar(s[2 * i]), b = unhexchar(s[2 * i + 1]);
		if (a < 0 || b < 0)
			return -EINVAL;
		out[i] = (uint8_t)(a << 4 | b);
	}
	return 0;
}

int unhexmem(const char *s, size_t len, uint8_t **ret, size_t *ret_size)
{
	_cleanup_free_ uint8_t *b = NULL;

	if (len % 2 != 0)
		return -EINVAL;
	b = malloc(len / 2 + 1);
	if (!b)
		return -ENOMEM;
	if (unhex_into(s, len, b) < 0)
		return -EINVAL;
	*ret = TAKE_PTR(b);
	*ret_size = len / 2;
	return 0;
}

int unhex_exact(const char *s, void *out, size_t n)
{
	if (!s || strlen(s) != 2 * n)
		return -EINVAL;
	return unhex_into(s, 2 * n, out);
}
