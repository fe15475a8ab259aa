/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

#include "core/error.h"
#include "core/fileio.h"
#include "core/hex.h"
#include "core/parse.h"
#include "core/path.h"
#include "core/strv.h"
#include "deb822.h"
#include "debdep.h"
#include "debrepo.h"
#include "debversion.h"
#include "ext/archive.h"
#include "ext/crypto.h"

#define INRELEASE_MAX_SIZE (16U * 1024U * 1024U)
#define PACKAGES_MAX_SIZE (1024U * 1024U * 1024U)

/* ---- Packages -------------------------------------------------------------------------- */

static void package_done(struct debrepo_package *p)
{
	free(p->name);
	free(p->version);
	free(p->architecture);
	free(p->source);
	free(p->source_version);
	free(p->filename);
	free(p->sha256);
	free(p->depends);
	free(p->pre_depends);
	free(p->provides);
	free(p->conflicts);
	free(p->breaks);
}

void debrepo_packages_done(struct debrepo_packages *packages)
{
	for (size_t i = 0; i < packages->n_items; i++)
		package_done(&packages->items[i]);
	packages->items = mfree(packages->items);
	packages->n_items = 0;
}

struct packages_state {
	struct debrepo_packages *packages;
	size_t cap;
	const char *suite;
	const char *origin;
	char *error;
};

/* Sets *error to "ORIGIN:LINE: FIELD: message"; returns -EBADMSG. */
static int field_error(char **error, const char *origin, unsigned line, const char *field,
		       const char *fmt, ...) _printf_(5, 6);
static int field_error(char **error, const char *origin, unsigned line, const char *field,
		       const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	free(*error);
	if (asprintf(error, "%s:%u: %s: %s", origin, line, field, msg) < 0)
		*error = NULL;
	return -EBADMSG;
}

/* for the parse states below, which all have an origin and an error */
#define state_error(s, line, field, ...) \
	field_error(&(s)->error, (s)->origin, line, field, __VA_ARGS__)

enum {
	F_PACKAGE,
	F_VERSION,
	F_ARCHITECTURE,
	F_MULTI_ARCH,
	F_ESSENTIAL,
	F_SOURCE,
	F_FILENAME,
	F_SIZE,
	F_INSTALLED_SIZE,
	F_SHA256,
	F_DEPENDS,
	F_PRE_DEPENDS,
	F_PROVIDES,
	F_CONFLICTS,
	F_BREAKS,
	_F_MAX,
};

static const char *const field_names[_F_MAX] = {
	[F_PACKAGE] = "Package",
	[F_VERSION] = "Version",
	[F_ARCHITECTURE] = "Architecture",
	[F_MULTI_ARCH] = "Multi-Arch",
	[F_ESSENTIAL] = "Essential",
	[F_SOURCE] = "Source",
	[F_FILENAME] = "Filename",
	[F_SIZE] = "Size",
	[F_INSTALLED_SIZE] = "Installed-Size",
	[F_SHA256] = "SHA256",
	[F_DEPENDS] = "Depends",
	[F_PRE_DEPENDS] = "Pre-Depends",
	[F_PROVIDES] = "Provides",
	[F_CONFLICTS] = "Conflicts",
	[F_BREAKS] = "Breaks",
};

static int dup_opt(const struct deb822_field *f, char **ret)
{
	if (!f) {
		*ret = NULL;
		return 0;
	}
	*ret = strdup(f->value);
	return *ret ? 0 : -ENOMEM;
}

static int parse_source(struct packages_state *s, const struct deb822_field *f,
			struct debrepo_package *p)
{
	const char *v, *open;
	size_t n;

	if (!f) {
		p->source = strdup(p->name);
		p->source_version = strdup(p->version);
		return p->source && p->source_version ? 0 : -ENOMEM;
	}
	v = f->value;
	n = strcspn(v, " (");
	if (!debdep_name_is_valid(v, n))
		return state_error(s, f->line, "Source", "'%s' is not a source package name", v);
	p->source = strndup(v, n);
	if (!p->source)
		return -ENOMEM;
	open = strchr(v + n, '(');
	if (open) {
		const char *close = strchr(open, ')');
		if (!close || close[1] != '\0')
			return state_error(s, f->line, "Source", "'%s': expected 'NAME (VERSION)'",
					   v);
		p->source_version = strndup(open + 1, (size_t)(close - open - 1));
		if (!p->source_version)
			return -ENOMEM;
		if (!debversion_is_valid(p->source_version))
			return state_error(s, f->line, "Source", "'%s' is not a version",
					   p->source_version);
	} else {
		if (v[n] != '\0')
			return state_error(s, f->line, "Source", "'%s': expected 'NAME (VERSION)'",
					   v);
		p->source_version = strdup(p->version);
		if (!p->source_version)
			return -ENOMEM;
	}
	return 0;
}

static int fill_package(struct packages_state *s, const struct deb822_para *para,
			const struct deb822_field *fl[_F_MAX], struct debrepo_package *p)
{
	static const char *const ma[_DEBREPO_MULTI_ARCH_MAX] = {
		[DEBREPO_MULTI_ARCH_NO] = "no",
		[DEBREPO_MULTI_ARCH_SAME] = "same",
		[DEBREPO_MULTI_ARCH_FOREIGN] = "foreign",
		[DEBREPO_MULTI_ARCH_ALLOWED] = "allowed",
	};
	static const int required[] = { F_PACKAGE,  F_VERSION, F_ARCHITECTURE,
					F_FILENAME, F_SIZE,    F_SHA256 };
	uint64_t u;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(required); i++)
		if (!fl[required[i]] || isempty(fl[required[i]]->value))
			return state_error(s, para->line, field_names[required[i]], "missing%s%s",
					   fl[F_PACKAGE] ? " in package " : "",
					   fl[F_PACKAGE] ? fl[F_PACKAGE]->value : "");

	if (!debdep_name_is_valid(fl[F_PACKAGE]->value, strlen(fl[F_PACKAGE]->value)))
		return state_error(s, fl[F_PACKAGE]->line, "Package", "'%s' is not a package name",
				   fl[F_PACKAGE]->value);
	if (!debversion_is_valid(fl[F_VERSION]->value))
		return state_error(s, fl[F_VERSION]->line, "Version",
				   "'%s' is not a version (package %s)", fl[F_VERSION]->value,
				   fl[F_PACKAGE]->value);
	if (!hex_is_lower(fl[F_SHA256]->value, 64))
		return state_error(s, fl[F_SHA256]->line, "SHA256",
				   "'%s' is not a sha256 in lower-case hex (package %s)",
				   fl[F_SHA256]->value, fl[F_PACKAGE]->value);
	if (path_is_absolute(fl[F_FILENAME]->value) || path_has_dotdot(fl[F_FILENAME]->value) ||
	    strchr(fl[F_FILENAME]->value, '\n'))
		return state_error(s, fl[F_FILENAME]->line, "Filename",
				   "'%s' is not a relative path below the archive (package %s)",
				   fl[F_FILENAME]->value, fl[F_PACKAGE]->value);

	if (!(p->name = strdup(fl[F_PACKAGE]->value)) ||
	    !(p->version = strdup(fl[F_VERSION]->value)) ||
	    !(p->architecture = strdup(fl[F_ARCHITECTURE]->value)) ||
	    !(p->filename = strdup(fl[F_FILENAME]->value)) ||
	    !(p->sha256 = strdup(fl[F_SHA256]->value)))
		return -ENOMEM;
	if (safe_atou64(fl[F_SIZE]->value, &u) < 0 || u == 0)
		return state_error(s, fl[F_SIZE]->line, "Size", "'%s' is not a size (package %s)",
				   fl[F_SIZE]->value, p->name);
	p->size = u;
	if (fl[F_INSTALLED_SIZE]) {
		if (safe_atou64(fl[F_INSTALLED_SIZE]->value, &u) < 0 || u > UINT64_MAX / 1024)
			return state_error(s, fl[F_INSTALLED_SIZE]->line, "Installed-Size",
					   "'%s' is not a size in KiB (package %s)",
					   fl[F_INSTALLED_SIZE]->value, p->name);
		p->installed_size = u * 1024;
	}
	p->multi_arch = DEBREPO_MULTI_ARCH_NO;
	if (fl[F_MULTI_ARCH]) {
		p->multi_arch = _DEBREPO_MULTI_ARCH_INVALID;
		for (int i = 0; i < _DEBREPO_MULTI_ARCH_MAX; i++)
			if (streq(fl[F_MULTI_ARCH]->value, ma[i]))
				p->multi_arch = i;
		if (p->multi_arch < 0)
			return state_error(
				s, fl[F_MULTI_ARCH]->line, "Multi-Arch",
				"'%s' is not one of no, same, foreign, allowed (package %s)",
				fl[F_MULTI_ARCH]->value, p->name);
	}
	if (fl[F_ESSENTIAL]) {
		r = parse_boolean(fl[F_ESSENTIAL]->value);
		if (r < 0)
			return state_error(s, fl[F_ESSENTIAL]->line, "Essential",
					   "'%s' is not yes or no (package %s)",
					   fl[F_ESSENTIAL]->value, p->name);
		p->essential = r;
	}
	r = parse_source(s, fl[F_SOURCE], p);
	if (r < 0)
		return r;
	if ((r = dup_opt(fl[F_DEPENDS], &p->depends)) < 0 ||
	    (r = dup_opt(fl[F_PRE_DEPENDS], &p->pre_depends)) < 0 ||
	    (r = dup_opt(fl[F_PROVIDES], &p->provides)) < 0 ||
	    (r = dup_opt(fl[F_CONFLICTS], &p->conflicts)) < 0 ||
	    (r = dup_opt(fl[F_BREAKS], &p->breaks)) < 0)
		return r;
	p->suite = s->suite;
	p->origin = s->origin;
	p->line = para->line;
	return 0;
}

static int packages_cb(const struct deb822_para *para, void *userdata)
{
	struct packages_state *s = userdata;
	struct debrepo_packages *pk = s->packages;
	const struct deb822_field *fl[_F_MAX] = {};
	struct debrepo_package p = {};
	int r;

	for (size_t i = 0; i < para->n_fields; i++) {
		const struct deb822_field *f = &para->fields[i];
		for (int k = 0; k < _F_MAX; k++)
			if (strcasecmp(f->name, field_names[k]) == 0) {
				if (fl[k])
					return state_error(s, f->line, field_names[k],
							   "given twice in one paragraph");
				fl[k] = f;
				break;
			}
	}
	r = fill_package(s, para, fl, &p);
	if (r < 0) {
		package_done(&p);
		return r;
	}
	if (pk->n_items == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 1024;
		struct debrepo_package *n = reallocarray(pk->items, ncap, sizeof(*n));
		if (!n) {
			package_done(&p);
			return -ENOMEM;
		}
		pk->items = n;
		s->cap = ncap;
	}
	pk->items[pk->n_items++] = p;
	return 0;
}

int debrepo_packages_parse(const char *text, size_t size, const char *suite, const char *origin,
			   struct debrepo_packages *packages, char **ret_error)
{
	struct packages_state s = {
		.packages = packages,
		.cap = packages->n_items,
		.suite = suite,
		.origin = origin,
	};
	unsigned line = 0;
	int r;

	r = deb822_parse(text, size, packages_cb, &s, &line);
	if (r == -EBADMSG && !s.error)
		(void)error_replace(ret_error, 0, "%s:%u: not a deb822 line", origin, line);
	else if (r < 0 && s.error && ret_error)
		free_and_replace(*ret_error, s.error);
	free(s.error);
	return r;
}

/* ---- Release --------------------------------------------------------------------------- */

int debrepo_parse_date(const char *s, int64_t *ret)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	_cleanup_strv_free_ char **w = NULL;
	char *const *t;
	struct tm tm = {};
	unsigned day, year, hh, mm, ss;
	int offset = 0, month = -1, r;
	char tail;
	time_t tt;

	r = strv_split(s, " ", &w);
	if (r < 0)
		return r;
	t = w;
	/* an optional day of the week, "Sat," */
	if (strv_length(t) == 6) {
		if (strlen(t[0]) != 4 || t[0][3] != ',')
			return -EINVAL;
		t++;
	}
	if (strv_length(t) != 5)
		return -EINVAL;
	if (safe_atou(t[0], &day) < 0 || day < 1 || day > 31)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(months); i++)
		if (streq(t[1], months[i]))
			month = (int)i;
	if (month < 0)
		return -EINVAL;
	if (safe_atou(t[2], &year) < 0 || year < 1970 || year > 9999)
		return -EINVAL;
	if (strlen(t[3]) != 8 || sscanf(t[3], "%2u:%2u:%2u%c", &hh, &mm, &ss, &tail) != 3 ||
	    hh > 23 || mm > 59 || ss > 60)
		return -EINVAL;
	if (streq(t[4], "UTC") || streq(t[4], "GMT") || streq(t[4], "Z"))
		offset = 0;
	else if ((t[4][0] == '+' || t[4][0] == '-') && strlen(t[4]) == 5 &&
		 strspn(t[4] + 1, "0123456789") == 4) {
		int h = (t[4][1] - '0') * 10 + (t[4][2] - '0');
		int m = (t[4][3] - '0') * 10 + (t[4][4] - '0');
		if (m > 59)
			return -EINVAL;
		offset = (h * 60 + m) * 60 * (t[4][0] == '-' ? -1 : 1);
	} else
		return -EINVAL;

	tm.tm_year = (int)year - 1900;
	tm.tm_mon = month;
	tm.tm_mday = (int)day;
	tm.tm_hour = (int)hh;
	tm.tm_min = (int)mm;
	tm.tm_sec = (int)ss;
	tt = timegm(&tm);
	if (tt == (time_t)-1)
		return -EINVAL;
	/* timegm() normalizes: "31 Feb" would silently become March */
	if (tm.tm_mday != (int)day || tm.tm_mon != month)
		return -EINVAL;
	*ret = (int64_t)tt - offset;
	return 0;
}

struct debrepo_release *debrepo_release_free(struct debrepo_release *r)
{
	if (!r)
		return NULL;
	free(r->suite);
	free(r->codename);
	for (size_t i = 0; i < r->n_files; i++) {
		free(r->files[i].path);
		free(r->files[i].sha256);
	}
	free(r->files);
	free(r);
	return NULL;
}

struct release_state {
	struct debrepo_release *rel;
	const char *origin;
	bool seen;
	char *error;
};

static int release_files(struct release_state *s, const struct deb822_field *f)
{
	struct debrepo_release *rel = s->rel;
	const char *p = f->value;
	unsigned line = f->line;

	while (*p) {
		const char *eol = strchrnul(p, '\n');
		_cleanup_free_ char *l = strndup(p, (size_t)(eol - p));
		_cleanup_strv_free_ char **w = NULL;
		struct debrepo_release_file *n;
		uint64_t size;
		int r;

		if (!l)
			return -ENOMEM;
		r = strv_split(l, " \t", &w);
		if (r < 0)
			return r;
		if (strv_length(w) > 0) {
			if (strv_length(w) != 3 || !hex_is_lower(w[0], 64) ||
			    safe_atou64(w[1], &size) < 0)
				return state_error(s, line, "SHA256",
						   "'%s': expected 'SHA256 SIZE PATH'", l);
			n = reallocarray(rel->files, rel->n_files + 1, sizeof(*n));
			if (!n)
				return -ENOMEM;
			rel->files = n;
			n[rel->n_files] = (struct debrepo_release_file){
				.path = strdup(w[2]),
				.size = size,
				.sha256 = strdup(w[0]),
			};
			if (!n[rel->n_files].path || !n[rel->n_files].sha256) {
				free(n[rel->n_files].path);
				free(n[rel->n_files].sha256);
				return -ENOMEM;
			}
			rel->n_files++;
		}
		line++;
		p = *eol ? eol + 1 : eol;
	}
	return 0;
}

static int release_cb(const struct deb822_para *p, void *userdata)
{
	struct release_state *s = userdata;
	struct debrepo_release *rel = s->rel;
	const struct deb822_field *f;
	int r;

	if (s->seen)
		return state_error(s, p->line, "Origin",
				   "more than one paragraph in a Release file");
	s->seen = true;

	if ((f = deb822_get_field(p, "Suite")) && !(rel->suite = strdup(f->value)))
		return -ENOMEM;
	if ((f = deb822_get_field(p, "Codename")) && !(rel->codename = strdup(f->value)))
		return -ENOMEM;
	if (!rel->suite && !rel->codename)
		return state_error(s, p->line, "Suite", "neither Suite nor Codename is given");
	f = deb822_get_field(p, "Date");
	if (!f)
		return state_error(s, p->line, "Date", "missing");
	if (debrepo_parse_date(f->value, &rel->date) < 0)
		return state_error(s, f->line, "Date", "'%s' is not a date", f->value);
	rel->valid_until = -1;
	f = deb822_get_field(p, "Valid-Until");
	if (f && debrepo_parse_date(f->value, &rel->valid_until) < 0)
		return state_error(s, f->line, "Valid-Until", "'%s' is not a date", f->value);
	f = deb822_get_field(p, "SHA256");
	if (!f)
		return state_error(s, p->line, "SHA256",
				   "missing: the Release file lists no sha256 hashes");
	r = release_files(s, f);
	if (r < 0)
		return r;
	return 0;
}

int debrepo_release_parse(const char *text, size_t size, const char *origin,
			  struct debrepo_release **ret, char **ret_error)
{
	_cleanup_(debrepo_release_freep) struct debrepo_release *rel =
		new0(struct debrepo_release, 1);
	struct release_state s = { .origin = origin };
	unsigned line = 0;
	int r;

	if (!rel)
		return -ENOMEM;
	s.rel = rel;
	r = deb822_parse(text, size, release_cb, &s, &line);
	if (r == -EBADMSG && !s.error)
		(void)error_replace(ret_error, 0, "%s:%u: not a deb822 line", origin, line);
	else if (r >= 0 && !s.seen) {
		(void)error_replace(ret_error, 0, "%s: empty Release file", origin);
		r = -EBADMSG;
	} else if (r < 0 && s.error && ret_error)
		free_and_replace(*ret_error, s.error);
	free(s.error);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(rel);
	return 0;
}

const struct debrepo_release_file *debrepo_release_find(const struct debrepo_release *r,
							const char *path)
{
	for (size_t i = 0; i < r->n_files; i++)
		if (streq(r->files[i].path, path))
			return &r->files[i];
	return NULL;
}

/* ---- lists directory ------------------------------------------------------------------- */

/* apt's list file names write the URI's '/' as '_'. */
static char *escape_slashes(const char *s)
{
	char *e = strdup(s);

	for (char *c = e; c && *c; c++)
		if (*c == '/')
			*c = '_';
	return e;
}

static int list_dir_matching(const char *dir, const char *suffix, char ***ret)
{
	_cleanup_strv_free_ char **found = NULL;
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!endswith(de->d_name, suffix))
			continue;
		r = strv_extend(&found, de->d_name);
		if (r < 0)
			break;
	}
	closedir(d);
	if (r < 0)
		return r;
	strv_sort(found);
	*ret = TAKE_PTR(found);
	return 0;
}

int debrepo_find_inrelease(const char *lists_dir, const char *suite, char **ret, char **ret_error)
{
	_cleanup_free_ char *esc = escape_slashes(suite), *suffix = NULL, *list = NULL;
	_cleanup_strv_free_ char **found = NULL;
	char *p;
	int r;

	if (!esc || asprintf(&suffix, "_dists_%s_InRelease", esc) < 0)
		return -ENOMEM;
	r = list_dir_matching(lists_dir, suffix, &found);
	if (r < 0)
		return error_replace(ret_error, r, "apt lists directory '%s': %s", lists_dir,
				     strerror(-r));
	if (strv_length(found) == 0)
		return error_replace(
			ret_error, -ENOENT,
			"no InRelease file for suite '%s' in '%s' (looked for *%s): run "
			"'apt-get update' with this suite in apt's sources, or check the "
			"manifest's [archive] suites",
			suite, lists_dir, suffix);
	if (strv_length(found) > 1) {
		list = strv_join(found, ", ");
		return error_replace(
			ret_error, -ENOTUNIQ,
			"several InRelease files for suite '%s' in '%s' (%s): apt has it from "
			"more than one mirror; give a lists directory with one (--lists)",
			suite, lists_dir, strna(list));
	}
	p = path_join(lists_dir, found[0]);
	if (!p)
		return -ENOMEM;
	*ret = p;
	return 0;
}

static int find_packages_file(const char *lists_dir, const char *inrelease_path,
			      const char *component, const char *arch, char **ret, char **ret_error)
{
	static const char *const exts[] = { "", ".gz", ".xz", ".zst", ".lz4", ".bz2" };
	_cleanup_free_ char *comp = escape_slashes(component), *base = NULL, *list = NULL;
	_cleanup_strv_free_ char **found = NULL;
	const char *name = path_last(inrelease_path);
	size_t stem = strlen(name) - strlen("InRelease");
	char *p;

	if (!comp || asprintf(&base, "%.*s%s_binary-%s_Packages", (int)stem, name, comp, arch) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(exts); i++) {
		_cleanup_free_ char *f = NULL, *full = NULL;
		if (asprintf(&f, "%s%s", base, exts[i]) < 0)
			return -ENOMEM;
		full = path_join(lists_dir, f);
		if (!full)
			return -ENOMEM;
		if (access(full, F_OK) == 0 && strv_push(&found, TAKE_PTR(f)) < 0)
			return -ENOMEM;
	}
	if (strv_length(found) == 0)
		return error_replace(
			ret_error, -ENOENT,
			"no Packages index for %s/binary-%s in '%s' (looked for %s[.gz|.xz|"
			".zst|.lz4|.bz2]): run 'apt-get update'",
			component, arch, lists_dir, base);
	if (strv_length(found) > 1) {
		list = strv_join(found, ", ");
		return error_replace(
			ret_error, -ENOTUNIQ,
			"several Packages indexes for %s/binary-%s in '%s' (%s): remove the "
			"stale ones (apt-get update)",
			component, arch, lists_dir, strna(list));
	}
	p = path_join(lists_dir, found[0]);
	if (!p)
		return -ENOMEM;
	*ret = p;
	return 0;
}

struct debrepo_suite *debrepo_suite_free(struct debrepo_suite *s)
{
	if (!s)
		return NULL;
	debrepo_packages_done(&s->packages);
	free(s->name);
	free(s->inrelease_path);
	free(s->inrelease_sha256);
	free(s->signer);
	debrepo_release_free(s->release);
	strv_free(s->index_paths);
	free(s);
	return NULL;
}

static int load_index(struct debrepo_suite *s, const char *lists_dir, const char *component,
		      const char *arch, char **ret_error)
{
	_cleanup_free_ char *path = NULL, *entry = NULL, *text = NULL;
	const struct debrepo_release_file *rf;
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[SHA256_HEX_SIZE];
	size_t size;
	int r;

	if (asprintf(&entry, "%s/binary-%s/Packages", component, arch) < 0)
		return -ENOMEM;
	rf = debrepo_release_find(s->release, entry);
	if (!rf)
		return error_replace(
			ret_error, -ENOENT,
			"%s (signed) lists no %s: the suite has no component '%s' or no "
			"architecture '%s'",
			s->inrelease_path, entry, component, arch);
	r = find_packages_file(lists_dir, s->inrelease_path, component, arch, &path, ret_error);
	if (r < 0)
		return r;
	r = archive_read_decompressed(path, PACKAGES_MAX_SIZE, &text, &size);
	if (r < 0)
		return error_replace(ret_error, r, "%s: cannot read the index (%s)", path,
				     r == -EBADMSG ?
					     "corrupt or not a supported compression format" :
					     strerror(-r));
	r = sha256_buf(text, size, d);
	if (r < 0)
		return r;
	sha256_hex(d, hex);
	if (size != rf->size || !streq(hex, rf->sha256))
		return error_replace(
			ret_error, -EBADMSG,
			"%s: the index does not match its signed hash: its content has "
			"sha256 %s and %zu bytes, %s expects sha256 %s and %" PRIu64
			" bytes for %s; it is corrupt or was altered: run 'apt-get "
			"update'",
			path, hex, size, s->inrelease_path, rf->sha256, rf->size, entry);
	r = strv_extend(&s->index_paths, path);
	if (r < 0)
		return r;
	return debrepo_packages_parse(text, size, s->name,
				      s->index_paths[strv_length(s->index_paths) - 1], &s->packages,
				      ret_error);
}

int debrepo_suite_load(struct sig_keyring *keyring, const char *lists_dir, const char *suite,
		       char *const *components, const char *arch, struct debrepo_suite **ret,
		       char **ret_error)
{
	_cleanup_(debrepo_suite_freep) struct debrepo_suite *s = new0(struct debrepo_suite, 1);
	_cleanup_free_ char *raw = NULL, *text = NULL, *why = NULL;
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[SHA256_HEX_SIZE];
	size_t raw_size, text_size;
	int r;

	if (!s || !(s->name = strdup(suite)))
		return -ENOMEM;
	r = debrepo_find_inrelease(lists_dir, suite, &s->inrelease_path, ret_error);
	if (r < 0)
		return r;
	r = read_full_file(s->inrelease_path, INRELEASE_MAX_SIZE, &raw, &raw_size);
	if (r < 0)
		return error_replace(ret_error, r, "%s: %s", s->inrelease_path, strerror(-r));
	r = sha256_buf(raw, raw_size, d);
	if (r < 0)
		return r;
	sha256_hex(d, hex);
	if (!(s->inrelease_sha256 = strdup(hex)))
		return -ENOMEM;

	r = sig_verify_clearsigned(keyring, raw, raw_size, &text, &text_size, &s->signer, &why);
	if (r < 0)
		return error_replace(ret_error, r, "%s: signature refused: %s", s->inrelease_path,
				     why ?: strerror(-r));
	r = debrepo_release_parse(text, text_size, s->inrelease_path, &s->release, ret_error);
	if (r < 0)
		return r;
	/* A validly signed Release of another suite must not stand in for this one. */
	if (!streq_ptr(s->release->suite, suite) && !streq_ptr(s->release->codename, suite))
		return error_replace(
			ret_error, -EBADMSG,
			"%s is the signed Release of suite '%s' (codename '%s'), not of '%s'",
			s->inrelease_path, strna(s->release->suite), strna(s->release->codename),
			suite);

	STRV_FOREACH(c, components) {
		r = load_index(s, lists_dir, *c, arch, ret_error);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(s);
	return 0;
}
