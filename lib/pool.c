/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "pool.h"

int pool_check_package(int dir_fd, const struct lock_package *p, struct pool_check *ret)
{
	_cleanup_free_ char *name = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct pool_check c = { .state = POOL_FILE_CORRUPT };
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[SHA256_HEX_SIZE];
	struct stat st;
	uint64_t size;
	int r;

	r = lock_package_pool_name(p, &name);
	if (r < 0)
		return r;
	fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT) {
			*ret = (struct pool_check){ .state = POOL_FILE_MISSING };
			return 0;
		}
		if (errno != ELOOP)
			return -errno;
		snprintf(c.problem, sizeof(c.problem), "is a symbolic link, not a file");
		*ret = c;
		return 0;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		snprintf(c.problem, sizeof(c.problem), "is not a regular file");
	else if ((uint64_t)st.st_size != p->size)
		snprintf(c.problem, sizeof(c.problem),
			 "has %" PRIu64 " bytes, the lock pins %" PRIu64 " (sha256 %s)",
			 (uint64_t)st.st_size, p->size, p->sha256);
	else {
		r = sha256_fd(fd, d, &size);
		if (r < 0)
			return r;
		sha256_hex(d, hex);
		if (size != p->size || !streq(hex, p->sha256))
			snprintf(c.problem, sizeof(c.problem), "has sha256 %s, the lock pins %s",
				 hex, p->sha256);
		else
			c.state = POOL_FILE_OK;
	}
	*ret = c;
	return 0;
}
