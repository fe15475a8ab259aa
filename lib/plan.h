/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The installer's plan for one target disk: the six partitions of an installed
 * appliance (DESIGN.md, "Disk layout") with their types, names, GUIDs, positions and
 * sizes, and the byte ranges to clear before anything is written. Pure: it is built
 * from numbers the caller probed or read (disk size, the image's manifest.json "disk"
 * sizes, the root hash, two random GUIDs) and touches nothing, so that it can be
 * shown, tested and applied separately.
 *
 * Layout, in this order, every start and size a multiple of 1 MiB (lib/gpt.c):
 *
 *   1 esp       ESP type                 esp_size
 *   2 root-a    root-x86-64              root_size     read-only attribute (60)
 *   3 verity-a  root-x86-64-verity       verity_size   read-only attribute (60)
 *   4 root-b    root-x86-64              root_size     read-only attribute (60)
 *   5 verity-b  root-x86-64-verity       verity_size   read-only attribute (60)
 *   6 data      var (4d21b016-...)       the rest, at least data_min_size
 *
 * GUIDs:
 *   disk      random per install (given by the caller): two appliances never share one;
 *   data      random per install (given by the caller);
 *   root-a    the first 128 bits of the root hash, verity-a the last 128 bits (the
 *             Discoverable Partitions Specification's convention, as on the installer
 *             medium), so the slot's partitions say which image they hold;
 *   esp, root-b, verity-b   HMAC-SHA256(disk GUID, "airlock-esp" / "airlock-root-b" /
 *             "airlock-verity-b") as v4 GUIDs: reproducible from the disk GUID, and
 *             never the installer medium's ESP GUID (systemd-boot's
 *             LoaderDevicePartUUID must name one disk only).
 */

#include <stdint.h>

#include "core/macro.h"
#include "ext/fdisk.h"

#define PLAN_ALIGN_BYTES (UINT64_C(1) << 20)
/* The partition table at the start and the backup table at the end: 1 MiB each. */
#define PLAN_TABLE_BYTES (2 * PLAN_ALIGN_BYTES)
/* The data volume's LUKS2 header (metadata and keyslot areas): cleared first, written last. */
#define PLAN_LUKS_HEADER_BYTES (UINT64_C(16) << 20)
/* Below this the ESP cannot hold a FAT32 file system (65525 clusters of 512 bytes). */
#define PLAN_ESP_MIN_BYTES (UINT64_C(33) << 20)
/* The data volume must hold its header and a small ext4. */
#define PLAN_DATA_MIN_BYTES (PLAN_LUKS_HEADER_BYTES + (UINT64_C(32) << 20))
/* What is cleared at the start of every other partition before the table is written. */
#define PLAN_CLEAR_BYTES (UINT64_C(1) << 20)

enum plan_part {
	PLAN_ESP,
	PLAN_ROOT_A,
	PLAN_VERITY_A,
	PLAN_ROOT_B,
	PLAN_VERITY_B,
	PLAN_DATA,
	_PLAN_PART_MAX,
	_PLAN_PART_INVALID = -EINVAL,
};

/* "esp", "root-a", ... "data": the GPT partition names. */
const char *plan_part_to_string(enum plan_part p);
enum plan_part plan_part_from_string(const char *s);

/* The image's manifest.json "disk" object. */
struct plan_sizes {
	uint64_t esp_bytes;
	uint64_t root_bytes;
	uint64_t verity_bytes;
	uint64_t data_min_bytes;
};

struct plan_input {
	uint64_t disk_size_bytes;
	uint32_t sector_size; /* logical sector size of the target: 512 or 4096 */
	struct plan_sizes sizes;
	uint64_t root_content_bytes; /* what will be copied into root-a (the medium's root-a) */
	uint64_t verity_content_bytes; /* ... and into verity-a */
	uint8_t root_hash[32]; /* of the image being installed */
	char disk_uuid[DISKLABEL_UUID_STRING_MAX]; /* random, per install */
	char data_uuid[DISKLABEL_UUID_STRING_MAX]; /* random, per install */
};

/* A byte range of the target disk. */
struct plan_range {
	uint64_t offset_bytes;
	uint64_t size_bytes;
};

struct install_plan {
	struct disklabel *layout; /* the six partitions, in enum plan_part order */
	uint64_t disk_size_bytes;
	uint64_t min_disk_bytes; /* the smallest disk this image installs on */
	/*
	 * Cleared (zeroed) before the new table is written: the whole LUKS2 header area of
	 * data (an older install's header there would claim a complete install at once)
	 * and the first MiB of every other partition (older file-system and verity
	 * superblocks).
	 */
	struct plan_range clear[_PLAN_PART_MAX];
	uint8_t root_hash[32];
};

struct install_plan *plan_free(struct install_plan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct install_plan *, plan_free);

/* The smallest disk the sizes fit on, table areas included; -EINVAL for bad sizes. */
int plan_min_disk_bytes(const struct plan_sizes *s, uint64_t *ret);

/*
 * Builds the plan. Refusals return a negative errno and a sentence in *ret_error
 * (optional) with the numbers: -ENOSPC for a disk that is too small (how large it is
 * and what the layout needs), -EFBIG for a medium whose root or verity content does
 * not fit the slot sizes, -EINVAL for sizes, GUIDs or a sector size that make no
 * sense.
 */
int plan_build(const struct plan_input *in, struct install_plan **ret, char **ret_error);

/* The partition of the plan. */
const struct disklabel_part *plan_partition(const struct install_plan *p, enum plan_part part);
