/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The package pool: a directory of .deb files named as lock_package_pool_name()
 * says, each of which must match the size and sha256 its lock pins. fetch fills
 * it; build reads from it and checks every file again.
 */

#include <stdint.h>

#include "core/macro.h"
#include "ext/crypto.h"
#include "lockfile.h"

enum pool_state {
	POOL_FILE_OK,
	POOL_FILE_MISSING,
	POOL_FILE_CORRUPT, /* present but not what the lock pins: see problem */
	_POOL_FILE_MAX,
	_POOL_FILE_INVALID = -EINVAL,
};

struct pool_check {
	enum pool_state state;
	/* with POOL_FILE_CORRUPT: e.g. "sha256 is 12ab..., the lock pins 34cd..." */
	char problem[128 + 2 * SHA256_HEX_SIZE];
};

/*
 * Checks the pool file of p below the directory dir_fd without following
 * symlinks: present, a regular file, the locked size, the locked sha256. Returns
 * 0 and the verdict, or -errno when the file cannot be read.
 */
int pool_check_package(int dir_fd, const struct lock_package *p, struct pool_check *ret);
