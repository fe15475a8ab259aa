/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Debian archive metadata as apt keeps it in its lists directory
 * (/var/lib/apt/lists): per suite a clear-signed InRelease file and, per component
 * and architecture, a Packages index (stored uncompressed or compressed with gzip,
 * xz, zstd, lz4 or bzip2, by apt's configuration).
 *
 * The chain: debrepo_suite_load() verifies the InRelease signature against the
 * keyring, takes the signed text only, checks that it is the suite asked for, and
 * accepts a Packages index only when the sha256 and size of its decompressed
 * content match the signed entry for "<component>/binary-<arch>/Packages".
 *
 * The parsers (debrepo_release_parse(), debrepo_packages_parse()) work on text
 * and touch no files.
 */

#include <stdint.h>

#include "core/macro.h"
#include "ext/sig.h"

#define DEBREPO_LISTS_DIR_DEFAULT "/var/lib/apt/lists"

enum debrepo_multi_arch {
	DEBREPO_MULTI_ARCH_NO,
	DEBREPO_MULTI_ARCH_SAME,
	DEBREPO_MULTI_ARCH_FOREIGN,
	DEBREPO_MULTI_ARCH_ALLOWED,
	_DEBREPO_MULTI_ARCH_MAX,
	_DEBREPO_MULTI_ARCH_INVALID = -EINVAL,
};

/* One paragraph of a Packages index: what locking and resolving need of it. */
struct debrepo_package {
	char *name;
	char *version;
	char *architecture;
	enum debrepo_multi_arch multi_arch;
	bool essential;
	char *source; /* the Source: name, or the package's own name */
	char *source_version; /* the version in Source: "(...)", or the package's version */
	char *filename; /* below the mirror root */
	uint64_t size; /* of the .deb, bytes */
	uint64_t installed_size; /* bytes (the index gives KiB) */
	char *sha256; /* of the .deb, lower-case hex */
	/* relationship fields, unparsed (NULL if absent); see debdep.h */
	char *depends;
	char *pre_depends;
	char *provides;
	char *conflicts;
	char *breaks;
	const char *suite; /* not owned: the suite the index belongs to */
	const char *origin; /* not owned: the index file or label, for messages */
	unsigned line; /* of the paragraph in the index */
};

struct debrepo_packages {
	struct debrepo_package *items;
	size_t n_items;
};

/*
 * Appends the packages of a Packages index to *packages. suite and origin are
 * referenced, not copied: they must outlive *packages. Errors name origin:line and
 * the field.
 */
int debrepo_packages_parse(const char *text, size_t size, const char *suite, const char *origin,
			   struct debrepo_packages *packages, char **ret_error);
void debrepo_packages_done(struct debrepo_packages *packages);

struct debrepo_release_file {
	char *path; /* e.g. main/binary-amd64/Packages */
	uint64_t size;
	char *sha256;
};

struct debrepo_release {
	char *suite;
	char *codename;
	int64_t date; /* seconds since the epoch */
	int64_t valid_until; /* -1 if none */
	struct debrepo_release_file *files; /* the SHA256 list */
	size_t n_files;
};

/* Parses the (signed text of a) Release file. Errors name origin:line and the field. */
int debrepo_release_parse(const char *text, size_t size, const char *origin,
			  struct debrepo_release **ret, char **ret_error);
struct debrepo_release *debrepo_release_free(struct debrepo_release *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct debrepo_release *, debrepo_release_free);
const struct debrepo_release_file *debrepo_release_find(const struct debrepo_release *r,
							const char *path);

/* RFC 2822 dates as Release files use them: "Sat, 11 Jul 2026 10:16:37 UTC". */
int debrepo_parse_date(const char *s, int64_t *ret);

/* A suite loaded from a lists directory. */
struct debrepo_suite {
	char *name;
	char *inrelease_path;
	char *inrelease_sha256; /* of the whole InRelease file */
	char *signer; /* fingerprint of the key whose signature was accepted */
	struct debrepo_release *release;
	char **index_paths; /* the Packages files read */
	struct debrepo_packages packages;
};

/*
 * Finds the one file in lists_dir whose name ends in "_dists_<suite>_InRelease" (a
 * '/' in suite written as '_', as apt does):
 * -ENOENT if none, -ENOTUNIQ if several; ret_error names the candidates.
 */
int debrepo_find_inrelease(const char *lists_dir, const char *suite, char **ret, char **ret_error);

/*
 * Loads one suite: finds and verifies its InRelease with keyring, then reads the
 * Packages index of each component for arch, checked against the signed hashes.
 * Errors (-errno) come with a message naming the file and what to do.
 */
int debrepo_suite_load(struct sig_keyring *keyring, const char *lists_dir, const char *suite,
		       char *const *components, const char *arch, struct debrepo_suite **ret,
		       char **ret_error);
struct debrepo_suite *debrepo_suite_free(struct debrepo_suite *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct debrepo_suite *, debrepo_suite_free);
