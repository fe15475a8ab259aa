/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <string.h>

#include "core/macro.h"
#include "version.h"

bool version_is_valid(const char *s)
{
	bool digit = false;

	if (isempty(s) || strlen(s) > 64)
		return false;
	for (const char *c = s; *c; c++) {
		if (isdigit((unsigned char)*c))
			digit = true;
		else if (*c == '.' && digit)
			digit = false;
		else
			return false;
	}
	return digit;
}

int version_compare(const char *a, const char *b)
{
	while (*a || *b) {
		while (*a == '0')
			a++;
		while (*b == '0')
			b++;
		size_t la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");
		if (la != lb)
			return la < lb ? -1 : 1;
		for (size_t i = 0; i < la; i++) {
			if (a[i] != b[i])
				return a[i] < b[i] ? -1 : 1;
		}
		a += la;
		b += lb;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
	}
	return 0;
}
