/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-boot-complete: run once multi-user.target is reached, before
 * boot-complete.target (airlock-boot-complete.service). Checks that the system runs
 * as airlock-init left it (a valid slot and root hash on the command line, / mounted
 * read-only) and prints the stable marker line
 *
 *     AIRLOCK-BOOT-COMPLETE slot=<a|b> roothash=<hex>
 *
 * on the console. The slot is the one airlock-init booted (BOOT_SLOT_PATH), which is
 * not airlock.slot= when that slot did not verify; the command line's when the file
 * is absent. Failing here fails boot-complete.target, so airlock-update-mark-good
 * does not mark the boot good and the boot counter keeps counting down.
 */
#include <fcntl.h>
#include <stdio.h>

#include "bootdisk.h"
#include "cmdline.h"
#include "core/fd.h"
#include "core/log.h"

int main(int argc, char *argv[])
{
	_cleanup_free_ char *error = NULL, *line = NULL;
	_cleanup_close_ int console = -EBADF;
	struct boot_args a;
	char slot;
	int r;

	log_set_program_name(argv[0]);
	if (argc == 2 && streq(argv[1], "--help")) {
		printf("Usage: airlock-boot-complete\n"
		       "Checks that the system runs as airlock-init left it (a valid slot and root\n"
		       "hash, / read-only) and prints \"AIRLOCK-BOOT-COMPLETE slot=<a|b> roothash=<hex>\"\n"
		       "on the console. Exits 1 when the boot is not complete, so boot-complete.target\n"
		       "is not reached and the boot is not marked good. See airlock-boot-complete(8).\n");
		return 0;
	}
	if (argc != 1) {
		log_error("usage: airlock-boot-complete (no arguments; see airlock-init(8))");
		return 2;
	}
	r = boot_args_load("/proc/cmdline", &a, &error);
	if (r < 0)
		return log_error("boot not complete: %s", strna(error)), 1;
	r = boot_slot_load(BOOT_SLOT_PATH, &slot);
	if (r == -ENOENT)
		slot = a.slot;
	else if (r < 0)
		return log_error_errno(r,
				       "boot not complete: cannot read the slot booted from %s: %m",
				       BOOT_SLOT_PATH),
		       1;
	/* As the system mounted it, not as this service's sandbox (ProtectSystem=) shows it */
	r = bootdisk_root_read_only(NULL, &error);
	if (r < 0)
		return log_error_errno(r, "boot not complete: cannot tell how / is mounted: %s",
				       strna(error)),
		       1;
	if (r == 0)
		return log_error("boot not complete: / is writable, it must be the read-only "
				 "verified root"),
		       1;
	if (asprintf(&line, "AIRLOCK-BOOT-COMPLETE slot=%c roothash=%s\n", slot, a.root_hash_hex) <
	    0)
		return log_oom(), 1;

	/* The console for tests and operators, stdout for the journal. */
	console = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (console < 0 || loop_write(console, line, strlen(line)) < 0)
		log_warning_errno(errno, "cannot write to /dev/console: %m, continuing");
	r = loop_write(STDOUT_FILENO, line, strlen(line));
	if (r < 0)
		return log_error_errno(r, "cannot write the marker: %m"), 1;
	return 0;
}
