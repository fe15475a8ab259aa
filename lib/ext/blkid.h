/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Disks and their partition tables through libblkid (the only file that includes it),
 * plus the list of whole-disk block devices from sysfs. Probing only fills plain
 * structs; deciding what to do with them is someone else's (lib/rootpart.c, the
 * installer's plan).
 */

#include <stdint.h>

#include "core/macro.h"

struct partition_info {
	unsigned number; /* 1-based partition number */
	char *node; /* /dev/vda3; NULL when probing a file, or if sysfs does not list it */
	char *type_uuid; /* GPT partition type GUID, lower case; for MBR the type as 0xNN */
	char *uuid; /* GPT partition GUID (PARTUUID), lower case; NULL if none */
	char *name; /* GPT partition name; NULL if none */
	uint64_t start_bytes;
	uint64_t size_bytes;
	char *fs_type; /* disk_info_probe_signatures(): "vfat", "ext4", "crypto_LUKS", ... */
	char *fs_label;
};

struct disk_info {
	char *node; /* /dev/vda or an image file */
	char *table_type; /* "gpt", "dos"; NULL: no partition table */
	char *table_uuid; /* GPT disk GUID, lower case; NULL if none */
	uint64_t size_bytes;
	struct partition_info *partitions;
	size_t n_partitions;
	char *fs_type; /* disk_info_probe_signatures(): a file system on the whole disk */
	char *fs_label;
};

/*
 * Probes a whole disk (or a disk image file) and its partition table. A disk without
 * a partition table is not an error (n_partitions == 0). -errno if it cannot be read.
 */
int disk_info_probe(const char *node, struct disk_info **ret);
struct disk_info *disk_info_free(struct disk_info *d);
/*
 * Fills fs_type and fs_label of the disk and of each partition with the file system,
 * RAID member, LUKS or other signature libblkid finds there (NULL where none): what
 * the installer names as "will be erased". Reads the disk through one descriptor,
 * partitions by their byte ranges, so that it works on image files too.
 */
int disk_info_probe_signatures(struct disk_info *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct disk_info *, disk_info_free);

/*
 * Device nodes (/dev/NAME) of the whole disks the kernel knows now, sorted: every
 * /sys/class/block entry that is not a partition, skipping loop, ram, zram, dm-, md
 * and sr devices and those of size 0. sysfs_root is normally "/sys".
 */
int disk_list_nodes(const char *sysfs_root, char ***ret);
