/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Finding the slot's partitions (bounded wait, no udev), verifying and mounting the
 * root, and the writable places the read-only root needs.
 */
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>

#include "core/fileio.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/strv.h"
#include "ext/blkid.h"
#include "ext/verity.h"
#include "init.h"
#include "rootpart.h"

#define EFIVARS "/sys/firmware/efi/efivars"
/* Without LoaderDevicePartUUID: how long the set of disks must stay the same before
 * the only disk carrying the slot is taken (a late USB stick would make it ambiguous). */
#define SETTLE_SEC 1.0
#define POLL_NSEC (50 * 1000 * 1000)

/* The PARTUUID systemd-boot was loaded from, or NULL (not EFI, another boot loader). */
static char *read_loader_part_uuid(void)
{
	_cleanup_free_ char *data = NULL;
	char uuid[37];
	size_t size;
	int r;

	if (access("/sys/firmware/efi", F_OK) < 0)
		return NULL;
	if (mkdir(EFIVARS, 0755) < 0 && errno != EEXIST)
		init_fatal("cannot create %s: %m", EFIVARS);
	if (mount("efivarfs", EFIVARS, "efivarfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY,
		  NULL) < 0)
		init_fatal("booted by UEFI but cannot mount efivarfs on %s: %m (is the efivarfs "
			   "module in the initramfs?)",
			   EFIVARS);
	r = read_full_file(EFIVARS "/" EFI_LOADER_DEVICE_PART_UUID_VAR, 4096, &data, &size);
	/* Left to systemd, which mounts it its own way. */
	(void)umount(EFIVARS);
	if (r == -ENOENT) {
		log_debug("no LoaderDevicePartUUID EFI variable (not booted by systemd-boot)");
		return NULL;
	}
	if (r < 0)
		init_fatal("cannot read the EFI variable LoaderDevicePartUUID: %s", strerror(-r));
	if (rootpart_parse_loader_uuid(data, size, uuid) < 0)
		init_fatal("the EFI variable LoaderDevicePartUUID is not a UUID");
	log_debug("boot loader was loaded from partition %s", uuid);
	return strdup(uuid);
}

static void disks_free(struct disk_info **disks, size_t n)
{
	for (size_t i = 0; i < n; i++)
		disk_info_free(disks[i]);
	free(disks);
}

void init_find_root(const struct boot_args *a, struct init_root *ret)
{
	_cleanup_free_ char *boot_uuid = read_loader_part_uuid();
	_cleanup_strv_free_ char **last_nodes = NULL;
	_cleanup_free_ char *last_error = NULL;
	double start = init_now(), last_change = start;

	for (;;) {
		_cleanup_strv_free_ char **nodes = NULL;
		_cleanup_free_ char *error = NULL, *joined = NULL, *last_joined = NULL;
		struct disk_info **disks = NULL;
		struct rootpart_choice c;
		size_t n = 0;
		double now;
		int r;

		r = disk_list_nodes("/sys", &nodes);
		if (r < 0)
			init_fatal("cannot list block devices in /sys/class/block: %s",
				   strerror(-r));
		joined = strv_join(nodes, " ");
		last_joined = strv_join(last_nodes, " ");
		now = init_now();
		if (!joined || !last_joined)
			init_fatal("out of memory");
		if (!streq(joined, last_joined) || !last_nodes) {
			last_change = now;
			strv_free(last_nodes);
			last_nodes = strv_copy(nodes);
			if (!last_nodes)
				init_fatal("out of memory");
			log_debug("block devices: %s", joined);
		}

		disks = new0(struct disk_info *, strv_length(nodes));
		if (!disks)
			init_fatal("out of memory");
		STRV_FOREACH(d, nodes) {
			r = disk_info_probe(*d, &disks[n]);
			if (r < 0) {
				log_debug_errno(r, "cannot probe %s: %m, ignoring", *d);
				continue;
			}
			n++;
		}

		r = rootpart_select(disks, n, a->slot, boot_uuid, &c, &error);
		if (r == 0) {
			const struct disk_info *d = disks[c.disk];
			const struct partition_info *root = &d->partitions[c.root],
						    *verity = &d->partitions[c.verity];

			if (root->node && verity->node && access(root->node, F_OK) == 0 &&
			    access(verity->node, F_OK) == 0 &&
			    (boot_uuid || now - last_change >= SETTLE_SEC)) {
				*ret = (struct init_root){ .root_node = strdup(root->node),
							   .verity_node = strdup(verity->node),
							   .disk_node = strdup(d->node) };
				disks_free(disks, n);
				if (!ret->root_node || !ret->verity_node || !ret->disk_node)
					init_fatal("out of memory");
				log_debug("found root-%c %s and verity-%c %s on %s after %.2f s",
					  a->slot, ret->root_node, a->slot, ret->verity_node,
					  ret->disk_node, now - start);
				return;
			}
		}
		disks_free(disks, n);
		if (r == -ENOTUNIQ || r == -ENOENT || r == -EINVAL)
			init_fatal("%s", error ?: "cannot choose the root partitions");
		if (r < 0)
			free_and_replace(last_error, error);
		if (now - start >= a->device_timeout_sec)
			init_fatal(
				"%s after waiting %u s for block devices (airlock.device_timeout=)",
				last_error ?: "the slot's partitions did not settle",
				a->device_timeout_sec);
		nanosleep(&(struct timespec){ .tv_nsec = POLL_NSEC }, NULL);
	}
}

void init_mount_root(const struct boot_args *a, const struct init_root *root)
{
	const char *dm = "/dev/mapper/" VERITY_DM_NAME;
	int r;

	r = verity_check_root_hash(root->verity_node, a->root_hash);
	if (r == -EPERM)
		init_fatal("verity-%c (%s) does not match airlock.roothash=%s", a->slot,
			   root->verity_node, a->root_hash_hex);
	if (r < 0)
		init_fatal("verity-%c (%s) has no readable dm-verity superblock: %s", a->slot,
			   root->verity_node, strerror(-r));

	r = verity_activate(VERITY_DM_NAME, root->root_node, root->verity_node, a->root_hash);
	if (r < 0)
		init_fatal("cannot activate dm-verity for root-%c (%s) with verity-%c (%s): %s",
			   a->slot, root->root_node, a->slot, root->verity_node, strerror(-r));
	if (access(dm, F_OK) < 0)
		init_fatal("dm-verity was activated but %s did not appear: %m", dm);

	if (mkdir(SYSROOT, 0755) < 0 && errno != EEXIST)
		init_fatal("cannot create " SYSROOT ": %m");
	if (mount(dm, SYSROOT, "squashfs", MS_RDONLY, NULL) < 0)
		init_fatal("cannot mount the verified root-%c (%s, squashfs) read-only on " SYSROOT
			   ": %m%s",
			   a->slot, dm,
			   errno == EIO ? " (a block failed verification: the partition was "
					  "modified)" :
					  "");
	if (access(SYSROOT SYSTEMD_PATH, X_OK) < 0)
		init_fatal("the verified root-%c has no executable " SYSTEMD_PATH ": %m", a->slot);
}

static void mount_tmpfs(const char *where, const char *options)
{
	if (mount("tmpfs", where, "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME, options) < 0)
		init_fatal("cannot mount a tmpfs on %s: %m (does the root image have %s?)", where,
			   where + strlen(SYSROOT));
}

/*
 * /var until the installer provisions the data volume. The data-volume issue replaces
 * this with: find the "data" partition, unseal or ask for its key, open it with
 * LUKS2 and mount it here.
 */
static void setup_var(void)
{
	mount_tmpfs(SYSROOT "/var", "mode=0755,size=50%");
}

void init_setup_writable(void)
{
	const char *upper = "/run/airlock/etc-overlay/upper",
		   *work = "/run/airlock/etc-overlay/work";
	int r;

	mount_tmpfs(SYSROOT "/tmp", "mode=1777,size=50%,nr_inodes=1m");
	setup_var();

	/* /etc: the image's files below, changes in memory (lost at power-off) above. */
	r = mkdir_p(upper, 0755);
	if (r >= 0)
		r = mkdir_p(work, 0755);
	if (r < 0)
		init_fatal("cannot create %s: %s", upper, strerror(-r));
	if (mount("overlay", SYSROOT "/etc", "overlay", MS_NOSUID | MS_NODEV,
		  "lowerdir=" SYSROOT "/etc,upperdir=/run/airlock/etc-overlay/upper,"
		  "workdir=/run/airlock/etc-overlay/work") < 0)
		init_fatal("cannot mount the /etc overlay (lower " SYSROOT
			   "/etc, upper and work in /run/airlock/etc-overlay): %m");
}
