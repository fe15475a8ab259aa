/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Loop devices over a byte range of a file or block device: how the installer gives
 * libcryptsetup and mkfs a path for one partition inside a disk image file. The device
 * is set up with autoclear, so the kernel detaches it when the last file descriptor
 * (ours, or device-mapper's on top of it) is closed.
 */

#include <stdint.h>

#include "macro.h"

/*
 * Attaches a free loop device to path at offset_bytes, size_bytes long (0: to the end).
 * Returns the open device in *ret_fd (O_CLOEXEC; closing it releases the device unless
 * something else holds it) and its node ("/dev/loopN") in *ret_node.
 */
int loop_device_attach(const char *path, uint64_t offset_bytes, uint64_t size_bytes, bool read_only,
		       int *ret_fd, char **ret_node);
