/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Lock files (manifests/<image>.lock): the exact packages an image is built from.
 * deb822: a header paragraph, then one paragraph per package sorted by name.
 *
 *   Format: airlock-lock 1
 *   Image: airlock
 *   Architecture: amd64
 *   Manifest-Digest: <manifest_lock_digest() of the manifest it was made from>
 *   Source-Date-Epoch: <seconds; the newest Date: of the InRelease files used>
 *   Suites:
 *    <suite> <InRelease Date as epoch> <sha256 of the InRelease file>
 *    ...
 *
 *   Package: adduser
 *   Version: 3.134
 *   Architecture: all
 *   Source: adduser
 *   Source-Version: 3.134
 *   Suite: bookworm
 *   Filename: pool/main/a/adduser/adduser_3.134_all.deb
 *   Size: 1234
 *   SHA256: <hex>
 *
 * Every error names file:line and the field.
 */

#include <stdint.h>

#include "core/macro.h"

#define LOCK_FORMAT "airlock-lock 1"

struct lock_suite {
	char *name;
	int64_t date; /* InRelease Date:, seconds since the epoch */
	char *inrelease_sha256; /* hex */
};

struct lock_package {
	char *name;
	char *version;
	char *architecture;
	char *source;
	char *source_version;
	char *suite;
	char *filename; /* path in the archive, below the mirror root */
	uint64_t size;
	char *sha256; /* hex, lower case */
	unsigned line;
};

struct lockfile {
	char *path;
	char *image;
	char *architecture;
	char *manifest_digest;
	int64_t source_date_epoch;
	struct lock_suite *suites;
	size_t n_suites;
	struct lock_package *packages; /* sorted by name */
	size_t n_packages;
};

int lockfile_load(const char *path, struct lockfile **ret, char **ret_error);
/* Writes atomically, packages sorted by name. */
int lockfile_write(const struct lockfile *lf, const char *path);
struct lockfile *lockfile_free(struct lockfile *lf);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct lockfile *, lockfile_free);

const struct lock_package *lockfile_find(const struct lockfile *lf, const char *name);
/*
 * The default lock file of a manifest: its path with the extension replaced by
 * ".lock" (manifests/airlock.manifest -> manifests/airlock.lock).
 */
int lockfile_path_for_manifest(const char *manifest_path, char **ret);

/* The file name a package has in a pool: NAME_VERSION_ARCH.deb, ':' written as "%3a" (as apt). */
int lock_package_pool_name(const struct lock_package *p, char **ret);
