/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The unpack stage: check every locked package in the pool against its sha256,
 * then read each one's data archive into the image tree. Member paths are checked
 * and canonicalized (merged /usr); contents go to numbered blob files below the
 * staging directory, never to a path a package names. No maintainer script runs.
 */
#include <fcntl.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "builder.h"
#include "core/fs.h"
#include "core/hashmap.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/path.h"
#include "core/progress.h"
#include "ext/archive.h"
#include "ext/crypto.h"
#include "lockfile.h"
#include "pool.h"
#include "tree.h"

/* A member read from a package, waiting to be merged into the tree in lock order. */
struct pending {
	struct tree_node *node;
	char *member; /* the path as the package stores it, for messages */
};

/* What one worker made of one package. */
struct unpacked {
	struct pending *items;
	size_t n_items;
	uint64_t bytes;
	uint64_t files;
	int r;
	char *error;
	bool done;
};

struct unpack_ctx {
	const struct lock_package *pkg;
	const char *blobs;
	size_t pkg_index;
	size_t member_index;
	struct hashmap *files; /* this package's regular files, for its hard links */
	struct unpacked *out;
	char *error;
};

static char *owner_name(const char *name)
{
	if (isempty(name) || streq(name, "root"))
		return NULL;
	return strdup(name);
}

static int fail_member(struct unpack_ctx *c, const char *member, const char *why)
{
	free(c->error);
	if (asprintf(&c->error, "package %s %s: member '%s' %s; refusing to unpack it",
		     c->pkg->name, c->pkg->version, member, why) < 0)
		c->error = NULL;
	return -EBADMSG;
}

static int on_member(const struct archive_member *m, struct archive_member_reader *rd,
		     void *userdata)
{
	struct unpack_ctx *c = userdata;
	_cleanup_(tree_node_freep) struct tree_node *n = NULL;
	_cleanup_free_ char *path = NULL;
	const char *reason = NULL;
	enum tree_node_type type;
	int r;

	r = tree_path_canonicalize(m->path, &path, &reason);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return fail_member(c, m->path, reason);

	switch (m->kind) {
	case ARCHIVE_KIND_DIR:
		type = TREE_DIR;
		break;
	case ARCHIVE_KIND_REG:
	case ARCHIVE_KIND_HARDLINK:
		type = TREE_REG;
		break;
	case ARCHIVE_KIND_SYMLINK:
		type = TREE_SYMLINK;
		if (isempty(m->link))
			return fail_member(c, m->path, "is a symlink without a target");
		break;
	case ARCHIVE_KIND_CHR:
		type = TREE_CHR;
		break;
	case ARCHIVE_KIND_BLK:
		type = TREE_BLK;
		break;
	case ARCHIVE_KIND_FIFO:
		type = TREE_FIFO;
		break;
	default:
		return fail_member(c, m->path, "is of an unsupported type");
	}

	n = tree_node_new(path, type, m->mode, c->pkg->name);
	if (!n)
		return -ENOMEM;
	n->user = owner_name(m->uname);
	n->group = owner_name(m->gname);
	if ((m->uname && !streq(m->uname, "root") && !n->user) ||
	    (m->gname && !streq(m->gname, "root") && !n->group))
		return -ENOMEM;
	if (!m->uname && m->uid != 0)
		return fail_member(c, m->path, "is owned by a numeric uid without a name");
	if (!m->gname && m->gid != 0)
		return fail_member(c, m->path, "is owned by a numeric gid without a name");

	if (m->kind == ARCHIVE_KIND_REG) {
		_cleanup_close_ int fd = -EBADF;
		uint64_t size = 0;

		if (asprintf(&n->source, "%s/%zu-%zu", c->blobs, c->pkg_index, c->member_index++) <
		    0)
			return -ENOMEM;
		fd = open(n->source, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		r = archive_member_copy(rd, fd, &size);
		if (r == -EBADMSG)
			return fail_member(c, m->path, "is damaged (short or corrupt data)");
		if (r < 0)
			return r;
		n->size = size;
		c->out->bytes += size;
		c->out->files++;
	} else if (m->kind == ARCHIVE_KIND_HARDLINK) {
		_cleanup_free_ char *target = NULL;
		struct tree_node *t;

		r = tree_path_canonicalize(m->link, &target, &reason);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			_cleanup_free_ char *why = NULL;
			if (asprintf(&why, "is a hard link whose target '%s' %s", m->link, reason) <
			    0)
				return -ENOMEM;
			return fail_member(c, m->path, why);
		}
		t = hashmap_get(c->files, target);
		if (!t || t->hardlink) {
			_cleanup_free_ char *why = NULL;
			if (asprintf(&why,
				     "is a hard link to '%s', which is not an earlier regular file "
				     "of this package",
				     m->link) < 0)
				return -ENOMEM;
			return fail_member(c, m->path, why);
		}
		n->hardlink = TAKE_PTR(target);
		n->source = strdup(t->source);
		if (!n->source)
			return -ENOMEM;
		n->size = t->size;
	} else if (m->kind == ARCHIVE_KIND_SYMLINK) {
		n->target = strdup(m->link);
		if (!n->target)
			return -ENOMEM;
	} else if (m->kind == ARCHIVE_KIND_CHR || m->kind == ARCHIVE_KIND_BLK) {
		n->dev_major = m->dev_major;
		n->dev_minor = m->dev_minor;
	}

	{
		struct pending *items =
			reallocarray(c->out->items, c->out->n_items + 1, sizeof(*items));
		char *member = strdup(m->path);
		if (!items || !member) {
			free(member);
			return -ENOMEM;
		}
		c->out->items = items;
		if (n->type == TREE_REG && !n->hardlink && hashmap_put(c->files, n->path, n) < 0) {
			free(member);
			return -ENOMEM;
		}
		items[c->out->n_items++] =
			(struct pending){ .node = TAKE_PTR(n), .member = member };
	}
	return 0;
}

int unpack_check_pool(const struct lockfile *lf, const char *pool)
{
	_cleanup_(progress_abortp) struct progress *p = NULL;
	_cleanup_close_ int dir_fd = open(pool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	uint64_t total = 0, done = 0;
	unsigned missing = 0, bad = 0;

	if (dir_fd < 0)
		return log_error_errno(errno,
				       "pool %s: %m; run 'airlock-build fetch' or bring the "
				       "pool",
				       pool);
	for (size_t i = 0; i < lf->n_packages; i++)
		total += lf->packages[i].size;
	p = progress_begin("check pool", total, PROGRESS_BYTES, NULL);

	for (size_t i = 0; i < lf->n_packages; i++) {
		const struct lock_package *pkg = &lf->packages[i];
		_cleanup_free_ char *name = NULL;
		struct pool_check c;
		int r;

		if (lock_package_pool_name(pkg, &name) < 0)
			return log_oom();
		r = pool_check_package(dir_fd, pkg, &c);
		if (r < 0)
			return log_error_errno(r, "package %s %s: cannot read %s/%s: %m", pkg->name,
					       pkg->version, pool, name);
		if (c.state == POOL_FILE_MISSING) {
			log_error("package %s %s is missing from the pool: %s/%s (expected sha256 "
				  "%s); run 'airlock-build fetch' or bring the pool",
				  pkg->name, pkg->version, pool, name, pkg->sha256);
			missing++;
		} else if (c.state != POOL_FILE_OK) {
			log_error("package %s %s: %s/%s %s", pkg->name, pkg->version, pool, name,
				  c.problem);
			bad++;
		}
		done += pkg->size;
		progress_update(p, done);
	}
	if (missing || bad) {
		log_error("pool %s: %u package(s) missing, %u corrupt; nothing was built", pool,
			  missing, bad);
		return -ENOENT;
	}
	progress_end(TAKE_PTR(p), "%zu packages verified", lf->n_packages);
	return 0;
}

static void unpacked_clear(struct unpacked *u)
{
	for (size_t i = 0; i < u->n_items; i++) {
		tree_node_free(u->items[i].node);
		free(u->items[i].member);
	}
	free(u->items);
	free(u->error);
	*u = (struct unpacked){};
}

struct unpack_shared {
	const struct lockfile *lf;
	const char *pool;
	const char *blobs;
	struct unpacked *results;
	size_t next; /* next package to take */
	bool stop; /* a failure was seen: take no more */
	pthread_mutex_t lock;
	pthread_cond_t done;
};

static void unpack_one(struct unpack_shared *sh, size_t i)
{
	const struct lock_package *pkg = &sh->lf->packages[i];
	struct unpacked *u = &sh->results[i];
	_cleanup_(hashmap_freep) struct hashmap *files = hashmap_new();
	_cleanup_free_ char *name = NULL, *path = NULL, *error = NULL;
	struct unpack_ctx c = { .pkg = pkg, .blobs = sh->blobs, .pkg_index = i, .out = u };
	int r;

	if (!files || lock_package_pool_name(pkg, &name) < 0 ||
	    !(path = path_join(sh->pool, name))) {
		u->r = -ENOMEM;
		return;
	}
	c.files = files;
	r = archive_deb_read_data(path, on_member, &c, &error);
	if (r >= 0)
		return;
	u->r = r;
	if (c.error)
		u->error = TAKE_PTR(c.error);
	else if (asprintf(&u->error, "package %s %s (%s): %s", pkg->name, pkg->version, path,
			  error ?: strerror(-r)) < 0)
		u->error = NULL;
}

static void *unpack_worker(void *userdata)
{
	struct unpack_shared *sh = userdata;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&sh->lock);
		if (sh->stop || sh->next >= sh->lf->n_packages) {
			pthread_mutex_unlock(&sh->lock);
			return NULL;
		}
		i = sh->next++;
		pthread_mutex_unlock(&sh->lock);

		unpack_one(sh, i);

		pthread_mutex_lock(&sh->lock);
		sh->results[i].done = true;
		if (sh->results[i].r < 0)
			sh->stop = true;
		pthread_cond_broadcast(&sh->done);
		pthread_mutex_unlock(&sh->lock);
	}
}

/* Merges one package's members into the tree, in the order the package stores them. */
static int merge(struct tree *t, const struct lock_package *pkg, struct unpacked *u)
{
	for (size_t k = 0; k < u->n_items; k++) {
		_cleanup_free_ char *error = NULL;
		int r = tree_add(t, TAKE_PTR(u->items[k].node), 0, &error);

		if (r == -ENOMEM)
			return log_oom();
		if (r < 0)
			return log_error("package %s %s: member '%s': %s", pkg->name, pkg->version,
					 u->items[k].member, error ?: strerror(-r)),
			       -EBADMSG;
	}
	return 0;
}

int unpack_packages(const struct lockfile *lf, const char *pool, const char *blobs, struct tree *t)
{
	_cleanup_(progress_abortp) struct progress *p = NULL;
	struct unpack_shared sh = {
		.lf = lf,
		.pool = pool,
		.blobs = blobs,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.done = PTHREAD_COND_INITIALIZER,
	};
	pthread_t threads[4];
	size_t n_threads = 0, want;
	char size_buf[FORMAT_BYTES_MAX];
	uint64_t files = 0, bytes = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int r = 0;

	r = mkdir_p(blobs, 0755);
	if (r < 0)
		return log_error_errno(r, "unpack: cannot create %s: %m", blobs);
	sh.results = new0(struct unpacked, lf->n_packages);
	if (!sh.results)
		return log_oom();

	/* Decompression runs on every core; merging stays in lock order, on this thread,
	 * so conflicts and the error reported are the same however the work is split. */
	want = (size_t)MAX(1L, MIN(cpus, (long)ELEMENTSOF(threads)));
	for (size_t i = 0; i < want; i++) {
		if (pthread_create(&threads[i], NULL, unpack_worker, &sh) != 0)
			break;
		n_threads++;
	}
	if (n_threads == 0) {
		r = log_error_errno(EAGAIN, "unpack: cannot start a worker thread: %m");
		goto out;
	}

	p = progress_begin("unpack", lf->n_packages, PROGRESS_COUNT, "packages");
	for (size_t i = 0; i < lf->n_packages && r >= 0; i++) {
		struct unpacked *u = &sh.results[i];

		pthread_mutex_lock(&sh.lock);
		while (!u->done && !(sh.stop && i >= sh.next))
			pthread_cond_wait(&sh.done, &sh.lock);
		pthread_mutex_unlock(&sh.lock);
		if (!u->done) {
			/* Never taken: the workers stopped after a failure, which was in a
			 * package taken earlier, so this loop has already reported it. */
			r = -ECANCELED;
			break;
		}
		if (u->r < 0) {
			if (u->r == -ENOMEM)
				r = log_oom();
			else {
				log_error("%s", strna(u->error));
				r = -EBADMSG;
			}
			break;
		}
		r = merge(t, &lf->packages[i], u);
		files += u->files;
		bytes += u->bytes;
		unpacked_clear(u);
		progress_update(p, i + 1);
	}

out:
	pthread_mutex_lock(&sh.lock);
	if (r < 0)
		sh.stop = true;
	pthread_mutex_unlock(&sh.lock);
	for (size_t i = 0; i < n_threads; i++)
		pthread_join(threads[i], NULL);
	for (size_t i = 0; i < lf->n_packages; i++)
		unpacked_clear(&sh.results[i]);
	free(sh.results);
	if (r < 0)
		return r;
	progress_end(TAKE_PTR(p), "%zu packages, %" PRIu64 " files, %s", lf->n_packages, files,
		     format_bytes(size_buf, sizeof(size_buf), bytes));
	return 0;
}
