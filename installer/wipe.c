/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage 1: clear what would make the target look like something it is not. First the
 * data volume headers (an earlier install's, and whatever is where the new one goes),
 * made durable before anything else is touched. Then, before the new table is written:
 * the first and last MiB of the disk (protective MBR, both GPT
 * copies, superblocks at either end of the disk), the first and last MiB of every
 * partition the disk had (file systems, RAID and LUKS signatures at their start or
 * end), the whole LUKS2 header area of the new data partition (an earlier install's
 * header there would claim a complete install at once), and the first MiB of every
 * other new partition. Then fdatasync: the disk claims nothing from here on until the
 * data volume's header is written, last.
 */
#include <inttypes.h>

#include "core/fd.h"
#include "core/log.h"
#include "gpt.h"
#include "installer.h"

#define WIPE_CHUNK_BYTES (UINT64_C(1) << 20)

static int zero_range(int fd, const uint8_t *zeros, uint64_t disk_size, uint64_t offset,
		      uint64_t size)
{
	if (offset >= disk_size)
		return 0;
	size = MIN(size, disk_size - offset);
	while (size > 0) {
		size_t n = (size_t)MIN(size, WIPE_CHUNK_BYTES);
		int r = pwrite_all(fd, zeros, n, offset);

		if (r < 0)
			return r;
		offset += n;
		size -= n;
	}
	return 0;
}

static bool is_data_volume(const struct install_part *p)
{
	return streq_ptr(p->type, GPT_TYPE_VAR) || streq_ptr(p->fs_type, "crypto_LUKS");
}

int wipe_target(int fd, const struct install_disk *target, const struct install_plan *plan,
		char **ret_error)
{
	_cleanup_free_ uint8_t *zeros = calloc(1, WIPE_CHUNK_BYTES);
	const uint64_t size = target->size_bytes, mib = WIPE_CHUNK_BYTES;
	int r;

	if (!zeros)
		return -ENOMEM;

	/*
	 * First the markers: an earlier install's data volume header (the whole LUKS2 header
	 * area, both copies), and the header area of the new data partition. Until they are
	 * gone nothing else is touched, so that a disk killed here is either the earlier
	 * install, whole, or claims nothing.
	 */
	for (size_t i = 0; i < target->n_parts; i++) {
		const struct install_part *p = &target->parts[i];
		if (!is_data_volume(p))
			continue;
		r = zero_range(fd, zeros, size, p->start_bytes,
			       MIN(p->size_bytes, PLAN_LUKS_HEADER_BYTES));
		if (r < 0)
			return error_replace(
				ret_error, r,
				"wipe: %s: clearing the old data volume (partition %u): "
				"%s",
				target->node, p->number, strerror(-r));
	}
	r = zero_range(fd, zeros, size, plan->clear[PLAN_DATA].offset_bytes,
		       plan->clear[PLAN_DATA].size_bytes);
	if (r < 0)
		return error_replace(ret_error, r, "wipe: %s: clearing the start of data: %s",
				     target->node, strerror(-r));
	if (fdatasync(fd) < 0)
		return error_replace(ret_error, -errno, "wipe: %s: fdatasync: %m", target->node);
	install_crash_point("wipe-markers");

	/* Then the old partitions' signatures, before their table goes. */
	for (size_t i = 0; i < target->n_parts; i++) {
		const struct install_part *p = &target->parts[i];
		uint64_t start = p->start_bytes, len = p->size_bytes;

		if ((r = zero_range(fd, zeros, size, start, MIN(len, mib))) < 0 ||
		    (r = zero_range(fd, zeros, size, start + len - MIN(len, mib), MIN(len, mib))) <
			    0)
			return error_replace(ret_error, r,
					     "wipe: %s: clearing old partition %u at %" PRIu64
					     ": %s",
					     target->node, p->number, start, strerror(-r));
	}
	for (int i = 0; i < _PLAN_PART_MAX; i++) {
		r = zero_range(fd, zeros, size, plan->clear[i].offset_bytes,
			       plan->clear[i].size_bytes);
		if (r < 0)
			return error_replace(ret_error, r, "wipe: %s: clearing the start of %s: %s",
					     target->node, plan_part_to_string(i), strerror(-r));
	}
	if ((r = zero_range(fd, zeros, size, size - MIN(size, mib), MIN(size, mib))) < 0 ||
	    (r = zero_range(fd, zeros, size, 0, mib)) < 0)
		return error_replace(ret_error, r, "wipe: %s: clearing the partition tables: %s",
				     target->node, strerror(-r));
	if (fdatasync(fd) < 0)
		return error_replace(ret_error, -errno, "wipe: %s: fdatasync: %m", target->node);
	log_debug("wipe: %s: cleared", target->node);
	return 0;
}
