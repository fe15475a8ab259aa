/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manifest.json: what an image is, for the installer, the updater and auditors —
 * name, version, the product it is for, the floor an update may replace, the
 * epoch, every artifact's size and sha256, the dm-verity parameters and root
 * hash, the disk layout sizes and the package list. An update carries it signed.
 */
#include <inttypes.h>
#include <stdio.h>

#include "builder.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/path.h"
#include "ext/crypto.h"
#include "ext/json.h"
#include "lockfile.h"
#include "manifest.h"

#define MANIFEST_JSON_FORMAT 1

static struct json_object *artifact(const char *name, const char *path)
{
	struct json_object *a = json_object_new_object();
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[SHA256_HEX_SIZE];
	uint64_t size;
	int r;

	if (!a)
		return NULL;
	r = sha256_file(path, d, &size);
	if (r < 0) {
		log_error_errno(r, "manifest.json: %s: %m", path);
		json_object_put(a);
		return NULL;
	}
	sha256_hex(d, hex);
	if (json_add_string(a, "name", name) < 0 || json_add_int(a, "size", (int64_t)size) < 0 ||
	    json_add_string(a, "sha256", hex) < 0) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

int release_manifest_write(const struct release_input *in, const char *path)
{
	const struct manifest *m = in->manifest;
	const struct lockfile *lf = in->lock;
	_cleanup_json_ struct json_object *doc = json_object_new_object();
	struct json_object *verity = NULL, *arts = NULL, *pkgs = NULL, *disk = NULL;
	char root_hash[65], salt[65], content[65];
	int r = -ENOMEM;

	if (!doc)
		return log_oom();
	hex_to_buf(in->verity->root_hash, sizeof(in->verity->root_hash), root_hash);
	hex_to_buf(in->verity->params.salt, sizeof(in->verity->params.salt), salt);
	hex_to_buf(in->content_sha256, 32, content);

	if (json_add_int(doc, "format", MANIFEST_JSON_FORMAT) < 0 ||
	    json_add_string(doc, "name", m->name) < 0 ||
	    json_add_string(doc, "version", m->version) < 0 ||
	    json_add_string(doc, "min_version", m->min_version) < 0 ||
	    json_add_string(doc, "compatible", m->compatible) < 0 ||
	    json_add_string(doc, "architecture", m->architecture) < 0 ||
	    json_add_int(doc, "source_date_epoch", lf->source_date_epoch) < 0 ||
	    json_add_string(doc, "kernel", in->kernel_version) < 0 ||
	    json_add_string(doc, "content_sha256", content) < 0 ||
	    (in->debug && json_add_bool(doc, "debug", true) < 0))
		return log_oom();

	verity = json_object_new_object();
	if (!verity || json_add_string(verity, "root_hash", root_hash) < 0 ||
	    json_add_string(verity, "hash_algorithm", "sha256") < 0 ||
	    json_add_int(verity, "format", 1) < 0 || json_add_string(verity, "salt", salt) < 0 ||
	    json_add_string(verity, "uuid", in->verity->params.uuid) < 0 ||
	    json_add_int(verity, "data_block_size", in->verity->params.data_block_size) < 0 ||
	    json_add_int(verity, "hash_block_size", in->verity->params.hash_block_size) < 0 ||
	    json_add_int(verity, "data_blocks", (int64_t)in->verity->params.data_blocks) < 0 ||
	    json_add(doc, "verity", TAKE_PTR(verity)) < 0)
		goto oom;

	disk = json_object_new_object();
	if (!disk || json_add_int(disk, "esp_size", (int64_t)m->esp_size) < 0 ||
	    json_add_int(disk, "root_size", (int64_t)m->root_size) < 0 ||
	    json_add_int(disk, "verity_size", (int64_t)m->verity_size) < 0 ||
	    json_add_int(disk, "data_min_size", (int64_t)m->data_min_size) < 0 ||
	    json_add(doc, "disk", TAKE_PTR(disk)) < 0)
		goto oom;

	/* In the order an update tarball carries them. */
	arts = json_object_new_array();
	if (!arts)
		goto oom;
	for (size_t i = 0; i < in->n_artifacts; i++) {
		struct json_object *a = artifact(in->artifacts[i].name, in->artifacts[i].path);
		if (!a) {
			r = -EIO;
			goto fail;
		}
		if (json_array_add(arts, a) < 0)
			goto oom;
	}
	if (json_add(doc, "artifacts", TAKE_PTR(arts)) < 0)
		goto oom;

	pkgs = json_object_new_array();
	if (!pkgs)
		goto oom;
	for (size_t i = 0; i < lf->n_packages; i++) {
		const struct lock_package *p = &lf->packages[i];
		struct json_object *o = json_object_new_object();
		if (!o || json_add_string(o, "name", p->name) < 0 ||
		    json_add_string(o, "version", p->version) < 0 ||
		    json_add_string(o, "architecture", p->architecture) < 0 ||
		    json_add_string(o, "source", p->source) < 0 ||
		    json_add_string(o, "source_version", p->source_version) < 0 ||
		    json_add_int(o, "size", (int64_t)p->size) < 0 ||
		    json_add_string(o, "sha256", p->sha256) < 0 || json_array_add(pkgs, o) < 0) {
			json_object_put(o);
			goto oom;
		}
	}
	if (json_add(doc, "packages", TAKE_PTR(pkgs)) < 0)
		goto oom;

	r = json_write_file_atomic(path, doc);
	if (r < 0)
		return log_error_errno(r, "manifest.json: %s: %m", path);
	return 0;
oom:
	r = log_oom();
fail:
	json_object_put(verity);
	json_object_put(arts);
	json_object_put(pkgs);
	json_object_put(disk);
	return r;
}
