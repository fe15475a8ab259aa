/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/fileio.h"
#include "core/fs.h"
#include "core/hex.h"
#include "core/parse.h"
#include "core/strv.h"
#include "deb822.h"
#include "core/error.h"
#include "lockfile.h"

#define LOCK_MAX_SIZE (16U * 1024U * 1024U)

struct load_state {
	struct lockfile *lf;
	const char *path;
	bool header_seen;
	char *error;
};

static int lerr(struct load_state *s, unsigned line, const char *field, const char *fmt, ...)
	_printf_(4, 5);
static int lerr(struct load_state *s, unsigned line, const char *field, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	if (field)
		return error_at(&s->error, -EBADMSG, s->path, line, "%s: %s", field, msg);
	return error_at(&s->error, -EBADMSG, s->path, line, "%s", msg);
}

static int need(struct load_state *s, const struct deb822_para *p, const char *field,
		const char **ret)
{
	const struct deb822_field *f = deb822_get_field(p, field);

	if (!f || isempty(f->value))
		return lerr(s, p->line, field, "missing");
	if (strchr(f->value, '\n') || strchr(f->value, ' '))
		return lerr(s, f->line, field, "'%s' must be a single word", f->value);
	*ret = f->value;
	return 0;
}

static int parse_header(struct load_state *s, const struct deb822_para *p)
{
	struct lockfile *lf = s->lf;
	const struct deb822_field *f;
	const char *v;
	size_t i_line = 0;
	uint64_t u;
	int r;

	f = deb822_get_field(p, "Format");
	if (!f)
		return lerr(s, p->line, "Format", "missing: not an Airlock lock file");
	if (!streq(f->value, LOCK_FORMAT))
		return lerr(s, f->line, "Format", "'%s' is not supported (expected '%s')", f->value,
			    LOCK_FORMAT);
	if ((r = need(s, p, "Image", &v)) < 0)
		return r;
	if (!(lf->image = strdup(v)))
		return -ENOMEM;
	if ((r = need(s, p, "Architecture", &v)) < 0)
		return r;
	if (!(lf->architecture = strdup(v)))
		return -ENOMEM;
	if ((r = need(s, p, "Manifest-Digest", &v)) < 0)
		return r;
	if (!hex_is_lower(v, 64))
		return lerr(s, deb822_get_field(p, "Manifest-Digest")->line, "Manifest-Digest",
			    "not a sha256 in lower-case hex");
	if (!(lf->manifest_digest = strdup(v)))
		return -ENOMEM;
	if ((r = need(s, p, "Source-Date-Epoch", &v)) < 0)
		return r;
	if (safe_atou64(v, &u) < 0 || u > INT64_MAX)
		return lerr(s, deb822_get_field(p, "Source-Date-Epoch")->line, "Source-Date-Epoch",
			    "'%s' is not a number of seconds", v);
	lf->source_date_epoch = (int64_t)u;

	f = deb822_get_field(p, "Suites");
	if (!f)
		return lerr(s, p->line, "Suites", "missing");
	/* one suite per line of the value; the value's first line is the field's own */
	for (const char *t = f->value; *t;) {
		size_t len = strcspn(t, "\n");
		unsigned line = f->line + (unsigned)i_line++;
		_cleanup_free_ char *l = strndup(t, len);
		_cleanup_strv_free_ char **w = NULL;
		struct lock_suite *n;

		t += len + (t[len] == '\n');
		if (!l)
			return -ENOMEM;
		r = strv_split(l, " \t", &w);
		if (r < 0)
			return r;
		if (strv_length(w) == 0)
			continue;
		if (strv_length(w) != 3 || safe_atou64(w[1], &u) < 0 || u > INT64_MAX ||
		    !hex_is_lower(w[2], 64))
			return lerr(s, line, "Suites", "'%s': expected 'SUITE DATE SHA256'", l);
		n = reallocarray(lf->suites, lf->n_suites + 1, sizeof(*n));
		if (!n)
			return -ENOMEM;
		lf->suites = n;
		n[lf->n_suites] = (struct lock_suite){
			.name = strdup(w[0]),
			.date = (int64_t)u,
			.inrelease_sha256 = strdup(w[2]),
		};
		if (!n[lf->n_suites].name || !n[lf->n_suites].inrelease_sha256) {
			free(n[lf->n_suites].name);
			free(n[lf->n_suites].inrelease_sha256);
			return -ENOMEM;
		}
		lf->n_suites++;
	}
	if (lf->n_suites == 0)
		return lerr(s, f->line, "Suites", "empty");
	return 0;
}

static int parse_package(struct load_state *s, const struct deb822_para *p)
{
	struct lockfile *lf = s->lf;
	struct lock_package pkg = { .line = p->line }, *n;
	static const struct {
		const char *field;
		size_t offset;
	} fields[] = {
		{ "Package", offsetof(struct lock_package, name) },
		{ "Version", offsetof(struct lock_package, version) },
		{ "Architecture", offsetof(struct lock_package, architecture) },
		{ "Source", offsetof(struct lock_package, source) },
		{ "Source-Version", offsetof(struct lock_package, source_version) },
		{ "Suite", offsetof(struct lock_package, suite) },
		{ "Filename", offsetof(struct lock_package, filename) },
		{ "SHA256", offsetof(struct lock_package, sha256) },
	};
	const char *v;
	uint64_t size;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
		if ((r = need(s, p, fields[i].field, &v)) < 0)
			goto fail;
		if (!(*(char **)((uint8_t *)&pkg + fields[i].offset) = strdup(v))) {
			r = -ENOMEM;
			goto fail;
		}
	}
	if (!hex_is_lower(pkg.sha256, 64)) {
		r = lerr(s, deb822_get_field(p, "SHA256")->line, "SHA256",
			 "not a sha256 in lower-case hex (package %s)", pkg.name);
		goto fail;
	}
	if ((r = need(s, p, "Size", &v)) < 0)
		goto fail;
	if (safe_atou64(v, &size) < 0 || size == 0) {
		r = lerr(s, deb822_get_field(p, "Size")->line, "Size",
			 "'%s' is not a size (package %s)", v, pkg.name);
		goto fail;
	}
	pkg.size = size;
	if (strchr(pkg.name, '/') || strstr(pkg.filename, "..") || pkg.filename[0] == '/') {
		r = lerr(s, deb822_get_field(p, "Filename")->line, "Filename",
			 "'%s' is not a relative archive path (package %s)", pkg.filename,
			 pkg.name);
		goto fail;
	}
	if (lf->n_packages > 0 && strcmp(lf->packages[lf->n_packages - 1].name, pkg.name) >= 0) {
		r = lerr(s, p->line, "Package",
			 "'%s' is out of order or listed twice (sorted by name)", pkg.name);
		goto fail;
	}
	n = reallocarray(lf->packages, lf->n_packages + 1, sizeof(*n));
	if (!n) {
		r = -ENOMEM;
		goto fail;
	}
	lf->packages = n;
	n[lf->n_packages++] = pkg;
	return 0;

fail:
	for (size_t i = 0; i < ELEMENTSOF(fields); i++)
		free(*(char **)((uint8_t *)&pkg + fields[i].offset));
	return r;
}

static int load_cb(const struct deb822_para *p, void *userdata)
{
	struct load_state *s = userdata;

	if (!s->header_seen) {
		s->header_seen = true;
		return parse_header(s, p);
	}
	return parse_package(s, p);
}

int lockfile_load(const char *path, struct lockfile **ret, char **ret_error)
{
	_cleanup_(lockfile_freep) struct lockfile *lf = new0(struct lockfile, 1);
	_cleanup_free_ char *text = NULL;
	struct load_state s = { .path = path };
	unsigned line = 0;
	size_t size;
	int r;

	if (!lf || !(lf->path = strdup(path)))
		return -ENOMEM;
	s.lf = lf;
	r = read_full_file(path, LOCK_MAX_SIZE, &text, &size);
	if (r < 0) {
		if (ret_error && asprintf(ret_error, "%s: %s", path, strerror(-r)) < 0)
			*ret_error = NULL;
		return r;
	}
	r = deb822_parse(text, size, load_cb, &s, &line);
	if (r == -EBADMSG && !s.error)
		lerr(&s, line, NULL, "not a deb822 line");
	if (r >= 0 && !s.header_seen)
		r = lerr(&s, 1, NULL, "empty lock file");
	if (r >= 0 && lf->n_packages == 0)
		r = lerr(&s, 1, NULL, "no packages");
	if (r < 0) {
		if (ret_error)
			*ret_error = TAKE_PTR(s.error);
		free(s.error);
		return r;
	}
	*ret = TAKE_PTR(lf);
	return 0;
}

static int cmp_pkg(const void *a, const void *b)
{
	return strcmp(((const struct lock_package *)a)->name,
		      ((const struct lock_package *)b)->name);
}

int lockfile_write(const struct lockfile *lf, const char *path)
{
	_cleanup_free_ struct lock_package *sorted = NULL;
	_cleanup_free_ char *buf = NULL, *suites = NULL;
	size_t size = 0;
	FILE *f;
	int r = 0;

	sorted = reallocarray(NULL, lf->n_packages ?: 1, sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, lf->packages, lf->n_packages * sizeof(*sorted));
	qsort(sorted, lf->n_packages, sizeof(*sorted), cmp_pkg);

	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	fprintf(f,
		"Format: %s\nImage: %s\nArchitecture: %s\nManifest-Digest: %s\n"
		"Source-Date-Epoch: %" PRIi64 "\nSuites:\n",
		LOCK_FORMAT, lf->image, lf->architecture, lf->manifest_digest,
		lf->source_date_epoch);
	for (size_t i = 0; i < lf->n_suites; i++)
		fprintf(f, " %s %" PRIi64 " %s\n", lf->suites[i].name, lf->suites[i].date,
			lf->suites[i].inrelease_sha256);
	for (size_t i = 0; i < lf->n_packages; i++) {
		const struct lock_package *p = &sorted[i];
		fprintf(f,
			"\nPackage: %s\nVersion: %s\nArchitecture: %s\nSource: %s\n"
			"Source-Version: %s\nSuite: %s\nFilename: %s\nSize: %" PRIu64
			"\nSHA256: %s\n",
			p->name, p->version, p->architecture, p->source, p->source_version,
			p->suite, p->filename, p->size, p->sha256);
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	r = write_file_atomic(path, buf, size, 0644);
	return r;
}

struct lockfile *lockfile_free(struct lockfile *lf)
{
	if (!lf)
		return NULL;
	free(lf->path);
	free(lf->image);
	free(lf->architecture);
	free(lf->manifest_digest);
	for (size_t i = 0; i < lf->n_suites; i++) {
		free(lf->suites[i].name);
		free(lf->suites[i].inrelease_sha256);
	}
	free(lf->suites);
	for (size_t i = 0; i < lf->n_packages; i++) {
		struct lock_package *p = &lf->packages[i];
		free(p->name);
		free(p->version);
		free(p->architecture);
		free(p->source);
		free(p->source_version);
		free(p->suite);
		free(p->filename);
		free(p->sha256);
	}
	free(lf->packages);
	free(lf);
	return NULL;
}

const struct lock_package *lockfile_find(const struct lockfile *lf, const char *name)
{
	struct lock_package key = { .name = (char *)name };
	return bsearch(&key, lf->packages, lf->n_packages, sizeof(key), cmp_pkg);
}

int lock_package_pool_name(const struct lock_package *p, char **ret)
{
	_cleanup_free_ char *v = NULL;
	const char *colon = strchr(p->version, ':');

	if (colon) {
		if (asprintf(&v, "%.*s%%3a%s", (int)(colon - p->version), p->version, colon + 1) <
		    0)
			return -ENOMEM;
	} else if (!(v = strdup(p->version)))
		return -ENOMEM;
	if (asprintf(ret, "%s_%s_%s.deb", p->name, v, p->architecture) < 0)
		return -ENOMEM;
	return 0;
}

int lockfile_path_for_manifest(const char *manifest_path, char **ret)
{
	const char *dot = strrchr(manifest_path, '.');
	const char *slash = strrchr(manifest_path, '/');
	size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - manifest_path) :
						       strlen(manifest_path);

	if (asprintf(ret, "%.*s.lock", (int)stem, manifest_path) < 0)
		return -ENOMEM;
	return 0;
}
