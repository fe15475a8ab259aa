/* SPDX-License-Identifier: Apache-2.0 */
#include <unistd.h>

#include "fd.h"

int safe_close(int fd)
{
	if (fd >= 0) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return -EBADF;
}

int loop_write(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

ssize_t loop_read(int fd, void *buf, size_t n)
{
	uint8_t *p = buf;
	size_t done = 0;

	while (done < n) {
		ssize_t k = read(fd, p + done, n - done);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		done += (size_t)k;
	}
	return (ssize_t)done;
}

int loop_read_exact(int fd, void *buf, size_t n)
{
	ssize_t k = loop_read(fd, buf, n);
	if (k < 0)
		return (int)k;
	return (size_t)k == n ? 0 : -EIO;
}

int copy_bytes(int fdf, int fdt, uint64_t max_bytes, uint64_t *ret_copied)
{
	uint8_t buf[128 * 1024];
	uint64_t total = 0;

	for (;;) {
		size_t want = sizeof(buf);
		ssize_t k;
		int r;

		if (max_bytes != UINT64_MAX && max_bytes - total < want)
			want = (size_t)(max_bytes - total) + 1; /* one more, to notice excess */
		if (want == 0)
			break;
		k = read(fdf, buf, want);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		if (max_bytes != UINT64_MAX && total + (uint64_t)k > max_bytes)
			return -EFBIG;
		r = loop_write(fdt, buf, (size_t)k);
		if (r < 0)
			return r;
		total += (uint64_t)k;
	}
	if (ret_copied)
		*ret_copied = total;
	return 0;
}

int pwrite_all(int fd, const void *buf, size_t n, uint64_t offset)
{
	const uint8_t *p = buf;

	while (n > 0) {
		ssize_t k = pwrite(fd, p, n, (off_t)offset);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -EIO;
		p += k;
		n -= (size_t)k;
		offset += (uint64_t)k;
	}
	return 0;
}

int pread_exact(int fd, void *buf, size_t n, uint64_t offset)
{
	uint8_t *p = buf;

	while (n > 0) {
		ssize_t k = pread(fd, p, n, (off_t)offset);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -EIO;
		p += k;
		n -= (size_t)k;
		offset += (uint64_t)k;
	}
	return 0;
}
