/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fd.h"
#include "fs.h"
#include "path.h"

int mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);
	struct stat st;

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) < 0) {
		if (errno != EEXIST)
			return -errno;
		if (stat(p, &st) < 0)
			return -errno;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
	}
	return 0;
}

int mkdir_parents(const char *path, mode_t mode)
{
	_cleanup_free_ char *parent = NULL;
	int r = path_parent(path, &parent);

	if (r < 0)
		return r;
	if (isempty(parent) || streq(parent, "/"))
		return 0;
	return mkdir_p(parent, mode);
}

static int rm_rf_at(int dfd, const char *name)
{
	_cleanup_close_ int fd = -EBADF;
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (unlinkat(dfd, name, 0) == 0)
		return 0;
	if (errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d)
		return -errno;
	fd = -EBADF; /* owned by d now */
	while ((de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		int k = rm_rf_at(dirfd(d), de->d_name);
		if (k < 0 && r == 0)
			r = k;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && r == 0 && errno != ENOENT)
		r = -errno;
	return r;
}

int rm_rf(const char *path)
{
	_cleanup_free_ char *p = NULL;

	if (isempty(path))
		return -EINVAL;
	p = strdup(path);
	if (!p)
		return -ENOMEM;
	path_simplify(p);
	if (isempty(p) || streq(p, "/") || streq(p, "."))
		return -EPERM;
	return rm_rf_at(AT_FDCWD, p);
}

int fsync_path(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		return -errno;
	return 0;
}

int fsync_directory_of(const char *path)
{
	_cleanup_free_ char *parent = NULL;
	_cleanup_close_ int fd = -EBADF;
	int r = path_parent(path, &parent);

	if (r < 0)
		return r;
	fd = open(isempty(parent) ? "." : parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		return -errno;
	return 0;
}

int mkdtemp_in(const char *dir, const char *prefix, char **ret)
{
	_cleanup_free_ char *t = NULL;
	const char *d = dir ?: getenv("TMPDIR");

	if (isempty(d))
		d = "/tmp";
	if (asprintf(&t, "%s/%sXXXXXX", d, prefix) < 0)
		return -ENOMEM;
	if (!mkdtemp(t))
		return -errno;
	*ret = TAKE_PTR(t);
	return 0;
}

int atomic_file_open(struct atomic_file *f, const char *path, mode_t mode)
{
	_cleanup_free_ char *parent = NULL, *tmp = NULL, *p = NULL;
	int fd, r;

	r = path_parent(path, &parent);
	if (r < 0)
		return r;
	if (asprintf(&tmp, "%s%s.#%s.XXXXXX", parent, isempty(parent) ? "" : "/", path_last(path)) <
	    0)
		return -ENOMEM;
	p = strdup(path);
	if (!p)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0) {
		r = -errno;
		close(fd);
		unlink(tmp);
		return r;
	}
	f->path = TAKE_PTR(p);
	f->tmp_path = TAKE_PTR(tmp);
	f->fd = fd;
	return 0;
}

int atomic_file_commit(struct atomic_file *f)
{
	if (f->fd < 0 || !f->tmp_path)
		return -EBADF;
	if (fsync(f->fd) < 0)
		return -errno;
	if (close(f->fd) < 0) {
		f->fd = -EBADF;
		return -errno;
	}
	f->fd = -EBADF;
	if (rename(f->tmp_path, f->path) < 0)
		return -errno;
	f->tmp_path = mfree(f->tmp_path);
	return fsync_directory_of(f->path);
}

void atomic_file_done(struct atomic_file *f)
{
	f->fd = safe_close(f->fd);
	if (f->tmp_path)
		(void)unlink(f->tmp_path);
	f->tmp_path = mfree(f->tmp_path);
	f->path = mfree(f->path);
}

int copy_file_atomic(const char *from, const char *to, mode_t mode)
{
	_cleanup_atomic_file_ struct atomic_file f = ATOMIC_FILE_INIT;
	_cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC);
	int r;

	if (in < 0)
		return -errno;
	r = atomic_file_open(&f, to, mode);
	if (r < 0)
		return r;
	r = copy_bytes(in, f.fd, UINT64_MAX, NULL);
	if (r < 0)
		return r;
	return atomic_file_commit(&f);
}
