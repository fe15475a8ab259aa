/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Kernel modules: modules.dep and modules.builtin parsing, the dependency-ordered
 * closure of a set of modules, and the load list that airlock-init reads
 * (/etc/airlock/modules in the initramfs). Pure: callers read and write the files.
 *
 * Module names compare with '-' and '_' alike ("dm-mod" is "dm_mod"), as modprobe does.
 */

#include "core/macro.h"

struct kmod_entry {
	char *path; /* as in modules.dep: relative to lib/modules/VERSION, e.g. kernel/fs/x.ko */
	char *name; /* from the file name, with '-' turned into '_' */
	char **deps; /* paths of every module it needs (modules.dep lists the whole closure) */
};

struct kmod_dep {
	struct kmod_entry *entries;
	size_t n_entries;
};

/* True if two module names are the same, '-' and '_' being equal. */
bool kmod_name_equal(const char *a, const char *b);
/* "kernel/drivers/md/dm-mod.ko" (also .ko.xz, .ko.zst, .ko.gz) -> "dm_mod". */
int kmod_name_from_path(const char *path, char **ret);

/* Parses modules.dep; -EBADMSG (and *ret_line) on a malformed line. */
int kmod_dep_parse(const char *text, struct kmod_dep **ret, unsigned *ret_line);
struct kmod_dep *kmod_dep_free(struct kmod_dep *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct kmod_dep *, kmod_dep_free);
const struct kmod_entry *kmod_dep_find(const struct kmod_dep *d, const char *name);

/* Parses modules.builtin (one path per line) into module names ('_' form). */
int kmod_builtin_parse(const char *text, char ***ret_names);

/*
 * The modules to load for names, with everything they depend on, each once, every
 * module after all of its dependencies (in the order names are given, so the result is
 * deterministic). Names that are built into the kernel (builtin, may be NULL) are
 * skipped. -ENOENT if a name is neither in modules.dep nor built in (*ret_missing
 * names it), -EBADMSG if a dependency is not in modules.dep, -ELOOP on a cycle.
 */
int kmod_dep_closure(const struct kmod_dep *d, char *const *names, char *const *builtin,
		     char ***ret_paths, char **ret_missing);

/*
 * The load list: a comment header, then one absolute module path per line, in load
 * order. kmod_list_parse() refuses relative paths, "..", and names that are not .ko.
 */
int kmod_list_format(char *const *paths, char **ret_text);
int kmod_list_parse(const char *text, char ***ret_paths, unsigned *ret_line);
