/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tree stage: what goes into the image besides the packages' contents, and
 * what comes out. Applies overlay/ and units/, adds Airlock's own programs, drops
 * what the manifest prunes (paths, and kernel modules outside the kept classes and
 * their dependencies), and finally lays the model out as a real directory for the
 * tools that need one (depmod, the initramfs builder).
 */
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "builder.h"
#include "core/fd.h"
#include "core/fileio.h"
#include "core/fs.h"
#include "core/hashmap.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/path.h"
#include "core/progress.h"
#include "core/run.h"
#include "core/strv.h"
#include "manifest.h"
#include "tree.h"

/* ---- overlay/ and units/ ------------------------------------------------------------------ */

static int add_host_file(struct tree *t, const char *host_path, const char *image_path,
			 const struct stat *st, const char *origin)
{
	_cleanup_(tree_node_freep) struct tree_node *n = NULL;
	_cleanup_free_ char *error = NULL;
	int r;

	if (S_ISDIR(st->st_mode))
		n = tree_node_new(image_path, TREE_DIR, 0755, origin);
	else if (S_ISREG(st->st_mode)) {
		n = tree_node_new(image_path, TREE_REG, st->st_mode & 0111 ? 0755 : 0644, origin);
		if (n) {
			n->size = (uint64_t)st->st_size;
			n->source = strdup(host_path);
			if (!n->source)
				return -ENOMEM;
		}
	} else if (S_ISLNK(st->st_mode)) {
		char buf[4096];
		ssize_t k = readlink(host_path, buf, sizeof(buf) - 1);
		if (k < 0)
			return log_error_errno(errno, "%s: %s: %m", origin, host_path);
		buf[k] = '\0';
		n = tree_node_new(image_path, TREE_SYMLINK, 0777, origin);
		if (n && !(n->target = strdup(buf)))
			return -ENOMEM;
	} else
		return log_error("%s: %s is not a file, directory or symlink", origin, host_path),
		       -EINVAL;
	if (!n)
		return -ENOMEM;
	r = tree_add(t, TAKE_PTR(n), TREE_ADD_REPLACE, &error);
	if (r < 0)
		return log_error("%s: %s: %s", origin, host_path, error ?: strerror(-r)), r;
	return 0;
}

static int walk_dir(struct tree *t, const char *host_dir, const char *image_dir, const char *origin)
{
	struct dirent **entries = NULL;
	int n = scandir(host_dir, &entries, NULL, alphasort), r = 0;

	if (n < 0)
		return log_error_errno(errno, "%s: cannot read %s: %m", origin, host_dir);
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *host = NULL, *image = NULL;
		struct stat st;

		if (r < 0 || streq(entries[i]->d_name, ".") || streq(entries[i]->d_name, "..") ||
		    (streq(entries[i]->d_name, ".gitkeep")))
			goto next;
		host = path_join(host_dir, entries[i]->d_name);
		image = isempty(image_dir) ? strdup(entries[i]->d_name) :
					     path_join(image_dir, entries[i]->d_name);
		if (!host || !image) {
			r = -ENOMEM;
			goto next;
		}
		if (lstat(host, &st) < 0) {
			r = log_error_errno(errno, "%s: %s: %m", origin, host);
			goto next;
		}
		r = add_host_file(t, host, image, &st, origin);
		if (r >= 0 && S_ISDIR(st.st_mode))
			r = walk_dir(t, host, image, origin);
next:
		free(entries[i]);
	}
	free(entries);
	return r;
}

int tree_apply_overlay(struct tree *t, const char *overlay_dir, const char *units_dir)
{
	unsigned before = (unsigned)tree_size(t);
	int r;

	if (access(overlay_dir, F_OK) == 0) {
		r = walk_dir(t, overlay_dir, "", "overlay");
		if (r < 0)
			return r;
	}
	if (units_dir && access(units_dir, F_OK) == 0) {
		r = walk_dir(t, units_dir, "usr/lib/systemd/system", "units");
		if (r < 0)
			return r;
	}
	progress_line("overlay: %s%s%s applied (%u new paths)", overlay_dir,
		      units_dir ? " and " : "", strempty(units_dir),
		      (unsigned)tree_size(t) - before);
	return 0;
}

/* ---- Airlock's own programs ----------------------------------------------------------------- */

int tree_add_programs(struct tree *t, const char *programs_dir, const char *scratch,
		      char **ret_init)
{
	struct dirent **entries = NULL;
	_cleanup_free_ char *init = NULL;
	unsigned count = 0;
	int n, r = 0;

	r = mkdir_p(scratch, 0755);
	if (r < 0)
		return log_error_errno(r, "programs: cannot create %s: %m", scratch);
	n = scandir(programs_dir, &entries, NULL, alphasort);
	if (n < 0)
		return log_error_errno(errno, "programs: cannot read %s: %m", programs_dir);
	for (int i = 0; i < n; i++) {
		const char *name = entries[i]->d_name;
		_cleanup_free_ char *src = NULL, *dst = NULL, *image = NULL, *error = NULL;
		const char *argv[] = { "strip", "--strip-debug", "-o", NULL, NULL, NULL };
		struct tree_node *node;
		struct stat st;

		if (r < 0 || !startswith(name, "airlock-") || streq(name, "airlock-build"))
			goto next;
		src = path_join(programs_dir, name);
		dst = path_join(scratch, name);
		if (!src || !dst) {
			r = log_oom();
			goto next;
		}
		if (stat(src, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
			goto next;
		/* Debug information stays out of the image; it names nothing host-specific
		 * (-ffile-prefix-map), it is just large. */
		argv[3] = dst;
		argv[4] = src;
		r = run_argv(argv, NULL, NULL, &error);
		if (r < 0) {
			r = log_error_errno(r, "programs: %s: %s", name, error ?: strerror(-r));
			goto next;
		}
		if (stat(dst, &st) < 0) {
			r = -errno;
			goto next;
		}
		if (streq(name, "airlock-init")) {
			/* The initramfs's /init; kept in the image too, for rebuilding it. */
			image = strdup("usr/lib/airlock/airlock-init");
			init = strdup(dst);
			if (!init) {
				r = log_oom();
				goto next;
			}
		} else
			image = path_join("usr/bin", name);
		if (!image) {
			r = log_oom();
			goto next;
		}
		node = tree_node_new(image, TREE_REG, 0755, "airlock");
		if (!node || !(node->source = strdup(dst))) {
			tree_node_free(node);
			r = log_oom();
			goto next;
		}
		node->size = (uint64_t)st.st_size;
		r = tree_add(t, node, TREE_ADD_REPLACE, &error);
		if (r < 0) {
			log_error("programs: %s: %s", name, error ?: strerror(-r));
			goto next;
		}
		count++;
next:
		free(entries[i]);
	}
	free(entries);
	if (r < 0)
		return r;
	if (!init)
		return log_error("programs: no airlock-init in %s; build it first (make all)",
				 programs_dir),
		       -ENOENT;
	progress_line("programs: %u of Airlock's own programs from %s", count, programs_dir);
	*ret_init = TAKE_PTR(init);
	return 0;
}

/* ---- pruning -------------------------------------------------------------------------------- */

static bool matches_any(char *const *globs, const char *path)
{
	STRV_FOREACH(g, globs)
		if (path_glob_match(*g, path))
			return true;
	return false;
}

int tree_prune(struct tree *t, const struct manifest *m)
{
	_cleanup_free_ struct tree_node **nodes = NULL;
	_cleanup_(hashmap_freep) struct hashmap *keep_dirs = hashmap_new();
	uint64_t bytes = 0;
	size_t n, removed = 0;
	char size_buf[FORMAT_BYTES_MAX];
	int r;

	if (!keep_dirs)
		return log_oom();
	r = tree_sorted(t, &nodes, &n);
	if (r < 0)
		return log_oom();

	/* Non-directories first: pruned unless a keep pattern saves them. Parents of what
	 * stays must stay too. */
	for (size_t i = 0; i < n; i++) {
		struct tree_node *node = nodes[i];
		bool pruned;

		if (node->type == TREE_DIR)
			continue;
		pruned = matches_any(m->prune, node->path) && !matches_any(m->keep, node->path);
		if (!pruned) {
			_cleanup_free_ char *p = strdup(node->path);
			if (!p)
				return log_oom();
			for (char *s = strrchr(p, '/'); s; s = strrchr(p, '/')) {
				*s = '\0';
				struct tree_node *d = tree_get(t, p);
				if (!d || hashmap_get(keep_dirs, d->path))
					break;
				if (hashmap_put(keep_dirs, d->path, d) < 0)
					return log_oom();
			}
			continue;
		}
		bytes += node->size;
		nodes[i] = NULL;
		r = tree_remove(t, node->path);
		if (r < 0)
			return r;
		removed++;
	}
	/* Then directories, deepest first (reverse sorted order). */
	for (size_t i = n; i-- > 0;) {
		struct tree_node *node = nodes[i];
		if (!node || node->type != TREE_DIR || hashmap_get(keep_dirs, node->path))
			continue;
		if (!matches_any(m->prune, node->path) || matches_any(m->keep, node->path))
			continue;
		r = tree_remove(t, node->path);
		if (r < 0)
			return r;
		removed++;
	}
	progress_line("prune: %zu paths removed, %s", removed,
		      format_bytes(size_buf, sizeof(size_buf), bytes));
	return 0;
}

/* ---- kernel modules --------------------------------------------------------------------------- */

static void normalize_module_name(char *s)
{
	for (; *s; s++)
		if (*s == '-')
			*s = '_';
}

/* Reads the .modinfo section of a kernel module: NUL-separated "key=value" strings. */
static int read_modinfo(const char *path, char **ret, size_t *ret_size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf64_Ehdr eh;
	_cleanup_free_ Elf64_Shdr *sh = NULL;
	_cleanup_free_ char *names = NULL;
	struct stat st;
	int r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	r = loop_read_exact(fd, &eh, sizeof(eh));
	if (r < 0)
		return -EBADMSG;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shnum > 4096 ||
	    eh.e_shstrndx >= eh.e_shnum || eh.e_shoff > (uint64_t)st.st_size)
		return -EBADMSG;
	sh = calloc(eh.e_shnum, sizeof(Elf64_Shdr));
	if (!sh)
		return -ENOMEM;
	if (pread(fd, sh, eh.e_shnum * sizeof(Elf64_Shdr), (off_t)eh.e_shoff) !=
	    (ssize_t)(eh.e_shnum * sizeof(Elf64_Shdr)))
		return -EBADMSG;
	if (sh[eh.e_shstrndx].sh_size > 1024 * 1024 ||
	    sh[eh.e_shstrndx].sh_offset + sh[eh.e_shstrndx].sh_size > (uint64_t)st.st_size)
		return -EBADMSG;
	names = malloc(sh[eh.e_shstrndx].sh_size + 1);
	if (!names)
		return -ENOMEM;
	if (pread(fd, names, sh[eh.e_shstrndx].sh_size, (off_t)sh[eh.e_shstrndx].sh_offset) !=
	    (ssize_t)sh[eh.e_shstrndx].sh_size)
		return -EBADMSG;
	names[sh[eh.e_shstrndx].sh_size] = '\0';
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		_cleanup_free_ char *data = NULL;
		if (sh[i].sh_name >= sh[eh.e_shstrndx].sh_size ||
		    !streq(names + sh[i].sh_name, ".modinfo"))
			continue;
		if (sh[i].sh_size > 1024 * 1024 ||
		    sh[i].sh_offset + sh[i].sh_size > (uint64_t)st.st_size)
			return -EBADMSG;
		data = malloc(sh[i].sh_size + 1);
		if (!data)
			return -ENOMEM;
		if (pread(fd, data, sh[i].sh_size, (off_t)sh[i].sh_offset) !=
		    (ssize_t)sh[i].sh_size)
			return -EBADMSG;
		data[sh[i].sh_size] = '\0';
		*ret_size = sh[i].sh_size;
		*ret = TAKE_PTR(data);
		return 0;
	}
	return -ENOENT;
}

/* The module's hard (depends=) and soft (softdep= pre:/post:) dependencies. */
static int module_dependencies(const char *path, char ***ret)
{
	_cleanup_free_ char *info = NULL;
	_cleanup_strv_free_ char **deps = NULL;
	size_t size = 0;
	int r = read_modinfo(path, &info, &size);

	if (r < 0)
		return r;
	for (size_t off = 0; off < size; off += strlen(info + off) + 1) {
		const char *kv = info + off, *v;
		_cleanup_strv_free_ char **words = NULL;

		if ((v = startswith(kv, "depends=")))
			r = strv_split(v, ",", &words);
		else if ((v = startswith(kv, "softdep=")))
			r = strv_split(v, " ", &words);
		else
			continue;
		if (r < 0)
			return r;
		STRV_FOREACH(w, words) {
			if (endswith(*w, ":")) /* "pre:", "post:" */
				continue;
			r = strv_extend(&deps, *w);
			if (r < 0)
				return r;
			normalize_module_name(deps[strv_length(deps) - 1]);
		}
	}
	*ret = TAKE_PTR(deps);
	if (!*ret)
		*ret = new0(char *, 1);
	return *ret ? 0 : -ENOMEM;
}

/* modules.builtin lists the modules compiled into the kernel, as kernel/.../name.ko. */
static bool modules_builtin_contains(const struct tree *t, const char *kver, const char *name)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	struct tree_node *node;

	if (asprintf(&path, "usr/lib/modules/%s/modules.builtin", kver) < 0)
		return false;
	node = tree_get(t, path);
	if (!node || node->type != TREE_REG ||
	    read_full_file(node->source, 16 << 20, &text, NULL) < 0)
		return false;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *base = (char *)path_last(line);
		if (endswith(base, ".ko"))
			base[strlen(base) - 3] = '\0';
		normalize_module_name(base);
		if (streq(base, name))
			return true;
	}
	return false;
}

static int find_kernel_version(const struct tree *t, char **ret)
{
	_cleanup_free_ struct tree_node **nodes = NULL;
	_cleanup_free_ char *found = NULL;
	size_t n;
	int r = tree_sorted(t, &nodes, &n);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		const char *rest = startswith(nodes[i]->path, "usr/lib/modules/");
		if (!rest || strchr(rest, '/') || nodes[i]->type != TREE_DIR)
			continue;
		if (found)
			return log_error("kernel: more than one kernel in the image (%s and %s); "
					 "the manifest must pull in exactly one",
					 found, rest),
			       -ENOTUNIQ;
		found = strdup(rest);
		if (!found)
			return -ENOMEM;
	}
	if (!found)
		return log_error("kernel: no usr/lib/modules/VERSION in the image; the manifest "
				 "must include a kernel package (linux-image-amd64)"),
		       -ENOENT;
	*ret = TAKE_PTR(found);
	return 0;
}

int tree_prune_modules(struct tree *t, const struct manifest *m, char **ret_kernel_version,
		       char ***ret_kept)
{
	_cleanup_free_ struct tree_node **nodes = NULL;
	_cleanup_free_ char *kver = NULL, *prefix = NULL;
	_cleanup_(hashmap_freep) struct hashmap *by_name = hashmap_new(), *kept = hashmap_new();
	_cleanup_strv_free_ char **queue = NULL, **names = NULL, **kept_names = NULL;
	size_t n, total = 0, removed = 0;
	uint64_t bytes = 0;
	char size_buf[FORMAT_BYTES_MAX];
	int r;

	if (!by_name || !kept)
		return log_oom();
	r = find_kernel_version(t, &kver);
	if (r < 0)
		return r;
	if (asprintf(&prefix, "usr/lib/modules/%s/kernel/", kver) < 0)
		return log_oom();
	r = tree_sorted(t, &nodes, &n);
	if (r < 0)
		return log_oom();

	/* Index modules by normalized name. */
	for (size_t i = 0; i < n; i++) {
		const char *rel = startswith(nodes[i]->path, prefix);
		char *name;
		if (!rel || nodes[i]->type != TREE_REG || !endswith(rel, ".ko"))
			continue;
		name = strndup(path_last(rel), strlen(path_last(rel)) - 3);
		if (!name || strv_push(&names, name) < 0)
			return log_oom();
		normalize_module_name(name);
		if (hashmap_put(by_name, name, nodes[i]) < 0)
			return log_error("kernel: two modules named %s", name), -ENOTUNIQ;
		total++;
	}

	/* Seeds: the classes' names and globs. An unknown name is an error, so that a typo
	 * does not silently drop a driver. */
	for (size_t c = 0; c < m->n_module_classes; c++) {
		const struct manifest_module_class *cls = &m->module_classes[c];
		STRV_FOREACH(w, cls->modules) {
			if (strchr(*w, '/')) {
				bool any = false;
				for (size_t i = 0; i < n; i++) {
					const char *rel = startswith(nodes[i]->path, prefix);
					if (rel && nodes[i]->type == TREE_REG &&
					    endswith(rel, ".ko") && path_glob_match(*w, rel)) {
						_cleanup_free_ char *nm = strndup(
							path_last(rel), strlen(path_last(rel)) - 3);
						if (!nm)
							return log_oom();
						normalize_module_name(nm);
						if (strv_push(&queue, TAKE_PTR(nm)) < 0)
							return log_oom();
						any = true;
					}
				}
				if (!any)
					return log_error(
						       "%s:%u: [modules] %s: '%s' matches no module "
						       "of kernel %s",
						       m->path, cls->line, cls->name, *w, kver),
					       -ENOENT;
			} else {
				_cleanup_free_ char *nm = strdup(*w);
				if (!nm)
					return log_oom();
				normalize_module_name(nm);
				if (strchr(nm, '*') || strchr(nm, '?')) {
					bool any = false;
					STRV_FOREACH(k, names)
						if (fnmatch(nm, *k, 0) == 0) {
							if (strv_extend(&queue, *k) < 0)
								return log_oom();
							any = true;
						}
					if (!any)
						return log_error(
							       "%s:%u: [modules] %s: '%s' matches no "
							       "module of kernel %s",
							       m->path, cls->line, cls->name, *w,
							       kver),
						       -ENOENT;
					continue;
				}
				if (!hashmap_get(by_name, nm)) {
					/* Built into the kernel? Then there is nothing to keep. */
					log_debug("kernel: %s is not a module of %s (built in?)",
						  nm, kver);
					if (!modules_builtin_contains(t, kver, nm))
						return log_error(
							       "%s:%u: [modules] %s: '%s' is neither a "
							       "module nor built into kernel %s",
							       m->path, cls->line, cls->name, *w,
							       kver),
						       -ENOENT;
					continue;
				}
				if (strv_push(&queue, TAKE_PTR(nm)) < 0)
					return log_oom();
			}
		}
	}

	/* Closure over hard and soft dependencies. */
	while (strv_length(queue) > 0) {
		size_t qn = strv_length(queue);
		char *name = queue[qn - 1];
		struct tree_node *node;
		_cleanup_strv_free_ char **deps = NULL;

		queue[qn - 1] = NULL;
		if (hashmap_get(kept, name)) {
			free(name);
			continue;
		}
		node = hashmap_get(by_name, name);
		if (!node) {
			/* softdeps may name modules this kernel builds in */
			log_debug("kernel: dependency %s not found as a module, ignoring", name);
			free(name);
			continue;
		}
		if (strv_push(&kept_names, name) < 0)
			return log_oom();
		if (hashmap_put(kept, name, node) < 0)
			return log_oom();
		r = module_dependencies(node->source, &deps);
		if (r < 0)
			return log_error_errno(r,
					       "kernel: cannot read the module information of "
					       "/%s: %m",
					       node->path);
		STRV_FOREACH(d, deps)
			if (!hashmap_get(kept, *d) && strv_extend(&queue, *d) < 0)
				return log_oom();
	}

	/* Drop the rest. */
	for (size_t i = 0; i < n; i++) {
		const char *rel = startswith(nodes[i]->path, prefix);
		_cleanup_free_ char *nm = NULL;
		if (!rel || nodes[i]->type != TREE_REG || !endswith(rel, ".ko"))
			continue;
		nm = strndup(path_last(rel), strlen(path_last(rel)) - 3);
		if (!nm)
			return log_oom();
		normalize_module_name(nm);
		if (hashmap_get(kept, nm))
			continue;
		bytes += nodes[i]->size;
		r = tree_remove(t, nodes[i]->path);
		if (r < 0)
			return r;
		removed++;
	}
	strv_sort(kept_names);
	progress_line("modules: kernel %s, %zu of %zu modules kept, %zu removed (%s)", kver,
		      total - removed, total, removed,
		      format_bytes(size_buf, sizeof(size_buf), bytes));
	*ret_kernel_version = TAKE_PTR(kver);
	*ret_kept = TAKE_PTR(kept_names);
	return 0;
}

/* ---- laying the model out as a directory ------------------------------------------------------ */

int tree_materialize(const struct tree *t, const char *dir)
{
	_cleanup_free_ struct tree_node **nodes = NULL;
	size_t n;
	int r;

	r = tree_sorted(t, &nodes, &n);
	if (r < 0)
		return log_oom();
	r = mkdir_p(dir, 0755);
	if (r < 0)
		return log_error_errno(r, "materialize: %s: %m", dir);
	for (size_t i = 0; i < n; i++) {
		const struct tree_node *node = nodes[i];
		_cleanup_free_ char *p = NULL;

		if (isempty(node->path))
			continue;
		p = path_join(dir, node->path);
		if (!p)
			return log_oom();
		switch (node->type) {
		case TREE_DIR:
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				return log_error_errno(errno, "materialize: %s: %m", p);
			break;
		case TREE_REG:
			/* Sharing the blob is cheapest; copy across file systems. */
			if (link(node->source, p) < 0) {
				if (errno != EXDEV && errno != EPERM)
					return log_error_errno(errno, "materialize: %s: %m", p);
				r = copy_file_atomic(node->source, p, node->mode & 0777);
				if (r < 0)
					return log_error_errno(r, "materialize: %s: %m", p);
			}
			break;
		case TREE_SYMLINK:
			if (symlink(node->target, p) < 0)
				return log_error_errno(errno, "materialize: %s: %m", p);
			break;
		default:
			/* Devices and fifos exist only in the image's tar stream. */
			break;
		}
	}
	return 0;
}

/* ---- depmod ---------------------------------------------------------------------------------- */

int tree_depmod(struct tree *t, const char *root, const char *kernel_version)
{
	static const char *const outputs[] = {
		"modules.alias",       "modules.alias.bin", "modules.builtin.alias.bin",
		"modules.builtin.bin", "modules.dep",	    "modules.dep.bin",
		"modules.devname",     "modules.softdep",   "modules.symbols",
		"modules.symbols.bin",
	};
	const char *argv[] = { "depmod", "-b", root, kernel_version, NULL };
	_cleanup_free_ char *error = NULL;
	int r;

	r = run_argv(argv, NULL, NULL, &error);
	if (r < 0)
		return log_error("modules: %s", error ?: strerror(-r)), r;
	for (size_t i = 0; i < ELEMENTSOF(outputs); i++) {
		_cleanup_free_ char *image = NULL, *host = NULL, *err = NULL;
		struct tree_node *n;
		struct stat st;

		if (asprintf(&image, "usr/lib/modules/%s/%s", kernel_version, outputs[i]) < 0)
			return log_oom();
		host = path_join(root, image);
		if (!host)
			return log_oom();
		if (stat(host, &st) < 0) {
			if (errno == ENOENT)
				continue;
			return log_error_errno(errno, "modules: %s: %m", host);
		}
		n = tree_node_new(image, TREE_REG, 0644, "generated");
		if (!n || !(n->source = strdup(host))) {
			tree_node_free(n);
			return log_oom();
		}
		n->size = (uint64_t)st.st_size;
		r = tree_add(t, n, TREE_ADD_REPLACE, &err);
		if (r < 0)
			return log_error("modules: /%s: %s", image, err ?: strerror(-r)), r;
	}
	return 0;
}
