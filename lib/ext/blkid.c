/* SPDX-License-Identifier: Apache-2.0 */
#include <blkid.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "core/fileio.h"
#include "core/parse.h"
#include "core/path.h"
#include "core/strv.h"
#include "ext/blkid.h"

static void probe_freep(blkid_probe *p)
{
	if (*p)
		blkid_free_probe(*p);
}

static char *strdup_lower(const char *s)
{
	char *c;

	if (!s)
		return NULL;
	c = strdup(s);
	if (!c)
		return NULL;
	for (char *p = c; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return c;
}

struct disk_info *disk_info_free(struct disk_info *d)
{
	if (!d)
		return NULL;
	for (size_t i = 0; i < d->n_partitions; i++) {
		free(d->partitions[i].node);
		free(d->partitions[i].type_uuid);
		free(d->partitions[i].uuid);
		free(d->partitions[i].name);
		free(d->partitions[i].fs_type);
		free(d->partitions[i].fs_label);
	}
	free(d->partitions);
	free(d->node);
	free(d->table_type);
	free(d->table_uuid);
	free(d->fs_type);
	free(d->fs_label);
	free(d);
	return NULL;
}

/* /dev/<name of the partition numbered partno of disk>, from sysfs; NULL if unknown. */
static char *partition_node(const char *disk_node, unsigned partno)
{
	_cleanup_free_ char *dir = NULL;
	DIR *d;
	struct dirent *de;
	char *result = NULL;

	if (!startswith(disk_node, "/dev/"))
		return NULL;
	dir = path_join("/sys/class/block", path_last(disk_node));
	if (!dir)
		return NULL;
	d = opendir(dir);
	if (!d)
		return NULL;
	while (!result && (de = readdir(d))) {
		_cleanup_free_ char *pfile = NULL, *text = NULL;
		unsigned n;

		if (de->d_name[0] == '.')
			continue;
		pfile = path_join(dir, de->d_name, "partition");
		if (!pfile || read_line_file(pfile, 64, &text) < 0)
			continue;
		if (safe_atou(text, &n) >= 0 && n == partno)
			result = path_join("/dev", de->d_name);
	}
	closedir(d);
	return result;
}

int disk_info_probe(const char *node, struct disk_info **ret)
{
	_cleanup_(probe_freep) blkid_probe pr = NULL;
	_cleanup_(disk_info_freep) struct disk_info *d = new0(struct disk_info, 1);
	blkid_partlist ls;
	blkid_parttable tab;
	int n, r;

	if (!d)
		return -ENOMEM;
	d->node = strdup(node);
	if (!d->node)
		return -ENOMEM;

	errno = 0;
	pr = blkid_new_probe_from_filename(node);
	if (!pr)
		return errno > 0 ? -errno : -EIO;
	d->size_bytes = (uint64_t)blkid_probe_get_size(pr);
	r = blkid_probe_enable_superblocks(pr, 0);
	if (r >= 0)
		r = blkid_probe_enable_partitions(pr, 1);
	if (r >= 0)
		r = blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	if (r < 0)
		return -EIO;

	errno = 0;
	ls = blkid_probe_get_partitions(pr);
	if (!ls) {
		/* No partition table at all, or one libblkid could not read. */
		if (errno != 0 && errno != EINVAL)
			return -errno;
		*ret = TAKE_PTR(d);
		return 0;
	}
	tab = blkid_partlist_get_table(ls);
	if (tab) {
		d->table_type = strdup_lower(blkid_parttable_get_type(tab));
		d->table_uuid = strdup_lower(blkid_parttable_get_id(tab));
	}
	n = blkid_partlist_numof_partitions(ls);
	if (n < 0)
		return -EIO;
	d->partitions = new0(struct partition_info, (size_t)n);
	if (!d->partitions)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		blkid_partition par = blkid_partlist_get_partition(ls, i);
		struct partition_info *p = &d->partitions[d->n_partitions];
		const char *type;
		char mbr[8];

		if (!par)
			return -EIO;
		/* Count it first, so that disk_info_free() sees what is filled in. */
		d->n_partitions++;
		p->number = (unsigned)blkid_partition_get_partno(par);
		type = blkid_partition_get_type_string(par);
		if (!type) {
			snprintf(mbr, sizeof(mbr), "0x%02x", blkid_partition_get_type(par) & 0xff);
			type = mbr;
		}
		p->type_uuid = strdup_lower(type);
		p->uuid = strdup_lower(blkid_partition_get_uuid(par));
		p->name = blkid_partition_get_name(par) ? strdup(blkid_partition_get_name(par)) :
							  NULL;
		p->start_bytes = (uint64_t)blkid_partition_get_start(par) * 512;
		p->size_bytes = (uint64_t)blkid_partition_get_size(par) * 512;
		p->node = partition_node(node, p->number);
		if (!p->type_uuid || (blkid_partition_get_uuid(par) && !p->uuid) ||
		    (blkid_partition_get_name(par) && !p->name))
			return -ENOMEM;
	}
	*ret = TAKE_PTR(d);
	return 0;
}

/* The superblock at [offset, offset + size) of fd: TYPE and LABEL, or NULLs if none. */
static int probe_superblock(int fd, uint64_t offset, uint64_t size, char **ret_type,
			    char **ret_label)
{
	_cleanup_(probe_freep) blkid_probe pr = blkid_new_probe();
	const char *type = NULL, *label = NULL;
	char *t = NULL, *l = NULL;
	int r;

	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, (blkid_loff_t)offset, (blkid_loff_t)size) < 0)
		return -EIO;
	if (blkid_probe_enable_partitions(pr, 0) < 0 || blkid_probe_enable_superblocks(pr, 1) < 0 ||
	    blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL) < 0)
		return -EIO;
	r = blkid_do_safeprobe(pr);
	if (r == -2) {
		/* Several signatures that contradict each other: say so rather than pick one. */
		t = strdup("ambivalent (several signatures)");
		if (!t)
			return -ENOMEM;
		*ret_type = t;
		*ret_label = NULL;
		return 0;
	}
	if (r < 0)
		return -EIO;
	if (r == 0) {
		(void)blkid_probe_lookup_value(pr, "TYPE", &type, NULL);
		(void)blkid_probe_lookup_value(pr, "LABEL", &label, NULL);
	}
	if ((type && !(t = strdup(type))) || (label && !(l = strdup(label)))) {
		free(t);
		return -ENOMEM;
	}
	*ret_type = t;
	*ret_label = l;
	return 0;
}

int disk_info_probe_signatures(struct disk_info *d)
{
	_cleanup_close_ int fd = -EBADF;
	int r;

	fd = open(d->node, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	d->fs_type = mfree(d->fs_type);
	d->fs_label = mfree(d->fs_label);
	r = probe_superblock(fd, 0, d->size_bytes, &d->fs_type, &d->fs_label);
	if (r < 0)
		return r;
	for (size_t i = 0; i < d->n_partitions; i++) {
		struct partition_info *p = &d->partitions[i];

		p->fs_type = mfree(p->fs_type);
		p->fs_label = mfree(p->fs_label);
		if (p->size_bytes == 0 || p->start_bytes >= d->size_bytes)
			continue;
		r = probe_superblock(fd, p->start_bytes,
				     MIN(p->size_bytes, d->size_bytes - p->start_bytes),
				     &p->fs_type, &p->fs_label);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool skip_disk_name(const char *name)
{
	static const char *const prefixes[] = { "loop", "ram", "zram", "dm-", "md", "sr" };

	for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
		if (startswith(name, prefixes[i]))
			return true;
	return false;
}

int disk_list_nodes(const char *sysfs_root, char ***ret)
{
	_cleanup_free_ char *dir = path_join(sysfs_root, "class/block");
	_cleanup_strv_free_ char **nodes = NULL;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (!dir)
		return -ENOMEM;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		_cleanup_free_ char *part = NULL, *size_file = NULL, *size_text = NULL;
		uint64_t sectors;

		if (de->d_name[0] == '.' || skip_disk_name(de->d_name))
			continue;
		part = path_join(dir, de->d_name, "partition");
		size_file = path_join(dir, de->d_name, "size");
		if (!part || !size_file) {
			r = -ENOMEM;
			break;
		}
		if (access(part, F_OK) == 0)
			continue;
		if (read_line_file(size_file, 64, &size_text) < 0)
			continue;
		if (safe_atou64(size_text, &sectors) < 0 || sectors == 0)
			continue;
		r = strv_extendf(&nodes, "/dev/%s", de->d_name);
		if (r < 0)
			break;
	}
	closedir(d);
	if (r < 0)
		return r;
	if (!nodes && !(nodes = new0(char *, 1)))
		return -ENOMEM;
	strv_sort(nodes);
	*ret = TAKE_PTR(nodes);
	return 0;
}
