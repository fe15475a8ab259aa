/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Finding both slots' partitions (bounded wait, no udev), choosing the slot whose hash
 * tree matches the root hash (airlock.slot= first), verifying and mounting its root,
 * and the writable places the read-only root needs.
 */
#include <assert.h>
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

static void init_root_done(struct init_root *r)
{
	r->root_node = mfree(r->root_node);
	r->verity_node = mfree(r->verity_node);
	r->disk_node = mfree(r->disk_node);
}

static void init_roots_done(struct init_roots *r)
{
	for (size_t i = 0; i < r->n; i++)
		init_root_done(&r->r[i]);
	for (size_t i = 0; i < ELEMENTSOF(r->why_not); i++)
		r->why_not[i] = mfree(r->why_not[i]);
	r->n = 0;
}

/* The candidates' nodes, once they all exist; false if one has not appeared yet. */
static bool take_roots(struct disk_info *const *disks, struct rootpart_candidates *c,
		       struct init_roots *ret)
{
	struct init_roots roots = {};

	for (size_t i = 0; i < c->n; i++) {
		const struct disk_info *d = disks[c->c[i].choice.disk];
		const struct partition_info *root = &d->partitions[c->c[i].choice.root],
					    *verity = &d->partitions[c->c[i].choice.verity];

		if (!root->node || !verity->node || access(root->node, F_OK) < 0 ||
		    access(verity->node, F_OK) < 0) {
			init_roots_done(&roots);
			return false;
		}
		roots.r[roots.n++] = (struct init_root){ .slot = c->c[i].slot,
							 .root_node = strdup(root->node),
							 .verity_node = strdup(verity->node),
							 .disk_node = strdup(d->node) };
		if (!roots.r[i].root_node || !roots.r[i].verity_node || !roots.r[i].disk_node)
			init_fatal("out of memory");
	}
	for (size_t i = 0; i < ELEMENTSOF(c->why_not); i++)
		roots.why_not[i] = TAKE_PTR(c->why_not[i]);
	*ret = roots;
	return true;
}

void init_find_roots(const struct boot_args *a, struct init_roots *ret)
{
	_cleanup_free_ char *boot_uuid = read_loader_part_uuid();
	_cleanup_strv_free_ char **last_nodes = NULL;
	_cleanup_free_ char *last_error = NULL;
	double start = init_now(), last_change = start;

	for (;;) {
		_cleanup_strv_free_ char **nodes = NULL;
		_cleanup_free_ char *error = NULL, *joined = NULL, *last_joined = NULL;
		struct disk_info **disks = NULL;
		struct rootpart_candidates c = {};
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

		r = rootpart_select_slots(disks, n, a->slot, boot_uuid, &c, &error);
		if (r == 0 && (boot_uuid || now - last_change >= SETTLE_SEC) &&
		    take_roots(disks, &c, ret)) {
			rootpart_candidates_done(&c);
			disks_free(disks, n);
			for (size_t i = 0; i < ret->n; i++)
				log_debug("found root-%c %s and verity-%c %s on %s after %.2f s",
					  ret->r[i].slot, ret->r[i].root_node, ret->r[i].slot,
					  ret->r[i].verity_node, ret->r[i].disk_node, now - start);
			return;
		}
		rootpart_candidates_done(&c);
		disks_free(disks, n);
		if (r == -ENOTUNIQ || r == -ENOENT || r == -EINVAL)
			init_fatal("%s", error ?: "cannot choose the root partitions");
		if (r < 0)
			free_and_replace(last_error, error);
		if (now - start >= a->device_timeout_sec)
			init_fatal(
				"%s after waiting %u s for block devices (airlock.device_timeout=)",
				last_error ?: "the slots' partitions did not settle",
				a->device_timeout_sec);
		nanosleep(&(struct timespec){ .tv_nsec = POLL_NSEC }, NULL);
	}
}

/*
 * Checks the slot's hash tree against the root hash without activating anything: 0 if
 * it matches, otherwise -errno and *ret_why (one phrase) why this slot cannot be booted.
 */
static int check_slot(const struct boot_args *a, const struct init_root *root, char **ret_why)
{
	int r = verity_check_root_hash(root->verity_node, a->root_hash);

	if (r == 0)
		return 0;
	if (r == -EPERM ?
		    asprintf(ret_why, "verity-%c (%s) does not match airlock.roothash=%s",
			     root->slot, root->verity_node, a->root_hash_hex) < 0 :
		    asprintf(ret_why, "verity-%c (%s) has no readable dm-verity superblock: %s",
			     root->slot, root->verity_node, strerror(-r)) < 0)
		init_fatal("out of memory");
	return r;
}

char init_mount_root(const struct boot_args *a, const struct init_roots *roots)
{
	const char *dm = "/dev/mapper/" VERITY_DM_NAME;
	_cleanup_free_ char *why[2] = {};
	const struct init_root *root = NULL;
	int r;

	assert(roots->n >= 1 && roots->n <= 2);
	for (size_t i = 0; i < roots->n && !root; i++)
		if (check_slot(a, &roots->r[i], &why[i]) == 0)
			root = &roots->r[i];
	if (!root) {
		/* One line naming every slot tried; with one slot, the line it always was. */
		if (roots->n == 1)
			init_fatal("%s", why[0]);
		init_fatal("%s; and %s", why[0], why[1]);
	}
	if (root->slot != a->slot)
		init_console_line("airlock-init: booting slot %c, not airlock.slot=%c: %s",
				  root->slot, a->slot,
				  why[0]				?:
					  roots->why_not[a->slot - 'a'] ?:
									  "it was not found");

	r = verity_activate(VERITY_DM_NAME, root->root_node, root->verity_node, a->root_hash);
	if (r < 0)
		init_fatal("cannot activate dm-verity for root-%c (%s) with verity-%c (%s): %s",
			   root->slot, root->root_node, root->slot, root->verity_node,
			   strerror(-r));
	if (access(dm, F_OK) < 0)
		init_fatal("dm-verity was activated but %s did not appear: %m", dm);

	if (mkdir(SYSROOT, 0755) < 0 && errno != EEXIST)
		init_fatal("cannot create " SYSROOT ": %m");
	if (mount(dm, SYSROOT, "squashfs", MS_RDONLY, NULL) < 0)
		init_fatal("cannot mount the verified root-%c (%s, squashfs) read-only on " SYSROOT
			   ": %m%s",
			   root->slot, dm,
			   errno == EIO ? " (a block failed verification: the partition was "
					  "modified)" :
					  "");
	if (access(SYSROOT SYSTEMD_PATH, X_OK) < 0)
		init_fatal("the verified root-%c has no executable " SYSTEMD_PATH ": %m",
			   root->slot);
	return root->slot;
}

void init_record_slot(char slot)
{
	char text[] = { slot, '\n' };
	int r;

	r = mkdir_p("/run/airlock", 0755);
	if (r >= 0)
		r = write_file_atomic(BOOT_SLOT_PATH, text, sizeof(text), 0644);
	if (r < 0)
		init_fatal("cannot record the slot booted in " BOOT_SLOT_PATH ": %s", strerror(-r));
}

static void mount_tmpfs(const char *where, const char *options)
{
	if (mount("tmpfs", where, "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME, options) < 0)
		init_fatal("cannot mount a tmpfs on %s: %m (does the root image have %s?)", where,
			   where + strlen(SYSROOT));
}

void init_setup_writable(void)
{
	const char *upper = "/run/airlock/etc-overlay/upper",
		   *work = "/run/airlock/etc-overlay/work";
	int r;

	mount_tmpfs(SYSROOT "/tmp", "mode=1777,size=50%,nr_inodes=1m");

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
