/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/bundle: the manifest parser, the member and policy rules, and the reader on
 * tar streams made in memory (memfd). Signatures are tested by test-sig and the
 * integration tests; here the reader runs without them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "bundle.h"
#include "core/fd.h"
#include "core/hex.h"
#include "core/strv.h"
#include "ext/archive.h"
#include "ext/crypto.h"
#include "ext/json.h"

#define FPR_A "F58CB06CF36152B6B7C4FDD8771720EFFABA4329"
#define FPR_B "6B62623519EECC819D875EA601B6C6CA48D6CFEC"

/* ---- a manifest and a payload ---------------------------------------------------------------- */

struct payload {
	uint8_t *data[BUNDLE_N_ARTIFACTS];
	size_t size[BUNDLE_N_ARTIFACTS];
};

static void payload_init(struct payload *p, size_t root_size)
{
	const size_t sizes[BUNDLE_N_ARTIFACTS] = { root_size, 8192, 5000, 77 };

	for (size_t i = 0; i < BUNDLE_N_ARTIFACTS; i++) {
		p->size[i] = sizes[i];
		p->data[i] = malloc(sizes[i]);
		assert_non_null(p->data[i]);
		for (size_t j = 0; j < sizes[i]; j++)
			p->data[i][j] = (uint8_t)(j * 31 + i * 7 + (j >> 9));
	}
}

static void payload_done(struct payload *p)
{
	for (size_t i = 0; i < BUNDLE_N_ARTIFACTS; i++)
		p->data[i] = mfree(p->data[i]);
}

static struct json_object *make_manifest(const struct payload *p)
{
	struct json_object *doc = json_object_new_object(), *arts = json_object_new_array();
	struct json_object *verity = json_object_new_object(), *disk = json_object_new_object();
	struct json_object *keys = json_object_new_array();

	assert_non_null(doc);
	assert_int_equal(json_add_int(doc, "format", 1), 0);
	assert_int_equal(json_add_string(doc, "name", "airlock"), 0);
	assert_int_equal(json_add_string(doc, "version", "1.2.0"), 0);
	assert_int_equal(json_add_string(doc, "min_version", "1.0.0"), 0);
	assert_int_equal(json_add_string(doc, "compatible", "airlock/x86-64"), 0);
	assert_int_equal(json_add_string(doc, "architecture", "amd64"), 0);
	assert_int_equal(json_add_int(doc, "source_date_epoch", 1747699200), 0);
	assert_int_equal(json_add_string(verity, "root_hash",
					 "0123456789abcdef0123456789abcdef"
					 "0123456789abcdef0123456789abcdef"),
			 0);
	assert_int_equal(json_add_string(verity, "hash_algorithm", "sha256"), 0);
	assert_int_equal(json_add_int(verity, "data_block_size", 4096), 0);
	assert_int_equal(json_add_int(verity, "hash_block_size", 4096), 0);
	assert_int_equal(json_add_int(verity, "data_blocks", (int64_t)(p->size[0] / 4096)), 0);
	assert_int_equal(json_add(doc, "verity", verity), 0);
	assert_int_equal(json_add_int(disk, "root_size", 1 << 30), 0);
	assert_int_equal(json_add_int(disk, "verity_size", 64 << 20), 0);
	assert_int_equal(json_add(doc, "disk", disk), 0);
	for (size_t i = 0; i < BUNDLE_N_ARTIFACTS; i++) {
		struct json_object *a = json_object_new_object();
		uint8_t d[SHA256_DIGEST_SIZE];
		char hex[SHA256_HEX_SIZE];

		assert_int_equal(sha256_buf(p->data[i], p->size[i], d), 0);
		sha256_hex(d, hex);
		assert_int_equal(
			json_add_string(a, "name",
					bundle_member_to_string(BUNDLE_FIRST_ARTIFACT + (int)i)),
			0);
		assert_int_equal(json_add_int(a, "size", (int64_t)p->size[i]), 0);
		assert_int_equal(json_add_string(a, "sha256", hex), 0);
		assert_int_equal(json_array_add(arts, a), 0);
	}
	assert_int_equal(json_add(doc, "artifacts", arts), 0);
	assert_int_equal(json_array_add_string(keys, FPR_A), 0);
	assert_int_equal(json_array_add_string(keys, FPR_B), 0);
	assert_int_equal(json_add(doc, "trusted_keys", keys), 0);
	/* what the updater does not read */
	assert_int_equal(json_add(doc, "packages", json_object_new_array()), 0);
	return doc;
}

static char *manifest_text(struct json_object *doc)
{
	char *s = strdup(json_format_compact(doc));
	assert_non_null(s);
	return s;
}

static struct bundle_manifest *parse_ok(struct json_object *doc)
{
	_cleanup_free_ char *text = manifest_text(doc), *error = NULL;
	struct bundle_manifest *m = NULL;
	int r = bundle_manifest_parse(text, strlen(text), &m, &error);

	if (r < 0)
		fail_msg("manifest refused: %s", strna(error));
	return m;
}

/* ---- the parser ------------------------------------------------------------------------------ */

static void test_manifest_good(void **state)
{
	struct payload p;
	_cleanup_json_ struct json_object *doc = NULL;
	_cleanup_(bundle_manifest_freep) struct bundle_manifest *m = NULL;
	(void)state;

	payload_init(&p, 3 * 4096);
	doc = make_manifest(&p);
	m = parse_ok(doc);
	assert_string_equal(m->name, "airlock");
	assert_string_equal(m->version, "1.2.0");
	assert_string_equal(m->min_version, "1.0.0");
	assert_true(m->security_version == 0); /* absent: a bundle built before the floor */
	assert_string_equal(m->compatible, "airlock/x86-64");
	assert_int_equal(m->source_date_epoch, 1747699200);
	assert_int_equal(m->artifacts[0].size_bytes, 3 * 4096);
	assert_string_equal(m->artifacts[2].name, "uki.efi");
	assert_int_equal(m->artifacts[3].member, BUNDLE_MEMBER_SBOM);
	assert_ptr_equal(bundle_manifest_artifact(m, BUNDLE_MEMBER_VERITY), &m->artifacts[1]);
	assert_null(bundle_manifest_artifact(m, BUNDLE_MEMBER_SIGNATURE));
	assert_int_equal(m->root_hash[0], 0x01);
	assert_int_equal(m->data_blocks, 3);
	assert_int_equal(strv_length(m->trusted_keys), 2);
	assert_string_equal(m->trusted_keys[1], FPR_B);
	assert_false(m->debug);
	m = bundle_manifest_free(m);
	assert_int_equal(json_add_bool(doc, "debug", true), 0);
	m = parse_ok(doc);
	assert_true(m->debug);
	payload_done(&p);
}

/* A JSON edit of the good manifest that must be refused naming field. */
struct bad_case {
	const char *path; /* "key" or "object.key" or "artifacts.N.key" */
	const char *json; /* the new value as JSON, or NULL to delete the key */
	const char *field; /* what the error must name */
};

static struct json_object *lookup_parent(struct json_object *doc, const char *path,
					 const char **ret_key)
{
	_cleanup_strv_free_ char **parts = NULL;
	struct json_object *o = doc;
	size_t n;

	assert_int_equal(strv_split(path, ".", &parts), 0);
	n = strv_length(parts);
	for (size_t i = 0; i + 1 < n; i++) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t)strtoul(parts[i], NULL, 10));
		else
			assert_true(json_object_object_get_ex(o, parts[i], &o));
	}
	*ret_key = strstr(path, parts[n - 1]);
	while (strchr(*ret_key, '.'))
		*ret_key = strchr(*ret_key, '.') + 1;
	return o;
}

/* A JSON value (json-c cannot parse a bare number that ends the input: wrap it). */
static struct json_object *json_value(const char *text)
{
	_cleanup_free_ char *wrapped = NULL;
	_cleanup_json_ struct json_object *a = NULL;

	assert_true(asprintf(&wrapped, "[%s]", text) > 0);
	assert_int_equal(json_parse(wrapped, strlen(wrapped), &a, NULL), 0);
	return json_object_get(json_object_array_get_idx(a, 0));
}

static void test_manifest_bad(void **state)
{
	static const struct bad_case cases[] = {
		{ "format", "2", "format" },
		{ "format", "\"1\"", "format" },
		{ "name", NULL, "name" },
		{ "name", "\"../evil\"", "name" },
		{ "name", "\".hidden\"", "name" },
		{ "name", "\"a b\"", "name" },
		{ "name", "\"\"", "name" },
		{ "name", "\"air\\u0000lock\"", "name" },
		{ "version", "\"1.2.x\"", "version" },
		{ "version", "\"1..2\"", "version" },
		{ "version", "120", "version" },
		{ "min_version", "\"1.3\"", "min_version" },
		{ "min_version", NULL, "min_version" },
		{ "security_version", "-1", "security_version" },
		{ "security_version", "\"1\"", "security_version" },
		{ "security_version", "1000001", "security_version" },
		{ "compatible", "\"airlock x86\"", "compatible" },
		{ "architecture", NULL, "architecture" },
		{ "source_date_epoch", "-1", "source_date_epoch" },
		{ "artifacts", "[]", "artifacts" },
		{ "artifacts", "{}", "artifacts" },
		{ "artifacts.0.name", "\"root.verity\"", "artifacts[0].name" },
		{ "artifacts.2.name", "\"../uki.efi\"", "artifacts[2].name" },
		{ "artifacts.1.size", "0", "artifacts[1].size" },
		{ "artifacts.1.size", "\"8192\"", "artifacts[1].size" },
		{ "artifacts.1.size", "1.5", "artifacts[1].size" },
		{ "artifacts.1.size", "99999999999999999999", "artifacts[1].size" },
		{ "artifacts.3.sha256", "\"ABCD\"", "artifacts[3].sha256" },
		{ "artifacts.3.sha256",
		  "\"0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\"",
		  "artifacts[3].sha256" },
		{ "artifacts.3", "\"sbom\"", "artifacts[3]" },
		{ "verity", NULL, "verity" },
		{ "verity.root_hash", "\"00\"", "verity.root_hash" },
		{ "verity.hash_algorithm", "\"sha1\"", "verity.hash_algorithm" },
		{ "verity.data_block_size", "3000", "verity.data_block_size" },
		{ "verity.hash_block_size", "131072", "verity.hash_block_size" },
		{ "verity.data_blocks", "1000", "verity.data_blocks" },
		{ "disk.root_size", "100", "disk.root_size" },
		{ "disk.verity_size", "100", "disk.verity_size" },
		{ "trusted_keys", "[]", "trusted_keys" },
		{ "trusted_keys", NULL, "trusted_keys" },
		{ "trusted_keys", "[\"f58cb06cf36152b6b7c4fdd8771720effaba4329\"]",
		  "trusted_keys[0]" },
		{ "trusted_keys", "[\"" FPR_A "\", \"" FPR_A "\"]", "trusted_keys[1]" },
		{ "trusted_keys", "[\"" FPR_A "\", 7]", "trusted_keys[1]" },
		{ "debug", "\"yes\"", "debug" },
		{ "debug", "1", "debug" },
	};
	struct payload p;
	(void)state;

	payload_init(&p, 4096);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_json_ struct json_object *doc = make_manifest(&p);
		_cleanup_(bundle_manifest_freep) struct bundle_manifest *m = NULL;
		_cleanup_free_ char *text = NULL, *error = NULL;
		const char *key;
		struct json_object *parent = lookup_parent(doc, cases[i].path, &key);

		if (!cases[i].json)
			json_object_object_del(parent, key);
		else {
			struct json_object *v = json_value(cases[i].json);
			if (json_object_is_type(parent, json_type_array))
				assert_int_equal(json_object_array_put_idx(
							 parent, strtoul(key, NULL, 10), v),
						 0);
			else
				assert_int_equal(json_add(parent, key, v), 0);
		}
		text = manifest_text(doc);
		if (bundle_manifest_parse(text, strlen(text), &m, &error) != -EBADMSG)
			fail_msg("case %zu (%s = %s) was not refused", i, cases[i].path,
				 strna(cases[i].json));
		assert_null(m);
		if (!error || !startswith(error, cases[i].field))
			fail_msg("case %zu (%s): error '%s' does not name %s", i, cases[i].path,
				 strna(error), cases[i].field);
	}
	payload_done(&p);
}

static void test_manifest_not_json(void **state)
{
	static const char *const texts[] = {
		"",
		"[]",
		"{\"format\": 1,}",
		"{\"format\": 1} trailing",
		"{'format': 1}",
		"{\"name\": \"\xff\"}",
		"{\"format\": 1 /* comment */}",
	};
	(void)state;

	for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
		_cleanup_(bundle_manifest_freep) struct bundle_manifest *m = NULL;
		_cleanup_free_ char *error = NULL;

		if (bundle_manifest_parse(texts[i], strlen(texts[i]), &m, &error) != -EBADMSG)
			fail_msg("text %zu was not refused", i);
		assert_non_null(error);
		assert_true(startswith(error, "manifest.json") || startswith(error, "format"));
	}
}

/* ---- the policy ------------------------------------------------------------------------------ */

static void test_policy(void **state)
{
	static const struct {
		const char *running, *compatible, *version, *min_version;
		enum bundle_refusal want; /* _BUNDLE_REFUSAL_INVALID: accepted */
	} cases[] = {
		{ "1.0.0", "airlock/x86-64", "1.0.1", "1.0.0", _BUNDLE_REFUSAL_INVALID },
		{ "1.0.0", "airlock/x86-64", "1.0.1", "0", _BUNDLE_REFUSAL_INVALID },
		{ "1.9", "airlock/x86-64", "1.10", "1.9", _BUNDLE_REFUSAL_INVALID },
		{ "1.0.0", "airlock/x86-64", "1.0.0", "1.0.0", BUNDLE_REFUSAL_SAME_VERSION },
		{ "1.0", "airlock/x86-64", "1.0.0", "1.0", BUNDLE_REFUSAL_SAME_VERSION },
		{ "1.0.1", "airlock/x86-64", "1.0.0", "0", BUNDLE_REFUSAL_DOWNGRADE },
		{ "1.10", "airlock/x86-64", "1.9", "0", BUNDLE_REFUSAL_DOWNGRADE },
		{ "1.0.0", "airlock/x86-64", "2.0.0", "1.5.0", BUNDLE_REFUSAL_BELOW_FLOOR },
		{ "1.5.0", "airlock/x86-64", "2.0.0", "1.5.0", _BUNDLE_REFUSAL_INVALID },
		{ "1.0.0", "airlock/arm64", "1.0.1", "1.0.0", BUNDLE_REFUSAL_INCOMPATIBLE },
		/* the product is checked first: a downgrade for another product is incompatible */
		{ "2.0.0", "other/x86-64", "1.0.1", "1.0.0", BUNDLE_REFUSAL_INCOMPATIBLE },
	};
	(void)state;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct bundle_manifest m = {
			.version = (char *)cases[i].version,
			.min_version = (char *)cases[i].min_version,
			.compatible = (char *)"airlock/x86-64",
		};
		const struct bundle_policy p = { .running_version = cases[i].running,
						 .compatible = cases[i].compatible };
		_cleanup_bundle_error_ struct bundle_error e = BUNDLE_ERROR_INIT;
		int r = bundle_policy_check(&p, &m, &e);

		if (cases[i].want == _BUNDLE_REFUSAL_INVALID) {
			if (r != 0)
				fail_msg("case %zu refused: %s", i, strna(e.message));
			continue;
		}
		if (r != -EPERM || e.refusal != cases[i].want)
			fail_msg("case %zu: r=%d refusal=%s, want %s", i, r,
				 strna(bundle_refusal_to_string(e.refusal)),
				 bundle_refusal_to_string(cases[i].want));
		assert_non_null(strstr(e.message, cases[i].version));
	}

	/* the version floor the TPM keeps: security_version at or above it */
	for (uint64_t sv = 0; sv < 4; sv++) {
		struct bundle_manifest m = { .version = (char *)"2.0.0",
					     .min_version = (char *)"1.0.0",
					     .security_version = sv,
					     .compatible = (char *)"airlock/x86-64" };
		const struct bundle_policy p = { .running_version = "1.0.0",
						 .compatible = "airlock/x86-64",
						 .has_version_floor = true,
						 .version_floor = 2 };
		_cleanup_bundle_error_ struct bundle_error e = BUNDLE_ERROR_INIT;
		int r = bundle_policy_check(&p, &m, &e);

		if (sv >= 2) {
			assert_int_equal(r, 0);
			continue;
		}
		assert_int_equal(r, -EPERM);
		assert_int_equal(e.refusal, BUNDLE_REFUSAL_BELOW_VERSION_FLOOR);
		assert_non_null(strstr(e.message, "below the version floor 2"));
	}

	{
		struct bundle_manifest m = { .version = (char *)"1",
					     .min_version = (char *)"0",
					     .compatible = (char *)"x" };
		const struct bundle_policy p = { .running_version = "not-a-version",
						 .compatible = "x" };
		_cleanup_bundle_error_ struct bundle_error e = BUNDLE_ERROR_INIT;

		assert_int_equal(bundle_policy_check(&p, &m, &e), -EINVAL);
		assert_int_equal(e.refusal, _BUNDLE_REFUSAL_INVALID);
	}
}

/* ---- the member checks ----------------------------------------------------------------------- */

static void test_member_check(void **state)
{
	static const struct {
		enum bundle_member expected;
		struct archive_member h;
		enum bundle_refusal want;
		const char *mention;
	} cases[] = {
		{ BUNDLE_MEMBER_MANIFEST,
		  { .kind = ARCHIVE_KIND_REG, .path = "manifest.json", .size = 10 },
		  _BUNDLE_REFUSAL_INVALID,
		  NULL },
		{ BUNDLE_MEMBER_ROOT,
		  { .kind = ARCHIVE_KIND_REG, .path = "root.squashfs", .size = 4096 },
		  _BUNDLE_REFUSAL_INVALID,
		  NULL },
		{ BUNDLE_MEMBER_ROOT,
		  { .kind = ARCHIVE_KIND_REG, .path = "root.squashfs", .size = 4097 },
		  BUNDLE_REFUSAL_TOO_LARGE,
		  "4097" },
		{ BUNDLE_MEMBER_ROOT,
		  { .kind = ARCHIVE_KIND_REG, .path = "root.squashfs", .size = 4095 },
		  BUNDLE_REFUSAL_TOO_SMALL,
		  "4095" },
		{ BUNDLE_MEMBER_MANIFEST,
		  { .kind = ARCHIVE_KIND_REG, .path = "manifest.json", .size = 4U << 20 | 1 },
		  BUNDLE_REFUSAL_TOO_LARGE,
		  "manifest.json" },
		{ BUNDLE_MEMBER_MANIFEST,
		  { .kind = ARCHIVE_KIND_REG, .path = "manifest.json", .size = 0 },
		  BUNDLE_REFUSAL_TOO_SMALL,
		  "empty" },
		{ BUNDLE_MEMBER_SIGNATURE,
		  { .kind = ARCHIVE_KIND_REG, .path = "manifest.json.sig", .size = 0 },
		  BUNDLE_REFUSAL_NO_SIGNATURE,
		  "empty" },
		{ BUNDLE_MEMBER_SIGNATURE,
		  { .kind = ARCHIVE_KIND_REG, .path = "manifest.json.sig", .size = 65537 },
		  BUNDLE_REFUSAL_TOO_LARGE,
		  "65537" },
		{ BUNDLE_MEMBER_ROOT,
		  { .kind = ARCHIVE_KIND_REG, .path = "root.sqfs", .size = 4096 },
		  BUNDLE_REFUSAL_UNEXPECTED_MEMBER,
		  "'root.sqfs'" },
		{ BUNDLE_MEMBER_ROOT,
		  { .kind = ARCHIVE_KIND_REG, .path = "root.verity", .size = 4096 },
		  BUNDLE_REFUSAL_UNEXPECTED_MEMBER,
		  "out of order" },
		{ BUNDLE_MEMBER_ROOT,
		  { .kind = ARCHIVE_KIND_REG, .path = "../root.squashfs", .size = 4096 },
		  BUNDLE_REFUSAL_BAD_PATH,
		  "'../root.squashfs'" },
		{ BUNDLE_MEMBER_ROOT,
		  { .kind = ARCHIVE_KIND_REG, .path = "/root.squashfs", .size = 4096 },
		  BUNDLE_REFUSAL_BAD_PATH,
		  NULL },
		{ BUNDLE_MEMBER_ROOT,
		  { .kind = ARCHIVE_KIND_REG, .path = "./root.squashfs", .size = 4096 },
		  BUNDLE_REFUSAL_BAD_PATH,
		  NULL },
		{ BUNDLE_MEMBER_ROOT,
		  { .kind = ARCHIVE_KIND_REG, .path = "a/root.squashfs", .size = 4096 },
		  BUNDLE_REFUSAL_BAD_PATH,
		  NULL },
		{ BUNDLE_MEMBER_ROOT,
		  { .kind = ARCHIVE_KIND_REG, .path = "..", .size = 4096 },
		  BUNDLE_REFUSAL_BAD_PATH,
		  NULL },
		{ BUNDLE_MEMBER_ROOT,
		  { .kind = ARCHIVE_KIND_REG, .path = "", .size = 4096 },
		  BUNDLE_REFUSAL_BAD_PATH,
		  NULL },
		{ BUNDLE_MEMBER_ROOT,
		  { .kind = ARCHIVE_KIND_REG, .path = NULL, .size = 4096 },
		  BUNDLE_REFUSAL_BAD_PATH,
		  NULL },
		{ BUNDLE_MEMBER_ROOT,
		  { .kind = ARCHIVE_KIND_REG, .path = "root.squashfs\n", .size = 4096 },
		  BUNDLE_REFUSAL_BAD_PATH,
		  "\\x0a" },
		{ BUNDLE_MEMBER_ROOT,
		  { .path = "root.squashfs", .kind = ARCHIVE_KIND_SYMLINK, .link = "/dev/sda" },
		  BUNDLE_REFUSAL_NOT_REGULAR,
		  "symbolic link (to '/dev/sda')" },
		{ BUNDLE_MEMBER_ROOT,
		  { .path = "root.squashfs", .kind = ARCHIVE_KIND_HARDLINK, .link = "x" },
		  BUNDLE_REFUSAL_NOT_REGULAR,
		  "hard link" },
		{ BUNDLE_MEMBER_ROOT,
		  { .path = "root.squashfs", .kind = ARCHIVE_KIND_BLK },
		  BUNDLE_REFUSAL_NOT_REGULAR,
		  "block device" },
		{ BUNDLE_MEMBER_ROOT,
		  { .path = "root.squashfs", .kind = ARCHIVE_KIND_CHR },
		  BUNDLE_REFUSAL_NOT_REGULAR,
		  "character device" },
		{ BUNDLE_MEMBER_ROOT,
		  { .path = "root.squashfs", .kind = ARCHIVE_KIND_FIFO },
		  BUNDLE_REFUSAL_NOT_REGULAR,
		  "fifo" },
		{ BUNDLE_MEMBER_ROOT,
		  { .path = "root.squashfs", .kind = ARCHIVE_KIND_DIR },
		  BUNDLE_REFUSAL_NOT_REGULAR,
		  "directory" },
		{ BUNDLE_MEMBER_ROOT,
		  { .kind = ARCHIVE_KIND_REG,
		    .path = "root.squashfs",
		    .sparse = true,
		    .size = 4096 },
		  BUNDLE_REFUSAL_NOT_REGULAR,
		  "sparse" },
	};
	struct payload p;
	_cleanup_json_ struct json_object *doc = NULL;
	_cleanup_(bundle_manifest_freep) struct bundle_manifest *m = NULL;
	(void)state;

	payload_init(&p, 4096);
	doc = make_manifest(&p);
	m = parse_ok(doc);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_bundle_error_ struct bundle_error e = BUNDLE_ERROR_INIT;
		int r = bundle_member_check(cases[i].expected, &cases[i].h, m, &e);

		if (cases[i].want == _BUNDLE_REFUSAL_INVALID) {
			if (r != 0)
				fail_msg("case %zu refused: %s", i, strna(e.message));
			continue;
		}
		if (r != -EPERM || e.refusal != cases[i].want)
			fail_msg("case %zu: r=%d refusal=%s (%s), want %s", i, r,
				 strna(bundle_refusal_to_string(e.refusal)), strna(e.message),
				 bundle_refusal_to_string(cases[i].want));
		assert_int_equal(e.member, cases[i].expected);
		if (cases[i].mention && !strstr(e.message, cases[i].mention))
			fail_msg("case %zu: '%s' does not mention %s", i, e.message,
				 cases[i].mention);
	}
	payload_done(&p);
}

static void test_names(void **state)
{
	(void)state;
	for (int i = 0; i < _BUNDLE_REFUSAL_MAX; i++) {
		const char *s = bundle_refusal_to_string((enum bundle_refusal)i);
		assert_non_null(s);
		assert_int_equal(bundle_refusal_from_string(s), i);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(s,
						bundle_refusal_to_string((enum bundle_refusal)j));
	}
	assert_null(bundle_refusal_to_string(_BUNDLE_REFUSAL_MAX));
	assert_null(bundle_refusal_to_string(_BUNDLE_REFUSAL_INVALID));
	assert_int_equal(bundle_refusal_from_string("nonsense"), _BUNDLE_REFUSAL_INVALID);
	assert_string_equal(bundle_member_to_string(BUNDLE_MEMBER_SIGNATURE), "manifest.json.sig");
	assert_null(bundle_member_to_string(_BUNDLE_MEMBER_MAX));
}

/* ---- the reader ------------------------------------------------------------------------------ */

struct member_spec {
	const char *name;
	enum archive_entry_kind kind;
	const void *data;
	size_t size;
	const char *link;
};

static int memfd_write(const void *buf, size_t n, void *userdata)
{
	return loop_write(*(int *)userdata, buf, n);
}

/* A tar of specs in a memfd, positioned at 0; extra bytes appended after it. */
static int make_tar(const struct member_spec *specs, size_t n, const void *extra, size_t extra_size)
{
	struct archive_tar_writer *w = NULL;
	int fd = memfd_create("bundle", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(archive_tar_writer_new(memfd_write, &fd, &w), 0);
	for (size_t i = 0; i < n; i++) {
		const struct archive_member m = {
			.path = specs[i].name,
			.kind = specs[i].kind,
			.mode = 0644,
			.size = specs[i].kind == ARCHIVE_KIND_REG ? specs[i].size : 0,
			.link = specs[i].link,
			.uname = "root",
			.gname = "root",
		};
		if (m.kind == ARCHIVE_KIND_REG)
			assert_int_equal(
				archive_tar_writer_add_data(w, &m, 1747699200, specs[i].data), 0);
		else
			assert_int_equal(archive_tar_writer_add(w, &m, 1747699200, -EBADF), 0);
	}
	assert_int_equal(archive_tar_writer_finish(w), 0);
	if (extra_size > 0)
		assert_int_equal(loop_write(fd, extra, extra_size), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* The good member list for a payload and its manifest text. */
static size_t good_specs(const struct payload *p, const char *text, struct member_spec *specs)
{
	specs[0] =
		(struct member_spec){ "manifest.json", ARCHIVE_KIND_REG, text, strlen(text), NULL };
	specs[1] = (struct member_spec){ "manifest.json.sig", ARCHIVE_KIND_REG, "SIG", 3, NULL };
	for (size_t i = 0; i < BUNDLE_N_ARTIFACTS; i++)
		specs[2 + i] = (struct member_spec){
			bundle_member_to_string(BUNDLE_FIRST_ARTIFACT + (int)i), ARCHIVE_KIND_REG,
			p->data[i], p->size[i], NULL
		};
	return 2 + BUNDLE_N_ARTIFACTS;
}

struct collect {
	uint8_t *buf[BUNDLE_N_ARTIFACTS];
	size_t got[BUNDLE_N_ARTIFACTS];
	int begun, ended;
	int fail_with; /* the data callback returns it for the verity member */
};

static int collect_begin(void *userdata, const struct bundle_artifact *a, char **ret_error)
{
	struct collect *c = userdata;
	(void)ret_error;
	assert_int_equal(a->member, BUNDLE_FIRST_ARTIFACT + c->begun);
	assert_int_equal(c->begun, c->ended);
	c->begun++;
	return 0;
}

static int collect_data(void *userdata, const struct bundle_artifact *a, const void *buf, size_t n,
			char **ret_error)
{
	struct collect *c = userdata;
	size_t i = (size_t)(a->member - BUNDLE_FIRST_ARTIFACT);

	assert_true(n <= BUNDLE_BLOCK_BYTES);
	if (c->fail_with && a->member == BUNDLE_MEMBER_VERITY) {
		*ret_error = strdup("the slot is full");
		return c->fail_with;
	}
	assert_true(c->got[i] + n <= a->size_bytes);
	if (!c->buf[i])
		c->buf[i] = malloc(a->size_bytes);
	memcpy(c->buf[i] + c->got[i], buf, n);
	c->got[i] += n;
	return 0;
}

static int collect_end(void *userdata, const struct bundle_artifact *a, char **ret_error)
{
	struct collect *c = userdata;
	(void)ret_error;
	assert_int_equal(c->got[a->member - BUNDLE_FIRST_ARTIFACT], a->size_bytes);
	c->ended++;
	return 0;
}

static void collect_done(struct collect *c)
{
	for (size_t i = 0; i < BUNDLE_N_ARTIFACTS; i++)
		c->buf[i] = mfree(c->buf[i]);
}

/* Runs the reader over fd; returns its result and fills e. */
static int read_all(int fd, const struct bundle_manifest *m, struct collect *c,
		    struct bundle_error *e)
{
	_cleanup_(bundle_reader_freep) struct bundle_reader *r = NULL;
	_cleanup_free_ char *text = NULL, *sig = NULL;
	const struct bundle_sink sink = {
		.member_begin = collect_begin,
		.member_data = collect_data,
		.member_end = collect_end,
		.userdata = c,
	};
	size_t tn, sn;
	uint64_t bytes = 0;
	int k;

	k = bundle_reader_open(fd, &r, e);
	if (k < 0)
		return k;
	k = bundle_reader_read_head(r, &text, &tn, &sig, &sn, e);
	if (k < 0)
		return k;
	assert_int_equal(sn, 3);
	assert_memory_equal(sig, "SIG", 3);
	k = bundle_reader_read_payload(r, m, &sink, e);
	if (k < 0)
		return k;
	k = bundle_reader_finish(r, &bytes, e);
	if (k < 0)
		return k;
	assert_true(bytes > 0 && bytes % 512 == 0);
	return 0;
}

static void expect_refused(int fd, const struct bundle_manifest *m, enum bundle_refusal want,
			   const char *mention, const char *what)
{
	_cleanup_bundle_error_ struct bundle_error e = BUNDLE_ERROR_INIT;
	struct collect c = {};
	int r = read_all(fd, m, &c, &e);

	collect_done(&c);
	if (r != -EPERM || e.refusal != want)
		fail_msg("%s: r=%d refusal=%s (%s), want %s", what, r,
			 strna(bundle_refusal_to_string(e.refusal)), strna(e.message),
			 bundle_refusal_to_string(want));
	if (mention && !strstr(e.message, mention))
		fail_msg("%s: '%s' does not mention '%s'", what, e.message, mention);
}

struct reader_fixture {
	struct payload p;
	struct json_object *doc;
	char *text;
	struct bundle_manifest *m;
	struct member_spec specs[_BUNDLE_MEMBER_MAX];
	size_t n;
};

static void fixture_init(struct reader_fixture *f, size_t root_size)
{
	payload_init(&f->p, root_size);
	f->doc = make_manifest(&f->p);
	f->text = manifest_text(f->doc);
	f->m = parse_ok(f->doc);
	f->n = good_specs(&f->p, f->text, f->specs);
}

static void fixture_done(struct reader_fixture *f)
{
	payload_done(&f->p);
	json_object_put(f->doc);
	free(f->text);
	bundle_manifest_free(f->m);
}

static void test_reader_good(void **state)
{
	struct reader_fixture f;
	_cleanup_bundle_error_ struct bundle_error e = BUNDLE_ERROR_INIT;
	struct collect c = {};
	int fd;
	(void)state;

	/* larger than a read block, so that members span blocks */
	fixture_init(&f, 3 * BUNDLE_BLOCK_BYTES + 4096);
	fd = make_tar(f.specs, f.n, NULL, 0);
	if (read_all(fd, f.m, &c, &e) < 0)
		fail_msg("refused: %s", strna(e.message));
	assert_int_equal(c.ended, BUNDLE_N_ARTIFACTS);
	for (size_t i = 0; i < BUNDLE_N_ARTIFACTS; i++)
		assert_memory_equal(c.buf[i], f.p.data[i], f.p.size[i]);
	collect_done(&c);
	close(fd);

	/* zero padding up to a tar record is what tar itself writes: accepted */
	{
		static const uint8_t zeros[2 * BUNDLE_TAR_RECORD_BYTES];
		struct stat st;
		size_t pad;

		fd = make_tar(f.specs, f.n, NULL, 0);
		assert_int_equal(fstat(fd, &st), 0);
		close(fd);
		pad = (size_t)(ALIGN_TO((uint64_t)st.st_size, BUNDLE_TAR_RECORD_BYTES) -
			       (uint64_t)st.st_size);
		fd = make_tar(f.specs, f.n, zeros, pad);
		c = (struct collect){};
		if (read_all(fd, f.m, &c, &e) < 0)
			fail_msg("padding of %zu refused: %s", pad, strna(e.message));
		collect_done(&c);
		close(fd);
		/* and one record more is not padding */
		fd = make_tar(f.specs, f.n, zeros, pad + BUNDLE_TAR_RECORD_BYTES);
		expect_refused(fd, f.m, BUNDLE_REFUSAL_TRAILING_DATA, "bytes follow",
			       "a record more");
		close(fd);
	}
	fixture_done(&f);
}

static void test_reader_refusals(void **state)
{
	struct reader_fixture f;
	struct member_spec s[_BUNDLE_MEMBER_MAX + 1];
	uint8_t *flipped;
	int fd;
	(void)state;

	fixture_init(&f, 2 * 4096);

	/* a payload byte flipped */
	flipped = malloc(f.p.size[0]);
	memcpy(flipped, f.p.data[0], f.p.size[0]);
	flipped[4000] ^= 0x20;
	memcpy(s, f.specs, sizeof(f.specs));
	s[2].data = flipped;
	fd = make_tar(s, f.n, NULL, 0);
	expect_refused(fd, f.m, BUNDLE_REFUSAL_DIGEST_MISMATCH, "root.squashfs: sha256", "flip");
	close(fd);
	free(flipped);

	/* no signature: the payload follows the manifest */
	memcpy(s, f.specs, sizeof(f.specs));
	memmove(s + 1, s + 2, sizeof(s[0]) * (f.n - 2));
	fd = make_tar(s, f.n - 1, NULL, 0);
	expect_refused(fd, f.m, BUNDLE_REFUSAL_NO_SIGNATURE, "not signed", "unsigned");
	close(fd);
	fd = make_tar(f.specs, 1, NULL, 0);
	expect_refused(fd, f.m, BUNDLE_REFUSAL_NO_SIGNATURE, "not signed", "manifest only");
	close(fd);

	/* an extra member, at the end and in the middle */
	memcpy(s, f.specs, sizeof(f.specs));
	s[f.n] = (struct member_spec){ "extra.bin", ARCHIVE_KIND_REG, "x", 1, NULL };
	fd = make_tar(s, f.n + 1, NULL, 0);
	expect_refused(fd, f.m, BUNDLE_REFUSAL_EXTRA_MEMBER, "'extra.bin'", "extra at the end");
	close(fd);
	memmove(s + 4, s + 3, sizeof(s[0]) * (f.n - 3));
	s[3] = (struct member_spec){ "extra.bin", ARCHIVE_KIND_REG, "x", 1, NULL };
	fd = make_tar(s, f.n + 1, NULL, 0);
	expect_refused(fd, f.m, BUNDLE_REFUSAL_UNEXPECTED_MEMBER, "root.verity is due",
		       "extra in the middle");
	close(fd);

	/* renamed, reordered */
	memcpy(s, f.specs, sizeof(f.specs));
	s[4].name = "kernel.efi";
	fd = make_tar(s, f.n, NULL, 0);
	expect_refused(fd, f.m, BUNDLE_REFUSAL_UNEXPECTED_MEMBER, "'kernel.efi'", "renamed");
	close(fd);
	memcpy(s, f.specs, sizeof(f.specs));
	s[2] = f.specs[3];
	s[3] = f.specs[2];
	fd = make_tar(s, f.n, NULL, 0);
	expect_refused(fd, f.m, BUNDLE_REFUSAL_UNEXPECTED_MEMBER, "out of order", "reordered");
	close(fd);

	/* links and devices in place of a member */
	{
		static const struct {
			enum archive_entry_kind kind;
			const char *link, *mention;
		} kinds[] = {
			{ ARCHIVE_KIND_SYMLINK, "/dev/sda", "symbolic link" },
			{ ARCHIVE_KIND_HARDLINK, "root.squashfs", "hard link" },
			{ ARCHIVE_KIND_CHR, NULL, "character device" },
			{ ARCHIVE_KIND_BLK, NULL, "block device" },
			{ ARCHIVE_KIND_FIFO, NULL, "fifo" },
			{ ARCHIVE_KIND_DIR, NULL, "directory" },
		};
		for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
			memcpy(s, f.specs, sizeof(f.specs));
			s[3].kind = kinds[i].kind;
			s[3].link = kinds[i].link;
			fd = make_tar(s, f.n, NULL, 0);
			expect_refused(fd, f.m, BUNDLE_REFUSAL_NOT_REGULAR, kinds[i].mention,
				       kinds[i].mention);
			close(fd);
		}
	}

	/* path tricks */
	{
		static const char *const names[] = { "../root.squashfs", "/root.squashfs",
						     "x/root.squashfs", "./root.squashfs" };
		for (size_t i = 0; i < ELEMENTSOF(names); i++) {
			memcpy(s, f.specs, sizeof(f.specs));
			s[2].name = names[i];
			fd = make_tar(s, f.n, NULL, 0);
			expect_refused(fd, f.m, BUNDLE_REFUSAL_BAD_PATH, names[i], names[i]);
			close(fd);
		}
	}

	/* larger and smaller than declared */
	{
		uint8_t *big = calloc(1, f.p.size[1] + 1);
		memcpy(big, f.p.data[1], f.p.size[1]);
		memcpy(s, f.specs, sizeof(f.specs));
		s[3].data = big;
		s[3].size = f.p.size[1] + 1;
		fd = make_tar(s, f.n, NULL, 0);
		expect_refused(fd, f.m, BUNDLE_REFUSAL_TOO_LARGE, "root.verity: 8193 bytes",
			       "large");
		close(fd);
		s[3].size = f.p.size[1] - 1;
		fd = make_tar(s, f.n, NULL, 0);
		expect_refused(fd, f.m, BUNDLE_REFUSAL_TOO_SMALL, "root.verity: 8191 bytes",
			       "small");
		close(fd);
		free(big);
	}

	/* trailing garbage */
	fd = make_tar(f.specs, f.n, "garbage", 7);
	expect_refused(fd, f.m, BUNDLE_REFUSAL_TRAILING_DATA, "sbom.spdx.json", "garbage");
	close(fd);

	fixture_done(&f);
}

/* Every prefix of a good bundle is refused, and never as anything but truncated (or,
 * for a cut inside the end-of-archive marker, truncated too). */
static void test_reader_truncated(void **state)
{
	struct reader_fixture f;
	_cleanup_free_ uint8_t *all = NULL;
	struct stat st;
	int fd;
	(void)state;

	fixture_init(&f, 4096);
	fd = make_tar(f.specs, f.n, NULL, 0);
	assert_int_equal(fstat(fd, &st), 0);
	all = malloc((size_t)st.st_size);
	assert_int_equal(loop_read_exact(fd, all, (size_t)st.st_size), 0);
	close(fd);
	for (size_t cut = 0; cut < (size_t)st.st_size; cut += cut % 512 == 0 ? 1 : 511) {
		char what[64];
		int t = memfd_create("cut", MFD_CLOEXEC);

		assert_true(t >= 0);
		assert_int_equal(loop_write(t, all, cut), 0);
		assert_int_equal(lseek(t, 0, SEEK_SET), 0);
		snprintf(what, sizeof(what), "cut at %zu of %zu", cut, (size_t)st.st_size);
		expect_refused(t, f.m, BUNDLE_REFUSAL_TRUNCATED, NULL, what);
		close(t);
	}
	fixture_done(&f);
}

static void test_reader_not_a_tar(void **state)
{
	struct reader_fixture f;
	uint8_t junk[4096];
	int fd;
	(void)state;

	fixture_init(&f, 4096);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	fd = memfd_create("junk", MFD_CLOEXEC);
	assert_int_equal(loop_write(fd, junk, sizeof(junk)), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	expect_refused(fd, f.m, BUNDLE_REFUSAL_MALFORMED, NULL, "junk");
	close(fd);

	/* a damaged header checksum in the middle */
	{
		_cleanup_free_ uint8_t *all = NULL;
		struct stat st;
		int t;

		fd = make_tar(f.specs, f.n, NULL, 0);
		assert_int_equal(fstat(fd, &st), 0);
		all = malloc((size_t)st.st_size);
		assert_int_equal(loop_read_exact(fd, all, (size_t)st.st_size), 0);
		close(fd);
		/* the header of root.squashfs: find its name */
		for (size_t off = 0; off + 512 <= (size_t)st.st_size; off += 512)
			if (memcmp(all + off, "root.squashfs", 14) == 0) {
				all[off + 100] ^= 1; /* the mode field */
				break;
			}
		t = memfd_create("damaged", MFD_CLOEXEC);
		assert_int_equal(loop_write(t, all, (size_t)st.st_size), 0);
		assert_int_equal(lseek(t, 0, SEEK_SET), 0);
		expect_refused(t, f.m, BUNDLE_REFUSAL_MALFORMED, "root.squashfs", "checksum");
		close(t);
	}

	/* not a regular file or block device */
	{
		_cleanup_bundle_error_ struct bundle_error e = BUNDLE_ERROR_INIT;
		struct bundle_reader *r = NULL;
		int p[2];

		assert_int_equal(pipe2(p, O_CLOEXEC), 0);
		assert_int_equal(bundle_reader_open(p[0], &r, &e), -EINVAL);
		assert_null(r);
		assert_int_equal(e.refusal, _BUNDLE_REFUSAL_INVALID);
		close(p[0]);
		close(p[1]);
	}
	fixture_done(&f);
}

static void test_reader_sink_error(void **state)
{
	struct reader_fixture f;
	_cleanup_bundle_error_ struct bundle_error e = BUNDLE_ERROR_INIT;
	struct collect c = { .fail_with = -ENOSPC };
	int fd;
	(void)state;

	fixture_init(&f, 4096);
	fd = make_tar(f.specs, f.n, NULL, 0);
	assert_int_equal(read_all(fd, f.m, &c, &e), -ENOSPC);
	assert_int_equal(e.refusal, _BUNDLE_REFUSAL_INVALID);
	assert_int_equal(e.member, BUNDLE_MEMBER_VERITY);
	assert_string_equal(e.message, "root.verity: the slot is full");
	/* root.squashfs was complete and checked; root.verity never ended */
	assert_int_equal(c.ended, 1);
	collect_done(&c);
	close(fd);
	fixture_done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_good),	  cmocka_unit_test(test_manifest_bad),
		cmocka_unit_test(test_manifest_not_json), cmocka_unit_test(test_policy),
		cmocka_unit_test(test_member_check),	  cmocka_unit_test(test_names),
		cmocka_unit_test(test_reader_good),	  cmocka_unit_test(test_reader_refusals),
		cmocka_unit_test(test_reader_truncated),  cmocka_unit_test(test_reader_not_a_tar),
		cmocka_unit_test(test_reader_sink_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
