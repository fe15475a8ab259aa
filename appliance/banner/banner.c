/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-banner [--root DIR] TTY: writes the appliance's banner (image name and version,
 * slot, root hash, how /var was opened) to a terminal; the facts are lib/banner's, which
 * the console's lock screen shows too. It only writes: it never reads from the terminal
 * and never starts a shell or a login. Run by airlock-banner@.service on tty1 and ttyS0.
 */
#include <fcntl.h>
#include <stdio.h>

#include "banner.h"
#include "core/fd.h"
#include "core/log.h"

int main(int argc, char *argv[])
{
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct banner_facts f;
	const char *root = "/", *tty;
	int r;

	log_set_program_name(argv[0]);
	if (argc == 2 && streq(argv[1], "--help")) {
		printf("Usage: airlock-banner [--root DIR] /dev/TTY\n"
		       "Writes the appliance's banner (image name and version, the slot booted, the\n"
		       "root hash) to TTY. It never reads from TTY and never starts a login.\n"
		       "  --root DIR  read DIR/proc/cmdline, DIR/run/airlock/slot, DIR/run/airlock/data\n"
		       "              and DIR/usr/lib/os-release instead of the running system's\n"
		       "See airlock-banner(8).\n");
		return 0;
	}
	/* --root DIR reads DIR/proc/cmdline, DIR/run/airlock/{slot,data}, DIR/usr/lib/os-release
	 * (for tests). */
	if (argc == 4 && streq(argv[1], "--root")) {
		root = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 2 || argv[1][0] != '/') {
		log_error("usage: airlock-banner [--root DIR] /dev/TTY");
		return 2;
	}
	tty = argv[1];
	r = banner_facts_load(root, &f);
	if (r < 0)
		return log_oom(), 1;
	if (!f.cmdline_error)
		r = asprintf(&text,
			     "\n"
			     "  %s %s\n"
			     "  slot       %s\n"
			     "  root hash  %s\n"
			     "  data       %s\n"
			     "  This console offers no login.\n"
			     "\n",
			     f.name, f.version, f.slot, f.root_hash, f.data);
	else
		r = asprintf(&text,
			     "\n"
			     "  %s %s\n"
			     "  slot and root hash unknown: %s\n"
			     "  data       %s\n"
			     "  This console offers no login.\n"
			     "\n",
			     f.name, f.version, f.cmdline_error, f.data);
	banner_facts_done(&f);
	if (r < 0)
		return log_oom(), 1;

	fd = open(tty, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return log_error_errno(errno, "cannot open %s: %m", tty), 1;
	r = loop_write(fd, text, strlen(text));
	if (r < 0)
		return log_error_errno(r, "cannot write to %s: %m", tty), 1;
	return 0;
}
