/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * GPT layouts for Airlock disks: the UAPI Discoverable Partitions types, the
 * planning of partition positions from a list of specs (pure), GUIDs derived from
 * content, and writing/reading a table through lib/ext/fdisk (libfdisk). The image
 * builder, the installer and the updater share it.
 */

#include <stdint.h>

#include "core/macro.h"
#include "ext/fdisk.h"

/* UAPI Discoverable Partitions Specification, x86-64 */
#define GPT_TYPE_ESP "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
#define GPT_TYPE_ROOT_X86_64 "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
#define GPT_TYPE_ROOT_X86_64_VERITY "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5"
#define GPT_TYPE_VAR "4d21b016-b534-45c2-a9fb-5c16e091fd2d"

/* Attribute bits: DPS read-only (verity data and hash), no-auto. */
#define GPT_ATTR_READ_ONLY (UINT64_C(1) << 60)
#define GPT_ATTR_NO_AUTO (UINT64_C(1) << 63)

/* Every partition starts and ends on a MiB boundary. */
#define GPT_ALIGN_BYTES (UINT64_C(1) << 20)
#define GPT_UUID_STRING_MAX DISKLABEL_UUID_STRING_MAX

struct gpt_spec {
	const char *name; /* GPT partition name: "esp", "root-a", "verity-a", ... */
	const char *type_uuid;
	const char *uuid; /* partition GUID; required (content-derived, never random here) */
	uint64_t size_bytes; /* rounded up to GPT_ALIGN_BYTES; 0: the rest of the disk (last only) */
	uint64_t attrs;
};

/*
 * Lays specs out in order: the first at 1 MiB, each start and size a multiple of
 * 1 MiB. disk_size_bytes (rounded down to a MiB) 0 makes the disk as small as possible (the last partition
 * plus 1 MiB for the backup GPT); otherwise everything must fit into that size
 * (-ENOSPC) and a last spec of size 0 takes what is left. -EINVAL for a bad GUID,
 * name, or a size-0 spec that is not last.
 */
int gpt_plan(const char *disk_uuid, const struct gpt_spec *specs, size_t n_specs,
	     uint64_t disk_size_bytes, struct disklabel **ret);
/* Writes the table; the file or device must already be d->size_bytes large or larger. */
int gpt_write(const char *path, const struct disklabel *d);
int gpt_read(const char *path, struct disklabel **ret);
/* The partition with this name, or NULL. */
const struct disklabel_part *gpt_find(const struct disklabel *d, const char *name);

bool gpt_uuid_is_valid(const char *s);
/* Formats 16 bytes as a GUID string as they are, as DPS does for verity halves of a root hash. */
void gpt_uuid_from_bytes(const uint8_t id[16], char ret[GPT_UUID_STRING_MAX]);
/*
 * A GUID derived from a key (e.g. a content digest) and a purpose word:
 * HMAC-SHA256(key, purpose), first 16 bytes, marked as a version 4 / RFC 4122
 * variant UUID. Same inputs, same GUID.
 */
int gpt_uuid_derive(const void *key, size_t key_size, const char *purpose,
		    char ret[GPT_UUID_STRING_MAX]);
