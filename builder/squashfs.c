/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The squashfs stage: the tree becomes one canonical tar stream — entries sorted
 * by path, owners resolved against the image's own passwd/group, every mtime the
 * lock's SOURCE_DATE_EPOCH, no extended attributes — piped into mksquashfs in tar mode
 * (sqfstar), which builds root.squashfs without root privileges. The stream's sha256 identifies the
 * image's content; the verity salt is derived from it.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "builder.h"
#include "core/fd.h"
#include "core/hashmap.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/progress.h"
#include "core/run.h"
#include "ext/archive.h"
#include "ext/crypto.h"
#include "sysusers.h"
#include "tree.h"

struct tar_sink {
	int fd;
	struct sha256_ctx sha;
	uint64_t bytes;
	struct progress *progress;
};

static int sink_write(const void *buf, size_t n, void *userdata)
{
	struct tar_sink *s = userdata;
	int r = sha256_update(&s->sha, buf, n);

	if (r < 0)
		return r;
	r = loop_write(s->fd, buf, n);
	if (r < 0)
		return r;
	s->bytes += n;
	progress_update(s->progress, s->bytes);
	return 0;
}

static int resolve_owner(const struct tree_node *n, const struct sysusers *users,
			 struct archive_member *m)
{
	uid_t uid = 0;
	gid_t gid = 0;

	if (n->user && sysusers_uid(users, n->user, &uid) < 0)
		return log_error("squashfs: /%s (from %s) is owned by user '%s', which the image "
				 "does not have; declare it in the manifest's [users]",
				 n->path, n->origin, n->user),
		       -ENOENT;
	if (n->group && sysusers_gid(users, n->group, &gid) < 0)
		return log_error("squashfs: /%s (from %s) belongs to group '%s', which the image "
				 "does not have; declare it in the manifest's [users]",
				 n->path, n->origin, n->group),
		       -ENOENT;
	m->uid = uid;
	m->gid = gid;
	m->uname = n->user ?: "root";
	m->gname = n->group ?: "root";
	return 0;
}

/* For each hard-link group the first path in sorted order carries the content. */
static int hardlink_leaders(struct tree_node **nodes, size_t n, struct hashmap **ret)
{
	_cleanup_(hashmap_freep) struct hashmap *leader = hashmap_new();

	if (!leader)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *group = nodes[i]->type == TREE_REG ? (nodes[i]->hardlink ?: NULL) :
								 NULL;
		if (!group)
			continue;
		/* Group key: the original file's path; value: the first path seen, which
		 * is the smallest because nodes are sorted. The original itself counts. */
		if (!hashmap_get(leader, group)) {
			const char *first = strcmp(group, nodes[i]->path) < 0 ? group :
										nodes[i]->path;
			if (hashmap_put(leader, group, (void *)first) < 0)
				return -ENOMEM;
		}
	}
	*ret = TAKE_PTR(leader);
	return 0;
}

int squashfs_build(const struct tree *t, const struct sysusers *users, int64_t epoch,
		   const char *out_path, struct squashfs_result *ret)
{
	_cleanup_free_ struct tree_node **nodes = NULL;
	_cleanup_(hashmap_freep) struct hashmap *leaders = NULL;
	_cleanup_free_ char *error = NULL;
	struct archive_tar_writer *w = NULL;
	struct run_proc proc = { .pid = 0 };
	/* userns_root: mksquashfs gives the root directory its caller's ids whatever -root-uid
	 * says (squashfs-tools 4.5.1); as uid 0 of a user namespace that is root. */
	struct run_opts opts = { .stdin_mode = RUN_STDIO_PIPE,
				 .timeout_sec = 3600,
				 .userns_root = true };
	struct tar_sink sink = { .fd = -EBADF };
	uint64_t total = 0;
	size_t n, entries = 0;
	char size_buf[FORMAT_BYTES_MAX];
	struct stat st;
	bool spawned = false;
	int r;

	r = tree_sorted(t, &nodes, &n);
	if (r < 0)
		return log_oom();
	r = hardlink_leaders(nodes, n, &leaders);
	if (r < 0)
		return log_oom();
	for (size_t i = 0; i < n; i++)
		total += nodes[i]->type == TREE_REG ? nodes[i]->size + 512 : 512;

	{
		/*
		 * mksquashfs in tar mode is sqfstar: sqfstar 4.5.1 rejects every compressor
		 * option (squashfs-tools bug #191, fixed after 4.5.1), mksquashfs -tar does not.
		 * zstd level 9: measured on the default image, 7 s of CPU for 93 MiB where the
		 * default level 15 takes 54 s for 87 MiB. Timestamps come from
		 * SOURCE_DATE_EPOCH (run_argv() sets it; -mkfs-time may not be given with it).
		 */
		const char *argv[] = {
			"mksquashfs",
			"-",
			out_path,
			"-tar",
			"-noappend",
			"-comp",
			"zstd",
			"-Xcompression-level",
			"9",
			"-root-mode",
			"0755",
			"-no-xattrs",
			"-exit-on-error",
			"-quiet",
			"-no-progress",
			NULL,
		};
		(void)unlink(out_path);
		r = run_spawn(argv, &opts, &proc);
		if (r == -ENOENT)
			return log_error("squashfs: mksquashfs not found (install squashfs-tools)"),
			       r;
		if (r < 0)
			return log_error_errno(r, "squashfs: cannot start mksquashfs: %m");
		spawned = true;
	}
	sink.fd = proc.stdin_fd;
	r = sha256_init(&sink.sha);
	if (r < 0)
		goto fail;
	sink.progress = progress_begin("squashfs", total, PROGRESS_BYTES, NULL);
	r = archive_tar_writer_new(sink_write, &sink, &w);
	if (r < 0)
		goto fail;

	for (size_t i = 0; i < n; i++) {
		const struct tree_node *node = nodes[i];
		struct archive_member m = { .path = node->path, .mode = node->mode };
		_cleanup_close_ int fd = -EBADF;
		const char *leader = NULL;

		if (isempty(node->path))
			continue; /* the root directory: -root-mode and the user namespace */
		r = resolve_owner(node, users, &m);
		if (r < 0)
			goto fail;
		switch (node->type) {
		case TREE_DIR:
			m.kind = ARCHIVE_KIND_DIR;
			break;
		case TREE_SYMLINK:
			m.kind = ARCHIVE_KIND_SYMLINK;
			m.link = node->target;
			break;
		case TREE_CHR:
		case TREE_BLK:
			m.kind = node->type == TREE_CHR ? ARCHIVE_KIND_CHR : ARCHIVE_KIND_BLK;
			m.dev_major = node->dev_major;
			m.dev_minor = node->dev_minor;
			break;
		case TREE_FIFO:
			m.kind = ARCHIVE_KIND_FIFO;
			break;
		case TREE_REG:
			leader = hashmap_get(leaders, node->hardlink ?: node->path);
			if (leader && !streq(leader, node->path)) {
				m.kind = ARCHIVE_KIND_HARDLINK;
				m.link = leader;
				break;
			}
			m.kind = ARCHIVE_KIND_REG;
			m.size = node->size;
			fd = open(node->source, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				r = log_error_errno(errno, "squashfs: /%s: %s: %m", node->path,
						    node->source);
				goto fail;
			}
			if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != node->size) {
				log_error("squashfs: /%s: its content changed during the build",
					  node->path);
				r = -EIO;
				goto fail;
			}
			break;
		default:
			r = -EINVAL;
			goto fail;
		}
		r = archive_tar_writer_add(w, &m, epoch, fd);
		if (r < 0) {
			if (r == -EPIPE)
				break; /* mksquashfs died: its message comes from run_proc_wait() */
			r = log_error_errno(r, "squashfs: writing /%s into the tar stream: %m",
					    node->path);
			goto fail;
		}
		entries++;
	}
	r = archive_tar_writer_finish(TAKE_PTR(w));
	if (r < 0 && r != -EPIPE) {
		log_error_errno(r, "squashfs: finishing the tar stream: %m");
		goto fail;
	}
	r = run_proc_wait(&proc, NULL, &error);
	spawned = false;
	if (r < 0) {
		log_error("squashfs: %s", error ?: strerror(-r));
		goto fail;
	}
	r = sha256_final(&sink.sha, ret->content_sha256);
	if (r < 0)
		goto fail;
	if (stat(out_path, &st) < 0) {
		r = log_error_errno(errno, "squashfs: %s: %m", out_path);
		goto fail;
	}
	ret->tar_size = sink.bytes;
	ret->size = (uint64_t)st.st_size;
	ret->entries = entries;
	progress_end(sink.progress, "%zu entries, %s", entries,
		     format_bytes(size_buf, sizeof(size_buf), ret->size));
	return 0;

fail:
	archive_tar_writer_free(w);
	sha256_done(&sink.sha);
	progress_abort(sink.progress);
	if (spawned)
		run_proc_kill(&proc);
	(void)unlink(out_path);
	return r;
}
