/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The installer medium: the disk (or disk image file) the image is read from, its
 * partitions, the image's manifest.json and the root hash everything is checked
 * against.
 *
 * Trust: the root hash is the one the running system booted with, airlock.roothash=
 * on /proc/cmdline (the UKI's .cmdline: Secure-Boot-verified and measured into PCR
 * 11); what is copied to the target is verified against it (slot.c). manifest.json
 * (on the medium's ESP) only gives the name, version and partition sizes, and must
 * name the same root hash. The medium defaults to the disk systemd-boot was started
 * from (LoaderDevicePartUUID).
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "core/fileio.h"
#include "core/fs.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/path.h"
#include "core/strv.h"
#include "ext/json.h"
#include "dataunlock.h"
#include "fat.h"
#include "gpt.h"
#include "cmdline.h"
#include "installer.h"
#include "pe.h"
#include "rootpart.h"

#define MANIFEST_JSON_MAX (16U * 1024U * 1024U)
#define PCR_PUBKEY_MAX (64U * 1024U)
#define ESP_MANIFEST_PATH "airlock/manifest.json"
#define EFI_LOADER_DEVICE_PART_UUID_VAR "LoaderDevicePartUUID-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"

/* Where the running UKI's .pcrpkey may already be, in order (airlock-init, systemd-stub). */
static const char *const running_pcr_key_paths[] = {
	RUN_PCRPKEY_PATH,
	"/.extra/tpm2-pcr-public-key.pem",
	"/run/systemd/tpm2-pcr-public-key.pem",
};

void install_source_done(struct install_source *s)
{
	if (!s)
		return;
	free(s->path);
	disklabel_free(s->table);
	free(s->name);
	free(s->version);
	free(s->manifest_origin);
	free(s->uki_path);
	free(s->boot_part_uuid);
	free(s->pcr_pubkey);
	free(s->pcr_pubkey_origin);
	free(s->backing);
	*s = (struct install_source){};
}

static int read_boot_part_uuid(const char *efivars, char **ret)
{
	_cleanup_free_ char *path = path_join(efivars, EFI_LOADER_DEVICE_PART_UUID_VAR);
	_cleanup_free_ char *data = NULL;
	char uuid[37];
	size_t size;
	int r;

	if (!path)
		return -ENOMEM;
	r = read_full_file(path, 4096, &data, &size);
	if (r < 0)
		return r;
	r = rootpart_parse_loader_uuid(data, size, uuid);
	if (r < 0)
		return r;
	*ret = strdup(uuid);
	return *ret ? 0 : -ENOMEM;
}

static void rm_rf_freep(char **p)
{
	if (*p) {
		(void)rm_rf(*p);
		free(*p);
	}
}

static int identify(const char *path, struct install_source *s)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		s->id.is_file = true;
		s->id.file_dev = st.st_dev;
		s->id.file_ino = st.st_ino;
	} else if (S_ISBLK(st.st_mode))
		s->id.devnum = st.st_rdev;
	else
		return -ENOTBLK;
	return 0;
}

/* The whole disk holding the partition with this GUID. */
static int find_boot_disk(const char *sysfs, const char *part_uuid, char **ret)
{
	struct install_disk *disks = NULL;
	size_t n = 0;
	char *found = NULL;
	int r;

	r = disks_probe_all(sysfs, &disks, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (strv_contains(disks[i].part_uuids, part_uuid)) {
			if (found) {
				free(found);
				install_disks_free(disks, n);
				return -ENOTUNIQ;
			}
			found = strdup(disks[i].node);
			if (!found) {
				install_disks_free(disks, n);
				return -ENOMEM;
			}
		}
	install_disks_free(disks, n);
	if (!found)
		return -ENOENT;
	*ret = found;
	return 0;
}

static int read_pcr_key(const char *path, char **ret, size_t *ret_size)
{
	return read_full_file(path, PCR_PUBKEY_MAX, ret, ret_size);
}

int source_set_pcr_key_file(struct install_source *s, const char *path)
{
	_cleanup_free_ char *key = NULL, *origin = strdup(path);
	size_t size = 0;
	int r;

	if (!origin)
		return log_oom();
	r = read_pcr_key(path, &key, &size);
	if (r < 0)
		return log_error_errno(r, "pcr-public-key '%s': %m", path);
	free(s->pcr_pubkey);
	free(s->pcr_pubkey_origin);
	s->pcr_pubkey = TAKE_PTR(key);
	s->pcr_pubkey_size = size;
	s->pcr_pubkey_origin = TAKE_PTR(origin);
	return 0;
}

/* The image's PCR-signing key: the option, the running UKI's, or the medium UKI's .pcrpkey. */
static int load_pcr_key(const struct source_options *o, struct install_source *s,
			const struct fat_volume *esp, const char *tmp)
{
	_cleanup_free_ char *running = NULL, *uki_copy = NULL, *error = NULL;
	_cleanup_free_ uint8_t *section = NULL;
	_cleanup_(pe_image_freep) struct pe_image *img = NULL;
	const char *running_path = NULL;
	size_t running_size = 0, section_size = 0;
	int r;

	if (o->pcr_public_key) {
		r = read_pcr_key(o->pcr_public_key, &s->pcr_pubkey, &s->pcr_pubkey_size);
		if (r < 0)
			return log_error_errno(r, "source: --pcr-public-key '%s': %m",
					       o->pcr_public_key);
		s->pcr_pubkey_origin = strdup(o->pcr_public_key);
		return s->pcr_pubkey_origin ? 0 : log_oom();
	}

	for (size_t i = 0; i < ELEMENTSOF(running_pcr_key_paths); i++) {
		r = read_pcr_key(running_pcr_key_paths[i], &running, &running_size);
		if (r >= 0) {
			running_path = running_pcr_key_paths[i];
			break;
		}
		if (r != -ENOENT)
			return log_error_errno(r, "source: '%s': %m", running_pcr_key_paths[i]);
	}

	uki_copy = path_join(tmp, "uki.efi");
	if (!uki_copy)
		return log_oom();
	r = fat_copy_out(esp, s->uki_path, uki_copy, &error);
	if (r < 0)
		return log_error_errno(r, "source: reading %s from the medium's ESP: %s",
				       s->uki_path, strna(error));
	r = pe_load(uki_copy, &img);
	if (r < 0)
		return log_error_errno(r, "source: %s on the medium is not a PE image: %m",
				       s->uki_path);
	r = pe_section_read(img, ".pcrpkey", &section, &section_size);
	if (r < 0 && r != -ENOENT)
		return log_error_errno(r, "source: .pcrpkey of %s: %m", s->uki_path);
	(void)unlink(uki_copy);

	if (running && section &&
	    (running_size != section_size || memcmp(running, section, section_size) != 0))
		return log_error_errno(EPERM,
				       "source: the PCR-signing key the running system booted with "
				       "(%s) differs from the .pcrpkey of %s on the medium: the "
				       "medium does not hold the running image; refusing",
				       running_path, s->uki_path);
	if (running) {
		s->pcr_pubkey = TAKE_PTR(running);
		s->pcr_pubkey_size = running_size;
		s->pcr_pubkey_origin = strdup(running_path);
	} else if (section) {
		s->pcr_pubkey = (char *)TAKE_PTR(section);
		s->pcr_pubkey_size = section_size;
		if (asprintf(&s->pcr_pubkey_origin, "the .pcrpkey section of %s", s->uki_path) < 0)
			s->pcr_pubkey_origin = NULL;
	} else
		return 0; /* none: tpmcheck.c says what that means */
	return s->pcr_pubkey_origin ? 0 : log_oom();
}

int source_load(const struct source_options *o, struct install_source *ret)
{
	_cleanup_(install_source_done) struct install_source s = {};
	_cleanup_(rm_rf_freep) char *tmp = NULL;
	_cleanup_strv_free_ char **files = NULL;
	_cleanup_free_ char *cmdline = NULL, *manifest_text = NULL, *error = NULL;
	struct fat_volume esp;
	uint8_t manifest_hash[32];
	char hex[65], manifest_hex[65];
	size_t manifest_size = 0;
	int r;

	/* The trust anchor. */
	if (o->root_hash_hex) {
		if (strlen(o->root_hash_hex) != 64 ||
		    unhex_exact(o->root_hash_hex, s.root_hash, sizeof(s.root_hash)) < 0)
			return log_error_errno(EINVAL, "source: --root-hash must be 64 hex digits");
		s.root_hash_origin = "--root-hash";
	} else {
		r = read_full_file(o->proc_cmdline, 64 * 1024, &cmdline, NULL);
		if (r < 0)
			return log_error_errno(r, "source: '%s': %m", o->proc_cmdline);
		r = cmdline_text_root_hash(cmdline, s.root_hash);
		if (r == -ENOENT)
			return log_error_errno(
				r,
				"source: %s has no airlock.roothash=: this system was "
				"not booted from an Airlock image; give --root-hash "
				"with --source",
				o->proc_cmdline);
		if (r < 0)
			return log_error_errno(r,
					       "source: airlock.roothash= on %s is not 64 hex "
					       "digits",
					       o->proc_cmdline);
		s.root_hash_origin = "/proc/cmdline";
	}

	r = read_boot_part_uuid(o->efivars, &s.boot_part_uuid);
	if (r < 0 && r != -ENOENT)
		log_warning_errno(r, "source: cannot read %s from %s (%m), ignoring.",
				  EFI_LOADER_DEVICE_PART_UUID_VAR, o->efivars);

	/* Which medium. */
	if (o->path) {
		s.path = strdup(o->path);
		if (!s.path)
			return log_oom();
	} else {
		if (!s.boot_part_uuid)
			return log_error_errno(
				ENOENT,
				"source: no LoaderDevicePartUUID in %s: not started "
				"by systemd-boot, so the installer medium is unknown; "
				"give --source",
				o->efivars);
		r = find_boot_disk(o->sysfs, s.boot_part_uuid, &s.path);
		if (r < 0)
			return log_error_errno(r,
					       "source: no single disk holds the partition %s that "
					       "systemd-boot was started from (%m); give --source",
					       s.boot_part_uuid);
	}
	r = identify(s.path, &s);
	if (r < 0)
		return log_error_errno(r, "source: '%s': %m", s.path);
	/* the partitions, loop devices and mappings it is on, none of which may be a target */
	r = stat_id_backing(o->sysfs, &s.id, &s.backing, &s.n_backing);
	if (r < 0)
		return log_oom();

	r = gpt_read(s.path, &s.table);
	if (r < 0)
		return log_error_errno(r, "source: '%s' has no readable GPT: %m", s.path);
	s.esp = gpt_find(s.table, "esp");
	s.root = gpt_find(s.table, "root-a");
	s.verity = gpt_find(s.table, "verity-a");
	if (!s.esp || !s.root || !s.verity || !streq(s.esp->type_uuid, GPT_TYPE_ESP) ||
	    !streq(s.root->type_uuid, GPT_TYPE_ROOT_X86_64) ||
	    !streq(s.verity->type_uuid, GPT_TYPE_ROOT_X86_64_VERITY))
		return log_error_errno(ENOENT,
				       "source: '%s' is not an Airlock medium: it needs partitions "
				       "'esp', 'root-a' and 'verity-a' of the ESP, root-x86-64 and "
				       "root-x86-64-verity types",
				       s.path);

	r = mkdtemp_in(NULL, "airlock-install.", &tmp);
	if (r < 0)
		return log_error_errno(r, "source: temporary directory: %m");
	esp = (struct fat_volume){ .path = s.path, .offset_bytes = s.esp->start_bytes };
	r = fat_list(&esp, &files, &error);
	if (r < 0)
		return log_error_errno(r, "source: the ESP of '%s': %s", s.path, strna(error));

	/* manifest.json */
	if (o->manifest) {
		s.manifest_origin = strdup(o->manifest);
		if (!s.manifest_origin)
			return log_oom();
		r = read_full_file(o->manifest, MANIFEST_JSON_MAX, &manifest_text, &manifest_size);
	} else {
		_cleanup_free_ char *copy = path_join(tmp, "manifest.json");
		if (!copy ||
		    asprintf(&s.manifest_origin, "%s (ESP) %s", s.path, ESP_MANIFEST_PATH) < 0)
			return log_oom();
		if (!strv_contains(files, ESP_MANIFEST_PATH))
			return log_error_errno(ENOENT,
					       "source: the ESP of '%s' has no %s; give --manifest",
					       s.path, ESP_MANIFEST_PATH);
		r = fat_copy_out(&esp, ESP_MANIFEST_PATH, copy, &error);
		if (r < 0)
			return log_error_errno(r, "source: %s: %s", s.manifest_origin,
					       strna(error));
		r = read_full_file(copy, MANIFEST_JSON_MAX, &manifest_text, &manifest_size);
	}
	if (r < 0)
		return log_error_errno(r, "source: %s: %m", s.manifest_origin);
	r = source_parse_manifest(manifest_text, manifest_size, &s.name, &s.version, &s.sizes,
				  manifest_hash, &error);
	if (r < 0)
		return log_error_errno(r, "source: %s: %s", s.manifest_origin, strna(error));
	hex_to_buf(s.root_hash, 32, hex);
	hex_to_buf(manifest_hash, 32, manifest_hex);
	if (memcmp(manifest_hash, s.root_hash, 32) != 0)
		return log_error_errno(EPERM,
				       "source: %s describes the image with root hash %s, but the "
				       "root hash to install (%s) is %s; refusing",
				       s.manifest_origin, manifest_hex, s.root_hash_origin, hex);

	r = source_pick_uki(files, s.name, s.version, &s.uki_path);
	if (r < 0)
		return log_error_errno(r,
				       "source: the ESP of '%s' holds %s slot-A UKI of %s %s "
				       "(EFI/Linux/%s-%s-a[+N].efi)",
				       s.path, r == -ENOTUNIQ ? "more than one" : "no", s.name,
				       s.version, s.name, s.version);
	for (size_t i = 0; i < ELEMENTSOF(esp_slot_files); i++)
		if (!strv_contains(files, esp_slot_files[i]))
			return log_error_errno(ENOENT, "source: the ESP of '%s' has no %s", s.path,
					       esp_slot_files[i]);

	r = load_pcr_key(o, &s, &esp, tmp);
	if (r < 0)
		return r;

	*ret = s;
	s = (struct install_source){};
	/* gpt_find() pointers stay valid: the table moved with the struct. */
	return 0;
}
