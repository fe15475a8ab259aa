/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The initramfs stage: a deterministic cpio newc archive holding airlock-init as
 * /init, the shared libraries it needs (resolved by reading ELF headers against the
 * image tree, never the build host's libraries), the kernel modules named by the
 * manifest with their modules.dep closure, and the load order /etc/airlock/modules.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "builder.h"
#include "core/fileio.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/path.h"
#include "core/progress.h"
#include "core/strv.h"
#include "elfinfo.h"
#include "kmod.h"
#include "manifest.h"

#define LIBDIR "usr/lib/x86_64-linux-gnu"
#define MAX_SYMLINK_HOPS 40
#define MODULES_DEP_MAX (16U * 1024U * 1024U)
#define INITRAMFS_FILE_MAX (256U * 1024U * 1024U)

/* Libraries glibc loads with dlopen(), which no DT_NEEDED names: libgcc_s for
 * pthread_exit()/cancellation unwinding (argon2 threads in libcryptsetup abort without it). */
static const char *const extra_libraries[] = { "libgcc_s.so.1" };

/* Libraries that a library loads with dlopen() (no DT_NEEDED names them): tpm2-tss's
 * TCTI loader opens the TCTI named by "device:/dev/tpmrm0" by file name. */
static const struct {
	const char *library;
	const char *loads;
} dlopened_libraries[] = {
	{ "libtss2-tctildr.so.0", "libtss2-tcti-device.so.0" },
};

/* Directories of the initramfs, whatever else it holds (mount points of airlock-init). */
static const char *const base_directories[] = { "dev", "etc",	  "etc/airlock", "proc",
						"run", "sys",	  "sysroot",	 "tmp",
						"usr", "usr/lib", "usr/lib64" };

struct entry {
	char *path; /* relative, no leading '/' */
	mode_t mode; /* with the S_IF* type */
	char *source; /* regular files: the file to copy, or NULL if data is set */
	char *data;
	size_t size;
	char *target; /* symlinks */
	unsigned major, minor; /* character devices */
};

struct entries {
	struct entry *e;
	size_t n;
};

static void entries_done(struct entries *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->e[i].path);
		free(l->e[i].source);
		free(l->e[i].data);
		free(l->e[i].target);
	}
	free(l->e);
	*l = (struct entries){};
}

static struct entry *entries_find(struct entries *l, const char *path)
{
	for (size_t i = 0; i < l->n; i++)
		if (streq(l->e[i].path, path))
			return &l->e[i];
	return NULL;
}

/* Adds an entry (taking the strings in e); the same directory twice is fine. */
static int entries_add(struct entries *l, struct entry e)
{
	struct entry *old, *n;
	int r = 0;

	if (!e.path) {
		r = -ENOMEM;
		goto out;
	}
	old = entries_find(l, e.path);
	if (old) {
		if (!S_ISDIR(old->mode) || !S_ISDIR(e.mode))
			r = -EEXIST;
		goto out;
	}
	n = reallocarray(l->e, l->n + 1, sizeof(*n));
	if (!n) {
		r = -ENOMEM;
		goto out;
	}
	l->e = n;
	n[l->n++] = e;
	return 0;
out:
	free(e.path);
	free(e.source);
	free(e.data);
	free(e.target);
	return r;
}

/* Adds every parent directory of path. */
static int entries_add_parents(struct entries *l, const char *path)
{
	_cleanup_free_ char *p = strdup(path);
	char *slash;
	int r;

	if (!p)
		return -ENOMEM;
	for (slash = strchr(p, '/'); slash; slash = strchr(slash + 1, '/')) {
		char *dir;

		*slash = '\0';
		dir = strdup(p);
		*slash = '/';
		if (!dir)
			return -ENOMEM;
		r = entries_add(l, (struct entry){ .path = dir, .mode = S_IFDIR | 0755 });
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_file(struct entries *l, const char *path, mode_t mode, const char *source)
{
	char *p = strdup(path), *s = strdup(source);
	int r;

	if (!p || !s) {
		free(p);
		free(s);
		return -ENOMEM;
	}
	r = entries_add_parents(l, path);
	if (r < 0) {
		free(p);
		free(s);
		return r;
	}
	return entries_add(l, (struct entry){ .path = p, .mode = S_IFREG | mode, .source = s });
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

/*
 * Resolves rel (relative to tree) following symlinks as if tree were "/": absolute
 * targets restart at the tree's root and ".." never leaves it. Returns the resolved
 * relative path of an existing file.
 */
static int chase_in_tree(const char *tree, const char *rel, char **ret)
{
	_cleanup_free_ char *todo = strdup(rel), *done = strdup("");
	unsigned hops = 0;

	if (!todo || !done)
		return -ENOMEM;
	while (*todo) {
		_cleanup_free_ char *component = NULL, *candidate = NULL, *full = NULL;
		char *slash = strchr(todo, '/'), *rest;
		struct stat st;

		component = slash ? strndup(todo, slash - todo) : strdup(todo);
		rest = strdup(slash ? slash + 1 : "");
		if (!component || !rest) {
			free(rest);
			return -ENOMEM;
		}
		free_and_replace(todo, rest);
		if (streq(component, "") || streq(component, "."))
			continue;
		if (streq(component, "..")) {
			char *parent;
			int r = path_parent(done, &parent);
			if (r < 0)
				return r;
			free_and_replace(done, parent);
			continue;
		}
		candidate = isempty(done) ? strdup(component) : path_join(done, component);
		full = candidate ? path_join(tree, candidate) : NULL;
		if (!full)
			return -ENOMEM;
		if (lstat(full, &st) < 0)
			return -errno;
		if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t n = readlink(full, target, sizeof(target) - 1);
			char *next;

			if (n < 0)
				return -errno;
			target[n] = '\0';
			if (++hops > MAX_SYMLINK_HOPS)
				return -ELOOP;
			if (asprintf(&next, "%s/%s", target, todo) < 0)
				return -ENOMEM;
			free_and_replace(todo, next);
			if (target[0] == '/') {
				free(done);
				done = strdup("");
				if (!done)
					return -ENOMEM;
			}
			continue;
		}
		free_and_replace(done, candidate);
	}
	*ret = TAKE_PTR(done);
	return 0;
}

/* Finds a library by soname in the tree's library directories. */
static int find_library(const char *tree, const char *soname, char **ret_source)
{
	static const char *const dirs[] = { LIBDIR, "usr/lib64", "usr/lib" };

	if (strchr(soname, '/'))
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		_cleanup_free_ char *rel = path_join(dirs[i], soname), *real = NULL;
		struct stat st;
		int r;

		if (!rel)
			return -ENOMEM;
		r = chase_in_tree(tree, rel, &real);
		if (r == -ENOENT || r == -ENOTDIR)
			continue;
		if (r < 0)
			return r;
		*ret_source = path_join(tree, real);
		if (!*ret_source)
			return -ENOMEM;
		if (stat(*ret_source, &st) < 0 || !S_ISREG(st.st_mode)) {
			*ret_source = mfree(*ret_source);
			continue;
		}
		return 0;
	}
	return -ENOENT;
}

static int add_libraries(struct entries *l, const struct initramfs_params *p,
			 const struct elf_info *init)
{
	_cleanup_strv_free_ char **queue = NULL, **done = NULL;
	int r;

	r = strv_extend_strv(&queue, init->needed);
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(extra_libraries); i++)
		r = strv_extend(&queue, extra_libraries[i]);
	if (r >= 0 && init->interpreter)
		r = strv_extend(&queue, path_last(init->interpreter));
	if (r < 0)
		return log_oom();

	for (size_t i = 0; i < strv_length(queue); i++) {
		_cleanup_(elf_info_freep) struct elf_info *lib = NULL;
		_cleanup_free_ char *source = NULL, *dest = NULL;
		const char *soname = queue[i];

		if (strv_contains(done, soname))
			continue;
		r = find_library(p->tree, soname, &source);
		if (r < 0)
			return log_error_errno(r,
					       "initramfs: library %s (needed by airlock-init) is "
					       "not in the image tree %s (looked in /" LIBDIR
					       ", /usr/lib64, /usr/lib): %m",
					       soname, p->tree);
		r = elf_info_read(source, &lib);
		if (r < 0)
			return log_error_errno(
				r, "initramfs: %s is not a usable x86-64 ELF library: %m", source);
		STRV_FOREACH(n, lib->needed)
			if (!strv_contains(queue, *n) && strv_extend(&queue, *n) < 0)
				return log_oom();
		for (size_t j = 0; j < ELEMENTSOF(dlopened_libraries); j++)
			if (streq(soname, dlopened_libraries[j].library) &&
			    !strv_contains(queue, dlopened_libraries[j].loads) &&
			    strv_extend(&queue, dlopened_libraries[j].loads) < 0)
				return log_oom();
		dest = path_join(LIBDIR, soname);
		if (!dest || strv_extend(&done, soname) < 0)
			return log_oom();
		r = add_file(l, dest, 0755, source);
		if (r < 0)
			return log_error_errno(r, "initramfs: adding %s: %m", dest);
	}

	/* The interpreter at the path the program names (/lib64 -> usr/lib64 in merged /usr). */
	if (init->interpreter) {
		_cleanup_free_ char *rel = NULL, *target = NULL;
		const char *i = init->interpreter;

		if (!path_is_absolute(i) || path_has_dotdot(i))
			return log_error_errno(EINVAL, "initramfs: odd program interpreter %s", i);
		if (startswith(i, "/lib64/") || startswith(i, "/lib/"))
			r = asprintf(&rel, "usr%s", i);
		else
			r = asprintf(&rel, "%s", i + 1);
		if (r < 0 || asprintf(&target, "/" LIBDIR "/%s", path_last(i)) < 0)
			return log_oom();
		if (!streq(rel + 1, target + 1)) {
			r = entries_add_parents(l, rel);
			if (r >= 0)
				r = entries_add(l, (struct entry){ .path = TAKE_PTR(rel),
								   .mode = S_IFLNK | 0777,
								   .target = TAKE_PTR(target) });
			if (r < 0)
				return log_error_errno(
					r, "initramfs: adding the interpreter %s: %m", i);
		}
	}
	return 0;
}

static int add_modules(struct entries *l, const struct initramfs_params *p)
{
	_cleanup_free_ char *moddir = NULL, *dep_path = NULL, *builtin_path = NULL, *text = NULL,
			    *builtin_text = NULL, *missing = NULL, *list = NULL, *base = NULL;
	_cleanup_(kmod_dep_freep) struct kmod_dep *dep = NULL;
	_cleanup_strv_free_ char **builtin = NULL, **order = NULL, **abs = NULL;
	unsigned line = 0;
	size_t size;
	int r;

	if (isempty(p->kernel_version) || strchr(p->kernel_version, '/') ||
	    path_has_dotdot(p->kernel_version))
		return log_error_errno(EINVAL, "initramfs: '%s' is not a kernel version",
				       strempty(p->kernel_version));
	if (asprintf(&base, "usr/lib/modules/%s", p->kernel_version) < 0)
		return log_oom();
	moddir = path_join(p->tree, base);
	dep_path = moddir ? path_join(moddir, "modules.dep") : NULL;
	builtin_path = moddir ? path_join(moddir, "modules.builtin") : NULL;
	if (!builtin_path)
		return log_oom();

	r = read_full_file(dep_path, MODULES_DEP_MAX, &text, NULL);
	if (r < 0)
		return log_error_errno(r,
				       "initramfs: cannot read %s: %m (the build generates it "
				       "with depmod)",
				       dep_path);
	r = kmod_dep_parse(text, &dep, &line);
	if (r < 0)
		return log_error_errno(r, "initramfs: %s:%u: malformed line", dep_path, line);
	r = read_full_file(builtin_path, MODULES_DEP_MAX, &builtin_text, NULL);
	if (r >= 0) {
		r = kmod_builtin_parse(builtin_text, &builtin);
		if (r < 0)
			return log_error_errno(r, "initramfs: %s: cannot parse: %m", builtin_path);
	} else if (r != -ENOENT)
		return log_error_errno(r, "initramfs: cannot read %s: %m", builtin_path);

	r = kmod_dep_closure(dep, p->modules, builtin, &order, &missing);
	if (r == -ENOENT)
		return log_error_errno(r,
				       "initramfs: module %s is neither in %s nor built into "
				       "kernel %s (pruned from the tree, or misspelt?)",
				       strna(missing), dep_path, p->kernel_version);
	if (r < 0)
		return log_error_errno(r, "initramfs: %s: inconsistent dependencies: %m", dep_path);

	STRV_FOREACH(m, order) {
		_cleanup_free_ char *dest = path_join(base, *m), *source = path_join(moddir, *m);

		if (!dest || !source || strv_extendf(&abs, "/%s", dest) < 0)
			return log_oom();
		r = add_file(l, dest, 0644, source);
		if (r < 0)
			return log_error_errno(r, "initramfs: adding %s: %m", dest);
	}
	if (!abs && !(abs = new0(char *, 1)))
		return log_oom();
	r = kmod_list_format(abs, &list);
	if (r < 0)
		return log_error_errno(r, "initramfs: cannot write the module list: %m");
	size = strlen(list);
	r = entries_add(l, (struct entry){ .path = strdup("etc/airlock/modules"),
					   .mode = S_IFREG | 0644,
					   .size = size,
					   .data = TAKE_PTR(list) });
	if (r < 0)
		return log_oom();
	return (int)strv_length(order);
}

static int write_entries(struct entries *l, const struct initramfs_params *p, int fd,
			 uint64_t *ret_unpacked)
{
	_cleanup_(cpio_writer_freep) struct cpio_writer *w = NULL;
	uint64_t unpacked = 0;
	int r;

	r = cpio_writer_new(fd, p->compression, p->compression_level, p->epoch, &w);
	if (r < 0)
		return log_error_errno(r, "initramfs: cannot start the cpio archive: %m");
	for (size_t i = 0; i < l->n; i++) {
		const struct entry *e = &l->e[i];

		if (S_ISDIR(e->mode))
			r = cpio_writer_add_directory(w, e->path, e->mode);
		else if (S_ISLNK(e->mode))
			r = cpio_writer_add_symlink(w, e->path, e->target);
		else if (S_ISCHR(e->mode))
			r = cpio_writer_add_char_device(w, e->path, e->mode, e->major, e->minor);
		else if (e->source) {
			_cleanup_free_ char *data = NULL;
			size_t size;

			r = read_full_file(e->source, INITRAMFS_FILE_MAX, &data, &size);
			if (r < 0)
				return log_error_errno(r, "initramfs: cannot read %s: %m",
						       e->source);
			r = cpio_writer_add_file(w, e->path, e->mode, data, size);
			unpacked += size;
		} else {
			r = cpio_writer_add_file(w, e->path, e->mode, e->data, e->size);
			unpacked += e->size;
		}
		if (r < 0)
			return log_error_errno(r, "initramfs: writing %s: %m", e->path);
	}
	r = cpio_writer_finish(w);
	if (r < 0)
		return log_error_errno(r, "initramfs: finishing the cpio archive: %m");
	*ret_unpacked = unpacked;
	return 0;
}

int initramfs_build(const struct initramfs_params *p, const char *out_path)
{
	_cleanup_(elf_info_freep) struct elf_info *init = NULL;
	_cleanup_atomic_file_ struct atomic_file f = ATOMIC_FILE_INIT;
	_cleanup_(entries_done) struct entries l = {};
	char a[FORMAT_BYTES_MAX], b[FORMAT_BYTES_MAX];
	uint64_t unpacked = 0;
	struct stat st;
	int r, n_modules;

	r = elf_info_read(p->init_path, &init);
	if (r < 0)
		return log_error_errno(r, "initramfs: %s is not an x86-64 ELF program: %m",
				       p->init_path);

	for (size_t i = 0; i < ELEMENTSOF(base_directories); i++) {
		char *d = strdup(base_directories[i]);
		if (!d || entries_add(&l, (struct entry){ .path = d, .mode = S_IFDIR | 0755 }) < 0)
			return log_oom();
	}
	/* The kernel opens /dev/console for init before devtmpfs is mounted. */
	r = entries_add(&l, (struct entry){ .path = strdup("dev/console"),
					    .mode = S_IFCHR | 0600,
					    .major = 5,
					    .minor = 1 });
	r = r < 0 ? r :
		    entries_add(&l, (struct entry){ .path = strdup("lib"),
						    .mode = S_IFLNK | 0777,
						    .target = strdup("usr/lib") });
	r = r < 0 ? r :
		    entries_add(&l, (struct entry){ .path = strdup("lib64"),
						    .mode = S_IFLNK | 0777,
						    .target = strdup("usr/lib64") });
	if (r < 0)
		return log_oom();
	r = add_file(&l, "init", 0755, p->init_path);
	if (r < 0)
		return log_oom();
	r = add_libraries(&l, p, init);
	if (r < 0)
		return r;
	n_modules = add_modules(&l, p);
	if (n_modules < 0)
		return n_modules;

	qsort(l.e, l.n, sizeof(*l.e), entry_cmp);

	r = atomic_file_open(&f, out_path, 0644);
	if (r < 0)
		return log_error_errno(r, "initramfs: cannot create %s: %m", out_path);
	r = write_entries(&l, p, f.fd, &unpacked);
	if (r < 0)
		return r;
	r = atomic_file_commit(&f);
	if (r < 0)
		return log_error_errno(r, "initramfs: cannot write %s: %m", out_path);
	if (stat(out_path, &st) < 0)
		return log_error_errno(errno, "initramfs: %s: %m", out_path);
	progress_line("initramfs: %s, %zu entries, %d modules, %s (%s unpacked, %s)", out_path, l.n,
		      n_modules, format_bytes(a, sizeof(a), (uint64_t)st.st_size),
		      format_bytes(b, sizeof(b), unpacked),
		      cpio_compression_to_string(p->compression));
	return 0;
}

/* ---- the initramfs verb: the stage on its own, for development and tests ---- */

static void initramfs_help(void)
{
	printf("Usage: airlock-build initramfs --tree DIR --kernel-version VER --init FILE\n"
	       "                              [--manifest FILE | --module NAME...] --out FILE\n"
	       "\n"
	       "Writes the initramfs of an image tree (the build stage does this itself).\n"
	       "\n"
	       "  --tree DIR             staged image tree (merged /usr, modules.dep present)\n"
	       "  --kernel-version VER   the kernel of usr/lib/modules/VER\n"
	       "  --init FILE            the airlock-init program to install as /init\n"
	       "  --manifest FILE        take [initramfs] modules and compression from it\n"
	       "  --module NAME          a module to include (repeatable; instead of --manifest)\n"
	       "  --compression zstd|none  overrides the manifest (default: the manifest's)\n"
	       "  --epoch SECONDS        mtime of every entry (default: $SOURCE_DATE_EPOCH)\n"
	       "  --out FILE             where to write the archive\n");
}

int verb_initramfs(int argc, char *argv[])
{
	enum {
		ARG_TREE = 0x100,
		ARG_KVER,
		ARG_INIT,
		ARG_MANIFEST,
		ARG_MODULE,
		ARG_COMPRESSION,
		ARG_EPOCH,
		ARG_OUT
	};
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "tree", required_argument, NULL, ARG_TREE },
		{ "kernel-version", required_argument, NULL, ARG_KVER },
		{ "init", required_argument, NULL, ARG_INIT },
		{ "manifest", required_argument, NULL, ARG_MANIFEST },
		{ "module", required_argument, NULL, ARG_MODULE },
		{ "compression", required_argument, NULL, ARG_COMPRESSION },
		{ "epoch", required_argument, NULL, ARG_EPOCH },
		{ "out", required_argument, NULL, ARG_OUT },
		{},
	};
	struct initramfs_params p = { .compression_level = INITRAMFS_ZSTD_LEVEL };
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	_cleanup_strv_free_ char **modules = NULL;
	_cleanup_free_ char *error = NULL;
	const char *manifest = NULL, *out = NULL, *compression = NULL, *epoch = NULL;
	uint64_t e;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			initramfs_help();
			return 0;
		case ARG_TREE:
			p.tree = optarg;
			break;
		case ARG_KVER:
			p.kernel_version = optarg;
			break;
		case ARG_INIT:
			p.init_path = optarg;
			break;
		case ARG_MANIFEST:
			manifest = optarg;
			break;
		case ARG_MODULE:
			if (strv_extend(&modules, optarg) < 0)
				return log_oom(), 1;
			break;
		case ARG_COMPRESSION:
			compression = optarg;
			break;
		case ARG_EPOCH:
			epoch = optarg;
			break;
		case ARG_OUT:
			out = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind != argc || !p.tree || !p.kernel_version || !p.init_path || !out) {
		log_error("initramfs: --tree, --kernel-version, --init and --out are required; "
			  "see 'airlock-build initramfs --help'");
		return 2;
	}
	if (!!manifest == !!modules) {
		log_error("initramfs: give either --manifest or --module");
		return 2;
	}
	if (manifest) {
		r = manifest_load(manifest, &m, &error);
		if (r < 0)
			return log_error("%s", error ?: strerror(-r)), 1;
		p.modules = m->initramfs_modules;
		compression = compression ?: m->initramfs_compression;
	} else
		p.modules = modules;
	p.compression = cpio_compression_from_string(compression ?: "zstd");
	if (p.compression < 0) {
		log_error("initramfs: --compression %s: use zstd or none", compression);
		return 2;
	}
	epoch = epoch ?: getenv("SOURCE_DATE_EPOCH");
	if (!epoch) {
		log_error("initramfs: no --epoch and no $SOURCE_DATE_EPOCH: refusing to stamp the "
			  "archive with an arbitrary time");
		return 2;
	}
	if (safe_atou64(epoch, &e) < 0 || e > INT64_MAX) {
		log_error("initramfs: epoch '%s' is not a number of seconds", epoch);
		return 2;
	}
	p.epoch = (int64_t)e;
	return initramfs_build(&p, out) < 0 ? 1 : 0;
}
