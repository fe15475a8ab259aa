/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The build verb: from a manifest, its lock and the pool to the image's artifacts,
 * offline. Each stage is a function in its own file; this one parses options and
 * runs them in order, like systemd-repart's run().
 */
#include <getopt.h>
#include <stdio.h>

#include "builder.h"
#include "core/fileio.h"
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
	const char *update_keys;
	char **extra_overlays; /* applied after overlay/ and units/, in order */
	const char *sb_key; /* Secure Boot signing key and certificate (PEM) */
	const char *sb_cert;
	const char *pcr_key; /* PCR 11 signing key (PEM RSA private key) */
	bool allow_unsigned;
	bool debug;
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
	       "  --extra-overlay DIR  more files for the image, after overlay/ (repeatable)\n"
	       "  --secure-boot-key FILE --secure-boot-cert FILE\n"
	       "                    sign systemd-boot and the UKI for UEFI Secure Boot (PEM)\n"
	       "  --unsigned        no Secure Boot signatures (the image boots only with Secure\n"
	       "                    Boot off; development)\n"
	       "  --pcr-key FILE    sign the UKI's PCR 11 value with this RSA key (PEM); the\n"
	       "                    installer seals the data volume's key to values it signs.\n"
	       "                    Needed unless --unsigned\n"
	       "  --debug           also enable the manifest's [units] debug-enable units (a root\n"
	       "                    shell on the serial console): never for production\n"
	       "  --update-keys DIR the public keys (*.asc, *.gpg) whose signatures the image\n"
	       "                    accepts on updates (without it, it accepts none)\n"
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

/* The kernel leaves the image (boot/ is pruned) but goes into the UKI: keep its blob. */
static int take_kernel(struct tree *t, const char *kver, char **ret)
{
	_cleanup_free_ char *path = NULL;
	struct tree_node *n;

	if (asprintf(&path, "boot/vmlinuz-%s", kver) < 0)
		return log_oom();
	n = tree_resolve(t, path);
	if (!n || n->type != TREE_REG)
		return log_error("build: the kernel package of %s ships no /%s", kver, path),
		       -ENOENT;
	*ret = strdup(n->source);
	return *ret ? 0 : log_oom();
}

static int apply_extra_overlays(struct tree *t, char **dirs)
{
	STRV_FOREACH(d, dirs) {
		int r;
		if (access(*d, F_OK) < 0)
			return log_error_errno(errno, "build: --extra-overlay %s: %m", *d);
		r = tree_apply_overlay(t, *d, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

/* OUT/SHA256SUMS: every artifact, in sha256sum(1)'s format, for whoever copies them. */
static int write_checksums(const char *out, const char *image)
{
	const char *names[] = { image,	       "initramfs.img",	 "manifest.json", "root.squashfs",
				"root.verity", "sbom.spdx.json", "uki.efi" };
	_cleanup_free_ char *text = NULL, *path = path_join(out, "SHA256SUMS");
	size_t size = 0;
	FILE *f;
	int r = 0;

	if (!path)
		return log_oom();
	f = open_memstream(&text, &size);
	if (!f)
		return log_oom();
	for (size_t i = 0; i < ELEMENTSOF(names) && r >= 0; i++) {
		_cleanup_free_ char *p = path_join(out, names[i]);
		uint8_t d[SHA256_DIGEST_SIZE];
		char hex[SHA256_HEX_SIZE];

		if (!p) {
			r = -ENOMEM;
			break;
		}
		r = sha256_file(p, d, NULL);
		if (r < 0) {
			log_error_errno(r, "build: %s: %m", p);
			break;
		}
		sha256_hex(d, hex);
		fprintf(f, "%s  %s\n", hex, names[i]);
	}
	if (fclose(f) != 0 && r >= 0)
		r = -ENOMEM;
	if (r < 0)
		return r;
	r = write_file_atomic(path, text, size, 0644);
	if (r < 0)
		return log_error_errno(r, "build: %s: %m", path);
	return 0;
}

static int build_run(const struct build_options *o, const struct manifest *m,
		     const struct lockfile *lf)
{
	_cleanup_(tree_freep) struct tree *t = NULL;
	_cleanup_(sysusers_freep) struct sysusers *users = NULL;
	_cleanup_free_ char *staging = NULL, *blobs = NULL, *gen = NULL, *programs = NULL,
			    *root = NULL, *init = NULL, *kver = NULL, *squashfs = NULL,
			    *verity = NULL, *sbom = NULL, *manifest_json = NULL, *initramfs = NULL,
			    *kernel = NULL, *boot_dir = NULL, *stub = NULL, *sd_boot = NULL,
			    *os_release = NULL, *disk_work = NULL, *error = NULL;
	struct disk_result disk = {};
	_cleanup_strv_free_ char **modules = NULL, **trusted_keys = NULL;
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
	boot_dir = path_join(staging, "boot");
	disk_work = path_join(staging, "disk");
	if (!boot_dir || !disk_work || !initramfs || !blobs || !gen || !programs || !root ||
	    !squashfs || !verity || !sbom || !manifest_json) {
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
	    (r = apply_extra_overlays(t, o->extra_overlays)) < 0 ||
	    (o->update_keys && (r = keys_add_to_tree(t, o->update_keys, &trusted_keys)) < 0) ||
	    (r = tree_add_programs(t, o->programs, programs, &init)) < 0 ||
	    (r = tree_prune_modules(t, m, &kver, &modules)) < 0 ||
	    (r = take_kernel(t, kver, &kernel)) < 0 || (r = tree_prune(t, m)) < 0 ||
	    (r = generate_image_files(t, m, lf, o->pool, gen, o->debug, &users)) < 0 ||
	    (r = tree_materialize(t, root)) < 0 || (r = tree_depmod(t, root, kver)) < 0 ||
	    (r = build_initramfs(m, lf, root, kver, init, initramfs)) < 0 ||
	    (r = squashfs_build(t, users, lf->source_date_epoch, squashfs, &sq)) < 0 ||
	    (r = verity_build(squashfs, verity, sq.content_sha256, &vr)) < 0)
		goto out;

	stub = path_join(root, "usr/lib/systemd/boot/efi/linuxx64.efi.stub");
	sd_boot = path_join(root, "usr/lib/systemd/boot/efi/systemd-bootx64.efi");
	os_release = path_join(root, "usr/lib/os-release");
	if (!stub || !sd_boot || !os_release) {
		r = log_oom();
		goto out;
	}
	const struct esp_file esp_extra[] = {
		/* what the installer reads: sizes, root hash, artifacts */
		{ "airlock/manifest.json", manifest_json, NULL },
	};
	const struct disk_params dp = {
		.name = m->name,
		.version = m->version,
		.slot = "a",
		.boot_tries = 3,
		.stub_path = stub,
		.systemd_boot_path = sd_boot,
		.kernel_path = kernel,
		.os_release_path = os_release,
		.uname = kver,
		.initrd_path = initramfs,
		.root_path = squashfs,
		.verity_path = verity,
		.root_hash = vr.root_hash,
		.kernel_cmdline = m->kernel_cmdline,
		.key = { .key_path = o->sb_key, .cert_path = o->sb_cert },
		.pcr_key_path = o->pcr_key,
		.allow_unsigned = o->allow_unsigned,
		.source_date_epoch = lf->source_date_epoch,
		.work_dir = disk_work,
		.out_dir = boot_dir,
		.extra_esp_files = esp_extra,
		.n_extra_esp_files = ELEMENTSOF(esp_extra),
	};
	if (!o->pcr_key)
		log_warning("build: no PCR key: the UKI carries no signed PCR 11 value, so the "
			    "installer cannot seal the data volume's key to the TPM (--unsigned); "
			    "continuing.");
	if (!o->sb_key && o->allow_unsigned)
		log_warning("build: no Secure Boot key: the UKI and systemd-boot are NOT signed; "
			    "this image boots only with Secure Boot off (--unsigned); continuing.");
	r = disk_build_uki(&dp, &disk, &error);
	if (r < 0) {
		log_error("%s", error ?: strerror(-r));
		goto out;
	}

	{
		uint8_t d[SHA256_DIGEST_SIZE];
		char squashfs_hex[SHA256_HEX_SIZE], root_hash[SHA256_HEX_SIZE];
		const struct release_artifact artifacts[] = {
			/* in the order an update tarball carries them */
			{ "root.squashfs", squashfs },
			{ "root.verity", verity },
			{ "uki.efi", disk.uki_path },
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
			.trusted_keys = trusted_keys,
			.debug = o->debug,
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

	r = disk_build_image(&dp, &disk, &error);
	if (r < 0) {
		log_error("%s", error ?: strerror(-r));
		goto out;
	}

	/* Everything is complete: move it into place, the manifest and checksums last. */
	if ((r = publish(o->out, squashfs, "root.squashfs")) < 0 ||
	    (r = publish(o->out, verity, "root.verity")) < 0 ||
	    (r = publish(o->out, sbom, "sbom.spdx.json")) < 0 ||
	    (r = publish(o->out, initramfs, "initramfs.img")) < 0 ||
	    (r = publish(o->out, disk.uki_path, "uki.efi")) < 0 ||
	    (r = publish(o->out, disk.image_path, path_last(disk.image_path))) < 0 ||
	    (r = publish(o->out, manifest_json, "manifest.json")) < 0 ||
	    (r = write_checksums(o->out, path_last(disk.image_path))) < 0)
		goto out;
	r = disk_link_stable_name(o->out, m->name, path_last(disk.image_path));
	if (r < 0) {
		log_error_errno(r, "build: linking %s/%s.img: %m", o->out, m->name);
		goto out;
	}
	progress_line("build: %s/%s (%s), Secure Boot %s", o->out, path_last(disk.image_path),
		      "dd it to a USB stick", o->sb_key ? "signed" : "UNSIGNED");
	progress_line("build: %s %s done in %.1f s", m->name, m->version, progress_now() - start);
out:
	disk_result_done(&disk);
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
		ARG_UPDATE_KEYS,
		ARG_KEEP_STAGING,
		ARG_EXTRA_OVERLAY,
		ARG_SB_KEY,
		ARG_SB_CERT,
		ARG_PCR_KEY,
		ARG_UNSIGNED,
		ARG_DEBUG,
	};
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "lock", required_argument, NULL, ARG_LOCK },
		{ "pool", required_argument, NULL, ARG_POOL },
		{ "out", required_argument, NULL, ARG_OUT },
		{ "overlay", required_argument, NULL, ARG_OVERLAY },
		{ "units", required_argument, NULL, ARG_UNITS },
		{ "programs", required_argument, NULL, ARG_PROGRAMS },
		{ "update-keys", required_argument, NULL, ARG_UPDATE_KEYS },
		{ "keep-staging", no_argument, NULL, ARG_KEEP_STAGING },
		{ "extra-overlay", required_argument, NULL, ARG_EXTRA_OVERLAY },
		{ "secure-boot-key", required_argument, NULL, ARG_SB_KEY },
		{ "secure-boot-cert", required_argument, NULL, ARG_SB_CERT },
		{ "pcr-key", required_argument, NULL, ARG_PCR_KEY },
		{ "unsigned", no_argument, NULL, ARG_UNSIGNED },
		{ "debug", no_argument, NULL, ARG_DEBUG },
		{},
	};
	struct build_options o = { .out = "out" };
	_cleanup_free_ char *lock_path = NULL, *pool = NULL, *overlay = NULL, *units = NULL,
			    *programs = NULL, *error = NULL, *digest = NULL;
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	_cleanup_(lockfile_freep) struct lockfile *lf = NULL;
	_cleanup_strv_free_ char **extra_overlays = NULL;
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
		case ARG_UPDATE_KEYS:
			o.update_keys = optarg;
			break;
		case ARG_KEEP_STAGING:
			o.keep_staging = true;
			break;
		case ARG_EXTRA_OVERLAY:
			if (strv_extend(&extra_overlays, optarg) < 0)
				return log_oom(), 1;
			o.extra_overlays = extra_overlays;
			break;
		case ARG_SB_KEY:
			o.sb_key = optarg;
			break;
		case ARG_SB_CERT:
			o.sb_cert = optarg;
			break;
		case ARG_PCR_KEY:
			o.pcr_key = optarg;
			break;
		case ARG_UNSIGNED:
			o.allow_unsigned = true;
			break;
		case ARG_DEBUG:
			o.debug = true;
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
	if (!!o.sb_key != !!o.sb_cert) {
		log_error("build: --secure-boot-key and --secure-boot-cert go together");
		return 2;
	}
	if (!o.sb_key && !o.allow_unsigned) {
		log_error(
			"build: no Secure Boot key: give --secure-boot-key and --secure-boot-cert, "
			"or --unsigned for an image that boots only with Secure Boot off");
		return 2;
	}
	if (o.sb_key && o.allow_unsigned) {
		log_error("build: --unsigned contradicts --secure-boot-key");
		return 2;
	}
	if (!o.pcr_key && !o.allow_unsigned) {
		log_error("build: no --pcr-key: the UKI would carry no signed PCR 11 value, and "
			  "the installer could not seal the data volume's key to the TPM");
		return 2;
	}

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

	if (!o.update_keys)
		log_warning(
			"build: no --update-keys: the image trusts no update signing key and can "
			"never be updated (airlock-build release refuses it)");

	r = build_run(&o, m, lf);
	return r < 0 ? 1 : 0;
}
