/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lock verb: resolve a manifest's packages against the signed Debian indexes in
 * apt's lists directory and pin every package of the closure (version, sha256,
 * size) in a lock file. Reads local files only; the network is fetch's business.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "builder.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/progress.h"
#include "core/strv.h"
#include "debrepo.h"
#include "ext/sig.h"
#include "lockfile.h"
#include "manifest.h"
#include "resolve.h"

static void lock_help(void)
{
	printf("Usage: airlock-build lock MANIFEST [OPTIONS]\n"
	       "\n"
	       "Resolves the packages MANIFEST includes (Depends and Pre-Depends, alternatives,\n"
	       "Provides) against the Packages indexes in apt's lists directory, after checking\n"
	       "each index against its suite's InRelease, whose signature is verified with the\n"
	       "manifest's [archive] keyring. Writes the lock file: every package of the closure\n"
	       "with its version, sha256 and size. Reads local files only.\n"
	       "\n"
	       "  --output FILE   where to write the lock (default: MANIFEST with .lock\n"
	       "                  instead of .manifest)\n"
	       "  --lists DIR     apt lists directory (default: the manifest's [archive] lists,\n"
	       "                  else " DEBREPO_LISTS_DIR_DEFAULT ")\n");
}

static int load_suites(const struct manifest *m, const char *lists_dir, struct debrepo_suite ***ret)
{
	_cleanup_(sig_keyring_freep) struct sig_keyring *k = NULL;
	_cleanup_free_ char *error = NULL;
	struct debrepo_suite **suites;
	size_t n = strv_length(m->suites);
	int r;

	suites = new0(struct debrepo_suite *, n + 1);
	if (!suites)
		return log_oom();
	r = sig_keyring_open(m->keyring, &k, &error);
	if (r < 0) {
		log_error_errno(r, "lock: %s: [archive] keyring: %s", m->path,
				error ?: strerror(-r));
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct debrepo_suite *s;
		char date[64];
		time_t t;

		error = mfree(error);
		r = debrepo_suite_load(k, lists_dir, m->suites[i], m->components, m->architecture,
				       &s, &error);
		if (r < 0) {
			log_error_errno(r, "lock: %s", error ?: strerror(-r));
			goto fail;
		}
		suites[i] = s;
		t = (time_t)s->release->date;
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
		progress_line("lock: %s: %zu packages, signed %s by %s", s->name,
			      s->packages.n_items, date, s->signer);
		if (s->release->valid_until >= 0 && s->release->valid_until < (int64_t)time(NULL)) {
			t = (time_t)s->release->valid_until;
			strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
			log_warning(
				"lock: %s: the suite's InRelease was valid until %s; apt's lists "
				"may be stale (apt-get update), continuing.",
				s->inrelease_path, date);
		}
	}
	*ret = suites;
	return 0;

fail:
	for (size_t i = 0; i < n; i++)
		debrepo_suite_free(suites[i]);
	free(suites);
	return r;
}

static void suites_free(struct debrepo_suite **suites)
{
	for (size_t i = 0; suites && suites[i]; i++)
		debrepo_suite_free(suites[i]);
	free(suites);
}

static int make_lockfile(const struct manifest *m, struct debrepo_suite *const *suites,
			 const struct resolve_result *res, struct lockfile **ret)
{
	_cleanup_(lockfile_freep) struct lockfile *lf = new0(struct lockfile, 1);
	int r;

	if (!lf || !(lf->image = strdup(m->name)) || !(lf->architecture = strdup(m->architecture)))
		return -ENOMEM;
	r = manifest_lock_digest(m, &lf->manifest_digest);
	if (r < 0)
		return r;
	for (size_t i = 0; suites[i]; i++) {
		struct lock_suite *n = reallocarray(lf->suites, lf->n_suites + 1, sizeof(*n));
		if (!n)
			return -ENOMEM;
		lf->suites = n;
		n[lf->n_suites] = (struct lock_suite){
			.name = strdup(suites[i]->name),
			.date = suites[i]->release->date,
			.inrelease_sha256 = strdup(suites[i]->inrelease_sha256),
		};
		if (!n[lf->n_suites].name || !n[lf->n_suites].inrelease_sha256)
			return -ENOMEM;
		lf->n_suites++;
		lf->source_date_epoch = MAX(lf->source_date_epoch, suites[i]->release->date);
	}
	lf->packages = new0(struct lock_package, res->n_items);
	if (!lf->packages)
		return -ENOMEM;
	for (size_t i = 0; i < res->n_items; i++) {
		const struct debrepo_package *p = res->items[i].package;
		struct lock_package *l = &lf->packages[lf->n_packages++];

		*l = (struct lock_package){
			.name = strdup(p->name),
			.version = strdup(p->version),
			.architecture = strdup(p->architecture),
			.source = strdup(p->source),
			.source_version = strdup(p->source_version),
			.suite = strdup(p->suite),
			.filename = strdup(p->filename),
			.size = p->size,
			.sha256 = strdup(p->sha256),
		};
		if (!l->name || !l->version || !l->architecture || !l->source ||
		    !l->source_version || !l->suite || !l->filename || !l->sha256)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(lf);
	return 0;
}

int verb_lock(int argc, char *argv[])
{
	enum { ARG_OUTPUT = 0x100, ARG_LISTS };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, ARG_OUTPUT },
		{ "lists", required_argument, NULL, ARG_LISTS },
		{},
	};
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	_cleanup_(resolve_result_freep) struct resolve_result *res = NULL;
	_cleanup_(lockfile_freep) struct lockfile *lf = NULL;
	_cleanup_free_ char *error = NULL, *default_output = NULL;
	_cleanup_free_ const struct debrepo_package **universe = NULL;
	_cleanup_free_ struct resolve_root *roots = NULL;
	_cleanup_strv_free_ char **errors = NULL;
	struct debrepo_suite **suites = NULL;
	const char *output = NULL, *lists = NULL;
	char dl[FORMAT_BYTES_MAX], inst[FORMAT_BYTES_MAX];
	uint64_t download = 0, installed = 0;
	size_t n_universe = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			lock_help();
			return 0;
		case ARG_OUTPUT:
			output = optarg;
			break;
		case ARG_LISTS:
			lists = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc) {
		log_error("lock: expected exactly one MANIFEST; see 'airlock-build lock --help'");
		return 2;
	}

	r = manifest_load(argv[optind], &m, &error);
	if (r < 0)
		return log_error("%s", error ?: strerror(-r)), 1;
	if (!m->keyring)
		return log_error(
			       "%s: [archive] keyring: missing: lock needs the keyring that signs "
			       "the suites (e.g. /usr/share/keyrings/debian-archive-keyring.gpg)",
			       m->path),
		       1;
	if (strv_length(m->components) == 0)
		return log_error("%s: [archive] components: missing (e.g. main)", m->path), 1;
	if (!output) {
		r = lockfile_path_for_manifest(m->path, &default_output);
		if (r < 0)
			return log_oom(), 1;
		output = default_output;
	}
	lists = lists ?: m->lists_dir ?: DEBREPO_LISTS_DIR_DEFAULT;

	r = load_suites(m, lists, &suites);
	if (r < 0)
		return 1;

	for (size_t i = 0; suites[i]; i++)
		n_universe += suites[i]->packages.n_items;
	universe = new0(const struct debrepo_package *, n_universe);
	roots = new0(struct resolve_root, m->n_packages);
	if (!universe || !roots) {
		suites_free(suites);
		return log_oom(), 1;
	}
	n_universe = 0;
	for (size_t i = 0; suites[i]; i++)
		for (size_t j = 0; j < suites[i]->packages.n_items; j++)
			universe[n_universe++] = &suites[i]->packages.items[j];
	for (size_t i = 0; i < m->n_packages; i++)
		roots[i] = (struct resolve_root){ .name = m->packages[i].name,
						  .line = m->packages[i].line };

	r = resolve_packages(
		&(const struct resolve_request){
			.universe = universe,
			.n_universe = n_universe,
			.architecture = m->architecture,
			.suites = m->suites,
			.manifest = m->path,
			.roots = roots,
			.n_roots = m->n_packages,
		},
		&res, &errors);
	if (r == -ENOPKG) {
		STRV_FOREACH(e, errors)
			log_error("lock: %s", *e);
		log_error("lock: %zu problem(s) in resolving %s; no lock written",
			  strv_length(errors), m->path);
		suites_free(suites);
		return 1;
	}
	if (r < 0) {
		suites_free(suites);
		return log_error_errno(r, "lock: resolving %s: %m", m->path), 1;
	}

	for (size_t i = 0; i < res->n_items; i++) {
		const struct resolve_item *it = &res->items[i];
		if (it->needed_by)
			log_debug("lock: %s %s (%s), needed by %s", it->package->name,
				  it->package->version, it->package->suite, it->needed_by->name);
		else
			log_debug("lock: %s %s (%s), named in %s:%u", it->package->name,
				  it->package->version, it->package->suite, m->path,
				  it->manifest_line);
	}

	r = make_lockfile(m, suites, res, &lf);
	if (r >= 0) {
		for (size_t i = 0; i < res->n_items; i++) {
			download += res->items[i].package->size;
			installed += res->items[i].package->installed_size;
		}
		r = lockfile_write(lf, output);
		if (r < 0)
			log_error_errno(r, "lock: cannot write '%s': %m", output);
	} else
		log_oom();
	suites_free(suites);
	if (r < 0)
		return 1;

	progress_line(
		"lock: %zu packages, %s to download, %s installed; wrote %s (Source-Date-Epoch "
		"%" PRIi64 ")",
		lf->n_packages, format_bytes(dl, sizeof(dl), download),
		format_bytes(inst, sizeof(inst), installed), output, lf->source_date_epoch);
	return 0;
}
