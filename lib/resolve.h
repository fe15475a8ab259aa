/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Dependency resolution: from the package names a manifest includes to the closed
 * set of binary packages an image is made of, over parsed index records
 * (debrepo.h). Pure: no files, no logging; every failure is a message.
 *
 * The rules, chosen to match apt with equal pins and to be explicit where apt
 * guesses:
 *   - Pre-Depends and Depends are followed; Recommends, Suggests and Enhances are
 *     not. Essential packages are not added implicitly: the manifest names them.
 *   - A name resolves to its highest version across all suites that satisfies the
 *     constraints met so far; equal versions go to the earlier record of the
 *     universe (the earlier suite). When a later constraint rules out a version
 *     already chosen, that version is excluded and resolution starts over, so the
 *     result is the highest version that satisfies every constraint met.
 *   - Clauses without alternatives are followed first; clauses with alternatives
 *     are decided afterwards, in the order met: one already satisfied by a chosen
 *     package (so by a package the manifest names) stays satisfied; otherwise the
 *     first alternative that is available and conflicts with nothing chosen wins.
 *   - A virtual package (only Provides) resolves to its provider when it has one;
 *     with several providers and none chosen it is an error asking the manifest to
 *     name one. A manifest must name real packages.
 *   - Versioned dependencies are satisfied by versioned Provides ("foo (= 1)"),
 *     never by unversioned ones. "name:any" needs a Multi-Arch: allowed package;
 *     ":native" and the native architecture's name mean the native architecture
 *     (Architecture: all counts as native). Only native and "all" records are
 *     candidates.
 *   - Conflicts and Breaks among the result are errors.
 *
 * The same request always gives the same result.
 */

#include "core/macro.h"
#include "debrepo.h"

struct resolve_root {
	const char *name;
	unsigned line; /* where the manifest names it */
};

struct resolve_request {
	/* every candidate record, earlier suites first */
	const struct debrepo_package *const *universe;
	size_t n_universe;
	const char *architecture; /* native, e.g. amd64 */
	char *const *suites; /* for messages */
	const char *manifest; /* path, for messages */
	const struct resolve_root *roots;
	size_t n_roots;
};

struct resolve_item {
	const struct debrepo_package *package;
	const struct debrepo_package *needed_by; /* NULL for a package the manifest names */
	unsigned manifest_line; /* of the root whose closure brought it in */
};

struct resolve_result {
	struct resolve_item *items; /* sorted by package name */
	size_t n_items;
};

/*
 * Resolves. Returns 0 and the result, or -ENOPKG (something does not resolve),
 * -ENOMEM, and then, if ret_errors is given, one message per problem, e.g.
 *
 *   libfoo (>= 2), needed by bar <- baz (airlock.manifest:31), is not available in
 *   bookworm, bookworm-updates, bookworm-security for amd64 (there is 1.5 in bookworm)
 */
int resolve_packages(const struct resolve_request *req, struct resolve_result **ret,
		     char ***ret_errors);
struct resolve_result *resolve_result_free(struct resolve_result *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct resolve_result *, resolve_result_free);
