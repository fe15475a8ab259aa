/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>

#include "debversion.h"

struct parts {
	const char *epoch; /* digits, or NULL */
	size_t epoch_len;
	const char *upstream;
	size_t upstream_len;
	const char *revision; /* or NULL */
	size_t revision_len;
};

static void split(const char *v, struct parts *ret)
{
	const char *colon = strchr(v, ':');
	const char *dash;
	struct parts p = {};

	if (colon) {
		p.epoch = v;
		p.epoch_len = (size_t)(colon - v);
		v = colon + 1;
	}
	dash = strrchr(v, '-');
	p.upstream = v;
	if (dash) {
		p.upstream_len = (size_t)(dash - v);
		p.revision = dash + 1;
		p.revision_len = strlen(dash + 1);
	} else
		p.upstream_len = strlen(v);
	*ret = p;
}

bool debversion_is_valid(const char *v)
{
	struct parts p;

	if (isempty(v) || strlen(v) > 256)
		return false;
	split(v, &p);
	if (p.epoch) {
		if (p.epoch_len == 0 || p.epoch_len > 9)
			return false;
		for (size_t i = 0; i < p.epoch_len; i++)
			if (!isdigit((unsigned char)p.epoch[i]))
				return false;
	}
	if (p.upstream_len == 0 || !isdigit((unsigned char)p.upstream[0]))
		return false;
	for (size_t i = 0; i < p.upstream_len; i++) {
		char c = p.upstream[i];
		/* a hyphen is only possible here when a revision follows */
		if (!isalnum((unsigned char)c) && !strchr(".+~-", c))
			return false;
	}
	if (p.revision) {
		if (p.revision_len == 0)
			return false;
		for (size_t i = 0; i < p.revision_len; i++) {
			char c = p.revision[i];
			if (!isalnum((unsigned char)c) && !strchr(".+~", c))
				return false;
		}
	}
	return true;
}

/* The weight of a character in a non-digit part; 0 is the end of the part. */
static int weight(const char *s, size_t n, size_t i)
{
	unsigned char c;

	if (i >= n)
		return 0;
	c = (unsigned char)s[i];
	if (isdigit(c))
		return 0;
	if (c == '~')
		return -1;
	if (isalpha(c))
		return c;
	return c + 256;
}

/* Compares two digit strings as numbers of any length. */
static int compare_digits(const char *a, size_t la, const char *b, size_t lb)
{
	while (la > 0 && *a == '0')
		a++, la--;
	while (lb > 0 && *b == '0')
		b++, lb--;
	if (la != lb)
		return la < lb ? -1 : 1;
	for (size_t i = 0; i < la; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

static int compare_part(const char *a, size_t na, const char *b, size_t nb)
{
	size_t i = 0, j = 0;

	while (i < na || j < nb) {
		size_t di, dj;

		/* the non-digit prefix, character by character */
		while ((i < na && !isdigit((unsigned char)a[i])) ||
		       (j < nb && !isdigit((unsigned char)b[j]))) {
			int wa = weight(a, na, i), wb = weight(b, nb, j);
			if (wa != wb)
				return wa < wb ? -1 : 1;
			if (i < na && !isdigit((unsigned char)a[i]))
				i++;
			if (j < nb && !isdigit((unsigned char)b[j]))
				j++;
		}
		/* then the digit run, as a number (an empty one is 0) */
		for (di = i; di < na && isdigit((unsigned char)a[di]); di++)
			;
		for (dj = j; dj < nb && isdigit((unsigned char)b[dj]); dj++)
			;
		int r = compare_digits(a + i, di - i, b + j, dj - j);
		if (r != 0)
			return r;
		i = di;
		j = dj;
	}
	return 0;
}

int debversion_compare(const char *a, const char *b)
{
	struct parts pa, pb;
	int r;

	split(a, &pa);
	split(b, &pb);
	r = compare_digits(pa.epoch ?: "", pa.epoch_len, pb.epoch ?: "", pb.epoch_len);
	if (r != 0)
		return r;
	r = compare_part(pa.upstream, pa.upstream_len, pb.upstream, pb.upstream_len);
	if (r != 0)
		return r;
	return compare_part(pa.revision ?: "", pa.revision_len, pb.revision ?: "", pb.revision_len);
}
