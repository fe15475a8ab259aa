/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/fileio.h"
#include "core/parse.h"
#include "core/path.h"
#include "core/strv.h"
#include "ext/crypto.h"
#include "core/error.h"
#include "manifest.h"
#include "version.h"

#define MANIFEST_MAX_SIZE (1024U * 1024U)

struct parser {
	const char *path;
	unsigned line;
	const char *section;
	const char *key;
	char *error;
	/* which single-valued keys were seen, to refuse duplicates */
	char **seen;
};

static int fail(struct parser *p, const char *fmt, ...) _printf_(2, 3);
static int fail(struct parser *p, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	/* the position, then the section and key it is about */
	if (p->section && p->key)
		return error_at(&p->error, -EBADMSG, p->path, p->line, "[%s] %s: %s", p->section,
				p->key, msg);
	if (p->section)
		return error_at(&p->error, -EBADMSG, p->path, p->line, "[%s]: %s", p->section, msg);
	return error_at(&p->error, -EBADMSG, p->path, p->line, "%s", msg);
}

static int set_string(struct parser *p, char **field, const char *value)
{
	char *v;

	if (*field)
		return fail(p, "given twice (a single value is expected)");
	if (isempty(value))
		return fail(p, "empty value");
	v = strdup(value);
	if (!v)
		return -ENOMEM;
	*field = v;
	return 0;
}

static int set_size(struct parser *p, uint64_t *field, const char *value)
{
	uint64_t v;

	if (*field)
		return fail(p, "given twice (a single value is expected)");
	if (parse_size(value, &v) < 0 || v == 0)
		return fail(p, "'%s' is not a size (a number with an optional K, M, G or T suffix)",
			    value);
	if (v % (1024 * 1024) != 0)
		return fail(p, "'%s' is not a whole number of MiB", value);
	*field = v;
	return 0;
}

static int add_words(struct parser *p, char ***list, const char *value)
{
	_cleanup_strv_free_ char **words = NULL;
	int r = strv_split(value, " \t", &words);

	if (r < 0)
		return r;
	if (strv_length(words) == 0)
		return fail(p, "empty list");
	return strv_extend_strv(list, words);
}

static bool name_is_valid(const char *s, const char *extra)
{
	if (isempty(s) || strlen(s) > 128)
		return false;
	for (const char *c = s; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr(extra, *c))
			return false;
	return true;
}

static int check_relative_glob(struct parser *p, const char *g)
{
	if (path_is_absolute(g))
		return fail(p, "'%s': write image paths without the leading '/'", g);
	if (path_has_dotdot(g))
		return fail(p, "'%s': '..' is not allowed", g);
	return 0;
}

static int parse_image(struct parser *p, struct manifest *m, const char *key, const char *value)
{
	if (streq(key, "name")) {
		if (!name_is_valid(value, "-_."))
			return fail(p, "'%s' is not a valid name (letters, digits, '-', '_', '.')",
				    value);
		return set_string(p, &m->name, value);
	}
	if (streq(key, "version") || streq(key, "min-version")) {
		if (!version_is_valid(value))
			return fail(p,
				    "'%s' is not a version (digits separated by dots, e.g. 1.2.0)",
				    value);
		return set_string(p, streq(key, "version") ? &m->version : &m->min_version, value);
	}
	if (streq(key, "security-version")) {
		if (m->has_security_version)
			return fail(p, "given twice (a single value is expected)");
		if (safe_atou64(value, &m->security_version) < 0 ||
		    m->security_version > MANIFEST_SECURITY_VERSION_MAX)
			return fail(p, "'%s' is not a whole number from 0 to %u", value,
				    MANIFEST_SECURITY_VERSION_MAX);
		m->has_security_version = true;
		return 0;
	}
	if (streq(key, "compatible")) {
		if (!name_is_valid(value, "-_./"))
			return fail(p, "'%s' is not a valid product name (e.g. airlock/x86-64)",
				    value);
		return set_string(p, &m->compatible, value);
	}
	if (streq(key, "architecture")) {
		if (!streq(value, "amd64"))
			return fail(p, "'%s' is not supported (only amd64)", value);
		return set_string(p, &m->architecture, value);
	}
	if (streq(key, "hostname")) {
		if (!name_is_valid(value, "-"))
			return fail(p, "'%s' is not a valid host name", value);
		return set_string(p, &m->hostname, value);
	}
	if (streq(key, "kernel-cmdline")) {
		if (strstr(value, "roothash=") || strstr(value, "airlock."))
			return fail(p, "'%s': root hash and airlock.* words are set by the builder",
				    value);
		return set_string(p, &m->kernel_cmdline, value);
	}
	return fail(p, "unknown key");
}

static int parse_disk(struct parser *p, struct manifest *m, const char *key, const char *value)
{
	if (streq(key, "esp-size"))
		return set_size(p, &m->esp_size, value);
	if (streq(key, "root-size"))
		return set_size(p, &m->root_size, value);
	if (streq(key, "verity-size"))
		return set_size(p, &m->verity_size, value);
	if (streq(key, "data-min-size"))
		return set_size(p, &m->data_min_size, value);
	return fail(p, "unknown key");
}

static int parse_archive(struct parser *p, struct manifest *m, const char *key, const char *value)
{
	if (streq(key, "suites"))
		return add_words(p, &m->suites, value);
	if (streq(key, "components"))
		return add_words(p, &m->components, value);
	if (streq(key, "keyring")) {
		if (!path_is_absolute(value))
			return fail(p, "'%s' is not an absolute path", value);
		return set_string(p, &m->keyring, value);
	}
	if (streq(key, "lists")) {
		if (!path_is_absolute(value))
			return fail(p, "'%s' is not an absolute path", value);
		return set_string(p, &m->lists_dir, value);
	}
	return fail(p, "unknown key");
}

static int parse_packages(struct parser *p, struct manifest *m, const char *key, const char *value)
{
	_cleanup_strv_free_ char **words = NULL;
	int r;

	if (!streq(key, "include"))
		return fail(p, "unknown key");
	r = strv_split(value, " \t", &words);
	if (r < 0)
		return r;
	if (strv_length(words) == 0)
		return fail(p, "empty list");
	STRV_FOREACH(w, words) {
		struct manifest_package *n;

		if (!name_is_valid(*w, "+-.") || !isalnum((unsigned char)(*w)[0]))
			return fail(p, "'%s' is not a Debian package name", *w);
		for (size_t i = 0; i < m->n_packages; i++)
			if (streq(m->packages[i].name, *w))
				return fail(p, "'%s' is listed twice (also on line %u)", *w,
					    m->packages[i].line);
		n = reallocarray(m->packages, m->n_packages + 1, sizeof(*n));
		if (!n)
			return -ENOMEM;
		m->packages = n;
		n[m->n_packages] = (struct manifest_package){ .name = strdup(*w), .line = p->line };
		if (!n[m->n_packages].name)
			return -ENOMEM;
		m->n_packages++;
	}
	return 0;
}

static int parse_prune(struct parser *p, struct manifest *m, const char *key, const char *value)
{
	_cleanup_strv_free_ char **words = NULL;
	char ***list;
	int r;

	if (streq(key, "path"))
		list = &m->prune;
	else if (streq(key, "keep"))
		list = &m->keep;
	else
		return fail(p, "unknown key");
	r = strv_split(value, " \t", &words);
	if (r < 0)
		return r;
	if (strv_length(words) == 0)
		return fail(p, "empty list");
	STRV_FOREACH(w, words) {
		r = check_relative_glob(p, *w);
		if (r < 0)
			return r;
	}
	return strv_extend_strv(list, words);
}

static int parse_modules(struct parser *p, struct manifest *m, const char *key, const char *value)
{
	struct manifest_module_class *c = NULL;
	_cleanup_strv_free_ char **words = NULL;
	int r;

	if (!name_is_valid(key, "-_"))
		return fail(p, "'%s' is not a valid class name", key);
	r = strv_split(value, " \t", &words);
	if (r < 0)
		return r;
	if (strv_length(words) == 0)
		return fail(p, "empty list");
	STRV_FOREACH(w, words) {
		if (strchr(*w, '/')) {
			r = check_relative_glob(p, *w);
			if (r < 0)
				return r;
		} else if (!name_is_valid(*w, "-_*?"))
			return fail(p, "'%s' is not a module name", *w);
	}
	for (size_t i = 0; i < m->n_module_classes; i++)
		if (streq(m->module_classes[i].name, key))
			c = &m->module_classes[i];
	if (!c) {
		struct manifest_module_class *n =
			reallocarray(m->module_classes, m->n_module_classes + 1, sizeof(*n));
		if (!n)
			return -ENOMEM;
		m->module_classes = n;
		c = &n[m->n_module_classes];
		*c = (struct manifest_module_class){ .name = strdup(key), .line = p->line };
		if (!c->name)
			return -ENOMEM;
		m->n_module_classes++;
	}
	return strv_extend_strv(&c->modules, words);
}

static int parse_users(struct parser *p, struct manifest *m, const char *key, const char *value)
{
	if (!streq(key, "sysusers"))
		return fail(p, "unknown key");
	if (!strchr("ugmr", value[0]) || !isspace((unsigned char)value[1]))
		return fail(p, "'%s' is not a sysusers.d line (u, g, m or r, then fields)", value);
	return strv_extend(&m->sysusers, value);
}

static int parse_alternatives(struct parser *p, struct manifest *m, const char *key,
			      const char *value)
{
	_cleanup_strv_free_ char **words = NULL;
	struct manifest_alternative *n;
	int r;

	if (!name_is_valid(key, "-_.+"))
		return fail(p, "'%s' is not a valid alternative name", key);
	r = strv_split(value, " \t", &words);
	if (r < 0)
		return r;
	if (strv_length(words) != 2 || !path_is_absolute(words[0]) || !path_is_absolute(words[1]))
		return fail(p, "'%s': expected 'LINK TARGET', two absolute paths", value);
	for (size_t i = 0; i < m->n_alternatives; i++)
		if (streq(m->alternatives[i].name, key))
			return fail(p, "given twice (also on line %u)", m->alternatives[i].line);
	n = reallocarray(m->alternatives, m->n_alternatives + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	m->alternatives = n;
	n[m->n_alternatives] = (struct manifest_alternative){
		.name = strdup(key),
		.link = TAKE_PTR(words[0]),
		.target = TAKE_PTR(words[1]),
		.line = p->line,
	};
	m->n_alternatives++;
	if (!n[m->n_alternatives - 1].name)
		return -ENOMEM;
	return 0;
}

static int parse_units(struct parser *p, struct manifest *m, const char *key, const char *value)
{
	_cleanup_strv_free_ char **words = NULL;
	char ***list;
	int r;

	if (streq(key, "enable"))
		list = &m->enable;
	else if (streq(key, "mask"))
		list = &m->mask;
	else if (streq(key, "debug-enable"))
		list = &m->debug_enable;
	else
		return fail(p, "unknown key");
	r = strv_split(value, " \t", &words);
	if (r < 0)
		return r;
	if (strv_length(words) == 0)
		return fail(p, "empty list");
	STRV_FOREACH(w, words)
		if (!name_is_valid(*w, "-_.@:\\") || !strchr(*w, '.'))
			return fail(p, "'%s' is not a unit name", *w);
	return strv_extend_strv(list, words);
}

/*
 * Enough to find and verify the root on virtio, NVMe, SATA, SAS/SCSI and USB disks,
 * plus what the data volume (LUKS2 + ext4) will need.
 */
const char *const manifest_initramfs_modules_default[] = {
	"virtio_pci",  "virtio_blk", "virtio_scsi",  "nvme",	     "ahci",
	"ata_piix",    "sd_mod",     "xhci_pci",     "ehci_pci",     "usb_storage",
	"uas",	       "dm_mod",     "dm_verity",    "squashfs",     "overlay",
	"efivarfs",    "dm_crypt",   "ext4",	     "crc32c_intel", "crc32c_generic",
	"aesni_intel", "xts",	     "sha256_ssse3", "algif_hash",   "algif_skcipher",
	"tpm_tis",     "tpm_crb",    NULL,
};

static int parse_initramfs(struct parser *p, struct manifest *m, const char *key, const char *value)
{
	_cleanup_strv_free_ char **words = NULL;
	int r;

	if (streq(key, "compression")) {
		if (!streq(value, "zstd") && !streq(value, "none"))
			return fail(p, "'%s' is not supported (zstd or none)", value);
		return set_string(p, &m->initramfs_compression, value);
	}
	if (!streq(key, "modules"))
		return fail(p, "unknown key");
	r = strv_split(value, " \t", &words);
	if (r < 0)
		return r;
	if (strv_length(words) == 0)
		return fail(p, "empty list");
	STRV_FOREACH(w, words) {
		if (!name_is_valid(*w, "-_"))
			return fail(p, "'%s' is not a module name (no globs or paths here)", *w);
		STRV_FOREACH(o, m->initramfs_modules)
			if (streq(*o, *w))
				return fail(p, "'%s' is listed twice", *w);
		r = strv_extend(&m->initramfs_modules, *w);
		if (r < 0)
			return r;
	}
	return 0;
}

static const struct {
	const char *name;
	int (*parse)(struct parser *p, struct manifest *m, const char *key, const char *value);
} sections[] = {
	{ "image", parse_image },
	{ "disk", parse_disk },
	{ "archive", parse_archive },
	{ "packages", parse_packages },
	{ "prune", parse_prune },
	{ "modules", parse_modules },
	{ "users", parse_users },
	{ "units", parse_units },
	{ "alternatives", parse_alternatives },
	{ "initramfs", parse_initramfs },
};

static char *strip(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int check_complete(struct parser *p, struct manifest *m)
{
	static const struct {
		const char *section, *key;
		size_t offset;
	} required[] = {
		{ "image", "name", offsetof(struct manifest, name) },
		{ "image", "version", offsetof(struct manifest, version) },
		{ "image", "compatible", offsetof(struct manifest, compatible) },
		{ "image", "architecture", offsetof(struct manifest, architecture) },
	};

	p->line = 0;
	p->key = NULL;
	for (size_t i = 0; i < ELEMENTSOF(required); i++)
		if (!*(char **)((uint8_t *)m + required[i].offset)) {
			p->section = required[i].section;
			p->key = required[i].key;
			return fail(p, "missing (required)");
		}
	p->section = "packages";
	if (m->n_packages == 0)
		return fail(p, "no packages listed");
	p->section = "archive";
	p->key = "suites";
	if (strv_length(m->suites) == 0)
		return fail(p, "missing (required)");
	p->section = "image";
	p->key = "min-version";
	if (m->min_version && version_compare(m->min_version, m->version) > 0)
		return fail(p, "%s is higher than version %s", m->min_version, m->version);

	/* Defaults. */
	if (!m->components && strv_extend(&m->components, "main") < 0)
		return -ENOMEM;
	if (!m->keyring && !(m->keyring = strdup("/usr/share/keyrings/debian-archive-keyring.gpg")))
		return -ENOMEM;
	if (!m->lists_dir && !(m->lists_dir = strdup("/var/lib/apt/lists")))
		return -ENOMEM;
	if (!m->hostname && !(m->hostname = strdup(m->name)))
		return -ENOMEM;
	if (!m->min_version && !(m->min_version = strdup("0")))
		return -ENOMEM;
	if (!m->esp_size)
		m->esp_size = 256ULL << 20;
	if (!m->root_size)
		m->root_size = 1024ULL << 20;
	if (!m->verity_size)
		m->verity_size = 64ULL << 20;
	if (!m->data_min_size)
		m->data_min_size = 1024ULL << 20;
	if (!m->initramfs_modules &&
	    strv_extend_strv(&m->initramfs_modules, (char **)manifest_initramfs_modules_default) <
		    0)
		return -ENOMEM;
	if (!m->initramfs_compression &&
	    !(m->initramfs_compression = strdup(MANIFEST_INITRAMFS_COMPRESSION_DEFAULT)))
		return -ENOMEM;
	return 0;
}

int manifest_parse(const char *path, const char *text, struct manifest **ret, char **ret_error)
{
	_cleanup_(manifest_freep) struct manifest *m = new0(struct manifest, 1);
	_cleanup_free_ char *copy = strdup(text);
	struct parser p = { .path = path };
	int (*handler)(struct parser *, struct manifest *, const char *, const char *) = NULL;
	char *line, *next;
	int r = 0;

	if (!m || !copy)
		return -ENOMEM;
	m->path = strdup(path);
	if (!m->path)
		return -ENOMEM;

	for (line = copy; line; line = next) {
		char *s, *eq, *key, *value;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		p.line++;
		p.key = NULL;
		s = line;
		/* '#' starts a comment only at the start of a line or after white space. */
		for (char *c = s; *c; c++)
			if (*c == '#' && (c == s || isspace((unsigned char)c[-1]))) {
				*c = '\0';
				break;
			}
		s = strip(s);
		if (!*s)
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			p.section = NULL;
			handler = NULL;
			if (!end || end[1] != '\0') {
				r = fail(&p, "malformed section header '%s'", s);
				goto out;
			}
			*end = '\0';
			for (size_t i = 0; i < ELEMENTSOF(sections); i++)
				if (streq(sections[i].name, s + 1)) {
					p.section = sections[i].name;
					handler = sections[i].parse;
				}
			if (!handler) {
				r = fail(&p, "unknown section [%s]", s + 1);
				goto out;
			}
			continue;
		}
		if (!handler) {
			r = fail(&p, "'%s' is outside of any [section]", s);
			goto out;
		}
		eq = strchr(s, '=');
		if (!eq) {
			r = fail(&p, "'%s' is not a 'key = value' line", s);
			goto out;
		}
		*eq = '\0';
		key = strip(s);
		value = strip(eq + 1);
		p.key = key;
		if (!*key) {
			r = fail(&p, "missing key before '='");
			goto out;
		}
		r = handler(&p, m, key, value);
		if (r < 0)
			goto out;
	}
	r = check_complete(&p, m);
out:
	if (r < 0) {
		if (ret_error)
			*ret_error = TAKE_PTR(p.error);
		free(p.error);
		return r;
	}
	*ret = TAKE_PTR(m);
	return 0;
}

int manifest_load(const char *path, struct manifest **ret, char **ret_error)
{
	_cleanup_free_ char *text = NULL;
	size_t size;
	int r = read_full_file(path, MANIFEST_MAX_SIZE, &text, &size);

	if (r < 0) {
		if (ret_error && asprintf(ret_error, "%s: %s", path, strerror(-r)) < 0)
			*ret_error = NULL;
		return r;
	}
	if (strlen(text) != size) {
		if (ret_error && asprintf(ret_error, "%s: not a text file", path) < 0)
			*ret_error = NULL;
		return -EBADMSG;
	}
	return manifest_parse(path, text, ret, ret_error);
}

struct manifest *manifest_free(struct manifest *m)
{
	if (!m)
		return NULL;
	free(m->path);
	free(m->name);
	free(m->version);
	free(m->min_version);
	free(m->compatible);
	free(m->architecture);
	free(m->hostname);
	free(m->kernel_cmdline);
	strv_free(m->suites);
	strv_free(m->components);
	free(m->keyring);
	free(m->lists_dir);
	for (size_t i = 0; i < m->n_packages; i++)
		free(m->packages[i].name);
	free(m->packages);
	strv_free(m->prune);
	strv_free(m->keep);
	for (size_t i = 0; i < m->n_module_classes; i++) {
		free(m->module_classes[i].name);
		strv_free(m->module_classes[i].modules);
	}
	free(m->module_classes);
	strv_free(m->sysusers);
	for (size_t i = 0; i < m->n_alternatives; i++) {
		free(m->alternatives[i].name);
		free(m->alternatives[i].link);
		free(m->alternatives[i].target);
	}
	free(m->alternatives);
	strv_free(m->enable);
	strv_free(m->mask);
	strv_free(m->debug_enable);
	strv_free(m->initramfs_modules);
	free(m->initramfs_compression);
	free(m);
	return NULL;
}

int manifest_lock_digest(const struct manifest *m, char **ret_hex)
{
	_cleanup_strv_free_ char **pkgs = NULL;
	_cleanup_free_ char *p = NULL, *s = NULL, *c = NULL, *text = NULL;
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[SHA256_HEX_SIZE];
	int r;

	for (size_t i = 0; i < m->n_packages; i++)
		if ((r = strv_extend(&pkgs, m->packages[i].name)) < 0)
			return r;
	strv_sort(pkgs);
	p = strv_join(pkgs, " ");
	s = strv_join(m->suites, " ");
	c = strv_join(m->components, " ");
	if (!p || !s || !c)
		return -ENOMEM;
	if (asprintf(&text, "architecture=%s\nsuites=%s\ncomponents=%s\npackages=%s\n",
		     m->architecture, s, c, p) < 0)
		return -ENOMEM;
	r = sha256_buf(text, strlen(text), d);
	if (r < 0)
		return r;
	sha256_hex(d, hex);
	*ret_hex = strdup(hex);
	return *ret_hex ? 0 : -ENOMEM;
}
