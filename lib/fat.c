/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <stdio.h>

#include "core/error.h"
#include "core/path.h"
#include "core/run.h"
#include "core/strv.h"
#include "fat.h"

#define FAT_TOOL_TIMEOUT_SEC 300
#define FAT_LABEL_MAX 11

/* "PATH@@OFFSET", mtools' way of naming a file system inside a larger file. */
static int image_spec(const struct fat_volume *v, char **ret)
{
	if (isempty(v->path) || strchr(v->path, '@'))
		return -EINVAL;
	if (asprintf(ret, "%s@@%" PRIu64, v->path, v->offset_bytes) < 0)
		return -ENOMEM;
	return 0;
}

static bool fat_path_is_valid(const char *p)
{
	return !isempty(p) && !path_is_absolute(p) && !path_has_dotdot(p) && !strstr(p, "//") &&
	       !endswith(p, "/") && !strchr(p, '\\');
}

static int mtool(const char *const argv[], const struct fat_volume *v, char **ret_stdout,
		 char **ret_error)
{
	/* No ~/.mtoolsrc, no geometry checks against a floppy table. */
	static const char *const env[] = { "MTOOLS_SKIP_CHECK=1", "MTOOLSRC=/dev/null", NULL };
	const struct run_opts opts = {
		.env = env,
		.timeout_sec = FAT_TOOL_TIMEOUT_SEC,
		.stdout_mode = ret_stdout ? RUN_STDIO_CAPTURE : RUN_STDIO_NULL,
	};
	_cleanup_free_ char *error = NULL;
	int r;

	r = run_argv(argv, &opts, ret_stdout, &error);
	if (r < 0)
		return error_replace(ret_error, r, "%s on %s at offset %" PRIu64 ": %s", argv[0],
				     v->path, v->offset_bytes,
				     r == -ENOENT ? "mtools is not installed" : strna(error));
	return 0;
}

int fat_format(const struct fat_volume *v, uint64_t size_bytes, uint32_t serial, const char *label,
	       char **ret_error)
{
	_cleanup_free_ char *spec = NULL;
	char sectors[32], serial_hex[16];

	if (size_bytes == 0 || size_bytes % 512 != 0 || isempty(label) ||
	    strlen(label) > FAT_LABEL_MAX)
		return error_replace(ret_error, -EINVAL, "bad FAT size or label");
	if (image_spec(v, &spec) < 0)
		return error_replace(ret_error, -EINVAL, "bad FAT volume path '%s'",
				     strna(v->path));
	snprintf(sectors, sizeof(sectors), "%" PRIu64, size_bytes / 512);
	snprintf(serial_hex, sizeof(serial_hex), "%08" PRIx32, serial);
	const char *argv[] = { "mformat", "-i", spec, "-F", "-N", serial_hex, "-v", label,
			       "-h",	  "64", "-s", "32", "-T", sectors,    "::", NULL };
	return mtool(argv, v, NULL, ret_error);
}

int fat_mkdir(const struct fat_volume *v, const char *dir, char **ret_error)
{
	_cleanup_free_ char *spec = NULL, *target = NULL;

	if (!fat_path_is_valid(dir) || image_spec(v, &spec) < 0 ||
	    asprintf(&target, "::/%s", dir) < 0)
		return error_replace(ret_error, -EINVAL, "bad FAT directory '%s'", strna(dir));
	const char *argv[] = { "mmd", "-i", spec, target, NULL };
	return mtool(argv, v, NULL, ret_error);
}

int fat_copy_in(const struct fat_volume *v, const char *host_path, const char *fat_path,
		char **ret_error)
{
	_cleanup_free_ char *spec = NULL, *target = NULL;

	if (!fat_path_is_valid(fat_path) || isempty(host_path) || image_spec(v, &spec) < 0 ||
	    asprintf(&target, "::/%s", fat_path) < 0)
		return error_replace(ret_error, -EINVAL, "bad FAT path '%s'", strna(fat_path));
	const char *argv[] = { "mcopy", "-i", spec, "-o", "-Q", host_path, target, NULL };
	return mtool(argv, v, NULL, ret_error);
}

int fat_copy_out(const struct fat_volume *v, const char *fat_path, const char *host_path,
		 char **ret_error)
{
	_cleanup_free_ char *spec = NULL, *source = NULL;

	if (!fat_path_is_valid(fat_path) || isempty(host_path) || image_spec(v, &spec) < 0 ||
	    asprintf(&source, "::/%s", fat_path) < 0)
		return error_replace(ret_error, -EINVAL, "bad FAT path '%s'", strna(fat_path));
	const char *argv[] = { "mcopy", "-i", spec, "-n", "-Q", source, host_path, NULL };
	return mtool(argv, v, NULL, ret_error);
}

int fat_rename(const struct fat_volume *v, const char *from, const char *to, char **ret_error)
{
	_cleanup_free_ char *spec = NULL, *source = NULL, *target = NULL;
	const char *slash_from = from ? strrchr(from, '/') : NULL;
	const char *slash_to = to ? strrchr(to, '/') : NULL;

	if (!fat_path_is_valid(from) || !fat_path_is_valid(to) || image_spec(v, &spec) < 0 ||
	    asprintf(&source, "::/%s", from) < 0)
		return error_replace(ret_error, -EINVAL, "bad FAT path '%s' or '%s'", strna(from),
				     strna(to));
	/* Within one directory: mren takes the new name without a directory. */
	size_t dir_from = slash_from ? (size_t)(slash_from - from) : 0;
	size_t dir_to = slash_to ? (size_t)(slash_to - to) : 0;
	if (!slash_from != !slash_to || dir_from != dir_to || memcmp(from, to, dir_from) != 0)
		return error_replace(ret_error, -EXDEV,
				     "'%s' and '%s' are in different directories", from, to);
	target = strdup(slash_to ? slash_to + 1 : to);
	if (!target)
		return -ENOMEM;
	const char *argv[] = { "mren", "-i", spec, "-D", "o", source, target, NULL };
	return mtool(argv, v, NULL, ret_error);
}

int fat_remove(const struct fat_volume *v, const char *fat_path, char **ret_error)
{
	_cleanup_free_ char *spec = NULL, *target = NULL;

	if (!fat_path_is_valid(fat_path) || image_spec(v, &spec) < 0 ||
	    asprintf(&target, "::/%s", fat_path) < 0)
		return error_replace(ret_error, -EINVAL, "bad FAT path '%s'", strna(fat_path));
	const char *argv[] = { "mdel", "-i", spec, target, NULL };
	return mtool(argv, v, NULL, ret_error);
}

int fat_list(const struct fat_volume *v, char ***ret_paths, char **ret_error)
{
	_cleanup_free_ char *spec = NULL, *out = NULL;
	_cleanup_strv_free_ char **lines = NULL, **files = NULL;
	int r;

	if (image_spec(v, &spec) < 0)
		return error_replace(ret_error, -EINVAL, "bad FAT volume path '%s'",
				     strna(v->path));
	/* -/: recursive, -b: bare ("::/DIR/" for directories, "::/DIR/FILE" for files). */
	const char *argv[] = { "mdir", "-i", spec, "-/", "-b", "::", NULL };
	r = mtool(argv, v, &out, ret_error);
	if (r < 0)
		return r == -EPROTO ? -EBADMSG : r;
	r = strv_split(strempty(out), "\n", &lines);
	if (r < 0)
		return r;
	STRV_FOREACH(l, lines) {
		const char *p = startswith(*l, "::/");
		if (!p || isempty(p) || endswith(p, "/"))
			continue;
		r = strv_extend(&files, p);
		if (r < 0)
			return r;
	}
	if (!files && !(files = new0(char *, 1)))
		return -ENOMEM;
	strv_sort(files);
	*ret_paths = TAKE_PTR(files);
	return 0;
}
