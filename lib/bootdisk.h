/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The disk the running system booted from, as airlock-init left it: the slot it
 * booted (BOOT_SLOT_PATH), the dm-verity device mounted on / (mountinfo), and that
 * device's two underlying partitions (sysfs: dm/uuid, slaves/, each partition's
 * number and start) on one whole disk. Reads files only, all below a root prefix
 * ("/" on the appliance; a fake tree in tests). Matching the partitions against the
 * disk's GPT is the caller's.
 */

#include <stdint.h>

#include "core/macro.h"

struct bootdisk_part {
	char *name; /* the kernel's name: "vda4" */
	unsigned number; /* 1-based partition number (sysfs "partition") */
	uint64_t start_bytes; /* sysfs "start" (512-byte sectors) in bytes */
};

struct bootdisk {
	char slot; /* 'a' or 'b': the slot airlock-init booted */
	char *disk; /* the whole disk's kernel name: "vda" */
	char *node; /* its device node below the root prefix: ROOT/dev/vda */
	char *dm_name; /* the device mapped on /: "root" */
	struct bootdisk_part parts[2]; /* the verity device's two partitions, by number */
};

void bootdisk_done(struct bootdisk *d);

/*
 * Finds the boot disk below root (NULL or "/": the running system). -ENOENT: not booted
 * by airlock-init (no slot file); -ENODEV: / is not a dm-verity device over two
 * partitions of one disk; -EINVAL: a file is malformed. *ret_error says which file and
 * what (on every failure but -ENOMEM).
 */
int bootdisk_find(const char *root, struct bootdisk *ret, char **ret_error);

/*
 * Whether / is mounted read-only as the system sees it: the mount options of the last
 * mount on / in ROOT/proc/1/mountinfo (PID 1's namespace; a service's own, under
 * ProtectSystem=, shows / read-only whatever the system's is). 1, 0, or -errno with
 * *ret_error.
 */
int bootdisk_root_read_only(const char *root, char **ret_error);

/* Whether a partition of d starts at start_bytes (0 when none does): its number. */
unsigned bootdisk_part_at(const struct bootdisk *d, uint64_t start_bytes);

/*
 * Where partition number of d's disk is mounted (below root): 1 and *ret_where (the
 * first mount point in mountinfo), 0 when it is not mounted. The partition is found
 * in ROOT/sys/class/block/DISK/ (its "partition" and "dev" files).
 */
int bootdisk_part_mounted(const char *root, const struct bootdisk *d, unsigned number,
			  char **ret_where);
