/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loads the kernel modules the initramfs carries, in the order airlock-build wrote
 * to /etc/airlock/modules (dependencies first, from modules.dep). A module already
 * loaded or built in is fine. A module that fails is reported and skipped: what
 * needs it (a disk, dm-verity) then fails with its own, clearer message.
 */
#include <fcntl.h>
#include <linux/module.h>
#include <sys/syscall.h>

#include "core/fileio.h"
#include "core/log.h"
#include "core/strv.h"
#include "init.h"
#include "kmod.h"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

int init_load_modules(const char *list_path)
{
	_cleanup_strv_free_ char **paths = NULL;
	_cleanup_free_ char *text = NULL;
	unsigned line = 0;
	int r, loaded = 0;

	r = read_full_file(list_path, 1024 * 1024, &text, NULL);
	if (r < 0)
		init_fatal("cannot read the module list %s: %s", list_path, strerror(-r));
	r = kmod_list_parse(text, &paths, &line);
	if (r < 0)
		init_fatal("%s:%u: malformed module list", list_path, line);

	STRV_FOREACH(p, paths) {
		_cleanup_close_ int fd = open(*p, O_RDONLY | O_CLOEXEC);
		int flags = endswith(*p, ".ko") ? 0 : MODULE_INIT_COMPRESSED_FILE;
		double t = init_now();

		if (fd < 0) {
			log_warning_errno(errno, "module %s: %m, skipping", *p);
			continue;
		}
		if (syscall(SYS_finit_module, fd, "", flags) < 0) {
			if (errno == EEXIST)
				continue;
			/* The module's hardware or CPU feature is absent (efivarfs without
			 * UEFI, crc32c_intel without SSE4.2): nothing to load here. */
			if (errno == ENODEV) {
				log_debug("module %s: not applicable on this machine", *p);
				continue;
			}
			log_warning_errno(errno, "loading module %s failed: %m, skipping", *p);
			continue;
		}
		log_debug("loaded %s in %.3f s", *p, init_now() - t);
		loaded++;
	}
	return loaded;
}
