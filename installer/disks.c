/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the machine's disks are: probing only, into struct install_disk. The kernel
 * (sysfs, /proc/self/mountinfo, /proc/swaps) says size, model, serial, removable,
 * read-only, sector size and what is in use; udev's /dev/disk/by-id names it;
 * libblkid (lib/ext/blkid) reads the partition table and the signatures on the disk. Deciding what
 * may be the target is select.c's job.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "core/fileio.h"
#include "core/path.h"
#include "core/strv.h"
#include "ext/blkid.h"
#include "installer.h"

#define SYSFS_ATTR_MAX 4096

void install_disk_done(struct install_disk *d)
{
	if (!d)
		return;
	free(d->node);
	free(d->model);
	free(d->serial);
	strv_free(d->by_id);
	free(d->table_type);
	for (size_t i = 0; i < d->n_parts; i++) {
		free(d->parts[i].name);
		free(d->parts[i].type);
		free(d->parts[i].fs_type);
		free(d->parts[i].fs_label);
	}
	free(d->parts);
	free(d->fs_type);
	free(d->fs_label);
	strv_free(d->mounted);
	strv_free(d->part_uuids);
	free(d->backing);
	free(d->refusal);
	*d = (struct install_disk){};
}

void install_disks_free(struct install_disk *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++)
		install_disk_done(&d[i]);
	free(d);
}

/* One line of a sysfs attribute, trimmed; NULL if absent or empty. */
static char *sysfs_attr(const char *dir, const char *attr)
{
	_cleanup_free_ char *p = path_join(dir, attr), *text = NULL;
	char *s, *e;

	if (!p || read_full_file(p, SYSFS_ATTR_MAX, &text, NULL) < 0)
		return NULL;
	s = text;
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strcspn(s, "\n");
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*e = '\0';
	return isempty(s) ? NULL : strdup(s);
}

static bool sysfs_flag(const char *dir, const char *attr)
{
	_cleanup_free_ char *v = sysfs_attr(dir, attr);
	return v && streq(v, "1");
}

/* "MAJ:MIN" -> dev_t */
static int parse_devnum(const char *s, dev_t *ret)
{
	unsigned maj, min;
	char tail;

	if (!s || sscanf(s, "%u:%u%c", &maj, &min, &tail) != 2)
		return -EINVAL;
	*ret = makedev(maj, min);
	return 0;
}

/* The device numbers of a disk's partitions, from sysfs. */
static int partition_devnums(const char *sysdir, dev_t **ret, size_t *ret_n)
{
	_cleanup_free_ dev_t *l = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d = opendir(sysdir);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		_cleanup_free_ char *sub = NULL, *dev = NULL, *part = NULL;
		dev_t num;
		dev_t *nl;

		if (de->d_name[0] == '.')
			continue;
		sub = path_join(sysdir, de->d_name);
		if (!sub)
			break;
		part = sysfs_attr(sub, "partition");
		dev = sysfs_attr(sub, "dev");
		if (!part || parse_devnum(dev, &num) < 0)
			continue;
		nl = realloc(l, (n + 1) * sizeof(*l));
		if (!nl)
			break;
		l = nl;
		l[n++] = num;
	}
	closedir(d);
	*ret = TAKE_PTR(l);
	*ret_n = n;
	return 0;
}

/* Every mount, swap and device-mapper/md holder of the disk or its partitions. */
static int find_users(struct install_disk *d, const char *sysdir)
{
	_cleanup_free_ dev_t *parts = NULL;
	_cleanup_free_ char *mountinfo = NULL, *swaps = NULL;
	_cleanup_strv_free_ char **lines = NULL;
	size_t n = 0;
	int r;

	(void)partition_devnums(sysdir, &parts, &n);

	if (read_full_file("/proc/self/mountinfo", 16 * 1024 * 1024, &mountinfo, NULL) >= 0 &&
	    strv_split(mountinfo, "\n", &lines) >= 0) {
		STRV_FOREACH(l, lines) {
			_cleanup_strv_free_ char **f = NULL;
			dev_t num;

			/* id parent MAJ:MIN root mountpoint ... */
			if (strv_split(*l, " ", &f) < 0 || strv_length(f) < 5 ||
			    parse_devnum(f[2], &num) < 0)
				continue;
			bool hit = num == d->devnum;
			for (size_t i = 0; i < n && !hit; i++)
				hit = num == parts[i];
			if (hit && (r = strv_extendf(&d->mounted, "%u:%u mounted on %s", major(num),
						     minor(num), f[4])) < 0)
				return r;
		}
	}
	if (read_full_file("/proc/swaps", 1024 * 1024, &swaps, NULL) >= 0) {
		_cleanup_strv_free_ char **sl = NULL;
		if (strv_split(swaps, "\n", &sl) >= 0)
			STRV_FOREACH(l, sl) {
				struct stat st;
				char path[4096];
				if (sscanf(*l, "%4095s", path) != 1 || stat(path, &st) < 0 ||
				    !S_ISBLK(st.st_mode))
					continue;
				bool hit = st.st_rdev == d->devnum;
				for (size_t i = 0; i < n && !hit; i++)
					hit = st.st_rdev == parts[i];
				if (hit && (r = strv_extendf(&d->mounted, "%s is swap", path)) < 0)
					return r;
			}
	}
	/* holders/: device-mapper (LUKS, LVM) or md built on the disk or a partition. */
	{
		_cleanup_strv_free_ char **dirs = NULL;
		DIR *dir = opendir(sysdir);
		struct dirent *de;

		if ((r = strv_extend(&dirs, sysdir)) < 0) {
			if (dir)
				closedir(dir);
			return r;
		}
		while (dir && (de = readdir(dir))) {
			_cleanup_free_ char *sub = NULL, *part = NULL;
			if (de->d_name[0] == '.')
				continue;
			sub = path_join(sysdir, de->d_name);
			part = sub ? sysfs_attr(sub, "partition") : NULL;
			if (part && strv_push(&dirs, TAKE_PTR(sub)) < 0)
				break;
		}
		if (dir)
			closedir(dir);
		STRV_FOREACH(dd, dirs) {
			_cleanup_free_ char *holders = path_join(*dd, "holders");
			DIR *h = holders ? opendir(holders) : NULL;
			while (h && (de = readdir(h)))
				if (de->d_name[0] != '.' &&
				    strv_extendf(&d->mounted, "%s is held by %s", path_last(*dd),
						 de->d_name) < 0) {
					closedir(h);
					return -ENOMEM;
				}
			if (h)
				closedir(h);
		}
	}
	return 0;
}

/* udev's names for the disk in /dev/disk/by-id. */
static int find_by_id(struct install_disk *d)
{
	DIR *dir = opendir("/dev/disk/by-id");
	struct dirent *de;
	int r = 0;

	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		_cleanup_free_ char *p = NULL;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		p = path_join("/dev/disk/by-id", de->d_name);
		if (!p) {
			r = -ENOMEM;
			break;
		}
		if (stat(p, &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != d->devnum)
			continue;
		if ((r = strv_extend(&d->by_id, de->d_name)) < 0)
			break;
	}
	closedir(dir);
	strv_sort(d->by_id);
	return r;
}

/* udev's ID_SERIAL, for disks whose sysfs has no serial attribute. */
static char *udev_serial(dev_t num)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	_cleanup_strv_free_ char **lines = NULL;

	if (asprintf(&path, "/run/udev/data/b%u:%u", major(num), minor(num)) < 0 ||
	    read_full_file(path, 1024 * 1024, &text, NULL) < 0 ||
	    strv_split(text, "\n", &lines) < 0)
		return NULL;
	STRV_FOREACH(l, lines) {
		const char *v = startswith(*l, "E:ID_SERIAL_SHORT=");
		if (v && !isempty(v))
			return strdup(v);
	}
	STRV_FOREACH(l, lines) {
		const char *v = startswith(*l, "E:ID_SERIAL=");
		if (v && !isempty(v))
			return strdup(v);
	}
	return NULL;
}

/* Image files attached to loop devices count as in use. */
static int find_loop_users(struct install_disk *d)
{
	DIR *dir = opendir("/sys/block");
	struct dirent *de;
	int r = 0;

	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		_cleanup_free_ char *sub = NULL, *backing = NULL;
		struct stat st;

		if (!startswith(de->d_name, "loop"))
			continue;
		sub = path_join("/sys/block", de->d_name, "loop");
		backing = sub ? sysfs_attr(sub, "backing_file") : NULL;
		if (!backing || stat(backing, &st) < 0 || st.st_dev != d->file_dev ||
		    st.st_ino != d->file_ino)
			continue;
		if ((r = strv_extendf(&d->mounted, "attached to /dev/%s", de->d_name)) < 0)
			break;
	}
	closedir(dir);
	return r;
}

static char *strdup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* The partition table and the signatures on the disk and its partitions (libblkid). */
static int probe_contents(struct install_disk *d)
{
	_cleanup_(disk_info_freep) struct disk_info *info = NULL;
	int r;

	r = disk_info_probe(d->node, &info);
	if (r < 0)
		return r;
	r = disk_info_probe_signatures(info);
	if (r < 0)
		return r;
	if ((info->table_type && !(d->table_type = strdup(info->table_type))) ||
	    (info->fs_type && !(d->fs_type = strdup(info->fs_type))) ||
	    (info->fs_label && !(d->fs_label = strdup(info->fs_label))))
		return -ENOMEM;
	d->parts = new0(struct install_part, info->n_partitions);
	if (!d->parts)
		return -ENOMEM;
	for (size_t i = 0; i < info->n_partitions; i++) {
		const struct partition_info *in = &info->partitions[i];
		struct install_part *p = &d->parts[d->n_parts++];

		p->number = in->number;
		p->start_bytes = in->start_bytes;
		p->size_bytes = in->size_bytes;
		p->name = isempty(in->name) ? NULL : strdup(in->name);
		p->type = strdup_or_null(in->type_uuid);
		p->fs_type = strdup_or_null(in->fs_type);
		p->fs_label = strdup_or_null(in->fs_label);
		if ((!isempty(in->name) && !p->name) || (in->type_uuid && !p->type) ||
		    (in->fs_type && !p->fs_type) || (in->fs_label && !p->fs_label))
			return -ENOMEM;
		if (in->uuid && (r = strv_extend(&d->part_uuids, in->uuid)) < 0)
			return r;
	}
	return 0;
}

#define BACKING_DEPTH_MAX 16
#define BACKING_MAX 64

static bool stat_id_equal(const struct stat_id *a, const struct stat_id *b)
{
	if (a->is_file != b->is_file)
		return false;
	return a->is_file ? a->file_dev == b->file_dev && a->file_ino == b->file_ino :
			    a->devnum == b->devnum;
}

bool stat_ids_overlap(const struct stat_id *a, size_t na, const struct stat_id *b, size_t nb)
{
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++)
			if (stat_id_equal(&a[i], &b[j]))
				return true;
	return false;
}

struct backing {
	const char *sysfs;
	struct stat_id *ids;
	size_t n;
};

static int backing_add(struct backing *b, const struct stat_id *id, unsigned depth);

/* A path (a loop device's backing file, which may itself be a device node). */
static int backing_add_path(struct backing *b, const char *path, unsigned depth)
{
	struct stat st;
	struct stat_id id = {};

	if (stat(path, &st) < 0)
		return 0;
	if (S_ISBLK(st.st_mode))
		id.devnum = st.st_rdev;
	else if (S_ISREG(st.st_mode))
		id = (struct stat_id){ .is_file = true,
				       .file_dev = st.st_dev,
				       .file_ino = st.st_ino };
	else
		return 0;
	return backing_add(b, &id, depth);
}

static int backing_add_devnum_attr(struct backing *b, const char *dir, unsigned depth)
{
	_cleanup_free_ char *dev = sysfs_attr(dir, "dev");
	struct stat_id id = {};

	if (!dev || parse_devnum(dev, &id.devnum) < 0)
		return 0;
	return backing_add(b, &id, depth);
}

static int backing_add(struct backing *b, const struct stat_id *id, unsigned depth)
{
	_cleanup_free_ char *sysdir = NULL, *real = NULL, *loop = NULL, *file = NULL,
			    *slaves = NULL, *part = NULL;
	struct stat_id *n;
	DIR *dir;
	int r = 0;

	for (size_t i = 0; i < b->n; i++)
		if (stat_id_equal(&b->ids[i], id))
			return 0;
	if (depth > BACKING_DEPTH_MAX || b->n >= BACKING_MAX)
		return 0;
	n = realloc(b->ids, (b->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	b->ids = n;
	b->ids[b->n++] = *id;
	if (id->is_file)
		return 0;

	if (asprintf(&sysdir, "%s/dev/block/%u:%u", b->sysfs, major(id->devnum),
		     minor(id->devnum)) < 0)
		return -ENOMEM;
	real = realpath(sysdir, NULL);
	if (!real)
		return 0; /* not in sysfs: nothing more to follow */
	/* a partition: its whole disk */
	part = sysfs_attr(real, "partition");
	if (part) {
		_cleanup_free_ char *parent = strdup(real);
		char *slash = parent ? strrchr(parent, '/') : NULL;

		if (!parent)
			return -ENOMEM;
		if (slash) {
			*slash = '\0';
			r = backing_add_devnum_attr(b, parent, depth + 1);
			if (r < 0)
				return r;
		}
	}
	/* a loop device: its backing file */
	loop = path_join(real, "loop");
	file = loop ? sysfs_attr(loop, "backing_file") : NULL;
	if (!loop)
		return -ENOMEM;
	if (file) {
		r = backing_add_path(b, file, depth + 1);
		if (r < 0)
			return r;
	}
	/* device-mapper, md: the devices under it */
	slaves = path_join(real, "slaves");
	if (!slaves)
		return -ENOMEM;
	dir = opendir(slaves);
	if (!dir)
		return 0;
	for (struct dirent *de; (de = readdir(dir));) {
		_cleanup_free_ char *sub = NULL;

		if (de->d_name[0] == '.')
			continue;
		sub = path_join(slaves, de->d_name);
		r = sub ? backing_add_devnum_attr(b, sub, depth + 1) : -ENOMEM;
		if (r < 0)
			break;
	}
	closedir(dir);
	return r;
}

int stat_id_backing(const char *sysfs_root, const struct stat_id *id, struct stat_id **ret,
		    size_t *ret_n)
{
	struct backing b = { .sysfs = sysfs_root ?: "/sys" };
	int r = backing_add(&b, id, 0);

	if (r < 0) {
		free(b.ids);
		return r;
	}
	*ret = b.ids;
	*ret_n = b.n;
	return 0;
}

int disk_probe(const char *node, struct install_disk *ret)
{
	_cleanup_(install_disk_done) struct install_disk d = {};
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *sysdir = NULL;
	struct stat st;
	int r;

	d.node = strdup(node);
	if (!d.node)
		return -ENOMEM;
	fd = open(node, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;

	if (S_ISREG(st.st_mode)) {
		d.is_file = true;
		d.file_dev = st.st_dev;
		d.file_ino = st.st_ino;
		d.size_bytes = (uint64_t)st.st_size;
		d.sector_size = 512;
		d.read_only = access(node, W_OK) < 0;
		r = find_loop_users(&d);
		if (r < 0)
			return r;
	} else if (S_ISBLK(st.st_mode)) {
		int ss = 0;
		uint64_t size = 0;

		d.devnum = st.st_rdev;
		if (ioctl(fd, BLKGETSIZE64, &size) < 0 || ioctl(fd, BLKSSZGET, &ss) < 0)
			return -errno;
		d.size_bytes = size;
		d.sector_size = (uint32_t)ss;
		if (asprintf(&sysdir, "/sys/dev/block/%u:%u", major(st.st_rdev),
			     minor(st.st_rdev)) < 0)
			return -ENOMEM;
		{
			_cleanup_free_ char *device = path_join(sysdir, "device");
			d.model = device ? sysfs_attr(device, "model") : NULL;
			d.serial = sysfs_attr(sysdir, "serial") ?: udev_serial(st.st_rdev);
		}
		d.removable = sysfs_flag(sysdir, "removable");
		d.read_only = sysfs_flag(sysdir, "ro");
		if ((r = find_users(&d, sysdir)) < 0 || (r = find_by_id(&d)) < 0)
			return r;
	} else
		return -ENOTBLK;
	fd = safe_close(fd);
	{
		struct stat_id id = { .is_file = d.is_file,
				      .devnum = d.devnum,
				      .file_dev = d.file_dev,
				      .file_ino = d.file_ino };

		r = stat_id_backing(NULL, &id, &d.backing, &d.n_backing);
		if (r < 0)
			return r;
	}

	r = probe_contents(&d);
	if (r < 0)
		return r;
	*ret = d;
	d = (struct install_disk){};
	return 0;
}

int disks_probe_all(const char *sysfs_root, struct install_disk **ret, size_t *ret_n)
{
	_cleanup_strv_free_ char **nodes = NULL;
	struct install_disk *disks = NULL;
	size_t n = 0;
	int r;

	r = disk_list_nodes(sysfs_root, &nodes);
	if (r < 0)
		return r;
	disks = new0(struct install_disk, strv_length(nodes));
	if (!disks)
		return -ENOMEM;
	STRV_FOREACH(node, nodes) {
		r = disk_probe(*node, &disks[n]);
		if (r < 0) {
			/* A disk that cannot be read is listed, and refused for that reason. */
			disks[n] = (struct install_disk){ .node = strdup(*node) };
			if (!disks[n].node || asprintf(&disks[n].refusal, "it cannot be probed: %s",
						       strerror(-r)) < 0) {
				install_disks_free(disks, n + 1);
				return -ENOMEM;
			}
		}
		n++;
	}
	*ret = disks;
	*ret_n = n;
	return 0;
}
