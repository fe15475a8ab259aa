/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SBOM: an SPDX 2.3 JSON document listing every package of the image (name,
 * version, architecture, the .deb's sha256, a purl), Airlock's own programs, and the
 * image itself, which contains them all. Deterministic: its date is the lock's
 * SOURCE_DATE_EPOCH and its namespace derives from the image's content.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "builder.h"
#include "core/hex.h"
#include "core/log.h"
#include "ext/json.h"
#include "lockfile.h"
#include "manifest.h"

static int spdx_id(const char *prefix, const char *name, char **ret)
{
	/* SPDX ids allow letters, digits, '.' and '-' only. */
	_cleanup_free_ char *s = NULL;

	if (asprintf(&s, "SPDXRef-%s-%s", prefix, name) < 0)
		return -ENOMEM;
	for (char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '.' || *c == '-'))
			*c = '-';
	*ret = TAKE_PTR(s);
	return 0;
}

static struct json_object *checksum(const char *hex)
{
	struct json_object *a = json_object_new_array(), *c = json_object_new_object();

	if (!a || !c || json_add_string(c, "algorithm", "SHA256") < 0 ||
	    json_add_string(c, "checksumValue", hex) < 0 || json_array_add(a, c) < 0) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

static struct json_object *relationship(const char *from, const char *type, const char *to)
{
	struct json_object *r = json_object_new_object();

	if (!r || json_add_string(r, "spdxElementId", from) < 0 ||
	    json_add_string(r, "relationshipType", type) < 0 ||
	    json_add_string(r, "relatedSpdxElement", to) < 0) {
		json_object_put(r);
		return NULL;
	}
	return r;
}

static int add_common(struct json_object *p, const char *id, const char *name, const char *version,
		      const char *supplier)
{
	int r;

	if ((r = json_add_string(p, "SPDXID", id)) < 0 ||
	    (r = json_add_string(p, "name", name)) < 0 ||
	    (r = json_add_string(p, "versionInfo", version)) < 0 ||
	    (r = json_add_string(p, "supplier", supplier)) < 0 ||
	    (r = json_add_string(p, "downloadLocation", "NOASSERTION")) < 0 ||
	    (r = json_add_bool(p, "filesAnalyzed", false)) < 0 ||
	    (r = json_add_string(p, "licenseConcluded", "NOASSERTION")) < 0 ||
	    (r = json_add_string(p, "licenseDeclared", "NOASSERTION")) < 0 ||
	    (r = json_add_string(p, "copyrightText", "NOASSERTION")) < 0)
		return r;
	return 0;
}

int sbom_write(const struct manifest *m, const struct lockfile *lf, const char *airlock_version,
	       const char *squashfs_sha256, const char *root_hash, const char *path)
{
	_cleanup_json_ struct json_object *doc = json_object_new_object();
	struct json_object *ci = json_object_new_object(), *creators = json_object_new_array(),
			   *pkgs = json_object_new_array(), *rels = json_object_new_array(),
			   *describes = json_object_new_array();
	_cleanup_free_ char *docname = NULL, *ns = NULL, *image_id = NULL, *comment = NULL;
	char created[32];
	struct tm tm;
	time_t epoch = (time_t)lf->source_date_epoch;
	int r;

	if (!doc || !ci || !creators || !pkgs || !rels || !describes) {
		json_object_put(ci);
		json_object_put(creators);
		json_object_put(pkgs);
		json_object_put(rels);
		json_object_put(describes);
		return log_oom();
	}
	if (!gmtime_r(&epoch, &tm) ||
	    strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return log_error("sbom: cannot format the epoch %" PRIi64, lf->source_date_epoch),
		       -EINVAL;
	if (asprintf(&docname, "%s-%s", m->name, m->version) < 0 ||
	    asprintf(&ns, "https://spdx.org/spdxdocs/%s-%s-%s", m->name, m->version, root_hash) <
		    0 ||
	    spdx_id("Image", docname, &image_id) < 0 ||
	    asprintf(&comment, "dm-verity root hash %s", root_hash) < 0)
		return log_oom();

	if (json_add_string(doc, "spdxVersion", "SPDX-2.3") < 0 ||
	    json_add_string(doc, "dataLicense", "CC0-1.0") < 0 ||
	    json_add_string(doc, "SPDXID", "SPDXRef-DOCUMENT") < 0 ||
	    json_add_string(doc, "name", docname) < 0 ||
	    json_add_string(doc, "documentNamespace", ns) < 0 ||
	    json_add_string(ci, "created", created) < 0 ||
	    json_array_add_string(creators, "Tool: airlock-build") < 0 ||
	    json_add(ci, "creators", creators) < 0 || json_add(doc, "creationInfo", ci) < 0)
		return log_oom();
	creators = ci = NULL;
	if (json_array_add_string(describes, image_id) < 0 ||
	    json_add(doc, "documentDescribes", describes) < 0)
		return log_oom();
	describes = NULL;

	/* The image */
	{
		struct json_object *p = json_object_new_object();
		if (!p || add_common(p, image_id, m->name, m->version, "NOASSERTION") < 0 ||
		    json_add(p, "checksums", checksum(squashfs_sha256)) < 0 ||
		    json_add_string(p, "primaryPackagePurpose", "OPERATING-SYSTEM") < 0 ||
		    json_add_string(p, "comment", comment) < 0 || json_array_add(pkgs, p) < 0) {
			json_object_put(pkgs);
			json_object_put(rels);
			return log_oom();
		}
		if (json_array_add(rels, relationship("SPDXRef-DOCUMENT", "DESCRIBES", image_id)) <
		    0) {
			json_object_put(pkgs);
			json_object_put(rels);
			return log_oom();
		}
	}
	/* Airlock's own programs */
	{
		struct json_object *p = json_object_new_object();
		if (!p ||
		    add_common(p, "SPDXRef-Package-airlock", "airlock", airlock_version,
			       "NOASSERTION") < 0 ||
		    json_add_string(p, "primaryPackagePurpose", "APPLICATION") < 0 ||
		    json_array_add(pkgs, p) < 0 ||
		    json_array_add(rels, relationship(image_id, "CONTAINS",
						      "SPDXRef-Package-airlock")) < 0) {
			json_object_put(pkgs);
			json_object_put(rels);
			return log_oom();
		}
	}
	/* Debian packages */
	for (size_t i = 0; i < lf->n_packages; i++) {
		const struct lock_package *pkg = &lf->packages[i];
		_cleanup_free_ char *id = NULL, *purl = NULL;
		struct json_object *p = json_object_new_object(), *refs = json_object_new_array(),
				   *ref = json_object_new_object();

		r = -ENOMEM;
		if (p && refs && ref && spdx_id("Package", pkg->name, &id) >= 0 &&
		    asprintf(&purl, "pkg:deb/debian/%s@%s?arch=%s&distro=debian-12", pkg->name,
			     pkg->version, pkg->architecture) >= 0 &&
		    add_common(p, id, pkg->name, pkg->version, "Organization: Debian") >= 0 &&
		    json_add(p, "checksums", checksum(pkg->sha256)) >= 0 &&
		    json_add_string(p, "sourceInfo", pkg->source) >= 0 &&
		    json_add_string(ref, "referenceCategory", "PACKAGE-MANAGER") >= 0 &&
		    json_add_string(ref, "referenceType", "purl") >= 0 &&
		    json_add_string(ref, "referenceLocator", purl) >= 0 &&
		    json_array_add(refs, TAKE_PTR(ref)) >= 0 &&
		    json_add(p, "externalRefs", TAKE_PTR(refs)) >= 0 &&
		    json_array_add(pkgs, p) >= 0) {
			p = NULL;
			r = json_array_add(rels, relationship(image_id, "CONTAINS", id));
		}
		json_object_put(p);
		json_object_put(refs);
		json_object_put(ref);
		if (r < 0) {
			json_object_put(pkgs);
			json_object_put(rels);
			return log_oom();
		}
	}
	if (json_add(doc, "packages", pkgs) < 0 || json_add(doc, "relationships", rels) < 0)
		return log_oom();
	r = json_write_file_atomic(path, doc);
	if (r < 0)
		return log_error_errno(r, "sbom: %s: %m", path);
	return 0;
}
