/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * libarchive: reading Debian packages (an ar archive holding debian-binary,
 * control.tar.* and data.tar.*), reading tar streams member by member (update
 * bundles) and writing tar streams. The only file that includes libarchive's
 * headers.
 */

#include <stdint.h>
#include <sys/types.h>

#include "core/macro.h"

enum archive_entry_kind {
	ARCHIVE_KIND_DIR,
	ARCHIVE_KIND_REG,
	ARCHIVE_KIND_SYMLINK,
	ARCHIVE_KIND_HARDLINK,
	ARCHIVE_KIND_CHR,
	ARCHIVE_KIND_BLK,
	ARCHIVE_KIND_FIFO,
	ARCHIVE_KIND_OTHER,
};

struct archive_member {
	const char *path; /* as stored */
	enum archive_entry_kind kind;
	unsigned mode; /* permission bits */
	uint64_t uid, gid;
	const char *uname, *gname; /* may be NULL */
	uint64_t size;
	const char *link; /* symlink target or hard link target */
	unsigned dev_major, dev_minor;
	bool sparse; /* a regular file stored with holes (GNU or pax sparse) */
	bool posix; /* archive_stream: the header is POSIX (ustar or pax), not GNU or v7 */
	uint64_t offset; /* archive_stream: where the member's first header starts */
};

struct archive_member_reader;

/*
 * Called for each member of a package's data archive. Regular files' contents can
 * be read during the call with archive_member_copy(). A negative return stops.
 */
typedef int (*archive_member_cb)(const struct archive_member *m, struct archive_member_reader *rd,
				 void *userdata);

/* Copies the current member's data to fd; returns the byte count through ret_size. */
int archive_member_copy(struct archive_member_reader *rd, int fd, uint64_t *ret_size);

/*
 * Walks the data archive of a .deb. On a malformed package returns -EBADMSG and,
 * if ret_error is given, why.
 */
int archive_deb_read_data(const char *deb, archive_member_cb cb, void *userdata, char **ret_error);
/*
 * Returns the text of the package's control file (from control.tar.*) and, if
 * ret_md5sums is given, of its md5sums file (NULL when the package has none).
 */
int archive_deb_read_control(const char *deb, char **ret, char **ret_md5sums, char **ret_error);
/* Reads a whole (possibly compressed: gz, xz, zst, lz4, bz2) file, decompressed. */
int archive_read_decompressed(const char *path, size_t max_size, char **ret, size_t *ret_size);

/*
 * Reading a tar stream sequentially from a file or block device, block_size bytes per
 * read(2) into one buffer, with no seeking and no decompression (a compressed stream
 * is not a tar). Member data is handed out in place, never copied. Errors return
 * -errno and set *ret_error (optional) to why:
 *   -EBADMSG  not a tar, a damaged header, or anything libarchive only warns about
 *   -EPIPE    the input ended inside the archive (truncated)
 *   other     read errors of fd
 */
struct archive_stream;
/* observe, if not NULL, sees every byte read from fd, in order, before libarchive does. */
typedef void (*archive_observe_fn)(const void *buf, size_t n, void *userdata);
int archive_stream_open(int fd, size_t block_size, archive_observe_fn observe, void *userdata,
			struct archive_stream **ret);
struct archive_stream *archive_stream_free(struct archive_stream *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive_stream *, archive_stream_free);
/*
 * Reads the next header: 1 with *ret filled (its strings valid until the next call),
 * 0 at the end of the archive (see archive_stream_end()).
 */
int archive_stream_next(struct archive_stream *s, struct archive_member *ret, char **ret_error);
/*
 * The next piece of the current member's data: 1 with *ret_buf and *ret_size (valid
 * until the next call), 0 after its last byte.
 */
int archive_stream_read(struct archive_stream *s, const void **ret_buf, size_t *ret_size,
			char **ret_error);
/*
 * After archive_stream_next() returned 0: the offset in the input where the end of
 * the archive starts, and how many bytes of end-of-archive marker (zero blocks) were
 * consumed there: 1024 for a complete marker, less when the input ended or something
 * other than a zero block followed the first one.
 */
void archive_stream_end(const struct archive_stream *s, uint64_t *ret_offset,
			uint64_t *ret_marker_size);

/* Writing a tar (pax restricted) stream. */
struct archive_tar_writer;
/* write_fn gets every block of the stream; a negative return aborts. */
typedef int (*archive_write_fn)(const void *buf, size_t n, void *userdata);
int archive_tar_writer_new(archive_write_fn fn, void *userdata, struct archive_tar_writer **ret);
/* Adds an entry; for ARCHIVE_KIND_REG the content is read from content_fd (size bytes). */
int archive_tar_writer_add(struct archive_tar_writer *w, const struct archive_member *m,
			   int64_t mtime, int content_fd);
/* Adds a regular file whose m->size bytes of content are in data. */
int archive_tar_writer_add_data(struct archive_tar_writer *w, const struct archive_member *m,
				int64_t mtime, const void *data);
/* Writes the end-of-archive marker and frees w (also on failure). */
int archive_tar_writer_finish(struct archive_tar_writer *w);
struct archive_tar_writer *archive_tar_writer_free(struct archive_tar_writer *w);

/*
 * ---- cpio newc writing (the initramfs) ----
 *
 * A deterministic cpio "newc" stream: the caller adds entries in the order they are
 * to appear (sorted, parents first); every entry gets uid/gid 0, the same mtime, one
 * link, device 0 and an inode number counting up from 1, so the same entries give the
 * same bytes. Optionally compressed with zstd (a format the kernel unpacks).
 */

enum cpio_compression {
	CPIO_COMPRESSION_NONE,
	CPIO_COMPRESSION_ZSTD,
	_CPIO_COMPRESSION_MAX,
	_CPIO_COMPRESSION_INVALID = -EINVAL,
};

const char *cpio_compression_to_string(enum cpio_compression c);
enum cpio_compression cpio_compression_from_string(const char *s);

struct cpio_writer;

/* Writes to fd (not closed by the writer). level: zstd level 1..19, ignored for none. */
int cpio_writer_new(int fd, enum cpio_compression compression, int level, int64_t mtime,
		    struct cpio_writer **ret);
int cpio_writer_add_directory(struct cpio_writer *w, const char *path, mode_t mode);
int cpio_writer_add_file(struct cpio_writer *w, const char *path, mode_t mode, const void *data,
			 size_t size);
int cpio_writer_add_symlink(struct cpio_writer *w, const char *path, const char *target);
int cpio_writer_add_char_device(struct cpio_writer *w, const char *path, mode_t mode,
				unsigned major, unsigned minor);
/* Writes the trailer and flushes; after it only cpio_writer_free() is allowed. */
int cpio_writer_finish(struct cpio_writer *w);
struct cpio_writer *cpio_writer_free(struct cpio_writer *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct cpio_writer *, cpio_writer_free);
