/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The image being built, as a model: every file, directory and link with the owner,
 * mode and origin it will have in the image. File contents live in separate files
 * (node->source) that no package path ever names, so unpacking a hostile package
 * cannot write outside the build's staging directory; the model decides what the
 * image contains and the canonical tar stream is emitted from it.
 *
 * Paths are canonical image paths: relative, no leading '/', no "." or ".."
 * components, merged /usr ("lib/x" is "usr/lib/x"); the root is "".
 */

#include <stdint.h>
#include <sys/types.h>

#include "core/macro.h"

enum tree_node_type {
	TREE_DIR,
	TREE_REG,
	TREE_SYMLINK,
	TREE_CHR,
	TREE_BLK,
	TREE_FIFO,
	_TREE_TYPE_MAX,
	_TREE_TYPE_INVALID = -EINVAL,
};

struct tree_node {
	char *path;
	enum tree_node_type type;
	unsigned mode; /* permission bits, 07777 */
	char *user; /* owner name; NULL: root */
	char *group; /* group name; NULL: root */
	uint64_t size; /* TREE_REG */
	char *source; /* TREE_REG: file holding the content */
	char *target; /* TREE_SYMLINK: target as shipped */
	char *hardlink; /* TREE_REG: canonical path of the node it is a hard link of */
	char *origin; /* who put it there: a package name, "overlay", "generated", ... */
	unsigned dev_major; /* TREE_CHR, TREE_BLK */
	unsigned dev_minor;
};

struct tree;

int tree_new(struct tree **ret);
struct tree *tree_free(struct tree *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct tree *, tree_free);

struct tree_node *tree_node_new(const char *path, enum tree_node_type type, unsigned mode,
				const char *origin);
struct tree_node *tree_node_free(struct tree_node *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct tree_node *, tree_node_free);

/*
 * Turns a member path from a package ("./lib/x86_64-linux-gnu/libc.so.6") into a
 * canonical image path ("usr/lib/x86_64-linux-gnu/libc.so.6"). Refuses absolute
 * paths, ".." components and empty names with -EINVAL and a static reason.
 */
int tree_path_canonicalize(const char *member, char **ret, const char **ret_reason);

enum tree_add_flags {
	TREE_ADD_REPLACE = 1 << 0, /* the new node wins over an existing non-directory one */
};

/*
 * Adds a node (taking ownership, also on failure). Parent directories that do not
 * exist yet are created (0755, root). Refuses, with a message naming both origins:
 * a node below a symlink ("write through a symlink"), a node below a non-directory,
 * a hard link to anything but an earlier regular file, and a path that another
 * origin already filled with different content (identical duplicates are merged
 * silently; directories are merged keeping the first one's owner and mode).
 */
int tree_add(struct tree *t, struct tree_node *n, enum tree_add_flags flags, char **ret_error);

struct tree_node *tree_get(const struct tree *t, const char *path);
/* Removes a node (not its children). */
int tree_remove(struct tree *t, const char *path);
size_t tree_size(const struct tree *t);

/* All nodes sorted by path (the root "" first); the array is freed by the caller. */
int tree_sorted(const struct tree *t, struct tree_node ***ret, size_t *ret_n);

/*
 * Resolves a path inside the image like the kernel would with the image as its
 * root (symlinks followed, absolute targets relative to the image root), at most
 * 40 links deep. Returns the node or NULL (dangling, loop, too deep).
 */
struct tree_node *tree_resolve(const struct tree *t, const char *path);
