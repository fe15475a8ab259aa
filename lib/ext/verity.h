/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * dm-verity through libcryptsetup: format a hash tree for a data image, check an
 * image against a root hash without activating it, and activate a verified device
 * (activation needs device-mapper: in the appliance's initramfs, not on a build
 * host). One of the two lib/ext wrappers of libcryptsetup: this one for verity,
 * luks.c for LUKS2.
 */

#include <stdint.h>

#include "core/macro.h"

#define VERITY_ROOT_HASH_SIZE 32 /* sha256 */
#define VERITY_SALT_SIZE 32

struct verity_params {
	uint32_t data_block_size; /* bytes, 4096 */
	uint32_t hash_block_size; /* bytes, 4096 */
	uint64_t data_blocks;
	uint8_t salt[VERITY_SALT_SIZE];
	char uuid[37]; /* the verity superblock's UUID, "" for none */
};

/*
 * Writes the hash tree (with a verity superblock, format 1, sha256) of data_path
 * into hash_path and returns the root hash. The hash file is created or truncated.
 */
int verity_format(const char *data_path, const char *hash_path, const struct verity_params *p,
		  uint8_t ret_root_hash[VERITY_ROOT_HASH_SIZE]);
/* Reads the parameters back from the superblock of a hash device or file. */
int verity_read_params(const char *hash_path, struct verity_params *ret);
/* Checks every data and hash block against root_hash; -EPERM on a mismatch. */
int verity_verify(const char *data_path, const char *hash_path,
		  const uint8_t root_hash[VERITY_ROOT_HASH_SIZE]);
/*
 * Activates /dev/mapper/<name> read-only with root_hash; the kernel checks every
 * block against it as it is read (a read of a bad block fails with EIO). It does not
 * check root_hash against the tree first: call verity_check_root_hash() for that.
 */
int verity_activate(const char *name, const char *data_dev, const char *hash_dev,
		    const uint8_t root_hash[VERITY_ROOT_HASH_SIZE]);

/*
 * Checks root_hash against the hash device's top-level hash block without
 * device-mapper: sha256(salt || top block) for format 1 with a superblock. Catches a
 * wrong root hash (or a replaced hash tree) before anything is activated, so that
 * the failure can be named precisely; the kernel then checks every block as it is
 * read. -EPERM on a mismatch, -EPROTONOSUPPORT for another verity format.
 */
int verity_check_root_hash(const char *hash_dev, const uint8_t root_hash[VERITY_ROOT_HASH_SIZE]);
