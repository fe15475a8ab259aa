/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Image manifests (airlock-manifest(5)): what an image is made of. A small INI
 * dialect: "[section]" headers, "key = value" lines, '#' comments. List values are
 * whitespace-separated and a list key may repeat to continue its list. Every error
 * names file:line, the section and the key.
 */

#include <stdint.h>

#include "core/macro.h"

struct manifest_module_class {
	char *name;
	char **modules; /* module names (dashes or underscores) or globs over paths below kernel/ */
	unsigned line;
};

struct manifest_alternative {
	char *name; /* e.g. "awk": /usr/bin/awk -> target */
	char *link; /* absolute link path, e.g. /usr/bin/awk */
	char *target; /* absolute target, e.g. /usr/bin/mawk */
	unsigned line;
};

struct manifest_package {
	char *name;
	unsigned line;
};

/* The highest security-version a manifest may give. */
#define MANIFEST_SECURITY_VERSION_MAX 1000000U

struct manifest {
	char *path;

	/* [image] */
	char *name;
	char *version;
	char *min_version; /* floor: the oldest running version an update of this image may replace */
	/* The version floor's epoch (lib/tpmfloor.h): this image unseals the data volume only
	 * while the TPM's floor is at most this; marking it good raises the floor to it. */
	uint64_t security_version;
	bool has_security_version;
	char *compatible; /* e.g. airlock/x86-64 */
	char *architecture;
	char *hostname;
	char *kernel_cmdline; /* extra words for the UKI command line */

	/* [disk]: partition sizes in bytes on installed disks (a slot is root-x + verity-x) */
	uint64_t esp_size;
	uint64_t root_size;
	uint64_t verity_size;
	uint64_t data_min_size;

	/* [archive] */
	char **suites;
	char **components;
	char *keyring;
	char *lists_dir;

	/* [packages] */
	struct manifest_package *packages;
	size_t n_packages;

	/* [prune] */
	char **prune; /* globs over image paths (no leading '/') */
	char **keep; /* exceptions to prune */

	/* [modules] */
	struct manifest_module_class *module_classes;
	size_t n_module_classes;

	/* [users]: sysusers.d(5) lines */
	char **sysusers;

	/* [alternatives] */
	struct manifest_alternative *alternatives;
	size_t n_alternatives;

	/* [units] */
	char **enable;
	char **mask;
	char **debug_enable; /* enabled only in a debug build (e.g. a root shell on ttyS0) */

	/* [initramfs] */
	char **initramfs_modules; /* names airlock-init loads (their dependencies come along) */
	char *initramfs_compression; /* "zstd" or "none" */
};

/* The modules an initramfs carries when the manifest names none. */
extern const char *const manifest_initramfs_modules_default[];
#define MANIFEST_INITRAMFS_COMPRESSION_DEFAULT "zstd"

/*
 * Parses a manifest. On a syntax or value error returns -EBADMSG (-errno on I/O)
 * and, if ret_error is given, a message "FILE:LINE: [section] key: what is wrong".
 */
int manifest_load(const char *path, struct manifest **ret, char **ret_error);
int manifest_parse(const char *path, const char *text, struct manifest **ret, char **ret_error);
struct manifest *manifest_free(struct manifest *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct manifest *, manifest_free);

/*
 * Digest (hex) of what a lock depends on: architecture, suites, components and the
 * sorted package list. A lock records it; a build refuses a lock whose digest
 * differs from its manifest's.
 */
int manifest_lock_digest(const struct manifest *m, char **ret_hex);
