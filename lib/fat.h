/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * FAT file systems in an image file or on a device, at a byte offset (a partition of
 * a whole disk), through mtools ("IMAGE@@OFFSET"): no mounting, no partition device
 * nodes. The installer reads the installer medium's ESP and writes the target's with
 * it. Every tool runs through run_argv(); a failure returns -errno and, in
 * *ret_error (optional), a sentence naming the tool, the volume and what it said.
 */

#include <stdint.h>

#include "core/macro.h"

struct fat_volume {
	const char *path; /* image file or device */
	uint64_t offset_bytes; /* where the file system starts */
};

/*
 * Makes a FAT32 file system of size_bytes (a multiple of 512) with the given volume
 * serial and label (at most 11 characters).
 */
int fat_format(const struct fat_volume *v, uint64_t size_bytes, uint32_t serial, const char *label,
	       char **ret_error);
/* Creates a directory (its parent must exist). */
int fat_mkdir(const struct fat_volume *v, const char *dir, char **ret_error);
/* Copies a host file into the volume as fat_path (replacing it). */
int fat_copy_in(const struct fat_volume *v, const char *host_path, const char *fat_path,
		char **ret_error);
/* Copies fat_path out of the volume into host_path (replacing it). */
int fat_copy_out(const struct fat_volume *v, const char *fat_path, const char *host_path,
		 char **ret_error);
/*
 * Renames a file within its directory (mren; the target must not exist). On FAT this
 * rewrites the directory entry in place: after a power cut the file has one name or
 * the other.
 */
int fat_rename(const struct fat_volume *v, const char *from, const char *to, char **ret_error);
/* Removes a file (mdel). */
int fat_remove(const struct fat_volume *v, const char *fat_path, char **ret_error);
/*
 * Every regular file in the volume, as paths relative to its root ("EFI/BOOT/BOOTX64.EFI"),
 * sorted. -EBADMSG (and a message) if there is no FAT file system there.
 */
int fat_list(const struct fat_volume *v, char ***ret_paths, char **ret_error);
