/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The running system, when no --disk is given: the boot disk is the disk whose two
 * partitions the dm-verity device on / verifies (lib/bootdisk), the booted slot the one
 * airlock-init recorded, and what the running image is comes from its own verified
 * root: its version and product from /usr/lib/os-release (IMAGE_VERSION,
 * AIRLOCK_COMPATIBLE), the keys it trusts from /usr/share/airlock/update-keys. The
 * disk is then opened as a --disk one is (disk.c: the GPT, the ESP through mtools at
 * its offset of the whole disk): one code path for both.
 */
#include <stdio.h>

#include "bundle.h"
#include "cmdline.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/path.h"
#include "version.h"
#include "osrelease.h"
#include "update-tool.h"

#define OS_RELEASE_PATH "/usr/lib/os-release"

void update_system_done(struct update_system *s)
{
	if (!s)
		return;
	bootdisk_done(&s->boot);
	free(s->name);
	free(s->version);
	free(s->compatible);
	free(s->keyring);
	*s = (struct update_system){};
}

int update_system_load(const char *verb, const char *root, struct update_system *ret)
{
	_cleanup_free_ char *error = NULL, *osrel_path = NULL, *osrel = NULL;
	struct update_system s = { .root = root ?: "/" };
	int r;

	r = bootdisk_find(s.root, &s.boot, &error);
	if (r == -ENOMEM)
		return log_oom();
	if (r < 0)
		return log_error_errno(r,
				       "%s: the running system: %s; give --disk to act on an "
				       "installed disk instead",
				       verb, strna(error));

	osrel_path = path_join(s.root, OS_RELEASE_PATH);
	s.keyring = path_join(s.root, BUNDLE_KEYS_DIR);
	if (!osrel_path || !s.keyring) {
		r = log_oom();
		goto fail;
	}
	r = read_full_file(osrel_path, 64U << 10, &osrel, NULL);
	if (r < 0) {
		log_error_errno(r, "%s: the running image's %s: %m", verb, osrel_path);
		goto fail;
	}
	if ((r = osrelease_get(osrel, "IMAGE_ID", &s.name)) < 0 ||
	    (r = osrelease_get(osrel, "IMAGE_VERSION", &s.version)) < 0 ||
	    (r = osrelease_get(osrel, "AIRLOCK_COMPATIBLE", &s.compatible)) < 0) {
		log_error_errno(
			r,
			"%s: the running image's %s has no valid IMAGE_ID, IMAGE_VERSION "
			"and AIRLOCK_COMPATIBLE: not an Airlock image (airlock-build build)",
			verb, osrel_path);
		goto fail;
	}
	{
		_cleanup_free_ char *variant = NULL;

		r = osrelease_get(osrel, "VARIANT_ID", &variant);
		if (r < 0 && r != -ENOENT) {
			log_error_errno(r, "%s: the running image's %s: VARIANT_ID: %m", verb,
					osrel_path);
			goto fail;
		}
		s.debug = variant && streq(variant, OSRELEASE_VARIANT_DEBUG);
	}
	if (!version_is_valid(s.version)) {
		r = log_error_errno(EINVAL, "%s: %s: IMAGE_VERSION=%s is not a version", verb,
				    osrel_path, s.version);
		goto fail;
	}
	r = osrelease_security_version(osrel, &s.security_version);
	if (r < 0) {
		log_error_errno(r, "%s: %s: %s is not a whole number", verb, osrel_path,
				OSRELEASE_SECURITY_VERSION);
		goto fail;
	}
	if (access(s.keyring, F_OK) < 0) {
		r = log_error_errno(errno,
				    "%s: the running image's update keys %s: %m (built without "
				    "--update-keys: it can take no update)",
				    verb, s.keyring);
		goto fail;
	}
	log_debug("%s: running %s %s (%s) from slot %c of %s", verb, s.name, s.version,
		  s.compatible, s.boot.slot, s.boot.node);
	*ret = s;
	return 0;
fail:
	update_system_done(&s);
	return r;
}

/* The booted slot's partition of the GPT must be one / is verified from. */
static int check_part(const char *verb, const struct update_system *s,
		      const struct disklabel_part *p)
{
	unsigned n = bootdisk_part_at(&s->boot, p->start_bytes);

	if (n == p->partno + 1)
		return 0;
	return log_error_errno(ENODEV,
			       "%s: %s says slot %c was booted, but / is verified from %s and "
			       "%s, not from its partition '%s' (partition %u of %s)",
			       verb, BOOT_SLOT_PATH, s->boot.slot, s->boot.parts[0].name,
			       s->boot.parts[1].name, p->name, p->partno + 1, s->boot.node);
}

int update_system_open_disk(const char *verb, struct update_system *s, bool writable, bool one_slot,
			    struct update_disk **ret)
{
	_cleanup_(update_disk_freep) struct update_disk *d = NULL;
	_cleanup_free_ char *where = NULL;
	const char *node = s->boot.node;
	int r, i = slot_index(s->boot.slot);

	/* Opened as a one-slot disk may be (it has slot b, or neither root-b nor verity-b),
	 * then refused here when the verb needs slot b: one read of the GPT. */
	r = update_disk_open_full(node, writable, NULL, true, &d);
	if (r < 0)
		return r;
	if (!one_slot && !d->root[1])
		return log_error_errno(ENODEV,
				       "%s: the system runs from %s, which has no slot b: the "
				       "installer medium, not an installed disk; install first, "
				       "then update the installed system",
				       verb, node);
	r = check_part(verb, s, d->root[i]);
	if (r >= 0)
		r = check_part(verb, s, d->verity[i]);
	if (r < 0)
		return r;
	if (writable) {
		r = bootdisk_part_mounted(s->root, &s->boot, d->esp->partno + 1, &where);
		if (r < 0)
			return log_error_errno(r, "%s: is the ESP (partition %u of %s) mounted? %m",
					       verb, d->esp->partno + 1, node);
		if (r > 0)
			return log_error_errno(EBUSY,
					       "%s: the ESP (partition %u of %s) is mounted on %s: "
					       "airlock-update writes it through the disk; unmount "
					       "it first",
					       verb, d->esp->partno + 1, node, where);
	}
	d->running = s->boot.slot;
	{
		const struct slot_entry *e = slot_table_get(&d->slots, d->running);
		if (e && !streq(e->version, s->version))
			log_warning(
				"%s: the booted slot %c's boot entry %s/%s is not of the running "
				"version %s, continuing",
				verb, d->running, SLOT_ENTRY_DIR, e->file, s->version);
	}
	*ret = TAKE_PTR(d);
	return 0;
}
