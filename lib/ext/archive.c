/* SPDX-License-Identifier: Apache-2.0 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "core/fd.h"
#include "core/log.h"
#include "ext/archive.h"

struct archive_member_reader {
	struct archive *a;
};

static int map_error(struct archive *a, int r)
{
	int e;

	if (r >= ARCHIVE_WARN)
		return 0;
	e = archive_errno(a);
	if (e == ENOMEM)
		return -ENOMEM;
	return -EBADMSG;
}

static int set_error(char **ret_error, struct archive *a, const char *what)
{
	if (ret_error) {
		const char *s = a ? archive_error_string(a) : NULL;
		free(*ret_error);
		if (asprintf(ret_error, "%s%s%s", what, s ? ": " : "", strempty(s)) < 0)
			*ret_error = NULL;
	}
	return -EBADMSG;
}

static void archive_read_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

int archive_member_copy(struct archive_member_reader *rd, int fd, uint64_t *ret_size)
{
	const void *buf;
	size_t n;
	la_int64_t off;
	uint64_t total = 0;
	int r;

	for (;;) {
		r = archive_read_data_block(rd->a, &buf, &n, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return map_error(rd->a, r);
		if (off < 0 || (uint64_t)off != total) {
			/* sparse hole: write zeros up to off */
			uint8_t zero[4096] = {};
			if ((uint64_t)off < total)
				return -EBADMSG;
			while (total < (uint64_t)off) {
				size_t k =
					(size_t)MIN((uint64_t)sizeof(zero), (uint64_t)off - total);
				r = loop_write(fd, zero, k);
				if (r < 0)
					return r;
				total += k;
			}
		}
		r = loop_write(fd, buf, n);
		if (r < 0)
			return r;
		total += n;
	}
	if (ret_size)
		*ret_size = total;
	return 0;
}

/* The inner archive reads from the outer ar member's data. */
struct inner_source {
	struct archive *outer;
	uint8_t block[256 * 1024];
};

static la_ssize_t inner_read(struct archive *a, void *userdata, const void **buf)
{
	struct inner_source *src = userdata;

	(void)a;
	*buf = src->block;
	return archive_read_data(src->outer, src->block, sizeof(src->block));
}

static void fill_member(struct archive_entry *e, struct archive_member *m)
{
	mode_t type = archive_entry_filetype(e);

	*m = (struct archive_member){
		.path = archive_entry_pathname(e),
		.mode = archive_entry_perm(e) & 07777,
		.uid = (uint64_t)archive_entry_uid(e),
		.gid = (uint64_t)archive_entry_gid(e),
		.uname = archive_entry_uname(e),
		.gname = archive_entry_gname(e),
		.size = archive_entry_size_is_set(e) ? (uint64_t)archive_entry_size(e) : 0,
	};
	m->sparse = archive_entry_sparse_count(e) > 0;
	if (archive_entry_hardlink(e)) {
		m->kind = ARCHIVE_KIND_HARDLINK;
		m->link = archive_entry_hardlink(e);
		return;
	}
	switch (type) {
	case AE_IFDIR:
		m->kind = ARCHIVE_KIND_DIR;
		break;
	case AE_IFREG:
		m->kind = ARCHIVE_KIND_REG;
		break;
	case AE_IFLNK:
		m->kind = ARCHIVE_KIND_SYMLINK;
		m->link = archive_entry_symlink(e);
		break;
	case AE_IFCHR:
		m->kind = ARCHIVE_KIND_CHR;
		break;
	case AE_IFBLK:
		m->kind = ARCHIVE_KIND_BLK;
		break;
	case AE_IFIFO:
		m->kind = ARCHIVE_KIND_FIFO;
		break;
	default:
		m->kind = ARCHIVE_KIND_OTHER;
	}
	if (m->kind == ARCHIVE_KIND_CHR || m->kind == ARCHIVE_KIND_BLK) {
		m->dev_major = archive_entry_rdevmajor(e);
		m->dev_minor = archive_entry_rdevminor(e);
	}
}

static int open_deb(const char *deb, struct archive **ret, char **ret_error)
{
	_cleanup_(archive_read_freep) struct archive *a = archive_read_new();

	if (!a)
		return -ENOMEM;
	archive_read_support_format_ar(a);
	if (archive_read_open_filename(a, deb, 64 * 1024) != ARCHIVE_OK) {
		int e = archive_errno(a);
		set_error(ret_error, a, "cannot open as a Debian package");
		return e == ENOENT ? -ENOENT : -EBADMSG;
	}
	*ret = TAKE_PTR(a);
	return 0;
}

/* Positions the outer archive at the member whose name starts with prefix ("data.tar"). */
static int find_member(struct archive *outer, const char *prefix, char **ret_error)
{
	struct archive_entry *e;
	bool first = true;
	int r;

	while ((r = archive_read_next_header(outer, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);

		if (first) {
			char magic[16] = {};
			first = false;
			if (!name || !streq(name, "debian-binary"))
				return set_error(ret_error, NULL,
						 "first member is not 'debian-binary': not a .deb");
			if (archive_read_data(outer, magic, sizeof(magic) - 1) < 4 ||
			    strncmp(magic, "2.", 2) != 0)
				return set_error(ret_error, NULL,
						 "unsupported 'debian-binary' format version");
			continue;
		}
		if (name && startswith(name, prefix))
			return 0;
	}
	if (r == ARCHIVE_EOF)
		return set_error(ret_error, NULL,
				 prefix[0] == 'd' ? "no data.tar member" : "no control.tar member");
	return set_error(ret_error, outer, "damaged ar archive");
}

static int open_inner(struct inner_source *src, struct archive **ret, char **ret_error)
{
	_cleanup_(archive_read_freep) struct archive *in = archive_read_new();

	if (!in)
		return -ENOMEM;
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	archive_read_support_format_gnutar(in);
	if (archive_read_open(in, src, NULL, inner_read, NULL) != ARCHIVE_OK)
		return set_error(ret_error, in, "cannot read the tar member");
	*ret = TAKE_PTR(in);
	return 0;
}

int archive_deb_read_data(const char *deb, archive_member_cb cb, void *userdata, char **ret_error)
{
	_cleanup_(archive_read_freep) struct archive *outer = NULL;
	_cleanup_free_ struct inner_source *src = NULL;
	/* declared after src: freed before it, as it reads through src */
	_cleanup_(archive_read_freep) struct archive *in = NULL;
	struct archive_entry *e;
	int r;

	r = open_deb(deb, &outer, ret_error);
	if (r < 0)
		return r;
	r = find_member(outer, "data.tar", ret_error);
	if (r < 0)
		return r;
	src = malloc(sizeof(*src));
	if (!src)
		return -ENOMEM;
	src->outer = outer;
	r = open_inner(src, &in, ret_error);
	if (r < 0)
		return r;
	for (;;) {
		struct archive_member m;
		struct archive_member_reader rd = { .a = in };

		r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return set_error(ret_error, in, "damaged data archive");
		fill_member(e, &m);
		if (!m.path)
			return set_error(ret_error, NULL, "member without a name");
		r = cb(&m, &rd, userdata);
		if (r < 0)
			return r;
	}
}

static int read_small_member(struct archive *in, struct archive_entry *e, char **ret,
			     char **ret_error)
{
	la_int64_t size = archive_entry_size(e);
	_cleanup_free_ char *buf = NULL;

	if (size < 0 || size > 16 * 1024 * 1024)
		return set_error(ret_error, NULL, "control member too large");
	buf = malloc((size_t)size + 1);
	if (!buf)
		return -ENOMEM;
	if (archive_read_data(in, buf, (size_t)size) != size)
		return set_error(ret_error, in, "short control member");
	buf[size] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

int archive_deb_read_control(const char *deb, char **ret, char **ret_md5sums, char **ret_error)
{
	_cleanup_(archive_read_freep) struct archive *outer = NULL;
	_cleanup_free_ struct inner_source *src = NULL;
	_cleanup_(archive_read_freep) struct archive *in = NULL;
	_cleanup_free_ char *control = NULL, *md5sums = NULL;
	struct archive_entry *e;
	int r;

	r = open_deb(deb, &outer, ret_error);
	if (r < 0)
		return r;
	r = find_member(outer, "control.tar", ret_error);
	if (r < 0)
		return r;
	src = malloc(sizeof(*src));
	if (!src)
		return -ENOMEM;
	src->outer = outer;
	r = open_inner(src, &in, ret_error);
	if (r < 0)
		return r;
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);

		if (!name)
			continue;
		name = startswith(name, "./") ?: name;
		if (streq(name, "control") && !control)
			r = read_small_member(in, e, &control, ret_error);
		else if (streq(name, "md5sums") && ret_md5sums && !md5sums)
			r = read_small_member(in, e, &md5sums, ret_error);
		else
			continue;
		if (r < 0)
			return r;
	}
	if (r != ARCHIVE_EOF)
		return set_error(ret_error, in, "damaged control archive");
	if (!control)
		return set_error(ret_error, NULL, "no control file in control.tar");
	*ret = TAKE_PTR(control);
	if (ret_md5sums)
		*ret_md5sums = TAKE_PTR(md5sums);
	return 0;
}

int archive_read_decompressed(const char *path, size_t max_size, char **ret, size_t *ret_size)
{
	_cleanup_(archive_read_freep) struct archive *a = archive_read_new();
	_cleanup_free_ char *buf = NULL;
	struct archive_entry *e;
	size_t n = 0, cap = 0;
	int r;

	if (!a)
		return -ENOMEM;
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, path, 256 * 1024) != ARCHIVE_OK)
		return archive_errno(a) == ENOENT ? -ENOENT : -EBADMSG;
	r = archive_read_next_header(a, &e);
	if (r == ARCHIVE_EOF)
		goto done; /* an empty file: nothing to decompress (an empty index is valid) */
	if (r != ARCHIVE_OK)
		return -EBADMSG;
	for (;;) {
		la_ssize_t k;
		if (cap - n < 65536) {
			size_t ncap = cap ? cap * 2 : 1024 * 1024;
			char *b;
			if (ncap > max_size + 65537)
				ncap = max_size + 65537;
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
			return -EBADMSG;
		if (k == 0)
			break;
		n += (size_t)k;
		if (n > max_size)
			return -EFBIG;
	}
done:
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[n] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_size = n;
	return 0;
}

struct archive_stream {
	struct archive *a;
	int fd;
	uint8_t *buf;
	size_t block_size;
	bool eof; /* read(2) returned 0 */
	int read_error; /* errno of a failed read(2) */
	bool opened;
	uint64_t end_offset, end_marker_size;
	archive_observe_fn observe;
	void *observe_userdata;
};

static la_ssize_t stream_read_cb(struct archive *a, void *userdata, const void **buf)
{
	struct archive_stream *s = userdata;
	ssize_t n;

	for (;;) {
		n = read(s->fd, s->buf, s->block_size);
		if (n >= 0 || errno != EINTR)
			break;
	}
	if (n < 0) {
		s->read_error = errno;
		archive_set_error(a, errno, "read failed: %s", strerror(errno));
		return -1;
	}
	if (n == 0)
		s->eof = true;
	else if (s->observe)
		s->observe(s->buf, (size_t)n, s->observe_userdata);
	*buf = s->buf;
	return n;
}

struct archive_stream *archive_stream_free(struct archive_stream *s)
{
	if (!s)
		return NULL;
	if (s->a)
		archive_read_free(s->a);
	free(s->buf);
	free(s);
	return NULL;
}

int archive_stream_open(int fd, size_t block_size, archive_observe_fn observe, void *userdata,
			struct archive_stream **ret)
{
	_cleanup_(archive_stream_freep) struct archive_stream *s = new0(struct archive_stream, 1);

	if (!s || block_size < 512)
		return s ? -EINVAL : -ENOMEM;
	s->fd = fd;
	s->block_size = block_size;
	s->observe = observe;
	s->observe_userdata = userdata;
	s->buf = malloc(block_size);
	s->a = archive_read_new();
	if (!s->buf || !s->a)
		return -ENOMEM;
	/* tar alone: no decompression filter, no other format */
	if (archive_read_support_format_tar(s->a) != ARCHIVE_OK)
		return -ENOMEM;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	/* libarchive reads the first block here to recognize the format; a failure is
	 * reported by the first archive_stream_next(). */
	s->opened = archive_read_open(s->a, s, NULL, stream_read_cb, NULL) == ARCHIVE_OK;
	*ret = TAKE_PTR(s);
	return 0;
}

/* A libarchive failure as -errno with a message. */
static int stream_error(struct archive_stream *s, const char *what, char **ret_error)
{
	const char *msg = archive_error_string(s->a);
	int r;

	if (s->read_error)
		r = -s->read_error;
	else if (s->eof)
		r = -EPIPE;
	else if (archive_errno(s->a) == ENOMEM)
		r = -ENOMEM;
	else
		r = -EBADMSG;
	if (ret_error) {
		free(*ret_error);
		if (asprintf(ret_error, "%s: %s", what,
			     r == -EPIPE && !msg ? "the input ends inside the archive" :
						   strna(msg)) < 0)
			*ret_error = NULL;
	}
	return r;
}

static uint64_t archive_stream_header_offset(const struct archive_stream *s)
{
	int64_t pos = archive_read_header_position(s->a);

	return pos > 0 ? (uint64_t)pos : 0;
}

int archive_stream_next(struct archive_stream *s, struct archive_member *ret, char **ret_error)
{
	struct archive_entry *e;
	int r, f;

	if (!s->opened)
		return stream_error(s, "cannot read", ret_error);
	r = archive_read_next_header(s->a, &e);
	if (r == ARCHIVE_EOF) {
		int64_t pos = archive_read_header_position(s->a);
		int64_t consumed = archive_filter_bytes(s->a, 0);

		if (s->read_error)
			return stream_error(s, "cannot read", ret_error);
		s->end_offset = pos > 0 ? (uint64_t)pos : 0;
		s->end_marker_size = consumed > pos && pos >= 0 ? (uint64_t)(consumed - pos) : 0;
		return 0;
	}
	if (r != ARCHIVE_OK)
		/* ARCHIVE_WARN and ARCHIVE_RETRY included: a bundle has nothing to forgive */
		return stream_error(s, "damaged tar header", ret_error);
	fill_member(e, ret);
	ret->offset = archive_stream_header_offset(s);
	f = archive_format(s->a);
	ret->posix = f == ARCHIVE_FORMAT_TAR_USTAR || f == ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE ||
		     f == ARCHIVE_FORMAT_TAR_PAX_RESTRICTED;
	return 1;
}

int archive_stream_read(struct archive_stream *s, const void **ret_buf, size_t *ret_size,
			char **ret_error)
{
	const void *buf;
	size_t n;
	la_int64_t off;
	int r;

	r = archive_read_data_block(s->a, &buf, &n, &off);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r != ARCHIVE_OK)
		return stream_error(s, "cannot read member data", ret_error);
	*ret_buf = buf;
	*ret_size = n;
	return 1;
}

void archive_stream_end(const struct archive_stream *s, uint64_t *ret_offset,
			uint64_t *ret_marker_size)
{
	*ret_offset = s->end_offset;
	*ret_marker_size = s->end_marker_size;
}

struct archive_tar_writer {
	struct archive *a;
	struct archive_entry *e;
	archive_write_fn fn;
	void *userdata;
	int error;
};

static la_ssize_t tar_write_cb(struct archive *a, void *userdata, const void *buf, size_t n)
{
	struct archive_tar_writer *w = userdata;
	int r = w->fn(buf, n, w->userdata);

	if (r < 0) {
		w->error = r;
		archive_set_error(a, -r, "write failed");
		return -1;
	}
	return (la_ssize_t)n;
}

struct archive_tar_writer *archive_tar_writer_free(struct archive_tar_writer *w)
{
	if (!w)
		return NULL;
	if (w->e)
		archive_entry_free(w->e);
	if (w->a)
		archive_write_free(w->a);
	free(w);
	return NULL;
}

int archive_tar_writer_new(archive_write_fn fn, void *userdata, struct archive_tar_writer **ret)
{
	struct archive_tar_writer *w = new0(struct archive_tar_writer, 1);

	if (!w)
		return -ENOMEM;
	w->fn = fn;
	w->userdata = userdata;
	w->a = archive_write_new();
	w->e = archive_entry_new();
	if (!w->a || !w->e) {
		archive_tar_writer_free(w);
		return -ENOMEM;
	}
	if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w->a, 64 * 1024) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
	    archive_write_open(w->a, w, NULL, tar_write_cb, NULL) != ARCHIVE_OK) {
		archive_tar_writer_free(w);
		return -EIO;
	}
	*ret = w;
	return 0;
}

static int tar_writer_add(struct archive_tar_writer *w, const struct archive_member *m,
			  int64_t mtime, int content_fd, const void *data)
{
	static const mode_t types[] = {
		[ARCHIVE_KIND_DIR] = AE_IFDIR,	   [ARCHIVE_KIND_REG] = AE_IFREG,
		[ARCHIVE_KIND_SYMLINK] = AE_IFLNK, [ARCHIVE_KIND_HARDLINK] = AE_IFREG,
		[ARCHIVE_KIND_CHR] = AE_IFCHR,	   [ARCHIVE_KIND_BLK] = AE_IFBLK,
		[ARCHIVE_KIND_FIFO] = AE_IFIFO,
	};
	struct archive_entry *e = w->e;
	int r;

	if (m->kind >= ARCHIVE_KIND_OTHER)
		return -EINVAL;
	archive_entry_clear(e);
	archive_entry_set_pathname(e, m->path);
	archive_entry_set_filetype(e, types[m->kind]);
	archive_entry_set_perm(e, m->mode & 07777);
	archive_entry_set_uid(e, (la_int64_t)m->uid);
	archive_entry_set_gid(e, (la_int64_t)m->gid);
	if (m->uname)
		archive_entry_set_uname(e, m->uname);
	if (m->gname)
		archive_entry_set_gname(e, m->gname);
	archive_entry_set_mtime(e, mtime, 0);
	switch (m->kind) {
	case ARCHIVE_KIND_REG:
		archive_entry_set_size(e, (la_int64_t)m->size);
		break;
	case ARCHIVE_KIND_SYMLINK:
		archive_entry_set_symlink(e, m->link);
		break;
	case ARCHIVE_KIND_HARDLINK:
		archive_entry_set_hardlink(e, m->link);
		archive_entry_set_size(e, 0);
		break;
	case ARCHIVE_KIND_CHR:
	case ARCHIVE_KIND_BLK:
		archive_entry_set_rdevmajor(e, m->dev_major);
		archive_entry_set_rdevminor(e, m->dev_minor);
		break;
	default:
		break;
	}
	r = archive_write_header(w->a, e);
	if (r < ARCHIVE_WARN) {
		log_debug("archive: %s: %s", m->path, strna(archive_error_string(w->a)));
		return w->error ?: -EIO;
	}
	if (m->kind == ARCHIVE_KIND_REG && m->size > 0 && data) {
		if (archive_write_data(w->a, data, (size_t)m->size) != (la_ssize_t)m->size)
			return w->error ?: -EIO;
	} else if (m->kind == ARCHIVE_KIND_REG && m->size > 0) {
		uint8_t buf[256 * 1024];
		uint64_t left = m->size;
		while (left > 0) {
			ssize_t k = read(content_fd, buf, (size_t)MIN((uint64_t)sizeof(buf), left));
			if (k < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			if (k == 0)
				return -EIO; /* the content file shrank */
			if (archive_write_data(w->a, buf, (size_t)k) != k)
				return w->error ?: -EIO;
			left -= (uint64_t)k;
		}
	}
	return 0;
}

int archive_tar_writer_add(struct archive_tar_writer *w, const struct archive_member *m,
			   int64_t mtime, int content_fd)
{
	return tar_writer_add(w, m, mtime, content_fd, NULL);
}

int archive_tar_writer_add_data(struct archive_tar_writer *w, const struct archive_member *m,
				int64_t mtime, const void *data)
{
	if (m->kind != ARCHIVE_KIND_REG || (m->size > 0 && !data) || m->size > SIZE_MAX)
		return -EINVAL;
	return tar_writer_add(w, m, mtime, -EBADF, data);
}

int archive_tar_writer_finish(struct archive_tar_writer *w)
{
	int r = 0;

	if (archive_write_close(w->a) != ARCHIVE_OK)
		r = w->error ?: -EIO;
	archive_tar_writer_free(w);
	return r;
}

/* ---- cpio newc writing (the initramfs) ---- */

/* ARCHIVE_* status to -errno (libarchive's own errno when it has one). */
static int cpio_archive_error(struct archive *a, int status)
{
	int e;

	if (status >= ARCHIVE_WARN)
		return 0;
	e = archive_errno(a);
	log_debug("libarchive: %s", strna(archive_error_string(a)));
	return e > 0 ? -e : -EIO;
}

static const char *const cpio_compression_table[_CPIO_COMPRESSION_MAX] = {
	[CPIO_COMPRESSION_NONE] = "none",
	[CPIO_COMPRESSION_ZSTD] = "zstd",
};

const char *cpio_compression_to_string(enum cpio_compression c)
{
	if (c < 0 || c >= _CPIO_COMPRESSION_MAX)
		return NULL;
	return cpio_compression_table[c];
}

enum cpio_compression cpio_compression_from_string(const char *s)
{
	for (int i = 0; s && i < _CPIO_COMPRESSION_MAX; i++)
		if (streq(cpio_compression_table[i], s))
			return (enum cpio_compression)i;
	return _CPIO_COMPRESSION_INVALID;
}

struct cpio_writer {
	struct archive *a;
	int64_t mtime;
	int64_t next_ino;
	bool finished;
};

int cpio_writer_new(int fd, enum cpio_compression compression, int level, int64_t mtime,
		    struct cpio_writer **ret)
{
	_cleanup_(cpio_writer_freep) struct cpio_writer *w = new0(struct cpio_writer, 1);
	char lvl[16];
	int r;

	if (!w)
		return -ENOMEM;
	if (compression < 0 || compression >= _CPIO_COMPRESSION_MAX)
		return -EINVAL;
	w->a = archive_write_new();
	if (!w->a)
		return -ENOMEM;
	w->mtime = mtime;
	w->next_ino = 1;
	r = archive_write_set_format_cpio_newc(w->a);
	if (r == ARCHIVE_OK && compression == CPIO_COMPRESSION_ZSTD) {
		r = archive_write_add_filter_zstd(w->a);
		snprintf(lvl, sizeof(lvl), "%d", level);
		if (r == ARCHIVE_OK)
			r = archive_write_set_filter_option(w->a, "zstd", "compression-level", lvl);
	}
	/* No padding to a 10 KiB block after the trailer. */
	if (r == ARCHIVE_OK)
		r = archive_write_set_bytes_in_last_block(w->a, 1);
	if (r == ARCHIVE_OK)
		r = archive_write_open_fd(w->a, fd);
	if (r != ARCHIVE_OK)
		return cpio_archive_error(w->a, r) ?: -EIO;
	*ret = TAKE_PTR(w);
	return 0;
}

static int add_entry(struct cpio_writer *w, const char *path, mode_t mode, const void *data,
		     size_t size, const char *symlink_target, dev_t rdev)
{
	struct archive_entry *e;
	int r;

	if (!w || w->finished || isempty(path) || path[0] == '/')
		return -EINVAL;
	e = archive_entry_new();
	if (!e)
		return -ENOMEM;
	archive_entry_set_pathname(e, path);
	archive_entry_set_mode(e, mode);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, w->mtime, 0);
	archive_entry_set_nlink(e, 1);
	archive_entry_set_dev(e, 0);
	archive_entry_set_ino64(e, w->next_ino++);
	archive_entry_set_rdev(e, rdev);
	if (symlink_target) {
		archive_entry_set_symlink(e, symlink_target);
		archive_entry_set_size(e, (la_int64_t)strlen(symlink_target));
	} else
		archive_entry_set_size(e, S_ISREG(mode) ? (la_int64_t)size : 0);
	r = archive_write_header(w->a, e);
	archive_entry_free(e);
	if (r < ARCHIVE_WARN)
		return cpio_archive_error(w->a, r);
	if (S_ISREG(mode) && size > 0) {
		la_ssize_t n = archive_write_data(w->a, data, size);
		if (n < 0 || (size_t)n != size)
			return cpio_archive_error(w->a, ARCHIVE_FATAL);
	}
	return 0;
}

int cpio_writer_add_directory(struct cpio_writer *w, const char *path, mode_t mode)
{
	return add_entry(w, path, S_IFDIR | (mode & 07777), NULL, 0, NULL, 0);
}

int cpio_writer_add_file(struct cpio_writer *w, const char *path, mode_t mode, const void *data,
			 size_t size)
{
	return add_entry(w, path, S_IFREG | (mode & 07777), data, size, NULL, 0);
}

int cpio_writer_add_symlink(struct cpio_writer *w, const char *path, const char *target)
{
	if (isempty(target))
		return -EINVAL;
	return add_entry(w, path, S_IFLNK | 0777, NULL, 0, target, 0);
}

int cpio_writer_add_char_device(struct cpio_writer *w, const char *path, mode_t mode,
				unsigned major, unsigned minor)
{
	return add_entry(w, path, S_IFCHR | (mode & 07777), NULL, 0, NULL, makedev(major, minor));
}

int cpio_writer_finish(struct cpio_writer *w)
{
	int r;

	if (!w || w->finished)
		return -EINVAL;
	w->finished = true;
	r = archive_write_close(w->a);
	return cpio_archive_error(w->a, r);
}

struct cpio_writer *cpio_writer_free(struct cpio_writer *w)
{
	if (!w)
		return NULL;
	if (w->a)
		archive_write_free(w->a);
	free(w);
	return NULL;
}
