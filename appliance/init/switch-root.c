/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hand-over to systemd: move /dev, /proc, /sys and /run under the new root, delete
 * the initramfs's files (they would otherwise hold memory for good), make the new
 * root "/" and exec systemd, as util-linux's switch_root does.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "core/log.h"
#include "init.h"

/* Deletes everything below dirfd on the same file system; never crosses a mount. */
static void remove_tree(int dirfd, dev_t dev)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;

	if (!d) {
		close(dirfd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;
		bool is_dir;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
			continue;
		is_dir = S_ISDIR(st.st_mode);
		if (is_dir) {
			int sub = openat(dirfd, de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				remove_tree(sub, dev);
		}
		if (unlinkat(dirfd, de->d_name, is_dir ? AT_REMOVEDIR : 0) < 0)
			log_debug_errno(errno, "cannot remove %s from the initramfs: %m, ignoring",
					de->d_name);
	}
	closedir(d);
}

_noreturn_ void init_switch_root(void)
{
	static const char *const moves[] = { "/dev", "/proc", "/sys", "/run" };
	char *const argv[] = { (char *)SYSTEMD_PATH, NULL };
	struct statfs sfs;
	struct stat root_st;
	int old_root;

	for (size_t i = 0; i < ELEMENTSOF(moves); i++) {
		char target[64];

		snprintf(target, sizeof(target), SYSROOT "%s", moves[i]);
		if (mount(moves[i], target, NULL, MS_MOVE, NULL) < 0)
			init_fatal("cannot move %s to %s: %m (does the root image have %s?)",
				   moves[i], target, moves[i]);
	}
	if (chdir(SYSROOT) < 0)
		init_fatal("cannot enter " SYSROOT ": %m");
	old_root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (old_root < 0)
		init_fatal("cannot open the initramfs root: %m");
	if (mount(SYSROOT, "/", NULL, MS_MOVE, NULL) < 0)
		init_fatal("cannot move " SYSROOT " to /: %m");
	if (chroot(".") < 0 || chdir("/") < 0)
		init_fatal("cannot change root to the verified root: %m");

	/* Only ever delete from the initramfs itself (ramfs or tmpfs). */
	if (fstatfs(old_root, &sfs) == 0 &&
	    ((unsigned long)sfs.f_type == RAMFS_MAGIC ||
	     (unsigned long)sfs.f_type == TMPFS_MAGIC) &&
	    fstat(old_root, &root_st) == 0)
		remove_tree(old_root, root_st.st_dev);
	else
		close(old_root);

	execv(SYSTEMD_PATH, argv);
	init_fatal("cannot start " SYSTEMD_PATH " on the verified root: %m");
}
