/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Update bundles: manifest.json, parsed strictly (bundle.h, "the manifest"). The
 * reader and the rules are in bundle.c.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "bundle.h"
#include "manifest.h"
#include "core/error.h"
#include "core/hex.h"
#include "core/strv.h"
#include "ext/json.h"
#include "version.h"

/* Sizes above this are nonsense for any image (1 PiB) and stay clear of overflow. */
#define SIZE_MAX_BYTES (UINT64_C(1) << 50)

struct bundle_manifest *bundle_manifest_free(struct bundle_manifest *m)
{
	if (!m)
		return NULL;
	free(m->name);
	free(m->version);
	free(m->min_version);
	free(m->compatible);
	free(m->architecture);
	strv_free(m->trusted_keys);
	free(m);
	return NULL;
}

const struct bundle_artifact *bundle_manifest_artifact(const struct bundle_manifest *m,
						       enum bundle_member member)
{
	if (member < BUNDLE_FIRST_ARTIFACT || member >= _BUNDLE_MEMBER_MAX)
		return NULL;
	return &m->artifacts[member - BUNDLE_FIRST_ARTIFACT];
}

static int bad(char **ret_error, const char *field, const char *fmt, ...) _printf_(3, 4);
static int bad(char **ret_error, const char *field, const char *fmt, ...)
{
	_cleanup_free_ char *m = NULL;
	va_list ap;

	if (!ret_error)
		return -EBADMSG;
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	free(*ret_error);
	if (asprintf(ret_error, "%s: %s", field, strna(m)) < 0)
		*ret_error = NULL;
	return -EBADMSG;
}

static bool chars_valid(const char *s, const char *extra)
{
	for (const char *c = s; *c; c++)
		if (!isascii((unsigned char)*c) ||
		    (!isalnum((unsigned char)*c) && !strchr(extra, *c)))
			return false;
	return true;
}

/* A string member: present, a string, no NUL inside, 1..max_len bytes. */
static int get_string(struct json_object *o, const char *key, const char *field, size_t max_len,
		      const char **ret, char **ret_error)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v))
		return bad(ret_error, field, "missing");
	if (!json_object_is_type(v, json_type_string))
		return bad(ret_error, field, "not a string");
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return bad(ret_error, field, "contains a NUL character");
	if (isempty(s))
		return bad(ret_error, field, "empty");
	if (strlen(s) > max_len)
		return bad(ret_error, field, "longer than %zu characters", max_len);
	*ret = s;
	return 0;
}

static int dup_string(struct json_object *o, const char *key, const char *field, size_t max_len,
		      const char *extra_chars, char **ret, char **ret_error)
{
	const char *s;
	char *c;
	int r = get_string(o, key, field, max_len, &s, ret_error);

	if (r < 0)
		return r;
	if (extra_chars && !chars_valid(s, extra_chars))
		return bad(ret_error, field,
			   "'%s' has characters other than letters, digits and '%s'", s,
			   extra_chars);
	c = strdup(s);
	if (!c)
		return -ENOMEM;
	*ret = c;
	return 0;
}

static int get_uint(struct json_object *o, const char *key, const char *field, uint64_t min,
		    uint64_t max, uint64_t *ret, char **ret_error)
{
	struct json_object *v;
	int64_t i;

	if (!json_object_object_get_ex(o, key, &v))
		return bad(ret_error, field, "missing");
	if (!json_object_is_type(v, json_type_int))
		return bad(ret_error, field, "not an integer");
	errno = 0;
	i = json_object_get_int64(v);
	if (errno != 0 || i < 0 || (uint64_t)i < min || (uint64_t)i > max)
		return bad(ret_error, field, "out of range (%" PRIu64 "..%" PRIu64 ")", min, max);
	*ret = (uint64_t)i;
	return 0;
}

static int get_hex(struct json_object *o, const char *key, const char *field, uint8_t *out,
		   size_t n, char **ret_error)
{
	const char *s;
	int r = get_string(o, key, field, 2 * n, &s, ret_error);

	if (r < 0)
		return r;
	if (!hex_is_lower(s, 2 * n) || unhex_exact(s, out, n) < 0)
		return bad(ret_error, field, "not %zu lower-case hex digits", 2 * n);
	return 0;
}

static int get_object(struct json_object *o, const char *key, const char *field,
		      struct json_object **ret, char **ret_error)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return bad(ret_error, field, "missing");
	if (!json_object_is_type(v, json_type_object))
		return bad(ret_error, field, "not an object");
	*ret = v;
	return 0;
}

static int get_array(struct json_object *o, const char *key, const char *field, size_t min,
		     size_t max, struct json_object **ret, char **ret_error)
{
	struct json_object *v;
	size_t n;

	if (!json_object_object_get_ex(o, key, &v))
		return bad(ret_error, field, "missing");
	if (!json_object_is_type(v, json_type_array))
		return bad(ret_error, field, "not an array");
	n = json_object_array_length(v);
	if (n < min || n > max) {
		if (min == max)
			return bad(ret_error, field, "has %zu entries, expected %zu", n, min);
		return bad(ret_error, field, "has %zu entries, expected %zu to %zu", n, min, max);
	}
	*ret = v;
	return 0;
}

static bool fingerprint_is_valid(const char *s)
{
	size_t n = strlen(s);

	if (n != 40 && n != 64) /* OpenPGP v4 and v5 keys */
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'A' && s[i] <= 'F'))
			return false;
	return true;
}

static int parse_artifacts(struct json_object *doc, struct bundle_manifest *m, char **ret_error)
{
	struct json_object *arts;
	int r = get_array(doc, "artifacts", "artifacts", BUNDLE_N_ARTIFACTS, BUNDLE_N_ARTIFACTS,
			  &arts, ret_error);

	if (r < 0)
		return r;
	for (size_t i = 0; i < BUNDLE_N_ARTIFACTS; i++) {
		struct json_object *a = json_object_array_get_idx(arts, i);
		struct bundle_artifact *art = &m->artifacts[i];
		enum bundle_member member = (enum bundle_member)(BUNDLE_FIRST_ARTIFACT + (int)i);
		char field[64];
		const char *name;

		snprintf(field, sizeof(field), "artifacts[%zu]", i);
		if (!a || !json_object_is_type(a, json_type_object))
			return bad(ret_error, field, "not an object");
		snprintf(field, sizeof(field), "artifacts[%zu].name", i);
		r = get_string(a, "name", field, 64, &name, ret_error);
		if (r < 0)
			return r;
		if (!streq(name, bundle_member_to_string(member)))
			return bad(ret_error, field,
				   "\"%s\" where \"%s\" is due (the payload is %s, %s, %s, %s, in "
				   "this order)",
				   name, bundle_member_to_string(member),
				   bundle_member_to_string(BUNDLE_MEMBER_ROOT),
				   bundle_member_to_string(BUNDLE_MEMBER_VERITY),
				   bundle_member_to_string(BUNDLE_MEMBER_UKI),
				   bundle_member_to_string(BUNDLE_MEMBER_SBOM));
		art->member = member;
		art->name = bundle_member_to_string(member);
		snprintf(field, sizeof(field), "artifacts[%zu].size", i);
		r = get_uint(a, "size", field, 1, SIZE_MAX_BYTES, &art->size_bytes, ret_error);
		if (r < 0)
			return r;
		snprintf(field, sizeof(field), "artifacts[%zu].sha256", i);
		r = get_hex(a, "sha256", field, art->sha256, sizeof(art->sha256), ret_error);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool power_of_two_between(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

static int parse_verity_and_disk(struct json_object *doc, struct bundle_manifest *m,
				 char **ret_error)
{
	struct json_object *verity, *disk;
	const char *alg;
	uint64_t v;
	int r;

	r = get_object(doc, "verity", "verity", &verity, ret_error);
	if (r < 0)
		return r;
	r = get_hex(verity, "root_hash", "verity.root_hash", m->root_hash, sizeof(m->root_hash),
		    ret_error);
	if (r < 0)
		return r;
	r = get_string(verity, "hash_algorithm", "verity.hash_algorithm", 16, &alg, ret_error);
	if (r < 0)
		return r;
	if (!streq(alg, "sha256"))
		return bad(ret_error, "verity.hash_algorithm", "\"%s\", expected \"sha256\"", alg);
	r = get_uint(verity, "data_block_size", "verity.data_block_size", 512, 65536, &v,
		     ret_error);
	if (r < 0)
		return r;
	if (!power_of_two_between(v, 512, 65536))
		return bad(ret_error, "verity.data_block_size", "%" PRIu64 " is not a power of two",
			   v);
	m->data_block_size = (uint32_t)v;
	r = get_uint(verity, "hash_block_size", "verity.hash_block_size", 512, 65536, &v,
		     ret_error);
	if (r < 0)
		return r;
	if (!power_of_two_between(v, 512, 65536))
		return bad(ret_error, "verity.hash_block_size", "%" PRIu64 " is not a power of two",
			   v);
	m->hash_block_size = (uint32_t)v;
	r = get_uint(verity, "data_blocks", "verity.data_blocks", 1, SIZE_MAX_BYTES / 512,
		     &m->data_blocks, ret_error);
	if (r < 0)
		return r;
	if (m->data_blocks * m->data_block_size > m->artifacts[0].size_bytes)
		return bad(ret_error, "verity.data_blocks",
			   "%" PRIu64 " blocks of %" PRIu32 " bytes are more than root.squashfs's "
			   "%" PRIu64 " bytes",
			   m->data_blocks, m->data_block_size, m->artifacts[0].size_bytes);

	r = get_object(doc, "disk", "disk", &disk, ret_error);
	if (r < 0)
		return r;
	r = get_uint(disk, "root_size", "disk.root_size", 1, SIZE_MAX_BYTES, &m->root_size_bytes,
		     ret_error);
	if (r < 0)
		return r;
	if (m->root_size_bytes < m->artifacts[0].size_bytes)
		return bad(ret_error, "disk.root_size",
			   "%" PRIu64 " bytes cannot hold root.squashfs's %" PRIu64,
			   m->root_size_bytes, m->artifacts[0].size_bytes);
	r = get_uint(disk, "verity_size", "disk.verity_size", 1, SIZE_MAX_BYTES,
		     &m->verity_size_bytes, ret_error);
	if (r < 0)
		return r;
	if (m->verity_size_bytes < m->artifacts[1].size_bytes)
		return bad(ret_error, "disk.verity_size",
			   "%" PRIu64 " bytes cannot hold root.verity's %" PRIu64,
			   m->verity_size_bytes, m->artifacts[1].size_bytes);
	return 0;
}

static int parse_trusted_keys(struct json_object *doc, struct bundle_manifest *m, char **ret_error)
{
	struct json_object *keys;
	int r = get_array(doc, "trusted_keys", "trusted_keys", 1, BUNDLE_TRUSTED_KEYS_MAX, &keys,
			  ret_error);

	if (r < 0) {
		if (r == -EBADMSG && json_object_object_get_ex(doc, "trusted_keys", &keys) &&
		    json_object_is_type(keys, json_type_array) &&
		    json_object_array_length(keys) == 0)
			return bad(ret_error, "trusted_keys",
				   "empty: the image would trust no update key and could never "
				   "be updated again");
		return r;
	}
	for (size_t i = 0; i < json_object_array_length(keys); i++) {
		struct json_object *k = json_object_array_get_idx(keys, i);
		const char *s = k && json_object_is_type(k, json_type_string) ?
					json_object_get_string(k) :
					NULL;
		char field[64];

		snprintf(field, sizeof(field), "trusted_keys[%zu]", i);
		if (!s || (size_t)json_object_get_string_len(k) != strlen(s) ||
		    !fingerprint_is_valid(s))
			return bad(ret_error, field,
				   "not an OpenPGP fingerprint (40 or 64 upper-case hex digits)");
		if (strv_contains(m->trusted_keys, s))
			return bad(ret_error, field, "%s is listed twice", s);
		r = strv_extend(&m->trusted_keys, s);
		if (r < 0)
			return r;
	}
	return 0;
}

int bundle_manifest_parse(const char *text, size_t size, struct bundle_manifest **ret,
			  char **ret_error)
{
	_cleanup_(bundle_manifest_freep) struct bundle_manifest *m = NULL;
	_cleanup_json_ struct json_object *doc = NULL;
	_cleanup_free_ char *json_error = NULL;
	struct json_object *v_debug;
	uint64_t v;
	int r;

	if (size > BUNDLE_MANIFEST_MAX_BYTES)
		return bad(ret_error, "manifest.json", "larger than %u bytes",
			   BUNDLE_MANIFEST_MAX_BYTES);
	r = json_parse_strict(text, size, &doc, &json_error);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return bad(ret_error, "manifest.json", "not valid JSON: %s", strna(json_error));
	if (!json_object_is_type(doc, json_type_object))
		return bad(ret_error, "manifest.json", "not a JSON object");
	m = new0(struct bundle_manifest, 1);
	if (!m)
		return -ENOMEM;

	r = get_uint(doc, "format", "format", 0, INT32_MAX, &v, ret_error);
	if (r < 0)
		return r;
	if (v != BUNDLE_FORMAT)
		return bad(ret_error, "format",
			   "%" PRIu64 " is not a format this updater reads (%d)", v, BUNDLE_FORMAT);
	r = dup_string(doc, "name", "name", 128, "-_.", &m->name, ret_error);
	if (r < 0)
		return r;
	if (m->name[0] == '.' || m->name[0] == '-')
		return bad(ret_error, "name", "'%s' starts with '%c'", m->name, m->name[0]);
	r = dup_string(doc, "version", "version", 64, NULL, &m->version, ret_error);
	if (r < 0)
		return r;
	if (!version_is_valid(m->version))
		return bad(ret_error, "version", "'%s' is not a version (digits and dots)",
			   m->version);
	r = dup_string(doc, "min_version", "min_version", 64, NULL, &m->min_version, ret_error);
	if (r < 0)
		return r;
	if (!version_is_valid(m->min_version))
		return bad(ret_error, "min_version", "'%s' is not a version (digits and dots)",
			   m->min_version);
	if (version_compare(m->min_version, m->version) > 0)
		return bad(ret_error, "min_version", "%s is higher than version %s", m->min_version,
			   m->version);
	/* Absent in bundles built before the version floor: 0, which every floor starts at. */
	if (json_object_object_get_ex(doc, "security_version", NULL)) {
		r = get_uint(doc, "security_version", "security_version", 0,
			     MANIFEST_SECURITY_VERSION_MAX, &m->security_version, ret_error);
		if (r < 0)
			return r;
	}
	r = dup_string(doc, "compatible", "compatible", 128, "-_./", &m->compatible, ret_error);
	if (r < 0)
		return r;
	r = dup_string(doc, "architecture", "architecture", 32, "-_", &m->architecture, ret_error);
	if (r < 0)
		return r;
	r = get_uint(doc, "source_date_epoch", "source_date_epoch", 0, INT64_MAX, &v, ret_error);
	if (r < 0)
		return r;
	m->source_date_epoch = (int64_t)v;
	r = parse_artifacts(doc, m, ret_error);
	if (r < 0)
		return r;
	r = parse_verity_and_disk(doc, m, ret_error);
	if (r < 0)
		return r;
	r = parse_trusted_keys(doc, m, ret_error);
	if (r < 0)
		return r;
	if (json_object_object_get_ex(doc, "debug", &v_debug)) {
		if (!json_object_is_type(v_debug, json_type_boolean))
			return bad(ret_error, "debug", "not a boolean");
		m->debug = json_object_get_boolean(v_debug);
	}
	*ret = TAKE_PTR(m);
	return 0;
}

int bundle_manifest_format(const struct bundle_manifest_info *in, struct json_object **ret)
{
	_cleanup_json_ struct json_object *doc = json_object_new_object(), *verity = NULL,
					  *disk = NULL, *arts = NULL, *keys = NULL, *pkgs = NULL;
	char root_hash[SHA256_HEX_SIZE], salt[SHA256_HEX_SIZE], content[SHA256_HEX_SIZE];

	if (!doc)
		return -ENOMEM;
	hex_to_buf(in->root_hash, SHA256_DIGEST_SIZE, root_hash);
	hex_to_buf(in->salt, SHA256_DIGEST_SIZE, salt);
	hex_to_buf(in->content_sha256, SHA256_DIGEST_SIZE, content);

	if (json_add_int(doc, "format", BUNDLE_FORMAT) < 0 ||
	    json_add_string(doc, "name", in->name) < 0 ||
	    json_add_string(doc, "version", in->version) < 0 ||
	    json_add_string(doc, "min_version", in->min_version) < 0 ||
	    json_add_int(doc, "security_version", (int64_t)in->security_version) < 0 ||
	    json_add_string(doc, "compatible", in->compatible) < 0 ||
	    json_add_string(doc, "architecture", in->architecture) < 0 ||
	    json_add_int(doc, "source_date_epoch", in->source_date_epoch) < 0 ||
	    json_add_string(doc, "kernel", in->kernel) < 0 ||
	    json_add_string(doc, "content_sha256", content) < 0 ||
	    (in->debug && json_add_bool(doc, "debug", true) < 0))
		return -ENOMEM;

	verity = json_object_new_object();
	if (!verity || json_add_string(verity, "root_hash", root_hash) < 0 ||
	    json_add_string(verity, "hash_algorithm", "sha256") < 0 ||
	    json_add_int(verity, "format", 1) < 0 || json_add_string(verity, "salt", salt) < 0 ||
	    json_add_string(verity, "uuid", in->verity_uuid) < 0 ||
	    json_add_int(verity, "data_block_size", in->data_block_size) < 0 ||
	    json_add_int(verity, "hash_block_size", in->hash_block_size) < 0 ||
	    json_add_int(verity, "data_blocks", (int64_t)in->data_blocks) < 0 ||
	    json_add(doc, "verity", TAKE_PTR(verity)) < 0)
		return -ENOMEM;

	disk = json_object_new_object();
	if (!disk || json_add_int(disk, "esp_size", (int64_t)in->esp_size_bytes) < 0 ||
	    json_add_int(disk, "root_size", (int64_t)in->root_size_bytes) < 0 ||
	    json_add_int(disk, "verity_size", (int64_t)in->verity_size_bytes) < 0 ||
	    json_add_int(disk, "data_min_size", (int64_t)in->data_min_size_bytes) < 0 ||
	    json_add(doc, "disk", TAKE_PTR(disk)) < 0)
		return -ENOMEM;

	/* In the order an update tarball carries them. */
	arts = json_object_new_array();
	if (!arts)
		return -ENOMEM;
	for (size_t i = 0; i < in->n_artifacts; i++) {
		struct json_object *a = json_object_new_object();
		char hex[SHA256_HEX_SIZE];

		sha256_hex(in->artifacts[i].sha256, hex);
		if (!a || json_add_string(a, "name", in->artifacts[i].name) < 0 ||
		    json_add_int(a, "size", (int64_t)in->artifacts[i].size_bytes) < 0 ||
		    json_add_string(a, "sha256", hex) < 0 || json_array_add(arts, a) < 0) {
			json_object_put(a);
			return -ENOMEM;
		}
	}
	if (json_add(doc, "artifacts", TAKE_PTR(arts)) < 0)
		return -ENOMEM;

	keys = json_object_new_array();
	if (!keys)
		return -ENOMEM;
	STRV_FOREACH(k, in->trusted_keys)
		if (json_array_add_string(keys, *k) < 0)
			return -ENOMEM;
	if (json_add(doc, "trusted_keys", TAKE_PTR(keys)) < 0)
		return -ENOMEM;

	pkgs = json_object_new_array();
	if (!pkgs)
		return -ENOMEM;
	for (size_t i = 0; i < in->n_packages; i++) {
		const struct bundle_manifest_package *p = &in->packages[i];
		struct json_object *o = json_object_new_object();

		if (!o || json_add_string(o, "name", p->name) < 0 ||
		    json_add_string(o, "version", p->version) < 0 ||
		    json_add_string(o, "architecture", p->architecture) < 0 ||
		    json_add_string(o, "source", p->source) < 0 ||
		    json_add_string(o, "source_version", p->source_version) < 0 ||
		    json_add_int(o, "size", (int64_t)p->size_bytes) < 0 ||
		    json_add_string(o, "sha256", p->sha256) < 0 || json_array_add(pkgs, o) < 0) {
			json_object_put(o);
			return -ENOMEM;
		}
	}
	if (json_add(doc, "packages", TAKE_PTR(pkgs)) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(doc);
	return 0;
}

void bundle_manifest_disk_done(struct bundle_manifest_disk *d)
{
	free(d->name);
	free(d->version);
	*d = (struct bundle_manifest_disk){};
}

int bundle_manifest_parse_disk(const char *text, size_t size, struct bundle_manifest_disk *ret,
			       char **ret_error)
{
	_cleanup_json_ struct json_object *doc = NULL;
	_cleanup_free_ char *error = NULL, *name = NULL, *version = NULL;
	struct json_object *disk, *verity;
	const char *s, *hash;
	static const char *const keys[] = { "esp_size", "root_size", "verity_size",
					    "data_min_size" };
	struct bundle_manifest_disk d = {};
	uint64_t *fields[] = { &d.esp_bytes, &d.root_bytes, &d.verity_bytes, &d.data_min_bytes };
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
	    unhex_exact(hash, d.root_hash, sizeof(d.root_hash)) < 0)
		return error_replace(ret_error, -EBADMSG,
				     "field 'verity.root_hash' is missing or not 64 hex "
				     "digits");
	d.name = TAKE_PTR(name);
	d.version = TAKE_PTR(version);
	*ret = d;
	return 0;
}
