/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-banner [--root DIR] TTY: writes the appliance's banner (image name and version, slot,
 * root hash, how /var was opened: DATA_METHOD_PATH) to a terminal. The slot is the one airlock-init booted (BOOT_SLOT_PATH), the
 * command line's airlock.slot= when that file is absent. It only writes: it never reads
 * from the terminal and never starts a shell or a login. Run by airlock-banner@.service
 * on tty1 and ttyS0.
 */
#include <fcntl.h>
#include <stdio.h>

#include "cmdline.h"
#include "core/fd.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/path.h"
#include "dataunlock.h"
#include "osrelease.h"

#define OS_RELEASE "/usr/lib/os-release"

static char *os_release_value(const char *text, const char *key)
{
	char *v = NULL;

	if (!text || osrelease_get(text, key, &v) < 0)
		return strdup("unknown");
	return v;
}

/* How /var was provided on this boot, from what airlock-init recorded. */
static char *data_text(const char *root)
{
	_cleanup_free_ char *path = path_join(root, DATA_METHOD_PATH), *method = NULL;
	char *text = NULL;
	int r;

	if (!path)
		return NULL;
	r = read_line_file(path, 64, &method);
	if (r < 0)
		r = asprintf(&text, "unknown (%s: %s)", path, strerror(-r));
	else if (streq(method, "tpm"))
		r = asprintf(&text, "/var on the data volume, opened by the TPM");
	else if (streq(method, "recovery"))
		r = asprintf(&text, "/var on the data volume, opened with the RECOVERY KEY "
				    "(the TPM refused)");
	else if (streq(method, "none"))
		r = asprintf(&text, "none: /var is in memory (installer medium)");
	else
		r = asprintf(&text, "unknown (%s says '%s')", path, method);
	return r < 0 ? NULL : text;
}

int main(int argc, char *argv[])
{
	_cleanup_free_ char *os = NULL, *id = NULL, *version = NULL, *error = NULL, *text = NULL;
	_cleanup_free_ char *os_path = NULL, *cmdline_path = NULL, *slot_path = NULL;
	_cleanup_free_ char *slot_text = NULL, *data = NULL;
	_cleanup_close_ int fd = -EBADF;
	const char *root = "/", *tty;
	struct boot_args a;
	bool have_args;
	char slot;
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
	os_path = path_join(root, OS_RELEASE);
	cmdline_path = path_join(root, "/proc/cmdline");
	slot_path = path_join(root, BOOT_SLOT_PATH);
	if (!os_path || !cmdline_path || !slot_path)
		return log_oom(), 1;
	r = read_full_file(os_path, 64 * 1024, &os, NULL);
	if (r < 0)
		log_warning_errno(r, "cannot read %s: %m, showing 'unknown'", os_path);
	id = os_release_value(os, "IMAGE_ID");
	version = os_release_value(os, "IMAGE_VERSION");
	have_args = boot_args_load(cmdline_path, &a, &error) >= 0;
	data = data_text(root);
	if (!id || !version || !data)
		return log_oom(), 1;
	if (have_args) {
		r = boot_slot_load(slot_path, &slot);
		if (r == -ENOENT)
			r = asprintf(&slot_text, "%c", a.slot);
		else if (r < 0) {
			log_warning_errno(
				r, "cannot read the slot booted from %s: %m, showing 'unknown'",
				slot_path);
			r = asprintf(&slot_text, "unknown (%s: %s)", slot_path, strerror(-r));
		} else
			r = asprintf(&slot_text, "%c", slot);
		if (r < 0)
			return log_oom(), 1;
	}

	if (have_args)
		r = asprintf(&text,
			     "\n"
			     "  %s %s\n"
			     "  slot       %s\n"
			     "  root hash  %s\n"
			     "  data       %s\n"
			     "  This console offers no login.\n"
			     "\n",
			     id, version, slot_text, a.root_hash_hex, data);
	else
		r = asprintf(&text,
			     "\n"
			     "  %s %s\n"
			     "  slot and root hash unknown: %s\n"
			     "  data       %s\n"
			     "  This console offers no login.\n"
			     "\n",
			     id, version, strna(error), data);
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
