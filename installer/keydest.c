/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where an unattended install puts the recovery key (the answer file's recovery-key):
 * printed on the console, escrowed to a file, or written into the FAT file system of a
 * second removable disk. It happens before the data volume's header is written, so a
 * key that cannot be delivered leaves a disk that is not installed. The key is never
 * logged; nothing else is written next to it but what identifies the volume.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "core/fd.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/path.h"
#include "core/secret.h"
#include "fat.h"
#include "installer.h"
#include "recovery.h"

#define KEY_FILE_TEXT_MAX 1024

/* The text delivered: the key on its own line, then what it opens (no secret there). */
static int key_text(const struct install_disk *target, const struct install_source *s,
		    const char *key, char **ret, size_t *ret_size)
{
	char *t = secret_alloc(KEY_FILE_TEXT_MAX);
	int n;

	if (!t)
		return -ENOMEM;
	n = snprintf(t, KEY_FILE_TEXT_MAX,
		     "%s\n# Airlock recovery key of the data volume of %s %s installed on %.200s.\n"
		     "# Type it when the appliance asks for it; keep it offline.\n",
		     key, strna(s->name), strna(s->version), target->node);
	if (n < 0 || n >= KEY_FILE_TEXT_MAX) {
		secret_free(t);
		return -ENAMETOOLONG;
	}
	*ret = t;
	*ret_size = (size_t)n;
	return 0;
}

/* A new file only (never over an older key), 0600, durable before we go on. */
static int write_key_file(const char *path, const char *text, size_t size)
{
	_cleanup_close_ int fd = -EBADF;
	int r;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	r = loop_write(fd, text, size);
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	if (r >= 0)
		r = fsync_directory_of(path);
	if (r < 0)
		(void)unlink(path);
	return r;
}

static void unlink_freep(char **p)
{
	if (*p) {
		(void)unlink(*p);
		free(*p);
	}
}

/* Into the first FAT file system of a removable disk, as airlock-recovery-<uuid>.txt. */
static int write_key_disk(const struct install_answers *a, const struct install_disk *target,
			  const char *text, size_t size, char **ret_error)
{
	_cleanup_(unlink_freep) char *tmp = NULL;
	_cleanup_free_ char *name = NULL, *error = NULL, *dir = NULL;
	struct install_disk d = {};
	const struct install_part *fat = NULL;
	struct fat_volume v;
	uint64_t offset = 0;
	int r;

	r = disk_probe(a->key_disk, &d);
	if (r < 0)
		return error_replace(ret_error, r, "recovery-key-disk '%s': %s", a->key_disk,
				     strerror(-r));
	if ((d.is_file ? d.file_dev == target->file_dev && d.file_ino == target->file_ino :
			 d.devnum == target->devnum)) {
		install_disk_done(&d);
		return error_replace(ret_error, -EINVAL,
				     "recovery-key-disk '%s' is the target disk", a->key_disk);
	}
	if (!d.is_file && !d.removable) {
		install_disk_done(&d);
		return error_replace(ret_error, -EINVAL,
				     "recovery-key-disk '%s' is not a removable disk", a->key_disk);
	}
	if (d.fs_type && streq(d.fs_type, "vfat"))
		offset = 0;
	else {
		for (size_t i = 0; i < d.n_parts && !fat; i++)
			if (streq_ptr(d.parts[i].fs_type, "vfat"))
				fat = &d.parts[i];
		if (!fat) {
			install_disk_done(&d);
			return error_replace(ret_error, -ENOMEDIUM,
					     "recovery-key-disk '%s' has no FAT file system; "
					     "format it (FAT32) first",
					     a->key_disk);
		}
		offset = fat->start_bytes;
	}
	install_disk_done(&d);

	v = (struct fat_volume){ .path = a->key_disk, .offset_bytes = offset };
	r = mkdtemp_in(NULL, "airlock-key.", &dir);
	if (r < 0)
		return error_replace(ret_error, r, "temporary directory: %s", strerror(-r));
	tmp = path_join(dir, "key.txt");
	if (!tmp || asprintf(&name, "airlock-recovery-%s.txt",
			     target->serial ?: install_disk_name(target)) < 0)
		return -ENOMEM;
	r = write_key_file(tmp, text, size);
	if (r >= 0)
		r = fat_copy_in(&v, tmp, name, &error);
	(void)unlink(tmp);
	(void)rmdir(dir);
	if (r < 0)
		return error_replace(ret_error, r, "recovery-key-disk '%s': %s", a->key_disk,
				     error ?: strerror(-r));
	sync();
	log_info("recovery key: written to %s as %s", a->key_disk, name);
	return 0;
}

/*
 * "On the console": standard output when it is a terminal, else /dev/console; never
 * standard output when that is a file, a pipe or the journal, where the key would be
 * kept in a log.
 */
static int write_console(const char *text, size_t n)
{
	_cleanup_close_ int fd = -EBADF;

	fflush(stdout);
	if (isatty(STDOUT_FILENO))
		return loop_write(STDOUT_FILENO, text, n);
	fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!isatty(fd))
		return -ENOTTY;
	return loop_write(fd, text, n);
}

int keydest_deliver(const struct install_answers *a, const struct install_disk *target,
		    const struct install_source *s, const char *recovery_key, char **ret_error)
{
	_cleanup_secret_ char *text = NULL;
	size_t size = 0;
	int r;

	r = key_text(target, s, recovery_key, &text, &size);
	if (r < 0)
		return error_replace(ret_error, r, "recovery key: %s", strerror(-r));

	if (a->keydest & KEYDEST_FILE) {
		r = write_key_file(a->key_file, text, size);
		if (r < 0)
			return error_replace(ret_error, r, "recovery-key-file '%s': %s%s",
					     a->key_file, strerror(-r),
					     r == -EEXIST ? " (an older key is never overwritten)" :
							    "");
		log_info("recovery key: escrowed to %s", a->key_file);
	}
	if (a->keydest & KEYDEST_DISK) {
		r = write_key_disk(a, target, text, size, ret_error);
		if (r < 0)
			return r;
	}
	if (a->keydest & KEYDEST_CONSOLE) {
		/* Shown once, grouped for reading aloud; straight from secret memory to the
		 * console, never through a stdio buffer or the log. */
		_cleanup_secret_ char *shown = secret_alloc(KEY_FILE_TEXT_MAX);
		size_t n = 0;

		if (!shown)
			return error_replace(ret_error, -ENOMEM, "recovery key: out of memory");
		n += (size_t)snprintf(
			shown, KEY_FILE_TEXT_MAX,
			"\nRECOVERY KEY of the data volume on %.200s (shown once; write "
			"it down):\n\n",
			target->node);
		for (unsigned g = 0; g < RECOVERY_KEY_LETTERS / RECOVERY_KEY_GROUP && n < 900; g++)
			n += (size_t)snprintf(shown + n, KEY_FILE_TEXT_MAX - n, "  %u: %.8s%s",
					      g + 1, recovery_key + g * (RECOVERY_KEY_GROUP + 1),
					      g % 4 == 3 ? "\n" : "");
		n += (size_t)snprintf(shown + n, KEY_FILE_TEXT_MAX - n, "\n");
		r = write_console(shown, n);
		if (r < 0)
			return error_replace(ret_error, r,
					     "recovery-key = console: no terminal to show it on "
					     "(standard output is not a terminal, and /dev/console "
					     "cannot be written: %s); it is never written to a log",
					     strerror(-r));
	}
	return 0;
}
