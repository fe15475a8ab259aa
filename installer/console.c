/* SPDX-License-Identifier: Apache-2.0 */
/*
 * On the USB boot, the installer starts on every console the operator may sit at
 * (airlock-install@tty1 and airlock-install@ttyS0). One of them installs: the first to
 * take the lock /run/airlock/install.lock. Interactively, the console where Enter is
 * pressed first; unattended, the first instance to start. Every other console says
 * where the installer runs and ends without touching anything. The lock stays held
 * until the process exits, so a second installer can never write the same disks.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/klog.h>

#include "core/fd.h"
#include "core/fileio.h"
#include "core/log.h"
#include "installer.h"

#define INSTALL_LOCK_PATH "/run/airlock/install.lock"

static int claim(const char *lock_path, const char *me, int *ret_fd, char **ret_holder)
{
	_cleanup_close_ int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	char holder[64] = "";
	ssize_t n;

	if (fd < 0)
		return log_error_errno(errno, "'%s': %m", lock_path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return log_error_errno(errno, "locking '%s': %m", lock_path);
		n = pread(fd, holder, sizeof(holder) - 1, 0);
		holder[n > 0 ? n : 0] = 0;
		holder[strcspn(holder, "\n")] = 0;
		*ret_holder = strdup(isempty(holder) ? "another console" : holder);
		return *ret_holder ? -EBUSY : -ENOMEM;
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, me, strlen(me), 0) < 0)
		return log_error_errno(errno, "writing '%s': %m", lock_path);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* The console log level before the screens, restored at exit; 0: unchanged. */
/* klogctl(2) type SYSLOG_ACTION_CONSOLE_LEVEL; glibc names no constant for it. */
#define KLOG_CONSOLE_LEVEL 8

static int saved_console_level;

static void restore_console_level(void)
{
	if (saved_console_level > 0)
		(void)klogctl(KLOG_CONSOLE_LEVEL, NULL, saved_console_level);
}

/*
 * Kernel messages (a loop device attached, a file system mounted) go to every console
 * and would scribble over the screens: while the installer runs on a console, only
 * emergencies reach it. They still go to the kernel log and the journal.
 */
static void quiet_kernel_console(void)
{
	_cleanup_free_ char *printk = NULL;
	int level;

	if (read_full_file("/proc/sys/kernel/printk", 256, &printk, NULL) < 0 ||
	    sscanf(printk, "%d", &level) != 1 || level <= 1)
		return;
	if (klogctl(KLOG_CONSOLE_LEVEL, NULL, 1) < 0) {
		log_debug_errno(errno, "lowering the console log level: %m");
		return;
	}
	saved_console_level = level;
	(void)atexit(restore_console_level);
}

int console_claim(const char *lock_path, bool unattended, FILE *in, int *ret_fd)
{
	_cleanup_free_ char *holder = NULL;
	const char *tty = ttyname(STDIN_FILENO);
	const char *me = tty ? (startswith(tty, "/dev/") ?: tty) : "this console";
	char line[256];
	int r;

	if (!lock_path)
		lock_path = INSTALL_LOCK_PATH;
	if (!unattended) {
		printf("\nAirlock installer: press Enter to install from this console (%s).\n", me);
		fflush(stdout);
		if (!fgets(line, sizeof(line), in))
			return -ECANCELED;
	}
	r = claim(lock_path, me, ret_fd, &holder);
	if (r == 0 && !unattended && in == stdin && isatty(STDIN_FILENO))
		quiet_kernel_console();
	if (r == -EBUSY)
		printf("airlock-install: the %sinstaller already runs on %s; nothing is done "
		       "here.\n",
		       unattended ? "unattended " : "", holder);
	return r;
}
