/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bootdisk.h"
#include "cmdline.h"
#include "core/error.h"
#include "core/fileio.h"
#include "core/parse.h"
#include "core/path.h"
#include "core/strv.h"

/* Longer than any sysfs attribute read here. */
#define SYSFS_LINE_MAX 4096

/* libcryptsetup's device-mapper UUID prefix of a verity device. */
#define DM_UUID_VERITY_PREFIX "CRYPT-VERITY-"

void bootdisk_done(struct bootdisk *d)
{
	if (!d)
		return;
	free(d->disk);
	free(d->node);
	free(d->dm_name);
	for (size_t i = 0; i < ELEMENTSOF(d->parts); i++)
		free(d->parts[i].name);
	*d = (struct bootdisk){};
}

/*
 * Scans mountinfo(5): with mount_point, the major:minor of the last mount there; with
 * devnum, the first mount point of that device. *ret NULL: none.
 */
static int mountinfo_find_options(const char *mountinfo, const char *mount_point,
				  const char *devnum, char **ret, char **ret_options,
				  char **ret_error)
{
	_cleanup_free_ char *text = NULL, *found = NULL, *options = NULL;
	_cleanup_strv_free_ char **lines = NULL;
	int r;

	r = read_full_file(mountinfo, 16U << 20, &text, NULL);
	if (r < 0)
		return error_set(ret_error, r, "%s: %s", mountinfo, strerror(-r));
	r = strv_split(text, "\n", &lines);
	if (r < 0)
		return r;
	STRV_FOREACH(l, lines) {
		_cleanup_strv_free_ char **f = NULL;

		r = strv_split(*l, " ", &f);
		if (r < 0)
			return r;
		if (strv_length(f) < 5)
			continue;
		if (mount_point && streq(f[4], mount_point)) {
			free(found);
			free(options);
			found = strdup(f[2]);
			options = strdup(strv_length(f) > 5 ? f[5] : "");
			if (!options)
				return -ENOMEM;
		} else if (devnum && streq(f[2], devnum)) {
			found = strdup(f[4]);
			if (!found)
				return -ENOMEM;
			break;
		} else
			continue;
		if (!found)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(found);
	if (ret_options)
		*ret_options = TAKE_PTR(options);
	return 0;
}

static int mountinfo_find(const char *mountinfo, const char *mount_point, const char *devnum,
			  char **ret, char **ret_error)
{
	return mountinfo_find_options(mountinfo, mount_point, devnum, ret, NULL, ret_error);
}

int bootdisk_root_read_only(const char *root, char **ret_error)
{
	_cleanup_free_ char *mountinfo = path_join(root ?: "/", "/proc/1/mountinfo"), *found = NULL,
			    *options = NULL;
	_cleanup_strv_free_ char **o = NULL;
	int r;

	if (!mountinfo)
		return -ENOMEM;
	r = mountinfo_find_options(mountinfo, "/", NULL, &found, &options, ret_error);
	if (r < 0)
		return r;
	if (!found)
		return error_set(ret_error, -ENODEV, "%s: nothing is mounted on /", mountinfo);
	r = strv_split(options, ",", &o);
	if (r < 0)
		return r;
	return strv_contains(o, "ro") ? 1 : 0;
}

/* The major:minor of the file system mounted on / (the last mount there wins). */
static int root_devnum(const char *mountinfo, char **ret, char **ret_error)
{
	_cleanup_free_ char *found = NULL;
	int r;

	r = mountinfo_find(mountinfo, "/", NULL, &found, ret_error);
	if (r < 0)
		return r;
	if (!found)
		return error_set(ret_error, -ENODEV, "%s: nothing is mounted on /", mountinfo);
	{
		unsigned major, minor;
		char extra;

		if (sscanf(found, "%u:%u%c", &major, &minor, &extra) != 2)
			return error_set(ret_error, -EINVAL, "%s: '%s' is not MAJOR:MINOR",
					 mountinfo, found);
	}
	*ret = TAKE_PTR(found);
	return 0;
}

/*
 * One of the verity device's underlying devices, slaves/NAME: a partition (it has a
 * "partition" file) whose directory lies in its disk's directory.
 */
static int read_part(const char *slaves, const char *name, struct bootdisk_part *ret_part,
		     char **ret_disk, char **ret_error)
{
	_cleanup_free_ char *link = path_join(slaves, name), *real = NULL, *number_file = NULL,
			    *start_file = NULL, *number = NULL, *start = NULL, *parent = NULL,
			    *copy = NULL, *disk = NULL;
	unsigned n;
	uint64_t sectors;
	int r;

	if (!link)
		return -ENOMEM;
	real = realpath(link, NULL);
	if (!real)
		return error_set(ret_error, -errno, "%s: %s", link, strerror(errno));
	number_file = path_join(real, "partition");
	start_file = path_join(real, "start");
	if (!number_file || !start_file)
		return -ENOMEM;
	r = read_line_file(number_file, SYSFS_LINE_MAX, &number);
	if (r == -ENOENT)
		return error_set(ret_error, -ENODEV,
				 "/ is verified from %s, which is not a partition of a disk", name);
	if (r < 0)
		return error_set(ret_error, r, "%s: %s", number_file, strerror(-r));
	if (safe_atou(number, &n) < 0 || n == 0)
		return error_set(ret_error, -EINVAL, "%s: '%s' is not a partition number",
				 number_file, number);
	r = read_line_file(start_file, SYSFS_LINE_MAX, &start);
	if (r < 0)
		return error_set(ret_error, r, "%s: %s", start_file, strerror(-r));
	if (safe_atou64(start, &sectors) < 0 || sectors > UINT64_MAX / 512)
		return error_set(ret_error, -EINVAL, "%s: '%s' is not a sector number", start_file,
				 start);
	r = path_parent(real, &parent);
	if (r < 0)
		return r;
	disk = strdup(path_last(parent));
	copy = strdup(name);
	if (!disk || !copy)
		return -ENOMEM;
	if (isempty(disk) || streq(disk, "block"))
		return error_set(ret_error, -ENODEV, "%s: no disk above partition %s", real, name);
	*ret_part = (struct bootdisk_part){ .name = TAKE_PTR(copy),
					    .number = n,
					    .start_bytes = sectors * 512 };
	*ret_disk = TAKE_PTR(disk);
	return 0;
}

int bootdisk_find(const char *root, struct bootdisk *ret, char **ret_error)
{
	_cleanup_free_ char *slot_file = NULL, *mountinfo = NULL, *devnum = NULL, *sysdev = NULL,
			    *dm_name_file = NULL, *dm_uuid_file = NULL, *slaves = NULL,
			    *dm_uuid = NULL;
	_cleanup_strv_free_ char **names = NULL;
	struct bootdisk d = {};
	struct dirent *de;
	DIR *dir;
	int r;

	if (!root)
		root = "/";
	slot_file = path_join(root, BOOT_SLOT_PATH);
	mountinfo = path_join(root, "/proc/self/mountinfo");
	if (!slot_file || !mountinfo)
		return -ENOMEM;
	r = boot_slot_load(slot_file, &d.slot);
	if (r == -ENOENT)
		return error_set(ret_error, r,
				 "%s does not exist: this system was not booted by airlock-init",
				 slot_file);
	if (r < 0)
		return error_set(ret_error, r, "%s: %s", slot_file,
				 r == -EINVAL ? "not 'a' or 'b'" : strerror(-r));

	r = root_devnum(mountinfo, &devnum, ret_error);
	if (r < 0)
		return r;
	sysdev = path_join(root, "/sys/dev/block", devnum);
	if (!sysdev)
		return -ENOMEM;
	dm_name_file = path_join(sysdev, "dm/name");
	dm_uuid_file = path_join(sysdev, "dm/uuid");
	slaves = path_join(sysdev, "slaves");
	if (!dm_name_file || !dm_uuid_file || !slaves)
		return -ENOMEM;
	r = read_line_file(dm_name_file, SYSFS_LINE_MAX, &d.dm_name);
	if (r == -ENOENT)
		r = error_set(ret_error, -ENODEV,
			      "/ (device %s) is not a device-mapper device: not a verified root",
			      devnum);
	else if (r < 0)
		r = error_set(ret_error, r, "%s: %s", dm_name_file, strerror(-r));
	if (r >= 0) {
		r = read_line_file(dm_uuid_file, SYSFS_LINE_MAX, &dm_uuid);
		if (r < 0)
			r = error_set(ret_error, r, "%s: %s", dm_uuid_file, strerror(-r));
		else if (!startswith(dm_uuid, DM_UUID_VERITY_PREFIX))
			r = error_set(
				ret_error, -ENODEV,
				"/ is on device-mapper device '%s' (uuid %s), not a dm-verity "
				"device",
				d.dm_name, dm_uuid);
	}
	if (r < 0)
		goto fail;

	dir = opendir(slaves);
	if (!dir) {
		r = error_set(ret_error, -errno, "%s: %s", slaves, strerror(errno));
		goto fail;
	}
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.' && strv_extend(&names, de->d_name) < 0) {
			closedir(dir);
			r = -ENOMEM;
			goto fail;
		}
	closedir(dir);
	strv_sort(names);
	if (strv_length(names) != 2) {
		_cleanup_free_ char *joined = strv_join(names, " ");
		r = error_set(
			ret_error, -ENODEV,
			"dm-verity device '%s' on / has %zu underlying devices (%s), not a root "
			"and a verity partition",
			d.dm_name, strv_length(names), strempty(joined));
		goto fail;
	}
	for (size_t i = 0; i < 2; i++) {
		_cleanup_free_ char *disk = NULL;

		r = read_part(slaves, names[i], &d.parts[i], &disk, ret_error);
		if (r < 0)
			goto fail;
		if (!d.disk)
			d.disk = TAKE_PTR(disk);
		else if (!streq(d.disk, disk)) {
			r = error_set(
				ret_error, -ENODEV,
				"the root and verity partitions of / are on two disks: %s and %s",
				d.disk, disk);
			goto fail;
		}
	}
	if (d.parts[0].number > d.parts[1].number) {
		struct bootdisk_part t = d.parts[0];
		d.parts[0] = d.parts[1];
		d.parts[1] = t;
	}
	d.node = path_join(root, "/dev", d.disk);
	if (!d.node) {
		r = -ENOMEM;
		goto fail;
	}
	*ret = d;
	return 0;
fail:
	bootdisk_done(&d);
	return r;
}

unsigned bootdisk_part_at(const struct bootdisk *d, uint64_t start_bytes)
{
	for (size_t i = 0; i < ELEMENTSOF(d->parts); i++)
		if (d->parts[i].name && d->parts[i].start_bytes == start_bytes)
			return d->parts[i].number;
	return 0;
}

int bootdisk_part_mounted(const char *root, const struct bootdisk *d, unsigned number,
			  char **ret_where)
{
	_cleanup_free_ char *dir = NULL, *mountinfo = NULL, *devnum = NULL, *where = NULL;
	struct dirent *de;
	DIR *dd;
	int r = 0;

	if (!root)
		root = "/";
	dir = path_join(root, "/sys/class/block", d->disk);
	mountinfo = path_join(root, "/proc/self/mountinfo");
	if (!dir || !mountinfo)
		return -ENOMEM;
	dd = opendir(dir);
	if (!dd)
		return -errno;
	while ((de = readdir(dd)) && !devnum) {
		_cleanup_free_ char *nf = NULL, *df = NULL, *n = NULL;
		unsigned k;

		if (de->d_name[0] == '.')
			continue;
		nf = path_join(dir, de->d_name, "partition");
		df = path_join(dir, de->d_name, "dev");
		if (!nf || !df) {
			r = -ENOMEM;
			break;
		}
		if (read_line_file(nf, SYSFS_LINE_MAX, &n) < 0 || safe_atou(n, &k) < 0 ||
		    k != number)
			continue;
		r = read_line_file(df, SYSFS_LINE_MAX, &devnum);
		break;
	}
	closedir(dd);
	if (r < 0)
		return r;
	if (!devnum)
		return -ENOENT;
	r = mountinfo_find(mountinfo, NULL, devnum, &where, NULL);
	if (r < 0)
		return r;
	if (!where)
		return 0;
	*ret_where = TAKE_PTR(where);
	return 1;
}
