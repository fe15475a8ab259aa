/* SPDX-License-Identifier: Apache-2.0 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>

#include "core/log.h"
#include "ext/archive.h"

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}
#define _cleanup_archive_ _cleanup_(archive_freep)

/*
 * A libarchive failure as -errno: a system error as itself; what libarchive reports
 * for bad data (-1, or EILSEQ for a format error, EINVAL internally) as -EBADMSG.
 */
static int archive_errno_of(struct archive *a, const char *what)
{
	int e = archive_errno(a);

	log_debug("libarchive: %s: %s", what, strna(archive_error_string(a)));
	if (e > 0 && e != EILSEQ && e != EINVAL)
		return -e;
	return -EBADMSG;
}

int archive_read_decompressed_file(const char *path, size_t max_size, char **ret, size_t *ret_size)
{
	_cleanup_archive_ struct archive *a = archive_read_new();
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *buf = NULL;
	struct archive_entry *e;
	size_t n = 0, cap = 0;
	int r;

	if (!a)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (archive_read_support_filter_all(a) < ARCHIVE_WARN ||
	    archive_read_support_format_raw(a) != ARCHIVE_OK)
		return archive_errno_of(a, "setup");
	if (archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK)
		return archive_errno_of(a, path);
	r = archive_read_next_header(a, &e);
	if (r == ARCHIVE_EOF) {
		/* an empty file */
	} else if (r != ARCHIVE_OK)
		return archive_errno_of(a, path);
	else
		for (;;) {
			la_ssize_t k;

			if (cap - n < 64 * 1024 + 1) {
				size_t ncap = cap ? cap * 2 : 256 * 1024;
				char *b;
				if (ncap > max_size + 1)
					ncap = max_size + 1;
				if (ncap <= n + 1)
					return -EFBIG;
				b = realloc(buf, ncap);
				if (!b)
					return -ENOMEM;
				buf = b;
				cap = ncap;
			}
			k = archive_read_data(a, buf + n, cap - n - 1);
			if (k < 0)
				return archive_errno_of(a, path);
			if (k == 0)
				break;
			n += (size_t)k;
			if (n > max_size)
				return -EFBIG;
		}
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[n] = '\0';
	*ret = TAKE_PTR(buf);
	if (ret_size)
		*ret_size = n;
	return 0;
}
