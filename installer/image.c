/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the installer reads about the image, parsed without touching anything: the root
 * hash on the kernel command line, the image's manifest.json, and which file of the
 * medium's ESP is the slot-A UKI.
 */
#include <ctype.h>
#include <stdio.h>

#include "core/hex.h"
#include "core/strv.h"
#include "ext/json.h"
#include "installer.h"

int source_parse_manifest(const char *text, size_t size, char **ret_name, char **ret_version,
			  struct plan_sizes *ret_sizes, uint8_t ret_root_hash[32], char **ret_error)
{
	_cleanup_json_ struct json_object *doc = NULL;
	_cleanup_free_ char *error = NULL, *name = NULL, *version = NULL;
	struct json_object *disk, *verity;
	const char *s, *hash;
	struct plan_sizes sizes = {};
	static const char *const keys[] = { "esp_size", "root_size", "verity_size",
					    "data_min_size" };
	uint64_t *fields[] = { &sizes.esp_bytes, &sizes.root_bytes, &sizes.verity_bytes,
			       &sizes.data_min_bytes };
	uint8_t h[32];
	int r;

	r = json_parse_strict(text, size, &doc, &error);
	if (r < 0)
		return error_replace(ret_error, -EBADMSG, "not JSON: %s", strna(error));
	if (!json_object_is_type(doc, json_type_object))
		return error_replace(ret_error, -EBADMSG, "not a JSON object");
	if (json_get_string(doc, "name", &s) < 0 || isempty(s) || !(name = strdup(s)))
		return error_replace(ret_error, -EBADMSG,
				     "field 'name' is missing or not a string");
	if (json_get_string(doc, "version", &s) < 0 || isempty(s) || !(version = strdup(s)))
		return error_replace(ret_error, -EBADMSG,
				     "field 'version' is missing or not a string");
	if (json_get_object(doc, "disk", &disk) < 0)
		return error_replace(ret_error, -EBADMSG, "object 'disk' is missing");
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (json_get_uint64(disk, keys[i], fields[i]) < 0 || *fields[i] == 0)
			return error_replace(ret_error, -EBADMSG,
					     "field 'disk.%s' is missing or not a positive integer",
					     keys[i]);
	if (json_get_object(doc, "verity", &verity) < 0 ||
	    json_get_string(verity, "root_hash", &hash) < 0 || strlen(hash) != 64 ||
	    unhex_exact(hash, h, sizeof(h)) < 0)
		return error_replace(ret_error, -EBADMSG,
				     "field 'verity.root_hash' is missing or not 64 hex "
				     "digits");

	*ret_name = TAKE_PTR(name);
	*ret_version = TAKE_PTR(version);
	*ret_sizes = sizes;
	memcpy(ret_root_hash, h, 32);
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
