/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An installed disk as the updater sees it: the GPT (lib/gpt), the ESP's boot entries
 * (lib/fat over mtools, at the partition's offset: no mount, no partition nodes) and
 * what each slot holds. Every change to the disk is followed by fdatasync() of the disk:
 * mtools writes through its own descriptor, into the same page cache.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cmdline.h"
#include "core/fs.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/path.h"
#include "core/strv.h"
#include "ext/json.h"
#include "ext/verity.h"
#include "gpt.h"
#include "pe.h"
#include "update-tool.h"

struct update_disk *update_disk_free(struct update_disk *d)
{
	if (!d)
		return NULL;
	if (d->fd >= 0)
		close(d->fd);
	free(d->path);
	disklabel_free(d->label);
	strv_free(d->entry_files);
	strv_free(d->record_files);
	slot_table_done(&d->slots);
	free(d);
	return NULL;
}

static const struct disklabel_part *find_part(const struct update_disk *d, const char *name,
					      const char *type)
{
	const struct disklabel_part *p = gpt_find(d->label, name);

	if (!p) {
		log_error("%s: no partition named '%s': not a disk laid out by airlock-install",
			  d->path, name);
		return NULL;
	}
	if (!streq(p->type_uuid, type)) {
		log_error("%s: partition '%s' has type %s, expected %s", d->path, name,
			  p->type_uuid, type);
		return NULL;
	}
	return p;
}

int update_disk_reload(struct update_disk *d)
{
	_cleanup_strv_free_ char **all = NULL, **entries = NULL, **records = NULL;
	_cleanup_free_ char *error = NULL;
	struct slot_table t = {};
	int r;

	r = fat_list(&d->esp_volume, &all, &error);
	if (r < 0)
		return log_error_errno(r, "%s: the ESP: %s", d->path, strna(error));
	STRV_FOREACH(f, all) {
		const char *e = startswith(*f, SLOT_ENTRY_DIR "/");
		const char *rec = startswith(*f, UPDATE_RECORD_DIR "/");

		if (e && !strchr(e, '/'))
			r = strv_extend(&entries, e);
		else if (rec && !strchr(rec, '/'))
			r = strv_extend(&records, rec);
		if (r < 0)
			return log_oom();
	}
	r = slot_table_build(entries, NULL, &t, &error);
	if (r < 0)
		return log_error_errno(r, "%s: the ESP: %s", d->path, strna(error));
	if (t.slots[0].file && t.slots[1].file && !streq(t.slots[0].name, t.slots[1].name)) {
		log_error("%s: the slots' boot entries are of two images: %s and %s", d->path,
			  t.slots[0].file, t.slots[1].file);
		slot_table_done(&t);
		return -EINVAL;
	}
	slot_table_done(&d->slots);
	d->slots = t;
	strv_free(d->entry_files);
	d->entry_files = TAKE_PTR(entries);
	strv_free(d->record_files);
	d->record_files = TAKE_PTR(records);
	return 0;
}

int update_disk_open(const char *path, bool writable, const char *running_version,
		     struct update_disk **ret)
{
	return update_disk_open_full(path, writable, running_version, false, ret);
}

int update_disk_open_full(const char *path, bool writable, const char *running_version,
			  bool one_slot, struct update_disk **ret)
{
	_cleanup_(update_disk_freep) struct update_disk *d = NULL;
	struct stat st;
	int r;

	d = new0(struct update_disk, 1);
	if (!d)
		return log_oom();
	d->fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY);
	if (d->fd < 0)
		return log_error_errno(errno, "%s: %m", path);
	if (fstat(d->fd, &st) < 0)
		return log_error_errno(errno, "%s: %m", path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return log_error_errno(EINVAL, "%s: not a disk image file or a block device", path);
	d->path = strdup(path);
	if (!d->path)
		return log_oom();
	r = gpt_read(path, &d->label);
	if (r < 0)
		return log_error_errno(r, "%s: cannot read its GPT: %m", path);
	if (!(d->esp = find_part(d, "esp", GPT_TYPE_ESP)) ||
	    !(d->root[0] = find_part(d, "root-a", GPT_TYPE_ROOT_X86_64)) ||
	    !(d->verity[0] = find_part(d, "verity-a", GPT_TYPE_ROOT_X86_64_VERITY)))
		return -ENODEV;
	/* one_slot: the image as airlock-build writes it (the installer medium) has no slot b */
	if (!one_slot || gpt_find(d->label, "root-b") || gpt_find(d->label, "verity-b"))
		if (!(d->root[1] = find_part(d, "root-b", GPT_TYPE_ROOT_X86_64)) ||
		    !(d->verity[1] = find_part(d, "verity-b", GPT_TYPE_ROOT_X86_64_VERITY)))
			return -ENODEV;
	d->esp_volume = (struct fat_volume){ .path = d->path, .offset_bytes = d->esp->start_bytes };
	r = update_disk_reload(d);
	if (r < 0)
		return r;
	if (running_version) {
		d->running = slot_table_find_version(&d->slots, running_version);
		if (!d->running)
			return log_error_errno(
				ENOENT,
				"%s: no single slot's boot entry carries the running "
				"version %s (a: %s, b: %s)",
				path, running_version, d->slots.slots[0].file ?: "no entry",
				d->slots.slots[1].file ?: "no entry");
	}
	*ret = TAKE_PTR(d);
	return 0;
}

int update_disk_sync(struct update_disk *d, const char *what)
{
	if (fdatasync(d->fd) < 0)
		return log_error_errno(errno, "%s: fdatasync after %s: %m", d->path, what);
	return 0;
}

int update_disk_rename_entry(struct update_disk *d, const char *from, const char *to)
{
	_cleanup_free_ char *a = path_join(SLOT_ENTRY_DIR, from),
			    *b = path_join(SLOT_ENTRY_DIR, to), *error = NULL;
	int r;

	if (!a || !b)
		return log_oom();
	r = fat_rename(&d->esp_volume, a, b, &error);
	if (r < 0)
		return log_error_errno(r, "%s: renaming %s to %s on the ESP: %s", d->path, a, b,
				       strna(error));
	return update_disk_sync(d, "the rename");
}

/* A slot's record on the ESP (airlock/NAME-VERSION-SLOT.json: the slot's manifest, as
 * airlock-update import wrote it); -ENOENT: none. */
static int record_load(struct update_disk *d, const struct slot_entry *e, struct json_object **ret)
{
	_cleanup_free_ char *record = NULL, *tmp = NULL, *copy = NULL, *error = NULL,
			    *fat_path = NULL;
	int r;

	if (asprintf(&record, "%s-%s-%c.json", e->name, e->version, e->slot) < 0)
		return -ENOMEM;
	if (!strv_contains(d->record_files, record))
		return -ENOENT;
	fat_path = path_join(UPDATE_RECORD_DIR, record);
	r = mkdtemp_in(NULL, "airlock-update.", &tmp);
	if (r < 0 || !fat_path)
		return r < 0 ? r : -ENOMEM;
	copy = path_join(tmp, "record.json");
	if (!copy) {
		(void)rm_rf(tmp);
		return -ENOMEM;
	}
	r = fat_copy_out(&d->esp_volume, fat_path, copy, &error);
	if (r >= 0)
		r = json_load_file(copy, 4U << 20, ret, NULL);
	(void)rm_rf(tmp);
	return r;
}

/* The root hash in a record: {"verity": {"root_hash": HEX}}. */
static int root_hash_from_record(struct update_disk *d, const struct slot_entry *e, uint8_t ret[32])
{
	_cleanup_(json_object_putp) struct json_object *o = NULL;
	struct json_object *v, *h;
	int r;

	r = record_load(d, e, &o);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(o, "verity", &v) ||
	    !json_object_object_get_ex(v, "root_hash", &h) ||
	    !json_object_is_type(h, json_type_string) ||
	    unhex_exact(json_object_get_string(h), ret, 32) < 0)
		return -EBADMSG;
	return 0;
}

unsigned update_disk_tries(struct update_disk *d, const struct slot_entry *e)
{
	_cleanup_(json_object_putp) struct json_object *o = NULL;
	struct json_object *t;
	int64_t n;

	if (record_load(d, e, &o) < 0 || !json_object_object_get_ex(o, "tries", &t) ||
	    !json_object_is_type(t, json_type_int))
		return SLOT_ENTRY_TRIES;
	n = json_object_get_int64(t);
	return n >= 1 && n <= SLOT_ENTRY_TRIES_MAX ? (unsigned)n : SLOT_ENTRY_TRIES;
}

/* The root hash on the UKI's command line (airlock.roothash=). */
static int root_hash_from_uki(struct update_disk *d, const struct slot_entry *e, uint8_t ret[32])
{
	_cleanup_free_ char *tmp = NULL, *copy = NULL, *error = NULL, *fat_path = NULL;
	_cleanup_(pe_image_freep) struct pe_image *img = NULL;
	_cleanup_free_ uint8_t *text = NULL;
	size_t n;
	int r;

	fat_path = path_join(SLOT_ENTRY_DIR, e->file);
	r = mkdtemp_in(NULL, "airlock-update.", &tmp);
	if (r < 0 || !fat_path)
		return r < 0 ? r : -ENOMEM;
	copy = path_join(tmp, "uki.efi");
	if (!copy) {
		(void)rm_rf(tmp);
		return -ENOMEM;
	}
	r = fat_copy_out(&d->esp_volume, fat_path, copy, &error);
	if (r >= 0)
		r = pe_load(copy, &img);
	(void)rm_rf(tmp);
	if (r < 0)
		return r;
	r = pe_section_read(img, ".cmdline", &text, &n);
	if (r < 0)
		return r;
	text = realloc(text, n + 1);
	if (!text)
		return -ENOMEM;
	text[n] = '\0';
	r = cmdline_text_root_hash((const char *)text, ret);
	return r == -ENOENT ? -EBADMSG : r;
}

int update_disk_root_hash(struct update_disk *d, const struct slot_entry *e, uint8_t ret[32])
{
	int r = root_hash_from_record(d, e, ret);

	if (r == -ENOMEM)
		return r;
	return r >= 0 ? 0 : root_hash_from_uki(d, e, ret);
}

int update_disk_verify_slot(struct update_disk *d, char slot, const uint8_t root_hash[32])
{
	int i = slot_index(slot);
	_cleanup_close_ int root_fd = -EBADF, verity_fd = -EBADF;
	_cleanup_free_ char *root_node = NULL, *verity_node = NULL;
	int r;

	if (i < 0 || !d->root[i])
		return -EINVAL;
	const struct disklabel_part *root = d->root[i], *verity = d->verity[i];

	/* What is checked is what is on the disk, not what the page cache still holds. */
	(void)posix_fadvise(d->fd, (off_t)root->start_bytes, (off_t)root->size_bytes,
			    POSIX_FADV_DONTNEED);
	(void)posix_fadvise(d->fd, (off_t)verity->start_bytes, (off_t)verity->size_bytes,
			    POSIX_FADV_DONTNEED);
	r = loop_device_attach(d->path, root->start_bytes, root->size_bytes, true, &root_fd,
			       &root_node);
	if (r >= 0)
		r = loop_device_attach(d->path, verity->start_bytes, verity->size_bytes, true,
				       &verity_fd, &verity_node);
	if (r < 0)
		return log_error_errno(r, "%s: a loop device over root-%c/verity-%c: %m", d->path,
				       slot, slot);
	/* No superblock, or one of another tree (e.g. cleared by a refused import): the
	 * slot does not hold the image. */
	r = verity_check_root_hash(verity_node, root_hash);
	if (r < 0 && r != -ENOMEM && r != -EIO) {
		log_debug_errno(r, "%s: verity-%c: %m", d->path, slot);
		return -EPERM;
	}
	r = verity_verify(root_node, verity_node, root_hash);
	if (r < 0 && r != -EPERM)
		return log_error_errno(r, "%s: checking root-%c against verity-%c: %m", d->path,
				       slot, slot);
	return r;
}
