/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "ustar.h"

/* ustar header fields: offset and length */
#define F_NAME 0, 100
#define F_MODE 100, 8
#define F_UID 108, 8
#define F_GID 116, 8
#define F_SIZE 124, 12
#define F_MTIME 136, 12
#define F_CHKSUM 148, 8
#define F_TYPE 156
#define F_MAGIC 257
#define F_DEVMAJOR 329, 8
#define F_DEVMINOR 337, 8

void ustar_check_init(struct ustar_check *c)
{
	*c = (struct ustar_check){ 0 };
}

void ustar_check_done(struct ustar_check *c)
{
	free(c->pax);
	c->pax = NULL;
}

static void violate(struct ustar_check *c, const char *fmt, ...) _printf_(2, 3);
static void violate(struct ustar_check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->violated)
		return;
	c->violated = true;
	c->violation_entry = c->entry_offset;
	va_start(ap, fmt);
	(void)vsnprintf(c->violation, sizeof(c->violation), fmt, ap);
	va_end(ap);
	c->pax = mfree(c->pax);
}

/* An octal number field: optional leading spaces, octal digits, then NUL or spaces.
 * -1: base-256 (binary); -2: not a number. */
static int field_octal(const uint8_t *h, size_t off, size_t len, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i = 0;

	if (h[off] & 0x80)
		return -1;
	while (i < len && h[off + i] == ' ')
		i++;
	for (; i < len && h[off + i] >= '0' && h[off + i] <= '7'; i++) {
		if (v >> 61)
			return -2;
		v = v << 3 | (uint64_t)(h[off + i] - '0');
	}
	for (; i < len; i++)
		if (h[off + i] != '\0' && h[off + i] != ' ')
			return -2;
	*ret = v;
	return 0;
}

static const char *type_name(uint8_t t)
{
	switch (t) {
	case 'L':
		return "a GNU long-name header ('L')";
	case 'K':
		return "a GNU long-link-name header ('K')";
	case 'V':
		return "a volume label ('V')";
	case 'g':
		return "a global pax header ('g')";
	case '7':
		return "a contiguous file ('7')";
	case 'M':
		return "a GNU multi-volume continuation ('M')";
	case 'S':
		return "a GNU sparse file ('S')";
	case 'D':
		return "a GNU dump directory ('D')";
	case 'N':
		return "a GNU old long-name entry ('N')";
	case 'X':
		return "a Solaris extended header ('X')";
	default:
		return t >= 'A' && t <= 'Z' ? "a vendor-specific header" : "an unknown header type";
	}
}

static bool pax_key_allowed(const char *key, size_t n)
{
	static const char *const allowed[] = { "path", "size", "mtime", "atime", "ctime",
					       "uid",  "gid",  "uname", "gname" };

	for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
		if (strlen(allowed[i]) == n && memcmp(allowed[i], key, n) == 0)
			return true;
	return false;
}

/* The records of an extended header: "LEN key=value\n" each. */
static void check_pax(struct ustar_check *c, uint64_t header_offset)
{
	size_t off = 0;

	while (off < c->pax_size) {
		const uint8_t *r = c->pax + off;
		size_t left = c->pax_size - off, len = 0, i = 0;
		const uint8_t *key, *eq;

		while (i < left && i < 8 && r[i] >= '0' && r[i] <= '9')
			len = len * 10 + (size_t)(r[i++] - '0');
		if (i == 0 || i >= left || r[i] != ' ' || len <= i + 1 || len > left ||
		    r[len - 1] != '\n') {
			violate(c, "the pax header at byte %" PRIu64 " has a malformed record",
				header_offset);
			return;
		}
		key = r + i + 1;
		eq = memchr(key, '=', len - i - 1);
		if (!eq) {
			violate(c, "the pax header at byte %" PRIu64 " has a record without '='",
				header_offset);
			return;
		}
		if (!pax_key_allowed((const char *)key, (size_t)(eq - key))) {
			int n = (int)MIN((size_t)(eq - key), (size_t)48);
			char k[49];

			for (int j = 0; j < n; j++)
				k[j] = key[j] >= 0x20 && key[j] < 0x7f ? (char)key[j] : '?';
			k[n] = '\0';
			violate(c,
				"the pax header at byte %" PRIu64 " has a '%s' record, which a "
				"bundle never carries",
				header_offset, k);
			return;
		}
		off += len;
	}
}

static void check_header(struct ustar_check *c, uint64_t offset)
{
	const uint8_t *h = c->header;
	uint64_t sum = 0, stored, size, v;
	uint8_t t = h[F_TYPE];
	bool zero = true;
	int r;

	for (size_t i = 0; i < USTAR_BLOCK; i++)
		if (h[i]) {
			zero = false;
			break;
		}
	if (zero) {
		if (c->after_extended)
			violate(c,
				"the pax header at byte %" PRIu64 " is followed by the end of "
				"the archive",
				c->entry_offset);
		c->ended = true;
		return;
	}
	if (!c->after_extended)
		c->entry_offset = offset;

	for (size_t i = 0; i < USTAR_BLOCK; i++)
		sum += i >= 148 && i < 156 ? ' ' : h[i];
	if (field_octal(h, F_CHKSUM, &stored) < 0 || stored != sum)
		return violate(c, "the header at byte %" PRIu64 " has a wrong checksum", offset);
	if (memcmp(h + F_MAGIC, "ustar  \0", 8) == 0)
		return violate(c,
			       "the header at byte %" PRIu64 " is a GNU tar header; a bundle is "
			       "a POSIX ustar tar",
			       offset);
	if (memcmp(h + F_MAGIC,
		   "ustar\0"
		   "00",
		   8) != 0)
		return violate(c,
			       "the header at byte %" PRIu64 " is not a ustar header (an old or "
			       "unknown tar format)",
			       offset);
	if (t != '0' && t != '\0' && t != 'x' && (t < '1' || t > '6'))
		return violate(c,
			       "the header at byte %" PRIu64 " is %s; a bundle has only "
			       "regular files in ustar headers",
			       offset, type_name(t));
	if (t == 'x' && c->after_extended)
		return violate(c, "the header at byte %" PRIu64 " is a second pax header in a row",
			       offset);

	r = field_octal(h, F_SIZE, &size);
	if (r == 0)
		r = field_octal(h, F_MODE, &v);
	if (r == 0)
		r = field_octal(h, F_UID, &v);
	if (r == 0)
		r = field_octal(h, F_GID, &v);
	if (r == 0)
		r = field_octal(h, F_MTIME, &v);
	if (r == 0 && t != '0' && t != '\0' && t != 'x')
		r = field_octal(h, F_DEVMAJOR, &v) ?: field_octal(h, F_DEVMINOR, &v);
	if (r == -1)
		return violate(c,
			       "the header at byte %" PRIu64 " has a base-256 (binary) number; "
			       "a bundle's numbers are octal",
			       offset);
	if (r < 0)
		return violate(c, "the header at byte %" PRIu64 " has a malformed number field",
			       offset);
	if (size > 0 && t != '0' && t != '\0' && t != 'x')
		return violate(c,
			       "the header at byte %" PRIu64 " is a link, device or directory "
			       "with data",
			       offset);

	c->skip = (size + USTAR_BLOCK - 1) / USTAR_BLOCK * USTAR_BLOCK;
	if (t == 'x') {
		if (size > USTAR_PAX_MAX_BYTES)
			return violate(c,
				       "the pax header at byte %" PRIu64 " is %" PRIu64
				       " bytes, more than the %u allowed",
				       offset, size, USTAR_PAX_MAX_BYTES);
		c->pax = malloc(size ? size : 1);
		if (!c->pax)
			return violate(c, "out of memory");
		c->pax_size = size;
		c->pax_fill = 0;
		c->after_extended = true;
		return;
	}
	c->after_extended = false;
}

void ustar_check_feed(struct ustar_check *c, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n > 0 && !c->violated && !c->ended) {
		size_t k;

		if (c->skip > 0) {
			k = (size_t)MIN((uint64_t)n, c->skip);
			if (c->pax && c->pax_fill < c->pax_size) {
				size_t want = MIN(k, c->pax_size - c->pax_fill);

				memcpy(c->pax + c->pax_fill, p, want);
				c->pax_fill += want;
			}
			c->skip -= k;
			c->pos += k;
			p += k;
			n -= k;
			if (c->skip == 0 && c->pax) {
				check_pax(c, c->entry_offset);
				c->pax = mfree(c->pax);
			}
			continue;
		}
		k = MIN(n, USTAR_BLOCK - c->header_fill);
		memcpy(c->header + c->header_fill, p, k);
		c->header_fill += k;
		c->pos += k;
		p += k;
		n -= k;
		if (c->header_fill == USTAR_BLOCK) {
			c->header_fill = 0;
			check_header(c, c->pos - USTAR_BLOCK);
			if (c->skip == 0 && c->pax) { /* an empty extended header */
				check_pax(c, c->entry_offset);
				c->pax = mfree(c->pax);
			}
		}
	}
}

bool ustar_check_violation(const struct ustar_check *c, uint64_t offset, const char **ret_reason)
{
	if (!c->violated || c->violation_entry > offset)
		return false;
	*ret_reason = c->violation;
	return true;
}
