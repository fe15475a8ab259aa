/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-init(8): finds the root and verity partitions of both slots, verifies and
 * mounts the root read-only from the slot whose hash tree matches the command line's
 * root hash (airlock.slot= first), records that slot, opens the data volume as /var
 * (TPM, else the recovery key; a tmpfs on the installer medium), gives the system its
 * other writable places and hands over to systemd.
 * Every failure is one line on the console, then halt or reboot (airlock.on_failure).
 */
#include <assert.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>

#include "cmdline.h"
#include "core/fd.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/strv.h"
#include "init.h"

enum boot_failure_action init_on_failure = BOOT_FAILURE_HALT;

double init_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

_noreturn_ void init_stop(void)
{
	sync();
	if (init_on_failure == BOOT_FAILURE_REBOOT) {
		/* Long enough to read the line on a screen before the machine restarts. */
		sleep(5);
		reboot(RB_AUTOBOOT);
	} else
		reboot(RB_HALT_SYSTEM);
	/* reboot() failed: PID 1 must not exit, so wait forever. */
	for (;;)
		pause();
}

/*
 * Writes line to every console the kernel uses (console=tty1 console=ttyS0: both),
 * not only to /dev/console, which is the last of them: an operator in front of the
 * screen must see why the machine stopped. Falls back to stderr.
 */
static void write_all_consoles(const char *line)
{
	_cleanup_free_ char *active = NULL;
	_cleanup_strv_free_ char **names = NULL;
	bool written = false;

	if (read_full_file("/sys/class/tty/console/active", 4096, &active, NULL) >= 0 &&
	    strv_split(active, " \n", &names) >= 0)
		STRV_FOREACH(n, names) {
			_cleanup_free_ char *dev = NULL;
			_cleanup_close_ int fd = -EBADF;

			if (strchr(*n, '/') || asprintf(&dev, "/dev/%s", *n) < 0)
				continue;
			fd = open(dev, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
			if (fd >= 0 && loop_write(fd, line, strlen(line)) >= 0)
				written = true;
		}
	if (!written)
		(void)loop_write(STDERR_FILENO, line, strlen(line));
}

void init_console_line(const char *fmt, ...)
{
	char line[1200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n] = '\n';
	line[n + 1] = '\0';
	write_all_consoles(line);
}

_noreturn_ void init_fatal(const char *fmt, ...)
{
	char msg[1024], line[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line),
		 "airlock-init: FATAL: %s; refusing to boot (%s as airlock.on_failure=%s says)\n",
		 msg, init_on_failure == BOOT_FAILURE_REBOOT ? "rebooting" : "halting",
		 boot_failure_action_to_string(init_on_failure));
	write_all_consoles(line);
	init_stop();
}

static void mount_or_die(const char *what, const char *where, const char *type, unsigned long flags,
			 const char *options)
{
	if (mkdir(where, 0755) < 0 && errno != EEXIST)
		init_fatal("cannot create %s: %m", where);
	if (mount(what, where, type, flags, options) < 0)
		init_fatal("cannot mount %s (%s) on %s: %m", what, type, where);
}

/* stdin, stdout and stderr on /dev/console, whatever the kernel gave us. */
static void open_console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return; /* keep what the kernel opened for us */
	for (int i = 0; i < 3; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
}

static void read_boot_args(struct boot_args *ret)
{
	_cleanup_(cmdline_freep) struct cmdline *c = NULL;
	_cleanup_free_ char *text = NULL, *error = NULL;
	enum boot_failure_action action;
	int r;

	r = read_full_file("/proc/cmdline", CMDLINE_MAX_SIZE + 1, &text, NULL);
	if (r < 0)
		init_fatal("cannot read /proc/cmdline: %s", strerror(-r));
	r = cmdline_parse(text, &c);
	if (r == -E2BIG)
		init_fatal("the kernel command line is longer than %u bytes", CMDLINE_MAX_SIZE);
	if (r < 0)
		init_fatal("cannot parse the kernel command line (unbalanced quote or control "
			   "character)");
	r = boot_args_parse(c, ret, &error, &action);
	init_on_failure = action;
	if (r < 0)
		init_fatal("%s", error ?: "invalid airlock.* keys on the kernel command line");
}

int main(int argc, char *argv[])
{
	struct boot_args args;
	struct init_roots roots = {};
	const struct init_root *root = NULL;
	double t0;
	char slot;
	int n;

	log_set_program_name("airlock-init");
	if (getpid() != 1) {
		if (argc > 1 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
			printf("airlock-init is the first program of Airlock's initramfs: the kernel "
			       "runs it as PID 1.\nSee airlock-init(8).\n");
			return 0;
		}
		log_error("must run as PID 1, the initramfs's /init (see airlock-init(8))");
		return 1;
	}

	umask(022);
	/* A device-mapper node must not wait for a udev that does not exist here;
	 * unset again before systemd starts. */
	setenv("DM_DISABLE_UDEV", "1", 1);

	mount_or_die("proc", "/proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
	mount_or_die("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
	mount_or_die("devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_STRICTATIME, "mode=0755");
	mount_or_die("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME,
		     "mode=0755,size=20%,nr_inodes=800k");
	open_console();
	t0 = init_now();

	read_boot_args(&args);
	if (args.debug)
		log_set_max_level(LOG_DEBUG);
	log_info("slot %c, root hash %s", args.slot, args.root_hash_hex);

	n = init_load_modules(MODULE_LIST_PATH);
	log_debug("%d kernel modules loaded in %.2f s", n, init_now() - t0);

	init_find_roots(&args, &roots);
	slot = init_mount_root(&args, &roots);
	for (size_t i = 0; i < roots.n; i++)
		if (roots.r[i].slot == slot)
			root = &roots.r[i];
	assert(root);
	init_record_slot(slot);
	init_setup_var(&args, root);
	init_setup_writable();
	log_info("root-%c (%s) verified by verity-%c (%s), mounted read-only in %.2f s; "
		 "starting " SYSTEMD_PATH,
		 slot, root->root_node, slot, root->verity_node, init_now() - t0);

	unsetenv("DM_DISABLE_UDEV");
	init_switch_root();
}
