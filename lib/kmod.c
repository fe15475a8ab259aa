/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdio.h>

#include "core/path.h"
#include "core/strv.h"
#include "kmod.h"

static const char *const module_suffixes[] = { ".ko", ".ko.xz", ".ko.zst", ".ko.gz" };

bool kmod_name_equal(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;
		if (x != y)
			return false;
		if (x == '\0')
			return true;
	}
}

static bool module_path_is_valid(const char *p)
{
	if (isempty(p) || path_has_dotdot(p))
		return false;
	for (size_t i = 0; i < ELEMENTSOF(module_suffixes); i++)
		if (endswith(p, module_suffixes[i]) && strlen(p) > strlen(module_suffixes[i]) &&
		    path_last(p)[0] != '.')
			return true;
	return false;
}

int kmod_name_from_path(const char *path, char **ret)
{
	const char *base = path_last(path);
	char *name;

	if (!module_path_is_valid(path))
		return -EINVAL;
	name = strndup(base, strstr(base, ".ko") - base);
	if (!name)
		return -ENOMEM;
	for (char *c = name; *c; c++)
		if (*c == '-')
			*c = '_';
	*ret = name;
	return 0;
}

struct kmod_dep *kmod_dep_free(struct kmod_dep *d)
{
	if (!d)
		return NULL;
	for (size_t i = 0; i < d->n_entries; i++) {
		free(d->entries[i].path);
		free(d->entries[i].name);
		strv_free(d->entries[i].deps);
	}
	free(d->entries);
	free(d);
	return NULL;
}

static int parse_dep_line(struct kmod_dep *d, char *line)
{
	_cleanup_strv_free_ char **deps = NULL;
	_cleanup_free_ char *path = NULL, *name = NULL;
	struct kmod_entry *e;
	char *colon = strchr(line, ':');
	int r;

	if (!colon)
		return -EBADMSG;
	*colon = '\0';
	path = strdup(line);
	if (!path)
		return -ENOMEM;
	if (kmod_name_from_path(path, &name) < 0 || strpbrk(path, " \t"))
		return -EBADMSG;
	r = strv_split(colon + 1, " \t", &deps);
	if (r < 0)
		return r;
	STRV_FOREACH(p, deps)
		if (!module_path_is_valid(*p))
			return -EBADMSG;
	e = reallocarray(d->entries, d->n_entries + 1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	d->entries = e;
	e[d->n_entries++] = (struct kmod_entry){
		.path = TAKE_PTR(path),
		.name = TAKE_PTR(name),
		.deps = TAKE_PTR(deps),
	};
	return 0;
}

int kmod_dep_parse(const char *text, struct kmod_dep **ret, unsigned *ret_line)
{
	_cleanup_(kmod_dep_freep) struct kmod_dep *d = new0(struct kmod_dep, 1);
	_cleanup_free_ char *copy = strdup(text);
	unsigned line_no = 0;
	char *next;

	if (!d || !copy)
		return -ENOMEM;
	for (char *line = copy; line; line = next) {
		int r;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line_no++;
		if (*line == '\0' || *line == '#')
			continue;
		r = parse_dep_line(d, line);
		if (r < 0) {
			if (ret_line)
				*ret_line = line_no;
			return r;
		}
	}
	*ret = TAKE_PTR(d);
	return 0;
}

const struct kmod_entry *kmod_dep_find(const struct kmod_dep *d, const char *name)
{
	for (size_t i = 0; d && i < d->n_entries; i++)
		if (kmod_name_equal(d->entries[i].name, name))
			return &d->entries[i];
	return NULL;
}

static ssize_t find_path(const struct kmod_dep *d, const char *path)
{
	for (size_t i = 0; i < d->n_entries; i++)
		if (streq(d->entries[i].path, path))
			return (ssize_t)i;
	return -1;
}

int kmod_builtin_parse(const char *text, char ***ret_names)
{
	_cleanup_strv_free_ char **lines = NULL, **names = NULL;
	int r = strv_split(text, "\n", &lines);

	if (r < 0)
		return r;
	STRV_FOREACH(l, lines) {
		char *name;

		if (**l == '#')
			continue;
		r = kmod_name_from_path(*l, &name);
		if (r == -EINVAL)
			return -EBADMSG;
		if (r < 0)
			return r;
		r = strv_push(&names, name);
		if (r < 0)
			return r;
	}
	if (!names && !(names = new0(char *, 1)))
		return -ENOMEM;
	*ret_names = TAKE_PTR(names);
	return 0;
}

enum { UNSEEN, VISITING, DONE };

static int visit(const struct kmod_dep *d, size_t i, uint8_t *state, char ***order)
{
	const struct kmod_entry *e = &d->entries[i];
	int r;

	if (state[i] == DONE)
		return 0;
	if (state[i] == VISITING)
		return -ELOOP;
	state[i] = VISITING;
	STRV_FOREACH(p, e->deps) {
		ssize_t j = find_path(d, *p);
		if (j < 0)
			return -EBADMSG;
		r = visit(d, (size_t)j, state, order);
		if (r < 0)
			return r;
	}
	state[i] = DONE;
	return strv_extend(order, e->path);
}

int kmod_dep_closure(const struct kmod_dep *d, char *const *names, char *const *builtin,
		     char ***ret_paths, char **ret_missing)
{
	_cleanup_free_ uint8_t *state = new0(uint8_t, d->n_entries);
	_cleanup_strv_free_ char **order = NULL;
	int r;

	if (!state)
		return -ENOMEM;
	STRV_FOREACH(n, names) {
		const struct kmod_entry *e = kmod_dep_find(d, *n);
		bool is_builtin = false;

		if (!e) {
			STRV_FOREACH(b, builtin)
				is_builtin = is_builtin || kmod_name_equal(*b, *n);
			if (is_builtin)
				continue;
			if (ret_missing)
				*ret_missing = strdup(*n);
			return -ENOENT;
		}
		r = visit(d, (size_t)(e - d->entries), state, &order);
		if (r < 0)
			return r;
	}
	if (!order && !(order = new0(char *, 1)))
		return -ENOMEM;
	*ret_paths = TAKE_PTR(order);
	return 0;
}

int kmod_list_format(char *const *paths, char **ret_text)
{
	_cleanup_free_ char *body = NULL;
	char *text;

	STRV_FOREACH(p, paths)
		if (!path_is_absolute(*p) || !module_path_is_valid(*p) || strpbrk(*p, " \t\n#"))
			return -EINVAL;
	body = strv_join((char **)paths, "\n");
	if (!body)
		return -ENOMEM;
	if (asprintf(&text,
		     "# Kernel modules airlock-init loads, in this order (written by airlock-build).\n"
		     "%s%s",
		     body, isempty(body) ? "" : "\n") < 0)
		return -ENOMEM;
	*ret_text = text;
	return 0;
}

int kmod_list_parse(const char *text, char ***ret_paths, unsigned *ret_line)
{
	_cleanup_strv_free_ char **paths = NULL;
	_cleanup_free_ char *copy = strdup(text);
	unsigned line_no = 0;
	char *next;
	int r;

	if (!copy)
		return -ENOMEM;
	for (char *line = copy; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line_no++;
		if (*line == '\0' || *line == '#')
			continue;
		if (!path_is_absolute(line) || !module_path_is_valid(line) ||
		    strpbrk(line, " \t")) {
			if (ret_line)
				*ret_line = line_no;
			return -EBADMSG;
		}
		r = strv_extend(&paths, line);
		if (r < 0)
			return r;
	}
	if (!paths && !(paths = new0(char *, 1)))
		return -ENOMEM;
	*ret_paths = TAKE_PTR(paths);
	return 0;
}
