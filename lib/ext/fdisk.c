/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <libfdisk/libfdisk.h>
#include <sys/stat.h>

#include "fdisk.h"

static void context_unrefp(struct fdisk_context **c)
{
	if (*c) {
		(void)fdisk_deassign_device(*c, 1);
		fdisk_unref_context(*c);
	}
}

static void partition_unrefp(struct fdisk_partition **p)
{
	fdisk_unref_partition(*p);
}

static void table_unrefp(struct fdisk_table **t)
{
	fdisk_unref_table(*t);
}

static void parttype_unrefp(struct fdisk_parttype **t)
{
	fdisk_unref_parttype(*t);
}

/* libfdisk returns -errno mostly, sometimes plain -1 or a positive count. */
static int map_error(int r)
{
	return r == -1 ? -EIO : r;
}

static void lowercase(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int copy_string(char *dst, size_t n, const char *src)
{
	size_t l = strlen(strempty(src));

	if (l >= n)
		return -ENAMETOOLONG;
	memcpy(dst, strempty(src), l + 1);
	return 0;
}

struct disklabel *disklabel_free(struct disklabel *d)
{
	if (!d)
		return NULL;
	free(d->parts);
	free(d);
	return NULL;
}

int disklabel_gpt_write(const char *path, const struct disklabel *d)
{
	_cleanup_(context_unrefp) struct fdisk_context *cxt = NULL;
	struct fdisk_label *lb;
	unsigned long ss;
	struct stat st;
	int r;

	cxt = fdisk_new_context();
	if (!cxt)
		return -ENOMEM;
	/* Alignment is decided by the caller's offsets; a 1 MiB grain agrees with them. */
	r = fdisk_save_user_grain(cxt, 1024 * 1024);
	if (r < 0)
		return map_error(r);
	r = fdisk_assign_device(cxt, path, 0);
	if (r < 0)
		return map_error(r);
	(void)fdisk_disable_dialogs(cxt, 1);
	ss = fdisk_get_sector_size(cxt);
	if (ss == 0 || (d->sector_size && d->sector_size != ss))
		return -EINVAL;

	r = fdisk_create_disklabel(cxt, "gpt");
	if (r < 0)
		return map_error(r);
	lb = fdisk_get_label(cxt, "gpt");
	if (!lb)
		return -EIO;
	if (!isempty(d->uuid)) {
		r = fdisk_set_disklabel_id_from_string(cxt, d->uuid);
		if (r < 0)
			return map_error(r);
	}

	for (size_t i = 0; i < d->n_parts; i++) {
		const struct disklabel_part *p = &d->parts[i];
		_cleanup_(partition_unrefp) struct fdisk_partition *pa = NULL;
		_cleanup_(parttype_unrefp) struct fdisk_parttype *t = NULL;
		size_t partno = 0;

		if (p->start_bytes % ss != 0 || p->size_bytes % ss != 0 || p->size_bytes == 0)
			return -EINVAL;
		pa = fdisk_new_partition();
		if (!pa)
			return -ENOMEM;
		t = fdisk_label_parse_parttype(lb, p->type_uuid);
		if (!t)
			return -EINVAL;
		if ((r = fdisk_partition_set_type(pa, t)) < 0 ||
		    (r = fdisk_partition_set_partno(pa, p->partno)) < 0 ||
		    (r = fdisk_partition_set_start(pa, p->start_bytes / ss)) < 0 ||
		    (r = fdisk_partition_set_size(pa, p->size_bytes / ss)) < 0 ||
		    (r = fdisk_partition_size_explicit(pa, 1)) < 0 ||
		    (r = fdisk_partition_set_name(pa, p->name)) < 0)
			return map_error(r);
		if (!isempty(p->uuid) && (r = fdisk_partition_set_uuid(pa, p->uuid)) < 0)
			return map_error(r);
		r = fdisk_add_partition(cxt, pa, &partno);
		if (r < 0)
			return map_error(r);
		if (partno != p->partno)
			return -EIO;
		if (p->attrs != 0 && (r = fdisk_gpt_set_partition_attrs(cxt, partno, p->attrs)) < 0)
			return map_error(r);
	}

	r = fdisk_write_disklabel(cxt);
	if (r < 0)
		return map_error(r);
	if (stat(path, &st) == 0 && S_ISBLK(st.st_mode)) {
		r = fdisk_reread_partition_table(cxt);
		if (r < 0)
			return map_error(r);
	}
	r = fdisk_deassign_device(cxt, 0); /* fsyncs and closes */
	fdisk_unref_context(TAKE_PTR(cxt));
	return r < 0 ? map_error(r) : 0;
}

int disklabel_gpt_read(const char *path, struct disklabel **ret)
{
	_cleanup_(context_unrefp) struct fdisk_context *cxt = NULL;
	_cleanup_(table_unrefp) struct fdisk_table *tb = NULL;
	_cleanup_(disklabel_freep) struct disklabel *d = NULL;
	_cleanup_free_ char *id = NULL;
	unsigned long ss;
	size_t n;
	int r;

	cxt = fdisk_new_context();
	if (!cxt)
		return -ENOMEM;
	r = fdisk_assign_device(cxt, path, 1);
	if (r < 0)
		return map_error(r);
	if (!fdisk_is_labeltype(cxt, FDISK_DISKLABEL_GPT))
		return -ENOMEDIUM;
	ss = fdisk_get_sector_size(cxt);

	d = new0(struct disklabel, 1);
	if (!d)
		return -ENOMEM;
	d->sector_size = (uint32_t)ss;
	d->size_bytes = (uint64_t)fdisk_get_nsectors(cxt) * ss;
	r = fdisk_get_disklabel_id(cxt, &id);
	if (r < 0)
		return map_error(r);
	if ((r = copy_string(d->uuid, sizeof(d->uuid), id)) < 0)
		return r;
	lowercase(d->uuid);

	r = fdisk_get_partitions(cxt, &tb);
	if (r < 0)
		return map_error(r);
	n = fdisk_table_get_nents(tb);
	d->parts = new0(struct disklabel_part, n);
	if (!d->parts)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct fdisk_partition *pa = fdisk_table_get_partition(tb, i);
		struct disklabel_part *p = &d->parts[d->n_parts];
		struct fdisk_parttype *t;

		if (!pa || !fdisk_partition_is_used(pa))
			continue;
		t = fdisk_partition_get_type(pa);
		p->partno = (unsigned)fdisk_partition_get_partno(pa);
		p->start_bytes = (uint64_t)fdisk_partition_get_start(pa) * ss;
		p->size_bytes = (uint64_t)fdisk_partition_get_size(pa) * ss;
		if ((r = copy_string(p->type_uuid, sizeof(p->type_uuid),
				     t ? fdisk_parttype_get_string(t) : NULL)) < 0 ||
		    (r = copy_string(p->uuid, sizeof(p->uuid), fdisk_partition_get_uuid(pa))) < 0 ||
		    (r = copy_string(p->name, sizeof(p->name), fdisk_partition_get_name(pa))) < 0)
			return r;
		lowercase(p->type_uuid);
		lowercase(p->uuid);
		r = fdisk_gpt_get_partition_attrs(cxt, p->partno, &p->attrs);
		if (r < 0)
			return map_error(r);
		d->n_parts++;
	}
	*ret = TAKE_PTR(d);
	return 0;
}
