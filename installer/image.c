/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the installer reads about the image, parsed without touching anything: the
 * image's manifest.json (through lib/bundle-manifest.c) and which file of the medium's ESP
 * is the slot-A UKI.
 */
#include <ctype.h>
#include <stdio.h>

#include "bundle.h"
#include "core/hex.h"
#include "core/strv.h"
#include "ext/json.h"
#include "installer.h"

int source_parse_manifest(const char *text, size_t size, char **ret_name, char **ret_version,
			  struct plan_sizes *ret_sizes, uint8_t ret_root_hash[32], char **ret_error)
{
	struct bundle_manifest_disk d;
	int r;

	/* manifest.json has one reader and writer: lib/bundle-manifest.c */
	r = bundle_manifest_parse_disk(text, size, &d, ret_error);
	if (r < 0)
		return r;
	*ret_name = TAKE_PTR(d.name);
	*ret_version = TAKE_PTR(d.version);
	*ret_sizes = (struct plan_sizes){
		.esp_bytes = d.esp_bytes,
		.root_bytes = d.root_bytes,
		.verity_bytes = d.verity_bytes,
		.data_min_bytes = d.data_min_bytes,
	};
	memcpy(ret_root_hash, d.root_hash, 32);
	bundle_manifest_disk_done(&d);
	return 0;
}

/* "<name>-<version>-a" then nothing, "+N" or "+N-M", then ".efi" */
static bool uki_name_matches(const char *file, const char *prefix)
{
	const char *p = startswith(file, prefix);

	if (!p)
		return false;
	if (*p == '+') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return false;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	return streq(p, ".efi");
}

int source_pick_uki(char *const *esp_files, const char *name, const char *version, char **ret_path)
{
	_cleanup_free_ char *prefix = NULL;
	const char *found = NULL;

	if (asprintf(&prefix, "EFI/Linux/%s-%s-a", name, version) < 0)
		return -ENOMEM;
	STRV_FOREACH(f, esp_files) {
		if (!uki_name_matches(*f, prefix))
			continue;
		if (found)
			return -ENOTUNIQ;
		found = *f;
	}
	if (!found)
		return -ENOENT;
	*ret_path = strdup(found);
	return *ret_path ? 0 : -ENOMEM;
}
