/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "loop.h"

#define LOOP_ATTACH_TRIES 64

/* Sets up /dev/loopN (already open as loop_fd) over backing_fd; -EBUSY if it was taken. */
static int configure(int loop_fd, int backing_fd, uint64_t offset, uint64_t size, bool read_only)
{
	struct loop_config c = {
		.fd = (uint32_t)backing_fd,
		.info = {
			.lo_offset = offset,
			.lo_sizelimit = size,
			.lo_flags = LO_FLAGS_AUTOCLEAR | (read_only ? LO_FLAGS_READ_ONLY : 0),
		},
	};

	if (ioctl(loop_fd, LOOP_CONFIGURE, &c) >= 0)
		return 0;
	if (errno != EINVAL && errno != ENOTTY)
		return -errno;
	/* Kernels before 5.8: LOOP_SET_FD, then the offset and flags. */
	if (ioctl(loop_fd, LOOP_SET_FD, backing_fd) < 0)
		return -errno;
	if (ioctl(loop_fd, LOOP_SET_STATUS64, &c.info) < 0) {
		int r = -errno;
		(void)ioctl(loop_fd, LOOP_CLR_FD);
		return r;
	}
	return 0;
}

int loop_device_attach(const char *path, uint64_t offset_bytes, uint64_t size_bytes, bool read_only,
		       int *ret_fd, char **ret_node)
{
	_cleanup_close_ int control = -EBADF, backing = -EBADF;
	int flags = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;

	backing = open(path, flags);
	if (backing < 0)
		return -errno;
	control = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (control < 0)
		return -errno;

	for (unsigned i = 0; i < LOOP_ATTACH_TRIES; i++) {
		_cleanup_close_ int loop_fd = -EBADF;
		char node[32];
		int n, r;

		n = ioctl(control, LOOP_CTL_GET_FREE);
		if (n < 0)
			return -errno;
		snprintf(node, sizeof(node), "/dev/loop%d", n);
		loop_fd = open(node, flags);
		if (loop_fd < 0) {
			if (errno == ENOENT) {
				/* devtmpfs has not made the node yet: try again shortly. */
				nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
				continue;
			}
			return -errno;
		}
		r = configure(loop_fd, backing, offset_bytes, size_bytes, read_only);
		if (r == -EBUSY)
			continue; /* someone else took it between GET_FREE and now */
		if (r < 0)
			return r;
		char *copy = strdup(node);
		if (!copy)
			return -ENOMEM;
		*ret_fd = TAKE_FD(loop_fd);
		*ret_node = copy;
		return 0;
	}
	return -EBUSY;
}
