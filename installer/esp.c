/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage 3: the target's ESP, FAT32 over the whole esp partition, holding what boots
 * slot A, copied from the medium's ESP: systemd-boot (signed, as EFI/BOOT/BOOTX64.EFI
 * and EFI/systemd/systemd-bootx64.efi), loader/loader.conf, and the slot-A UKI as
 * EFI/Linux/<name>-<version>-a+3.efi, with a fresh boot counter whatever the medium's
 * copy is called now (systemd-boot renames it as it counts, airlock-update mark-good
 * when the medium's boot completes). The medium's entry is therefore looked up again
 * here, by its slot-A pattern, not taken by the name source_load() saw when the
 * installer started, which may be minutes old on an interactive install. Nothing else
 * of the medium's ESP (its answer file, manifest.json) is copied. Every file is read
 * back and compared before the stage ends.
 */
#include <inttypes.h>
#include <stdio.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/path.h"
#include "core/strv.h"
#include "ext/crypto.h"
#include "fat.h"
#include "installer.h"
#include "slot.h"

const char *const esp_slot_files[3] = {
	"EFI/BOOT/BOOTX64.EFI",
	"EFI/systemd/systemd-bootx64.efi",
	"loader/loader.conf",
};

static const char *const esp_dirs[] = { "EFI", "EFI/BOOT", "EFI/systemd", "EFI/Linux", "loader" };

static void rm_rf_freep(char **p)
{
	if (*p) {
		(void)rm_rf(*p);
		free(*p);
	}
}

/* The FAT volume serial: from the disk GUID, so it differs from the medium's. */
static uint32_t volume_serial(const struct install_plan *plan)
{
	uint8_t d[SHA256_DIGEST_SIZE] = {};

	(void)sha256_buf(plan->layout->uuid, strlen(plan->layout->uuid), d);
	return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
}

int esp_write(const struct install_source *s, const struct install_disk *target,
	      const struct install_plan *plan, int fd, char **ret_error)
{
	_cleanup_(rm_rf_freep) char *tmp = NULL;
	_cleanup_free_ char *error = NULL, *uki_target = NULL, *uki_source = NULL;
	_cleanup_strv_free_ char **files = NULL;
	const struct disklabel_part *part = plan_partition(plan, PLAN_ESP);
	const struct fat_volume from = { .path = s->path, .offset_bytes = s->esp->start_bytes };
	const struct fat_volume to = { .path = target->node, .offset_bytes = part->start_bytes };
	const char *sources[ELEMENTSOF(esp_slot_files) + 1],
		*targets[ELEMENTSOF(esp_slot_files) + 1];
	uint8_t digest[ELEMENTSOF(sources)][SHA256_DIGEST_SIZE];
	int r;

	{
		_cleanup_free_ char *entry = NULL;

		r = slot_entry_format(s->name, s->version, 'a', SLOT_ENTRY_TRIES, 0, &entry);
		if (r < 0)
			return r == -ENOMEM ? r :
					      error_replace(ret_error, r,
							    "esp: '%s' %s is not a boot entry name",
							    s->name, s->version);
		uki_target = path_join(SLOT_ENTRY_DIR, entry);
		if (!uki_target)
			return -ENOMEM;
	}
	r = fat_list(&from, &files, &error);
	if (r < 0)
		return error_replace(ret_error, r, "esp: the ESP of the medium %s: %s", s->path,
				     strna(error));
	r = source_pick_uki(files, s->name, s->version, &uki_source);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return error_replace(ret_error, r,
				     "esp: the ESP of the medium %s holds %s slot-A UKI of %s %s "
				     "now (it held %s when the installer started)",
				     s->path, r == -ENOTUNIQ ? "more than one" : "no", s->name,
				     s->version, s->uki_path);
	if (!streq(uki_source, s->uki_path))
		log_info("esp: the medium's boot entry %s is now %s (boot counting renamed it)",
			 s->uki_path, uki_source);
	for (size_t i = 0; i < ELEMENTSOF(esp_slot_files); i++)
		sources[i] = targets[i] = esp_slot_files[i];
	sources[ELEMENTSOF(esp_slot_files)] = uki_source;
	targets[ELEMENTSOF(esp_slot_files)] = uki_target;

	r = mkdtemp_in(NULL, "airlock-esp.", &tmp);
	if (r < 0)
		return error_replace(ret_error, r, "esp: temporary directory: %s", strerror(-r));

	r = fat_format(&to, part->size_bytes, volume_serial(plan), "ESP", &error);
	if (r < 0)
		return error_replace(ret_error, r, "esp: %s", strna(error));
	for (size_t i = 0; i < ELEMENTSOF(esp_dirs); i++) {
		r = fat_mkdir(&to, esp_dirs[i], &error);
		if (r < 0)
			return error_replace(ret_error, r, "esp: %s", strna(error));
	}
	for (size_t i = 0; i < ELEMENTSOF(sources); i++) {
		_cleanup_free_ char *copy = NULL;
		char name[32];

		snprintf(name, sizeof(name), "file%zu", i);
		copy = path_join(tmp, name);
		if (!copy)
			return -ENOMEM;
		r = fat_copy_out(&from, sources[i], copy, &error);
		if (r < 0)
			return error_replace(ret_error, r, "esp: reading %s from the medium: %s",
					     sources[i], strna(error));
		r = sha256_file(copy, digest[i], NULL);
		if (r < 0)
			return error_replace(ret_error, r, "esp: %s: %s", copy, strerror(-r));
		r = fat_copy_in(&to, copy, targets[i], &error);
		if (r < 0)
			return error_replace(ret_error, r, "esp: writing %s: %s", targets[i],
					     strna(error));
		(void)unlink(copy);
	}
	if (fdatasync(fd) < 0)
		return error_replace(ret_error, -errno, "esp: %s: fdatasync: %m", target->node);

	/* Read back: what the ESP holds now is what the medium's held. */
	for (size_t i = 0; i < ELEMENTSOF(targets); i++) {
		_cleanup_free_ char *back = path_join(tmp, "back");
		uint8_t d[SHA256_DIGEST_SIZE];

		if (!back)
			return -ENOMEM;
		r = fat_copy_out(&to, targets[i], back, &error);
		if (r >= 0)
			r = sha256_file(back, d, NULL);
		if (r < 0)
			return error_replace(ret_error, r, "esp: reading back %s: %s", targets[i],
					     error ?: strerror(-r));
		if (memcmp(d, digest[i], sizeof(d)) != 0)
			return error_replace(ret_error, -EIO,
					     "esp: %s on %s differs from the medium's %s after "
					     "writing",
					     targets[i], target->node, sources[i]);
		(void)unlink(back);
	}
	log_debug("esp: %s: systemd-boot, loader.conf and %s written", target->node, uki_target);
	return 0;
}
