/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which disks may be the target, and which one an answer file names. Pure: it decides
 * over what disks.c probed, so that the rules that keep the wrong disk from being
 * wiped are unit-tested. The rules: never the installer's boot medium (the disk
 * systemd-boot was loaded from, or the medium given with --source), never a disk with
 * a partition in use, never a read-only or too small disk; a criterion that matches
 * more than one disk chooses none.
 */
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/parse.h"
#include "core/strv.h"
#include "installer.h"

const char *install_disk_name(const struct install_disk *d)
{
	const char *s = strrchr(d->node, '/');
	return s ? s + 1 : d->node;
}

static int refuse(struct install_disk *d, const char *fmt, ...) _printf_(2, 3);
static int refuse(struct install_disk *d, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return -ENOMEM;
	free(d->refusal);
	d->refusal = s;
	return 0;
}

/* 0: not the medium; 1: the medium itself; 2: a device over it, or one it is on. */
static int is_source(const struct install_disk *d, const struct boot_facts *f)
{
	if (d->is_file ? f->source_file_ino != 0 && d->file_dev == f->source_file_dev &&
				 d->file_ino == f->source_file_ino :
			 f->source_devnum != 0 && d->devnum == f->source_devnum)
		return 1;
	if (stat_ids_overlap(d->backing, d->n_backing, f->source_backing, f->n_source_backing))
		return 2;
	return 0;
}

int disks_decide(struct install_disk *disks, size_t n, const struct boot_facts *f)
{
	for (size_t i = 0; i < n; i++) {
		struct install_disk *d = &disks[i];
		char a[FORMAT_BYTES_MAX], b[FORMAT_BYTES_MAX];
		int r = 0, src;

		if (d->refusal)
			continue; /* already refused when probed (unreadable) */
		if (f->boot_part_uuid && strv_contains(d->part_uuids, f->boot_part_uuid))
			r = refuse(
				d,
				"it is the installer's boot medium: systemd-boot was started from "
				"its partition %s",
				f->boot_part_uuid);
		else if ((src = is_source(d, f)) > 0)
			r = refuse(d, "it is the installer medium the image is read from%s",
				   src == 2 ? " (a loop, partition or mapped device and what it "
					      "is on: one of them is the medium)" :
					      "");
		else if (d->mounted && d->mounted[0])
			r = refuse(d, "it is in use: %s", d->mounted[0]);
		else if (d->read_only)
			r = refuse(d, "it is read-only");
		else if (d->size_bytes < f->min_disk_bytes)
			r = refuse(d, "it is too small: %s, the image needs at least %s",
				   format_bytes(a, sizeof(a), d->size_bytes),
				   format_bytes(b, sizeof(b), f->min_disk_bytes));
		if (r < 0)
			return r;
	}
	return 0;
}

static bool matches(const struct install_disk *d, const struct disk_match *m)
{
	if (m->path && !streq(m->path, d->node))
		return false;
	if (m->id && !strv_contains(d->by_id, m->id))
		return false;
	if (m->model && (!d->model || fnmatch(m->model, d->model, 0) != 0))
		return false;
	if (m->serial && !streq_ptr(m->serial, d->serial))
		return false;
	if (m->size_bytes && d->size_bytes != m->size_bytes)
		return false;
	if (m->min_size_bytes && d->size_bytes < m->min_size_bytes)
		return false;
	if (m->max_size_bytes && d->size_bytes > m->max_size_bytes)
		return false;
	return true;
}

/* "/dev/sda (8.0 GiB, QEMU HARDDISK)" */
static char *one_line(const struct install_disk *d)
{
	char size[FORMAT_BYTES_MAX], *s;

	if (asprintf(&s, "%s (%s%s%s)", d->node, format_bytes(size, sizeof(size), d->size_bytes),
		     d->model ? ", " : "", strempty(d->model)) < 0)
		return NULL;
	return s;
}

int disks_select(const struct install_disk *disks, size_t n, const struct disk_match *m,
		 size_t *ret_index, char **ret_error)
{
	_cleanup_strv_free_ char **candidates = NULL, **refused = NULL, **seen = NULL;
	_cleanup_free_ char *criteria = disk_match_describe(m), *list = NULL;
	size_t found = SIZE_MAX;
	int r;

	if (!criteria)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *line = one_line(&disks[i]);
		if (!line)
			return -ENOMEM;
		if ((r = strv_extend(&seen, line)) < 0)
			return r;
		if (!matches(&disks[i], m))
			continue;
		if (disks[i].refusal) {
			r = strv_extendf(&refused, "%s: %s", line, disks[i].refusal);
			if (r < 0)
				return r;
			continue;
		}
		if ((r = strv_extend(&candidates, line)) < 0)
			return r;
		found = i;
	}

	if (strv_length(candidates) == 1) {
		*ret_index = found;
		return 0;
	}
	if (strv_length(candidates) > 1) {
		list = strv_join(candidates, "; ");
		return error_replace(
			ret_error, -ENOTUNIQ,
			"%zu disks match %s: %s. Nothing was changed; name the disk "
			"so that exactly one matches (disk-id or disk, or add disk-model, "
			"disk-serial, disk-size)",
			strv_length(candidates), criteria, strna(list));
	}
	if (refused) {
		list = strv_join(refused, "; ");
		return error_replace(ret_error, -EPERM,
				     "the disk matching %s cannot be the target: %s. Nothing was "
				     "changed",
				     criteria, strna(list));
	}
	list = seen ? strv_join(seen, "; ") : strdup("none");
	return error_replace(ret_error, -ENOENT,
			     "no disk matches %s; disks found: %s. Nothing was changed", criteria,
			     strna(list));
}

int disk_describe_contents(const struct install_disk *d, char ***ret_lines)
{
	_cleanup_strv_free_ char **l = NULL;
	char size[FORMAT_BYTES_MAX];
	int r = 0;

	if (d->table_type)
		r = strv_extendf(&l, "the %s partition table",
				 streq(d->table_type, "dos") ? "MBR (dos)" : d->table_type);
	if (r >= 0 && d->fs_type)
		r = strv_extendf(&l, "a %s file system%s%s%s on the whole disk", d->fs_type,
				 d->fs_label ? " '" : "", strempty(d->fs_label),
				 d->fs_label ? "'" : "");
	for (size_t i = 0; r >= 0 && i < d->n_parts; i++) {
		const struct install_part *p = &d->parts[i];
		_cleanup_free_ char *fs = NULL;

		if (p->fs_type) {
			if (asprintf(&fs, "%s%s%s%s", p->fs_type, p->fs_label ? " '" : "",
				     strempty(p->fs_label), p->fs_label ? "'" : "") < 0)
				return -ENOMEM;
		}
		r = strv_extendf(&l, "partition %u%s%s%s: %s, %s", p->number, p->name ? " '" : "",
				 strempty(p->name), p->name ? "'" : "",
				 fs ?: "no file system recognized",
				 format_bytes(size, sizeof(size), p->size_bytes));
	}
	if (r >= 0 && !l)
		r = strv_extend(&l, "no partition table or file system recognized; whatever is "
				    "on it is erased all the same");
	if (r < 0)
		return r;
	*ret_lines = TAKE_PTR(l);
	return 0;
}
