/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The build verb: from a manifest, its lock and the pool to the image's artifacts,
 * offline. Each stage is a function in its own file; this one parses options and
 * runs them in order, like systemd-repart's run().
 */
#include <getopt.h>
#include <stdio.h>

#include "builder.h"
#include "core/fs.h"
#include "core/hex.h"
#include "core/version.h"
#include "ext/crypto.h"
#include "core/log.h"
#include "core/path.h"
#include "core/progress.h"
#include "core/run.h"
#include "core/strv.h"
#include "lockfile.h"
#include "manifest.h"
#include "sysusers.h"
#include "tree.h"

struct build_options {
	const char *manifest;
	const char *lock;
	const char *pool;
	const char *out;
	const char *overlay;
	const char *units;
	const char *programs;
	bool keep_staging;
};

static void build_help(void)
{
	printf("Usage: airlock-build build MANIFEST [OPTIONS]\n"
	       "\n"
	       "Builds the image described by MANIFEST from the packages its lock pins, offline.\n"
	       "\n"
	       "  --lock FILE       lock file (default: MANIFEST with .lock instead of .manifest)\n"
	       "  --pool DIR        package pool (default: ~/.cache/airlock/pool or $AIRLOCK_POOL)\n"
	       "  --out DIR         output directory (default: out)\n"
	       "  --overlay DIR     files copied into the image (default: overlay/ beside manifests/)\n"
	       "  --units DIR       systemd units for the image (default: units/ beside manifests/)\n"
	       "  --programs DIR    where Airlock's own programs were built (default: this\n"
	       "                    program's directory)\n"
	       "  --keep-staging    keep the staging directory (unpacked tree, generated files)\n"
	       "                    for inspection, also on failure\n");
}

static int default_lock_path(const char *manifest, char **ret)
{
	const char *dot = strrchr(manifest, '.');
	const char *slash = strrchr(manifest, '/');
	size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - manifest) : strlen(manifest);

	if (asprintf(ret, "%.*s.lock", (int)stem, manifest) < 0)
		return -ENOMEM;
	return 0;
}

/* overlay/ and units/ live beside the manifests/ folder of a checkout. */
static int sibling_of_manifest_dir(const char *manifest, const char *name, char **ret)
{
	_cleanup_free_ char *dir = NULL, *abs = NULL;
	int r = path_parent(manifest, &dir);

	if (r < 0)
		return r;
	abs = path_join(isempty(dir) ? "." : dir, "..", name);
	if (!abs)
		return -ENOMEM;
	*ret = TAKE_PTR(abs);
	return 0;
}

/* Moves a finished artifact from the staging directory into the output directory. */
static int publish(const char *out, const char *staged, const char *name)
{
	_cleanup_free_ char *dest = path_join(out, name);
	int r;

	if (!dest)
		return log_oom();
	r = fsync_path(staged);
	if (r >= 0 && rename(staged, dest) < 0)
		r = -errno;
	if (r >= 0)
		r = fsync_directory_of(dest);
	if (r < 0)
		return log_error_errno(r, "build: cannot move %s to %s: %m", staged, dest);
	return 0;
}

/* The initramfs from the materialized tree: its libraries and modules are the image's. */
static int build_initramfs(const struct manifest *m, const struct lockfile *lf, const char *root,
			   const char *kver, const char *init, const char *out)
{
	const struct initramfs_params p = {
		.tree = root,
		.kernel_version = kver,
		.init_path = init,
		.modules = m->initramfs_modules,
		.epoch = lf->source_date_epoch,
		.compression = cpio_compression_from_string(m->initramfs_compression),
		.compression_level = INITRAMFS_ZSTD_LEVEL,
	};

	if (!init)
		return log_error_errno(ENOENT, "initramfs: airlock-init is not among the programs "
					       "(--programs DIR); build it first (make all)");
	return initramfs_build(&p, out);
}

static int build_run(const struct build_options *o, const struct manifest *m,
		     const struct lockfile *lf)
{
	_cleanup_(tree_freep) struct tree *t = NULL;
	_cleanup_(sysusers_freep) struct sysusers *users = NULL;
	_cleanup_free_ char *staging = NULL, *blobs = NULL, *gen = NULL, *programs = NULL,
			    *root = NULL, *init = NULL, *kver = NULL, *squashfs = NULL,
			    *verity = NULL, *sbom = NULL, *manifest_json = NULL, *initramfs = NULL;
	_cleanup_strv_free_ char **modules = NULL;
	struct squashfs_result sq = {};
	struct verity_result vr = {};
	double start = progress_now();
	int r;

	r = mkdir_p(o->out, 0755);
	if (r < 0)
		return log_error_errno(r, "build: cannot create %s: %m", o->out);
	r = mkdtemp_in(o->out, ".staging-", &staging);
	if (r < 0)
		return log_error_errno(r, "build: cannot create a staging directory in %s: %m",
				       o->out);
	blobs = path_join(staging, "blobs");
	gen = path_join(staging, "generated");
	programs = path_join(staging, "programs");
	root = path_join(staging, "root");
	squashfs = path_join(staging, "root.squashfs");
	verity = path_join(staging, "root.verity");
	sbom = path_join(staging, "sbom.spdx.json");
	manifest_json = path_join(staging, "manifest.json");
	initramfs = path_join(staging, "initramfs.img");
	if (!initramfs || !blobs || !gen || !programs || !root || !squashfs || !verity || !sbom ||
	    !manifest_json) {
		r = log_oom();
		goto out;
	}
	run_set_source_date_epoch(lf->source_date_epoch);

	if ((r = unpack_check_pool(lf, o->pool)) < 0)
		goto out;
	if ((r = tree_new(&t)) < 0) {
		log_oom();
		goto out;
	}
	if ((r = unpack_packages(lf, o->pool, blobs, t)) < 0 ||
	    (r = tree_apply_overlay(t, o->overlay, o->units)) < 0 ||
	    (r = tree_add_programs(t, o->programs, programs, &init)) < 0 ||
	    (r = tree_prune_modules(t, m, &kver, &modules)) < 0 || (r = tree_prune(t, m)) < 0 ||
	    (r = generate_image_files(t, m, lf, o->pool, gen, &users)) < 0 ||
	    (r = tree_materialize(t, root)) < 0 || (r = tree_depmod(t, root, kver)) < 0 ||
	    (r = build_initramfs(m, lf, root, kver, init, initramfs)) < 0 ||
	    (r = squashfs_build(t, users, lf->source_date_epoch, squashfs, &sq)) < 0 ||
	    (r = verity_build(squashfs, verity, sq.content_sha256, &vr)) < 0)
		goto out;

	{
		uint8_t d[SHA256_DIGEST_SIZE];
		char squashfs_hex[SHA256_HEX_SIZE], root_hash[SHA256_HEX_SIZE];
		const struct release_artifact artifacts[] = {
			{ "root.squashfs", squashfs },
			{ "root.verity", verity },
			{ "sbom.spdx.json", sbom },
		};
		const struct release_input in = {
			.manifest = m,
			.lock = lf,
			.kernel_version = kver,
			.content_sha256 = sq.content_sha256,
			.verity = &vr,
			.artifacts = artifacts,
			.n_artifacts = ELEMENTSOF(artifacts),
		};

		r = sha256_file(squashfs, d, NULL);
		if (r < 0) {
			log_error_errno(r, "build: %s: %m", squashfs);
			goto out;
		}
		sha256_hex(d, squashfs_hex);
		hex_to_buf(vr.root_hash, sizeof(vr.root_hash), root_hash);
		if ((r = sbom_write(m, lf, AIRLOCK_VERSION, squashfs_hex, root_hash, sbom)) < 0 ||
		    (r = release_manifest_write(&in, manifest_json)) < 0)
			goto out;
	}

	/* Everything is complete: move it into place, the manifest last. */
	if ((r = publish(o->out, squashfs, "root.squashfs")) < 0 ||
	    (r = publish(o->out, verity, "root.verity")) < 0 ||
	    (r = publish(o->out, sbom, "sbom.spdx.json")) < 0 ||
	    (r = publish(o->out, initramfs, "initramfs.img")) < 0 ||
	    (r = publish(o->out, manifest_json, "manifest.json")) < 0)
		goto out;
	progress_line("build: %s %s done in %.1f s", m->name, m->version, progress_now() - start);
out:
	if (o->keep_staging)
		log_info("build: staging directory kept: %s", staging);
	else
		(void)rm_rf(staging);
	return r;
}

int verb_build(int argc, char *argv[])
{
	enum {
		ARG_LOCK = 0x100,
		ARG_POOL,
		ARG_OUT,
		ARG_OVERLAY,
		ARG_UNITS,
		ARG_PROGRAMS,
		ARG_KEEP_STAGING,
	};
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "lock", required_argument, NULL, ARG_LOCK },
		{ "pool", required_argument, NULL, ARG_POOL },
		{ "out", required_argument, NULL, ARG_OUT },
		{ "overlay", required_argument, NULL, ARG_OVERLAY },
		{ "units", required_argument, NULL, ARG_UNITS },
		{ "programs", required_argument, NULL, ARG_PROGRAMS },
		{ "keep-staging", no_argument, NULL, ARG_KEEP_STAGING },
		{},
	};
	struct build_options o = { .out = "out" };
	_cleanup_free_ char *lock_path = NULL, *pool = NULL, *overlay = NULL, *units = NULL,
			    *programs = NULL, *error = NULL, *digest = NULL;
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	_cleanup_(lockfile_freep) struct lockfile *lf = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			build_help();
			return 0;
		case ARG_LOCK:
			o.lock = optarg;
			break;
		case ARG_POOL:
			o.pool = optarg;
			break;
		case ARG_OUT:
			o.out = optarg;
			break;
		case ARG_OVERLAY:
			o.overlay = optarg;
			break;
		case ARG_UNITS:
			o.units = optarg;
			break;
		case ARG_PROGRAMS:
			o.programs = optarg;
			break;
		case ARG_KEEP_STAGING:
			o.keep_staging = true;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc) {
		log_error("build: expected exactly one MANIFEST; see 'airlock-build build --help'");
		return 2;
	}
	o.manifest = argv[optind];

	if (!o.lock) {
		if (default_lock_path(o.manifest, &lock_path) < 0)
			return log_oom();
		o.lock = lock_path;
	}
	if (!o.pool) {
		r = default_pool_dir(&pool);
		if (r < 0)
			return log_error_errno(r, "build: no pool directory: give --pool DIR"), 1;
		o.pool = pool;
	}
	if (!o.overlay) {
		if (sibling_of_manifest_dir(o.manifest, "overlay", &overlay) < 0)
			return log_oom();
		o.overlay = overlay;
	}
	if (!o.units) {
		if (sibling_of_manifest_dir(o.manifest, "units", &units) < 0)
			return log_oom();
		o.units = units;
	}
	if (!o.programs) {
		r = self_dir(&programs);
		if (r < 0)
			return log_error_errno(r, "build: cannot find my own directory: %m"), 1;
		o.programs = programs;
	}

	r = manifest_load(o.manifest, &m, &error);
	if (r < 0)
		return log_error("%s", error ?: strerror(-r)), 1;
	r = lockfile_load(o.lock, &lf, &error);
	if (r < 0)
		return log_error("%s", error ?: strerror(-r)), 1;
	r = manifest_lock_digest(m, &digest);
	if (r < 0)
		return log_oom();
	if (!streq(digest, lf->manifest_digest)) {
		log_error(
			"%s was made for another package list than %s has now (the manifest's "
			"[archive] or [packages] changed); run 'airlock-build lock %s' (make lock)",
			o.lock, o.manifest, o.manifest);
		return 1;
	}
	if (!streq(m->architecture, lf->architecture) || !streq(m->name, lf->image)) {
		log_error("%s is for image %s/%s, %s describes %s/%s", o.lock, lf->image,
			  lf->architecture, o.manifest, m->name, m->architecture);
		return 1;
	}

	r = build_run(&o, m, lf);
	return r < 0 ? 1 : 0;
}
