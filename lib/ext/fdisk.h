/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * GPT partition tables through util-linux's libfdisk: write a whole table (disk
 * GUID, partitions with explicit type GUIDs, partition GUIDs, names, attribute bits
 * and positions) to an image file or a block device, and read one back. The only
 * file that includes libfdisk's header; its errors become -errno here. The prefix
 * is disklabel_ because libfdisk owns fdisk_. Positions and sizes are in bytes and
 * must be multiples of the device's sector size; deciding them is lib/gpt.c's job.
 */

#include <stdint.h>

#include "core/macro.h"

#define DISKLABEL_UUID_STRING_MAX 37 /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" + NUL */
#define DISKLABEL_NAME_MAX 128 /* GPT: 36 UTF-16 code units, as UTF-8 */

struct disklabel_part {
	unsigned partno; /* 0-based slot in the partition entry array */
	uint64_t start_bytes;
	uint64_t size_bytes;
	char type_uuid[DISKLABEL_UUID_STRING_MAX]; /* lower case */
	char uuid[DISKLABEL_UUID_STRING_MAX]; /* lower case */
	char name[DISKLABEL_NAME_MAX];
	uint64_t attrs; /* GPT attribute bits (60: read-only, 63: no-auto, ...) */
};

struct disklabel {
	char uuid[DISKLABEL_UUID_STRING_MAX]; /* disk GUID, lower case */
	uint32_t sector_size;
	uint64_t size_bytes; /* of the whole device */
	struct disklabel_part *parts;
	size_t n_parts;
};

struct disklabel *disklabel_free(struct disklabel *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct disklabel *, disklabel_free);

/*
 * Writes a fresh GPT (protective MBR, primary and backup headers) describing d to
 * path, replacing whatever table was there; partition contents are not touched.
 * On a block device the kernel is told to re-read the table.
 */
int disklabel_gpt_write(const char *path, const struct disklabel *d);
/* Reads the GPT of path; -ENOMEDIUM if it has none. */
int disklabel_gpt_read(const char *path, struct disklabel **ret);
