/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>

#include "fd.h"
#include "fileio.h"
#include "fs.h"

int read_full_fd(int fd, size_t max_size, char **ret, size_t *ret_size)
{
	_cleanup_free_ char *buf = NULL;
	size_t n = 0, cap = 0;

	for (;;) {
		ssize_t k;

		if (n + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			char *b;
			if (ncap > max_size + 2)
				ncap = max_size + 2;
			if (ncap <= n + 1)
				return -EFBIG;
			b = realloc(buf, ncap);
			if (!b)
				return -ENOMEM;
			buf = b;
			cap = ncap;
		}
		k = read(fd, buf + n, cap - n - 1);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n > max_size)
			return -EFBIG;
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf)
			return -ENOMEM;
	}
	buf[n] = '\0';
	*ret = TAKE_PTR(buf);
	if (ret_size)
		*ret_size = n;
	return 0;
}

int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	return read_full_fd(fd, max_size, ret, ret_size);
}

int read_line_file(const char *path, size_t max_size, char **ret)
{
	char *text;
	int r = read_full_file(path, max_size, &text, NULL);

	if (r < 0)
		return r;
	text[strcspn(text, "\n")] = '\0';
	*ret = text;
	return 0;
}

int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode)
{
	_cleanup_atomic_file_ struct atomic_file f = ATOMIC_FILE_INIT;
	int r = atomic_file_open(&f, path, mode);

	if (r < 0)
		return r;
	r = loop_write(f.fd, data, size);
	if (r < 0)
		return r;
	return atomic_file_commit(&f);
}
