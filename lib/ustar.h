/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The strict tar form of an update bundle, checked over the raw bytes as they stream
 * past (libarchive parses; this says whether what it parses is the form we accept).
 *
 * libarchive reads every tar dialect it knows and forgives much; a bundle is one form
 * only, the one airlock-build writes: POSIX ustar headers (magic "ustar\0", version
 * "00", a correct checksum, octal numbers), each optionally preceded by one pax
 * extended header ('x') whose records are among path, size, mtime, atime, ctime, uid,
 * gid, uname and gname (what libarchive's restricted pax writer may emit), then the
 * end-of-archive zero blocks. Refused, with the header's byte offset and kind named:
 * GNU headers and their long names and link names ('L', 'K'), volume labels ('V'),
 * global pax headers ('g'), contiguous files ('7'), GNU multi-volume, sparse and
 * dump-dir entries ('M', 'S', 'D', 'N'), vendor types ('A'-'Z', 'Z' among them), two
 * extended headers in a row, pax records such as linkpath, GNU.sparse.* and
 * SCHILY.*, and base-256 (binary) numbers. Links, devices, fifos and directories are
 * POSIX and pass here: the bundle reader refuses them by name as not regular files.
 *
 * Nothing is checked after the end-of-archive marker (the bundle reader judges what
 * follows it). A checker that saw a violation stops looking.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USTAR_BLOCK 512U
#define USTAR_PAX_MAX_BYTES (64U * 1024U)

struct ustar_check {
	uint64_t pos; /* bytes seen */
	uint8_t header[USTAR_BLOCK];
	size_t header_fill;
	uint64_t skip; /* data and padding of the current member still to pass over */
	uint8_t *pax; /* the current extended header's records */
	size_t pax_size, pax_fill;
	uint64_t entry_offset; /* where the current entry's first header starts */
	bool after_extended; /* an 'x' header was read: a ustar header must follow */
	bool ended; /* a zero block: the end-of-archive marker */
	bool violated;
	uint64_t violation_entry; /* entry_offset of the entry that broke the form */
	char violation[256];
};

void ustar_check_init(struct ustar_check *c);
void ustar_check_done(struct ustar_check *c);
/* Feeds the next n bytes of the stream. */
void ustar_check_feed(struct ustar_check *c, const void *buf, size_t n);
/*
 * The first violation seen in an entry starting at or before offset, if any: true, with
 * the reason (naming the header's byte offset and kind) in *ret_reason.
 */
bool ustar_check_violation(const struct ustar_check *c, uint64_t offset, const char **ret_reason);
