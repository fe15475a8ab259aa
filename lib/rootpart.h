/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Which partitions hold the root of a slot: a pure decision over probed disks
 * (lib/ext/blkid.c fills them in), so that it can be tested without disks.
 *
 * A slot's pair is the partition of type root-x86-64 named "root-<slot>" and the one
 * of type root-x86-64-verity named "verity-<slot>" (DESIGN.md's disk layout), on the
 * same disk. When several disks carry the slot (the installer's USB stick next to an
 * installed disk), the disk we booted from wins; that is the disk holding the
 * partition systemd-boot names in the EFI variable LoaderDevicePartUUID. Without that
 * variable, more than one candidate disk is refused: we never guess.
 *
 * airlock.slot= on the command line names the slot to try first, not the only one:
 * an update carries one signed UKI (built for slot a) whatever slot it is imported
 * into, so airlock-init looks for both slots' pairs on the boot disk and boots the
 * one whose hash tree matches the command line's root hash, the named one first.
 */

#include "core/macro.h"
#include "ext/blkid.h"

#define GPT_ROOT_X86_64 "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
#define GPT_ROOT_X86_64_VERITY "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5"
#define GPT_ESP "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"

/* The EFI variable systemd-boot sets: LoaderDevicePartUUID-<vendor guid>. */
#define EFI_LOADER_DEVICE_PART_UUID_VAR "LoaderDevicePartUUID-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"

struct rootpart_choice {
	size_t disk; /* index into the disks given */
	size_t root; /* index into disks[disk]->partitions */
	size_t verity;
};

/*
 * Picks the slot's root and verity partitions.
 *   boot_part_uuid  the PARTUUID the boot loader says it was loaded from, or NULL.
 * Returns 0, or (with a one-line *ret_error naming what is missing or ambiguous):
 *   -EAGAIN     nothing found yet: the boot disk, or any disk with the slot, has not
 *               appeared (the caller may wait for more devices and try again);
 *   -ENOENT     the disk that should hold the slot lacks root-<slot> or verity-<slot>;
 *   -ENOTUNIQ   several candidates and nothing says which one booted, or a disk has two
 *               partitions with the same name.
 */
int rootpart_select(struct disk_info *const *disks, size_t n_disks, char slot,
		    const char *boot_part_uuid, struct rootpart_choice *ret, char **ret_error);

/* The other slot: 'b' for 'a', 'a' for 'b'. */
char rootpart_other_slot(char slot);

/*
 * The order in which to try the slots: the named slot first, then the other, each
 * only if its pair was found. Writes up to 2 slots to ret; returns how many (0: none
 * was found). named_slot must be 'a' or 'b'.
 */
size_t rootpart_slot_order(char named_slot, bool have_a, bool have_b, char ret[static 2]);

struct rootpart_candidate {
	char slot;
	struct rootpart_choice choice;
};

struct rootpart_candidates {
	size_t n; /* 0, 1 or 2, in the order to try (rootpart_slot_order()) */
	struct rootpart_candidate c[2];
	/* Why slot a ([0]) or b ([1]) is not a candidate (missing, half there); NULL if it is. */
	char *why_not[2];
};
void rootpart_candidates_done(struct rootpart_candidates *c);

/*
 * rootpart_select() for both slots. Returns 0 with at least one candidate;
 * otherwise, with a one-line *ret_error:
 *   -EAGAIN     neither slot found, and nothing was found yet (as rootpart_select());
 *   -ENOENT     neither slot has both partitions where it should (the named slot's
 *               reason first);
 *   -ENOTUNIQ   either slot is ambiguous (as rootpart_select()), or, with no
 *               boot_part_uuid, the two slots were found on different disks;
 *   -EINVAL     named_slot is not a or b.
 * *ret is written only on success; then ret->why_not says why a slot is absent.
 */
int rootpart_select_slots(struct disk_info *const *disks, size_t n_disks, char named_slot,
			  const char *boot_part_uuid, struct rootpart_candidates *ret,
			  char **ret_error);

/*
 * Decodes an efivarfs file of LoaderDevicePartUUID: 4 bytes of attributes, then a
 * UTF-16LE UUID string (36 characters, optionally NUL-terminated). Writes it lower
 * case. -EINVAL if it is anything else.
 */
int rootpart_parse_loader_uuid(const void *data, size_t size, char ret[static 37]);
