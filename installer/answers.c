/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The answer file of an unattended install (airlock-install(8), ANSWER FILE): "key =
 * value" lines, blank lines and '#' comment lines. The same keys set from the command
 * line (--pbkdf-memory, --tpm, ...) go through answers_set() too, so one parser
 * checks both. Every error names the file, the line and the key.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/error.h"
#include "core/fileio.h"
#include "core/parse.h"
#include "core/path.h"
#include "core/strv.h"
#include "installer.h"
#include "operator.h"

#define ANSWERS_FILE_MAX (64U * 1024U)
#define ANSWER_VALUE_MAX 4096U
#define PBKDF_MEMORY_MAX_KIB (4U * 1024U * 1024U) /* 4 GiB, libcryptsetup's limit */
#define PBKDF_PARALLEL_MAX 16U

static const char *const key_names[_ANSWER_KEY_MAX] = {
	[ANSWER_DISK] = "disk",
	[ANSWER_DISK_ID] = "disk-id",
	[ANSWER_DISK_MODEL] = "disk-model",
	[ANSWER_DISK_SERIAL] = "disk-serial",
	[ANSWER_DISK_SIZE] = "disk-size",
	[ANSWER_DISK_MIN_SIZE] = "disk-min-size",
	[ANSWER_DISK_MAX_SIZE] = "disk-max-size",
	[ANSWER_CONFIRM] = "confirm",
	[ANSWER_RECOVERY_KEY] = "recovery-key",
	[ANSWER_RECOVERY_KEY_FILE] = "recovery-key-file",
	[ANSWER_RECOVERY_KEY_DISK] = "recovery-key-disk",
	[ANSWER_TPM] = "tpm",
	[ANSWER_TCTI] = "tcti",
	[ANSWER_PCR_PUBLIC_KEY] = "pcr-public-key",
	[ANSWER_PBKDF] = "pbkdf",
	[ANSWER_PBKDF_MEMORY] = "pbkdf-memory",
	[ANSWER_PBKDF_TIME_COST] = "pbkdf-time-cost",
	[ANSWER_PBKDF_PARALLEL] = "pbkdf-parallel",
	[ANSWER_REBOOT] = "reboot",
	[ANSWER_OPERATOR_PASSPHRASE_HASH] = "operator-passphrase-hash",
};

const char *answer_key_to_string(enum answer_key k)
{
	return k >= 0 && k < _ANSWER_KEY_MAX ? key_names[k] : NULL;
}

enum answer_key answer_key_from_string(const char *s)
{
	for (int i = 0; i < _ANSWER_KEY_MAX; i++)
		if (streq_ptr(s, key_names[i]))
			return (enum answer_key)i;
	return _ANSWER_KEY_INVALID;
}

int answers_new(struct install_answers **ret)
{
	struct install_answers *a = new0(struct install_answers, 1);

	if (!a)
		return -ENOMEM;
	a->tpm = TPM_MODE_REQUIRED;
	a->pbkdf.type = LUKS_PBKDF_ARGON2ID;
	*ret = a;
	return 0;
}

struct install_answers *answers_free(struct install_answers *a)
{
	if (!a)
		return NULL;
	free(a->path);
	free(a->disk.path);
	free(a->disk.id);
	free(a->disk.model);
	free(a->disk.serial);
	free(a->key_file);
	free(a->key_disk);
	free(a->tcti);
	free(a->pcr_public_key);
	free(a->operator_hash);
	free(a);
	return NULL;
}

/* "PATH:LINE: key 'K': " or "option --K: " */
static int where_error(const struct install_answers *a, unsigned line, const char *key,
		       char **ret_error, int r, const char *fmt, ...) _printf_(6, 7);
static int where_error(const struct install_answers *a, unsigned line, const char *key,
		       char **ret_error, int r, const char *fmt, ...)
{
	_cleanup_free_ char *what = NULL;
	va_list ap;

	if (!ret_error)
		return r;
	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	free(*ret_error);
	*ret_error = NULL;
	if (line == ANSWER_LINE_OPTION) {
		if (asprintf(ret_error, "option --%s: %s", key, strna(what)) < 0)
			*ret_error = NULL;
	} else if (asprintf(ret_error, "%s:%u: key '%s': %s", strna(a->path), line, key,
			    strna(what)) < 0)
		*ret_error = NULL;
	return r;
}

static int set_string(char **field, const char *value)
{
	char *c = strdup(value);

	if (!c)
		return -ENOMEM;
	free(*field);
	*field = c;
	return 0;
}

static bool value_is_printable(const char *v)
{
	for (const char *c = v; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

static int parse_u32_range(const char *v, uint32_t min, uint32_t max, uint32_t *ret)
{
	unsigned u;
	int r = safe_atou(v, &u);

	if (r < 0)
		return r;
	if (u < min || u > max)
		return -ERANGE;
	*ret = u;
	return 0;
}

int answers_set(struct install_answers *a, const char *key, const char *value, unsigned line,
		char **ret_error)
{
	enum answer_key k = answer_key_from_string(key);
	uint64_t size;
	uint32_t u32;
	int r;

	if (k < 0)
		return where_error(a, line, key, ret_error, -EINVAL,
				   "unknown key (see airlock-install(8), ANSWER FILE)");
	if (a->line[k] != 0) {
		if (a->line[k] == ANSWER_LINE_OPTION)
			return where_error(a, line, key, ret_error, -EINVAL,
					   "given twice (also as an option)");
		return where_error(a, line, key, ret_error, -EINVAL,
				   "given twice (first on line %u)", a->line[k]);
	}
	if (isempty(value))
		return where_error(a, line, key, ret_error, -EINVAL, "empty value");
	if (strlen(value) > ANSWER_VALUE_MAX || !value_is_printable(value))
		return where_error(a, line, key, ret_error, -EINVAL,
				   "value is too long or holds control characters");

	switch (k) {
	case ANSWER_DISK:
		r = set_string(&a->disk.path, value);
		break;
	case ANSWER_DISK_ID: {
		const char *id = startswith(value, "/dev/disk/by-id/") ?: value;
		if (isempty(id) || strchr(id, '/'))
			return where_error(a, line, key, ret_error, -EINVAL,
					   "'%s' is not a /dev/disk/by-id name", value);
		r = set_string(&a->disk.id, id);
		break;
	}
	case ANSWER_DISK_MODEL:
		r = set_string(&a->disk.model, value);
		break;
	case ANSWER_DISK_SERIAL:
		r = set_string(&a->disk.serial, value);
		break;
	case ANSWER_DISK_SIZE:
	case ANSWER_DISK_MIN_SIZE:
	case ANSWER_DISK_MAX_SIZE:
		r = parse_size(value, &size);
		if (r < 0 || size == 0)
			return where_error(a, line, key, ret_error, -EINVAL,
					   "'%s' is not a size (bytes, or with K, M, G, T)", value);
		if (k == ANSWER_DISK_SIZE)
			a->disk.size_bytes = size;
		else if (k == ANSWER_DISK_MIN_SIZE)
			a->disk.min_size_bytes = size;
		else
			a->disk.max_size_bytes = size;
		break;
	case ANSWER_CONFIRM:
		if (!streq(value, "yes"))
			return where_error(a, line, key, ret_error, -EINVAL,
					   "must be 'yes' (anything else is not a confirmation)");
		a->confirm = true;
		r = 0;
		break;
	case ANSWER_RECOVERY_KEY: {
		_cleanup_strv_free_ char **words = NULL;
		unsigned dest = 0;

		r = strv_split(value, " \t,", &words);
		if (r < 0)
			break;
		STRV_FOREACH(w, words) {
			if (streq(*w, "console"))
				dest |= KEYDEST_CONSOLE;
			else if (streq(*w, "file"))
				dest |= KEYDEST_FILE;
			else if (streq(*w, "disk"))
				dest |= KEYDEST_DISK;
			else
				return where_error(
					a, line, key, ret_error, -EINVAL,
					"'%s' is not a destination (console, file, disk)", *w);
		}
		a->keydest = dest;
		break;
	}
	case ANSWER_RECOVERY_KEY_FILE:
		if (!path_is_absolute(value))
			return where_error(a, line, key, ret_error, -EINVAL,
					   "'%s' is not an absolute path", value);
		r = set_string(&a->key_file, value);
		break;
	case ANSWER_RECOVERY_KEY_DISK:
		if (!path_is_absolute(value))
			return where_error(a, line, key, ret_error, -EINVAL,
					   "'%s' is not an absolute path", value);
		r = set_string(&a->key_disk, value);
		break;
	case ANSWER_TPM:
		if (streq(value, "required"))
			a->tpm = TPM_MODE_REQUIRED;
		else if (streq(value, "allow-missing"))
			a->tpm = TPM_MODE_ALLOW_MISSING;
		else
			return where_error(a, line, key, ret_error, -EINVAL,
					   "'%s' is neither 'required' nor 'allow-missing'", value);
		r = 0;
		break;
	case ANSWER_TCTI:
		r = set_string(&a->tcti, value);
		break;
	case ANSWER_PCR_PUBLIC_KEY:
		if (!path_is_absolute(value) && line != ANSWER_LINE_OPTION)
			return where_error(a, line, key, ret_error, -EINVAL,
					   "'%s' is not an absolute path", value);
		r = set_string(&a->pcr_public_key, value);
		break;
	case ANSWER_PBKDF:
		if (streq(value, "argon2id"))
			a->pbkdf.type = LUKS_PBKDF_ARGON2ID;
		else if (streq(value, "pbkdf2"))
			a->pbkdf.type = LUKS_PBKDF_PBKDF2;
		else
			return where_error(a, line, key, ret_error, -EINVAL,
					   "'%s' is neither 'argon2id' nor 'pbkdf2'", value);
		r = 0;
		break;
	case ANSWER_PBKDF_MEMORY:
		r = parse_size(value, &size);
		if (r < 0 || size < 32 * 1024 || size / 1024 > PBKDF_MEMORY_MAX_KIB)
			return where_error(a, line, key, ret_error, -EINVAL,
					   "'%s' is not a memory size between 32K and 4G", value);
		a->pbkdf.memory_kib = (uint32_t)(size / 1024);
		break;
	case ANSWER_PBKDF_TIME_COST:
		r = parse_u32_range(value, 1, UINT32_MAX, &u32);
		if (r < 0)
			return where_error(a, line, key, ret_error, -EINVAL,
					   "'%s' is not a positive number of iterations", value);
		a->pbkdf.iterations = u32;
		break;
	case ANSWER_PBKDF_PARALLEL:
		r = parse_u32_range(value, 1, PBKDF_PARALLEL_MAX, &u32);
		if (r < 0)
			return where_error(a, line, key, ret_error, -EINVAL,
					   "'%s' is not a thread count from 1 to %u", value,
					   PBKDF_PARALLEL_MAX);
		a->pbkdf.parallel = u32;
		break;
	case ANSWER_OPERATOR_PASSPHRASE_HASH: {
		const char *why = NULL;

		if (operator_hash_check(value, &why) < 0)
			return where_error(a, line, key, ret_error, -EINVAL, "%s", why);
		r = set_string(&a->operator_hash, value);
		break;
	}
	case ANSWER_REBOOT:
		r = parse_boolean(value);
		if (r < 0)
			return where_error(a, line, key, ret_error, -EINVAL,
					   "'%s' is neither yes nor no", value);
		a->reboot = r;
		r = 0;
		break;
	default:
		return -EINVAL;
	}
	if (r < 0)
		return r;
	a->line[k] = line;
	return 0;
}

static char *strip(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int answers_parse(const char *path, const char *text, struct install_answers **ret,
		  char **ret_error)
{
	_cleanup_(answers_freep) struct install_answers *a = NULL;
	_cleanup_free_ char *copy = NULL;
	char *line, *next;
	unsigned n = 0;
	int r;

	r = answers_new(&a);
	if (r < 0)
		return r;
	a->path = strdup(strempty(path));
	copy = strdup(text);
	if (!a->path || !copy)
		return -ENOMEM;

	for (line = copy; line; line = next) {
		char *eq, *key, *value;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		n++;
		line = strip(line);
		if (*line == '\0' || *line == '#')
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			if (ret_error &&
			    asprintf(ret_error, "%s:%u: expected 'key = value', got '%.40s'",
				     a->path, n, line) < 0)
				*ret_error = NULL;
			return -EINVAL;
		}
		*eq = '\0';
		key = strip(line);
		value = strip(eq + 1);
		if (isempty(key)) {
			if (ret_error &&
			    asprintf(ret_error, "%s:%u: no key before '='", a->path, n) < 0)
				*ret_error = NULL;
			return -EINVAL;
		}
		r = answers_set(a, key, value, n, ret_error);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(a);
	return 0;
}

int answers_load(const char *path, struct install_answers **ret, char **ret_error)
{
	_cleanup_free_ char *text = NULL;
	size_t size;
	int r;

	r = read_full_file(path, ANSWERS_FILE_MAX, &text, &size);
	if (r < 0) {
		if (ret_error && asprintf(ret_error, "%s: cannot read the answer file: %s", path,
					  strerror(-r)) < 0)
			*ret_error = NULL;
		return r;
	}
	if (strlen(text) != size) {
		if (ret_error &&
		    asprintf(ret_error, "%s: holds a NUL byte; not an answer file", path) < 0)
			*ret_error = NULL;
		return -EINVAL;
	}
	return answers_parse(path, text, ret, ret_error);
}

int answers_check_unattended(const struct install_answers *a, char **ret_error)
{
	const struct disk_match *m = &a->disk;
	const char *p = strna(a->path);

	if (!m->path && !m->id && !m->model && !m->serial && !m->size_bytes && !m->min_size_bytes &&
	    !m->max_size_bytes)
		return error_replace(
			ret_error, -EINVAL,
			"%s: no target disk: give 'disk', 'disk-id', or 'disk-size' / "
			"'disk-min-size' / 'disk-max-size' / 'disk-model' / 'disk-serial'",
			p);
	if (m->min_size_bytes && m->max_size_bytes && m->min_size_bytes > m->max_size_bytes)
		return error_replace(ret_error, -EINVAL,
				     "%s:%u: key 'disk-max-size': below disk-min-size (line %u)", p,
				     a->line[ANSWER_DISK_MAX_SIZE], a->line[ANSWER_DISK_MIN_SIZE]);
	if (!a->confirm)
		return error_replace(
			ret_error, -EPERM,
			"%s: no 'confirm = yes': an unattended install erases the target "
			"disk only when the answer file says so",
			p);
	if (a->keydest == 0)
		return error_replace(
			ret_error, -EINVAL,
			"%s: no 'recovery-key' destination (console, file or disk): the "
			"recovery key must go somewhere a person can read it",
			p);
	if ((a->keydest & KEYDEST_FILE) && !a->key_file)
		return error_replace(ret_error, -EINVAL,
				     "%s:%u: key 'recovery-key': 'file' needs 'recovery-key-file'",
				     p, a->line[ANSWER_RECOVERY_KEY]);
	if (!(a->keydest & KEYDEST_FILE) && a->key_file)
		return error_replace(ret_error, -EINVAL,
				     "%s:%u: key 'recovery-key-file': 'recovery-key' does not name "
				     "'file'",
				     p, a->line[ANSWER_RECOVERY_KEY_FILE]);
	if ((a->keydest & KEYDEST_DISK) && !a->key_disk)
		return error_replace(ret_error, -EINVAL,
				     "%s:%u: key 'recovery-key': 'disk' needs 'recovery-key-disk'",
				     p, a->line[ANSWER_RECOVERY_KEY]);
	if (!(a->keydest & KEYDEST_DISK) && a->key_disk)
		return error_replace(ret_error, -EINVAL,
				     "%s:%u: key 'recovery-key-disk': 'recovery-key' does not name "
				     "'disk'",
				     p, a->line[ANSWER_RECOVERY_KEY_DISK]);
	return 0;
}

char *disk_match_describe(const struct disk_match *m)
{
	_cleanup_strv_free_ char **parts = NULL;
	char a[FORMAT_BYTES_MAX];
	int r = 0;

	if (m->path)
		r = strv_extendf(&parts, "disk=%s", m->path);
	if (r >= 0 && m->id)
		r = strv_extendf(&parts, "disk-id=%s", m->id);
	if (r >= 0 && m->model)
		r = strv_extendf(&parts, "disk-model=%s", m->model);
	if (r >= 0 && m->serial)
		r = strv_extendf(&parts, "disk-serial=%s", m->serial);
	if (r >= 0 && m->size_bytes)
		r = strv_extendf(&parts, "disk-size=%s", format_bytes(a, sizeof(a), m->size_bytes));
	if (r >= 0 && m->min_size_bytes)
		r = strv_extendf(&parts, "disk-min-size=%s",
				 format_bytes(a, sizeof(a), m->min_size_bytes));
	if (r >= 0 && m->max_size_bytes)
		r = strv_extendf(&parts, "disk-max-size=%s",
				 format_bytes(a, sizeof(a), m->max_size_bytes));
	if (r < 0)
		return NULL;
	return parts ? strv_join(parts, ", ") : strdup("(no criteria)");
}
