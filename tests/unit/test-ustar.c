/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/ustar: the strict tar form of bundles, on headers made here byte by byte, fed in
 * one piece and one byte at a time (the checker must not care where reads end).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ustar.h"

#define MAX_TAR (16 * 1024)

struct tar {
	uint8_t b[MAX_TAR];
	size_t n;
};

static void octal(uint8_t *f, size_t width, uint64_t v)
{
	char s[32];

	snprintf(s, sizeof(s), "%0*llo", (int)width - 1, (unsigned long long)v);
	memcpy(f, s, width - 1);
	f[width - 1] = '\0';
}

static uint8_t *header(struct tar *t, const char *name, char type, uint64_t size)
{
	uint8_t *h = t->b + t->n;
	unsigned sum = 0;

	assert_true(t->n + USTAR_BLOCK <= MAX_TAR);
	memset(h, 0, USTAR_BLOCK);
	memcpy(h, name, strlen(name));
	octal(h + 100, 8, 0644);
	octal(h + 108, 8, 0);
	octal(h + 116, 8, 0);
	octal(h + 124, 12, size);
	octal(h + 136, 12, 1747699200);
	h[156] = (uint8_t)type;
	memcpy(h + 257,
	       "ustar\0"
	       "00",
	       8);
	octal(h + 329, 8, 0);
	octal(h + 337, 8, 0);
	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < USTAR_BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	t->n += USTAR_BLOCK;
	return h;
}

static void resum(uint8_t *h)
{
	unsigned sum = 0;

	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < USTAR_BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

static void data(struct tar *t, const void *d, size_t n)
{
	size_t padded = (n + USTAR_BLOCK - 1) / USTAR_BLOCK * USTAR_BLOCK;

	assert_true(t->n + padded <= MAX_TAR);
	memset(t->b + t->n, 0, padded);
	memcpy(t->b + t->n, d, n);
	t->n += padded;
}

static void file(struct tar *t, const char *name, size_t size)
{
	uint8_t d[2000];

	assert_true(size <= sizeof(d));
	memset(d, 'x', size);
	header(t, name, '0', size);
	data(t, d, size);
}

static void pax(struct tar *t, const char *records)
{
	header(t, "PaxHeader/x", 'x', strlen(records));
	data(t, records, strlen(records));
}

static void end(struct tar *t)
{
	memset(t->b + t->n, 0, 2 * USTAR_BLOCK);
	t->n += 2 * USTAR_BLOCK;
}

/* The verdict on t, the same whether fed whole or byte by byte; the reason if any. */
static const char *judge(const struct tar *t, uint64_t *ret_entry)
{
	static char reason[256];
	struct ustar_check whole, bytes;
	const char *a = NULL, *b = NULL;
	bool va, vb;

	ustar_check_init(&whole);
	ustar_check_init(&bytes);
	ustar_check_feed(&whole, t->b, t->n);
	for (size_t i = 0; i < t->n; i++)
		ustar_check_feed(&bytes, t->b + i, 1);
	va = ustar_check_violation(&whole, UINT64_MAX, &a);
	vb = ustar_check_violation(&bytes, UINT64_MAX, &b);
	assert_int_equal(va, vb);
	if (va) {
		assert_string_equal(a, b);
		assert_int_equal(whole.violation_entry, bytes.violation_entry);
		if (ret_entry)
			*ret_entry = whole.violation_entry;
		snprintf(reason, sizeof(reason), "%s", a);
	}
	ustar_check_done(&whole);
	ustar_check_done(&bytes);
	return va ? reason : NULL;
}

static void test_plain_and_allowed_pax(void **state)
{
	struct tar t = { .n = 0 };
	(void)state;

	file(&t, "manifest.json", 700);
	file(&t, "manifest.json.sig", 119);
	pax(&t, "30 mtime=1747699200.123456789\n"
		"22 path=root.squashfs\n");
	file(&t, "root.squashfs", 1500);
	header(&t, "link", '2', 0); /* POSIX: refused later by name, not here */
	file(&t, "empty", 0);
	end(&t);
	/* what follows the end marker is not ours to judge */
	header(&t, "after", 'L', 10);
	assert_null(judge(&t, NULL));
}

static void test_refused_types(void **state)
{
	const char types[] = { 'L', 'K', 'V', 'g', '7', 'Z', 'S', 'M', 'D', 'N', 'X', 'A', '8' };
	(void)state;

	for (size_t i = 0; i < sizeof(types); i++) {
		struct tar t = { .n = 0 };
		uint64_t at = 0;
		const char *why;

		file(&t, "manifest.json", 10);
		header(&t, "odd", types[i], 1);
		data(&t, "x", 1);
		file(&t, "root.squashfs", 10);
		end(&t);
		why = judge(&t, &at);
		if (!why)
			fail_msg("typeflag '%c' passed", types[i]);
		assert_int_equal(at, 1024);
		assert_non_null(strstr(why, "byte 1024"));
	}
}

static void test_refused_forms(void **state)
{
	struct tar t;
	uint8_t *h;
	uint64_t at;
	(void)state;

	/* base-256 size */
	t.n = 0;
	file(&t, "a", 10);
	h = header(&t, "b", '0', 10);
	memset(h + 124, 0, 12);
	h[124] = 0x80;
	h[135] = 10;
	resum(h);
	data(&t, "0123456789", 10);
	end(&t);
	assert_non_null(strstr(judge(&t, &at), "base-256"));
	assert_int_equal(at, 1024);

	/* GNU magic; v7 (no magic); a wrong checksum */
	t.n = 0;
	h = header(&t, "a", '0', 0);
	memcpy(h + 257, "ustar  \0", 8);
	resum(h);
	assert_non_null(strstr(judge(&t, NULL), "GNU tar header"));
	t.n = 0;
	h = header(&t, "a", '0', 0);
	memset(h + 257, 0, 8);
	resum(h);
	assert_non_null(strstr(judge(&t, NULL), "not a ustar header"));
	t.n = 0;
	h = header(&t, "a", '0', 0);
	h[0] ^= 1;
	assert_non_null(strstr(judge(&t, NULL), "checksum"));

	/* pax records a bundle never carries, malformed records, two pax headers */
	const char *bad_records[] = { "24 linkpath=/etc/shadow\n",
				      "22 GNU.sparse.major=1\n",
				      "28 SCHILY.xattr.user.x=abc\n",
				      "99 path=x\n",
				      "5 a=b\n",
				      "12 pathname\n" };
	for (size_t i = 0; i < sizeof(bad_records) / sizeof(bad_records[0]); i++) {
		t.n = 0;
		file(&t, "a", 1);
		pax(&t, bad_records[i]);
		file(&t, "b", 1);
		end(&t);
		if (!judge(&t, &at))
			fail_msg("pax record '%s' passed", bad_records[i]);
		assert_int_equal(at, 1024);
	}
	t.n = 0;
	pax(&t, "8 uid=0\n");
	pax(&t, "8 gid=0\n");
	file(&t, "b", 1);
	assert_non_null(strstr(judge(&t, &at), "second pax header"));
	assert_int_equal(at, 0);

	/* a directory that claims data */
	t.n = 0;
	header(&t, "d", '5', 512);
	assert_non_null(strstr(judge(&t, NULL), "with data"));
}

static void test_offset_bound(void **state)
{
	struct tar t = { .n = 0 };
	struct ustar_check c;
	const char *why;
	(void)state;

	file(&t, "a", 10);
	file(&t, "b", 10);
	header(&t, "c", 'L', 0);
	end(&t);
	ustar_check_init(&c);
	ustar_check_feed(&c, t.b, t.n);
	/* the violation belongs to the entry at 2048: not to those before it */
	assert_false(ustar_check_violation(&c, 0, &why));
	assert_false(ustar_check_violation(&c, 1024, &why));
	assert_true(ustar_check_violation(&c, 2048, &why));
	ustar_check_done(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_allowed_pax),
		cmocka_unit_test(test_refused_types),
		cmocka_unit_test(test_refused_forms),
		cmocka_unit_test(test_offset_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
