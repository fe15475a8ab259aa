/* SPDX-License-Identifier: Apache-2.0 */
/*
 * On the USB boot, the installer starts on every console the operator may sit at
 * (airlock-install@tty1 and airlock-install@ttyS0). One of them installs: the first to
 * take the lock /run/airlock/install.lock. Interactively, the console where Enter is
 * pressed first; unattended, the first instance to start. Every other console says
 * where the installer runs, touches nothing, and waits: when the installer ends, its
 * result is shown there too (the lock file holds the holder's console on its first
 * line and, once it ends, the result on its second), so an unattended install that ran
 * on tty1 still reports on the serial console. The lock stays held until the process
 * exits, so a second installer can never write the same disks.
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
		if (!*ret_holder)
			return -ENOMEM;
		*ret_fd = TAKE_FD(fd); /* for console_follow() */
		return -EBUSY;
	}
	if (ftruncate(fd, 0) < 0 || dprintf(fd, "%s\n", me) < 0)
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
	if (r == -EBUSY) {
		printf("airlock-install: the %sinstaller already runs on %s; nothing is done "
		       "here. Its result will show here when it ends.\n",
		       unattended ? "unattended " : "", holder);
		fflush(stdout);
	}
	return r;
}

void console_report(int lock_fd, const char *result)
{
	/* After the first line (the holder); a second report replaces the first. */
	char first[64] = "";
	ssize_t n = pread(lock_fd, first, sizeof(first) - 1, 0);
	size_t at = n > 0 ? strcspn(first, "\n") + 1 : 0;

	if (n <= 0 || at > (size_t)n || ftruncate(lock_fd, (off_t)at) < 0 ||
	    lseek(lock_fd, (off_t)at, SEEK_SET) < 0 || dprintf(lock_fd, "%s\n", result) < 0)
		log_debug_errno(errno, "recording the result in the install lock: %m");
}

/* The holder's console (first line) and result (second line, or empty) in text. */
static void read_lock(int lock_fd, char *text, size_t size, char **ret_result)
{
	ssize_t n = pread(lock_fd, text, size - 1, 0);
	char *result;

	text[n > 0 ? n : 0] = 0;
	result = strchr(text, '\n');
	result = result ? result + 1 : text + strlen(text);
	result[strcspn(result, "\n")] = 0;
	text[strcspn(text, "\n")] = 0;
	*ret_result = result;
}

int console_follow(int lock_fd, FILE *out)
{
	char text[512];
	char *result;

	/* Until the holder records its result (it may reboot right after), or exits
	 * without one. */
	for (;;) {
		read_lock(lock_fd, text, sizeof(text), &result);
		if (!isempty(result))
			break;
		if (flock(lock_fd, LOCK_SH | LOCK_NB) == 0) {
			read_lock(lock_fd, text, sizeof(text), &result);
			break;
		}
		if (errno != EWOULDBLOCK && errno != EINTR)
			return log_error_errno(errno, "waiting for the installer: %m");
		(void)usleep(200 * 1000);
	}
	fprintf(out, "airlock-install: the installer on %s ended: %s\n",
		isempty(text) ? "another console" : text,
		isempty(result) ? "it left no result (it was killed, or stopped by the system)" :
				  result);
	fflush(out);
	return 0;
}
