/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * airlock-build: one file per pipeline stage, main.c parses options and runs the
 * verbs. Verbs take their own argv (argv[0] is the verb) and return an exit
 * status; stages take their inputs as arguments and return outputs, never reaching
 * into globals or earlier stages.
 */

#include <stdint.h>

#include "core/macro.h"

/* Exit statuses shared by the verbs (documented in airlock-build(1)). */
#define EXIT_STALE_LOCK 3 /* fetch: the archive no longer has a locked version */

/* Options every verb understands, parsed by main.c before the verb. */
struct build_globals {
	bool quiet;
	const char *tools_dir;
};
extern struct build_globals arg_globals;

/* Verbs */
int verb_lock(int argc, char *argv[]);
int verb_fetch(int argc, char *argv[]);
int verb_build(int argc, char *argv[]);

/* The default pool directory (~/.cache/airlock/pool, or $AIRLOCK_POOL). */
int default_pool_dir(char **ret);
/* Directory of this executable, where its sibling programs were built. */
int self_dir(char **ret);

/* unpack.c */
struct lockfile;
struct tree;
/* Checks every locked package in the pool (presence, size, sha256); logs each problem. */
int unpack_check_pool(const struct lockfile *lf, const char *pool);
/* Reads every package's data archive into t; contents go to files below blobs. */
int unpack_packages(const struct lockfile *lf, const char *pool, const char *blobs, struct tree *t);

/* tree.c */
struct manifest;
int tree_apply_overlay(struct tree *t, const char *overlay_dir, const char *units_dir);
/* Adds airlock-* programs (stripped copies in scratch); returns the path of airlock-init. */
int tree_add_programs(struct tree *t, const char *programs_dir, const char *scratch,
		      char **ret_init);
int tree_prune(struct tree *t, const struct manifest *m);
/* Keeps the modules of the manifest's classes and their dependencies. */
int tree_prune_modules(struct tree *t, const struct manifest *m, char **ret_kernel_version,
		       char ***ret_kept);
/* Lays the tree out below dir: directories, hard links to the contents, symlinks. */
int tree_materialize(const struct tree *t, const char *dir);

/* generate.c */
struct sysusers;
/* Makes what maintainer scripts would have; generated contents go below dir. */
int generate_image_files(struct tree *t, const struct manifest *m, const struct lockfile *lf,
			 const char *pool, const char *dir, struct sysusers **ret_users);

/* squashfs.c */
struct squashfs_result {
	uint8_t content_sha256[32]; /* of the canonical tar stream */
	uint64_t tar_size;
	uint64_t size; /* of root.squashfs */
	size_t entries;
};
int squashfs_build(const struct tree *t, const struct sysusers *users, int64_t epoch,
		   const char *out_path, struct squashfs_result *ret);

/* verity.c */
#include "ext/verity.h"
struct verity_result {
	uint8_t root_hash[VERITY_ROOT_HASH_SIZE];
	struct verity_params params;
	uint64_t hash_size;
};
int verity_build(const char *squashfs, const char *hash_path, const uint8_t content_sha256[32],
		 struct verity_result *ret);
/* Runs depmod on the materialized tree at root and adds its outputs to t. */
int tree_depmod(struct tree *t, const char *root, const char *kernel_version);

/* sbom.c */
int sbom_write(const struct manifest *m, const struct lockfile *lf, const char *airlock_version,
	       const char *squashfs_sha256, const char *root_hash, const char *path);

/* release.c */
struct release_artifact {
	const char *name; /* as listed and as named in an update tarball */
	const char *path;
};
struct release_input {
	const struct manifest *manifest;
	const struct lockfile *lock;
	const char *kernel_version;
	const uint8_t *content_sha256; /* 32 bytes */
	const struct verity_result *verity;
	const struct release_artifact *artifacts;
	size_t n_artifacts;
};
int release_manifest_write(const struct release_input *in, const char *path);
