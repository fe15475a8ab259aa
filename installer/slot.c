/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage 4: slot A. root-a and verity-a are copied from the medium's partitions into
 * the target's (buffered writes, each 64 MiB window's writeback started at once with
 * sync_file_range so that reading the next chunks overlaps writing, then fdatasync),
 * and the copy is
 * then verified block by block against the root hash the running system booted with
 * (verity_verify() over the target's partitions, read back from the disk, not from
 * the page cache). A mismatch stops the install: the medium or the target is bad.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "core/fd.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/loop.h"
#include "ext/verity.h"
#include "installer.h"

#define COPY_CHUNK_BYTES (UINT64_C(4) << 20)
#define COPY_WINDOW_BYTES (UINT64_C(64) << 20)

volatile sig_atomic_t install_interrupted;

int slot_copy(const struct install_source *s, int fd, const struct install_plan *plan,
	      enum plan_part part, const struct install_progress *progress, enum install_step step,
	      char **ret_error)
{
	const struct disklabel_part *from = part == PLAN_ROOT_A ? s->root : s->verity;
	const struct disklabel_part *to = plan_partition(plan, part);
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_close_ int in = -EBADF;
	uint64_t done = 0, synced = 0, total;
	int r;

	if (!from || !to || (part != PLAN_ROOT_A && part != PLAN_VERITY_A))
		return -EINVAL;
	total = from->size_bytes;
	if (total > to->size_bytes)
		return error_replace(ret_error, -EFBIG,
				     "%s: the medium's partition (%" PRIu64
				     " bytes) does not fit the target's (%" PRIu64 " bytes)",
				     to->name, total, to->size_bytes);
	in = open(s->path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return error_replace(ret_error, -errno, "%s: '%s': %m", to->name, s->path);
	(void)posix_fadvise(in, (off_t)from->start_bytes, (off_t)total, POSIX_FADV_SEQUENTIAL);
	if (posix_memalign((void **)&buf, 4096, COPY_CHUNK_BYTES) != 0)
		return -ENOMEM;
	if (progress->update)
		progress->update(progress->userdata, step, 0, total);

	while (done < total) {
		size_t n = (size_t)MIN(COPY_CHUNK_BYTES, total - done);

		if (install_interrupted)
			return error_replace(ret_error, -EINTR, "%s: interrupted", to->name);
		r = pread_exact(in, buf, n, from->start_bytes + done);
		if (r < 0)
			return error_replace(ret_error, r, "%s: reading '%s' at %" PRIu64 ": %s",
					     to->name, s->path, from->start_bytes + done,
					     strerror(-r));
		r = pwrite_all(fd, buf, n, to->start_bytes + done);
		if (r < 0)
			return error_replace(ret_error, r, "%s: writing at %" PRIu64 ": %s",
					     to->name, to->start_bytes + done, strerror(-r));
		done += n;
		/* Start writing back each window at once, without waiting for it: the device
		 * works while the next chunks are read; fdatasync() below waits for all. */
		if (done - synced >= COPY_WINDOW_BYTES || done == total) {
			(void)sync_file_range(fd, (off_t)(to->start_bytes + synced),
					      (off_t)(done - synced), SYNC_FILE_RANGE_WRITE);
			synced = done;
		}
		if (progress->update && done < total)
			progress->update(progress->userdata, step, done, total);
	}
	if (fdatasync(fd) < 0)
		return error_replace(ret_error, -errno, "%s: fdatasync: %m", to->name);
	/* Done means on the disk: the last update comes after fdatasync. */
	if (progress->update)
		progress->update(progress->userdata, step, total, total);
	/* Drop the cached copy so that verification reads what is on the disk. */
	(void)posix_fadvise(fd, (off_t)to->start_bytes, (off_t)total, POSIX_FADV_DONTNEED);
	return 0;
}

int slot_verify(const struct install_disk *target, const struct install_plan *plan,
		const uint8_t root_hash[32], char **ret_error)
{
	const struct disklabel_part *root = plan_partition(plan, PLAN_ROOT_A);
	const struct disklabel_part *verity = plan_partition(plan, PLAN_VERITY_A);
	_cleanup_close_ int root_fd = -EBADF, verity_fd = -EBADF;
	_cleanup_free_ char *root_node = NULL, *verity_node = NULL;
	char hex[65];
	int r;

	hex_to_buf(root_hash, 32, hex);
	r = loop_device_attach(target->node, root->start_bytes, root->size_bytes, true, &root_fd,
			       &root_node);
	if (r >= 0)
		r = loop_device_attach(target->node, verity->start_bytes, verity->size_bytes, true,
				       &verity_fd, &verity_node);
	if (r < 0)
		return error_replace(ret_error, r, "verify: a loop device over %s: %s",
				     target->node, strerror(-r));
	r = verity_verify(root_node, verity_node, root_hash);
	if (r == -EPERM)
		return error_replace(ret_error, r,
				     "verify: root-a and verity-a on %s do not match the root hash "
				     "%s: the medium or the target disk is damaged",
				     target->node, hex);
	if (r < 0)
		return error_replace(ret_error, r, "verify: root-a/verity-a on %s: %s",
				     target->node, strerror(-r));
	log_debug("verify: %s: root-a matches %s", target->node, hex);
	return 0;
}
