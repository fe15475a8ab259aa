/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The release stage. manifest.json: what an image is, for the installer, the updater
 * and auditors — name, version, the product it is for, the floor an update may
 * replace, the epoch, every artifact's size and sha256, the dm-verity parameters and
 * root hash, the disk layout sizes, the update keys the image trusts and the package
 * list. The release verb signs it and writes the update bundle (airlock-update(8)).
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "builder.h"
#include "bundle.h"
#include "core/fd.h"
#include "core/fileio.h"
#include "core/fs.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/path.h"
#include "core/progress.h"
#include "core/strv.h"
#include "ext/archive.h"
#include "ext/crypto.h"
#include "ext/json.h"
#include "ext/sig.h"
#include "lockfile.h"
#include "manifest.h"

int release_manifest_write(const struct release_input *in, const char *path)
{
	const struct manifest *m = in->manifest;
	const struct lockfile *lf = in->lock;
	_cleanup_free_ struct bundle_artifact *arts =
		new0(struct bundle_artifact, in->n_artifacts ?: 1);
	_cleanup_free_ struct bundle_manifest_package *pkgs =
		new0(struct bundle_manifest_package, lf->n_packages ?: 1);
	_cleanup_json_ struct json_object *doc = NULL;
	struct bundle_manifest_info info = {
		.name = m->name,
		.version = m->version,
		.min_version = m->min_version,
		.security_version = m->security_version,
		.compatible = m->compatible,
		.architecture = m->architecture,
		.source_date_epoch = lf->source_date_epoch,
		.kernel = in->kernel_version,
		.content_sha256 = in->content_sha256,
		.debug = in->debug,
		.root_hash = in->verity->root_hash,
		.salt = in->verity->params.salt,
		.verity_uuid = in->verity->params.uuid,
		.data_block_size = in->verity->params.data_block_size,
		.hash_block_size = in->verity->params.hash_block_size,
		.data_blocks = in->verity->params.data_blocks,
		.esp_size_bytes = m->esp_size,
		.root_size_bytes = m->root_size,
		.verity_size_bytes = m->verity_size,
		.data_min_size_bytes = m->data_min_size,
		.n_artifacts = in->n_artifacts,
		.trusted_keys = in->trusted_keys,
		.n_packages = lf->n_packages,
	};
	int r;

	if (!arts || !pkgs)
		return log_oom();
	for (size_t i = 0; i < in->n_artifacts; i++) {
		arts[i].name = in->artifacts[i].name;
		r = sha256_file(in->artifacts[i].path, arts[i].sha256, &arts[i].size_bytes);
		if (r < 0)
			return log_error_errno(r, "manifest.json: %s: %m", in->artifacts[i].path);
	}
	for (size_t i = 0; i < lf->n_packages; i++) {
		const struct lock_package *p = &lf->packages[i];

		pkgs[i] = (struct bundle_manifest_package){
			.name = p->name,
			.version = p->version,
			.architecture = p->architecture,
			.source = p->source,
			.source_version = p->source_version,
			.size_bytes = p->size,
			.sha256 = p->sha256,
		};
	}
	info.artifacts = arts;
	info.packages = pkgs;
	r = bundle_manifest_format(&info, &doc);
	if (r < 0)
		return log_oom();
	r = json_write_file_atomic(path, doc);
	if (r < 0)
		return log_error_errno(r, "manifest.json: %s: %m", path);
	return 0;
}

/* ---- the release verb: sign manifest.json, write the update bundle ----------------------------- */

struct release_options {
	const char *build_dir;
	const char *key_dir;
	char **rotate_from; /* older key directories that co-sign */
	const char *out_dir;
	bool allow_debug;
};

static void release_help(void)
{
	printf("Usage: airlock-build release BUILD-DIR --key KEYDIR [--rotate-from OLDKEYDIR]...\n"
	       "                            [--out DIR] [--allow-debug]\n"
	       "\n"
	       "Signs BUILD-DIR/manifest.json (manifest.json.sig, a detached OpenPGP signature)\n"
	       "and writes the update bundle <name>-<version>.tar: manifest.json,\n"
	       "manifest.json.sig, root.squashfs, root.verity, uki.efi, sbom.spdx.json.\n"
	       "\n"
	       "  --key KEYDIR            the signing key (airlock-build keygen --dir KEYDIR); the\n"
	       "                          image must trust it (build --update-keys)\n"
	       "  --rotate-from OLDKEYDIR also sign with an older key, so that appliances that\n"
	       "                          trust only that key accept this image and its new key\n"
	       "                          set (repeatable)\n"
	       "  --out DIR               where to write the bundle (default: BUILD-DIR)\n"
	       "  --allow-debug           release a debug build (build --debug: a root shell\n"
	       "                          on the console), which is refused otherwise\n");
}

static int open_signer(const char *key_dir, struct sig_signer **ret)
{
	_cleanup_free_ char *home = path_join(key_dir, KEYS_HOME_DIR), *error = NULL;
	int r;

	if (!home)
		return log_oom();
	r = sig_signer_open(home, ret, &error);
	if (r < 0)
		return log_error_errno(r, "release: key %s: %s", key_dir, error ?: strerror(-r));
	return 0;
}

/* Each signer's signature alone verifies, judged as an appliance judges it. */
static int check_each_signature(struct sig_signer **signers, size_t n, const char *tmp_dir,
				const char *text, size_t text_size, const void *sig,
				size_t sig_size)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_(sig_keyring_freep) struct sig_keyring *k = NULL;
		_cleanup_free_ char *pub = NULL, *path = NULL, *error = NULL, *fpr = NULL;
		const char *want = sig_signer_fingerprint(signers[i]);
		size_t pub_size;
		char *paths[2] = {};
		int r;

		r = sig_signer_export_public(signers[i], &pub, &pub_size, &error);
		if (r < 0)
			return log_error_errno(r, "release: %s", error ?: strerror(-r));
		if (asprintf(&path, "%s/key-%zu.asc", tmp_dir, i) < 0)
			return log_oom();
		r = write_file_atomic(path, pub, pub_size, 0600);
		if (r < 0)
			return log_error_errno(r, "release: cannot write '%s': %m", path);
		paths[0] = path;
		r = sig_keyring_open_many(paths, SIG_KEYRING_IGNORE_TIME, &k, &error);
		if (r >= 0)
			r = sig_verify_detached(k, text, text_size, sig, sig_size, &fpr, &error);
		if (r >= 0 && !streq(fpr, want))
			r = -EBADMSG;
		if (r < 0)
			return log_error_errno(r,
					       "release: the signature by %s does not verify: %s",
					       want, error ?: strerror(-r));
	}
	return 0;
}

struct tar_out {
	int fd;
	struct progress *progress;
	uint64_t written;
};

static int tar_out_write(const void *buf, size_t n, void *userdata)
{
	struct tar_out *o = userdata;
	int r = loop_write(o->fd, buf, n);

	if (r < 0)
		return r;
	o->written += n;
	progress_update(o->progress, o->written);
	return 0;
}

static int tar_add_file(struct archive_tar_writer *w, const char *dir,
			const struct bundle_artifact *a, int64_t mtime)
{
	_cleanup_free_ char *path = path_join(dir, a->name);
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	const struct archive_member m = {
		.path = a->name,
		.kind = ARCHIVE_KIND_REG,
		.mode = 0644,
		.uname = "root",
		.gname = "root",
		.size = a->size_bytes,
	};
	int r;

	if (!path)
		return log_oom();
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return log_error_errno(errno, "release: %s: %m", path);
	if (fstat(fd, &st) < 0)
		return log_error_errno(errno, "release: %s: %m", path);
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != a->size_bytes)
		return log_error_errno(EBADMSG,
				       "release: %s is %s%" PRIu64
				       " bytes, manifest.json says %" PRIu64
				       ": it changed after the build",
				       path, S_ISREG(st.st_mode) ? "" : "not a regular file, ",
				       (uint64_t)st.st_size, a->size_bytes);
	r = archive_tar_writer_add(w, &m, mtime, fd);
	if (r < 0)
		return log_error_errno(r, "release: cannot add %s to the bundle: %m", path);
	return 0;
}

static int tar_add_data(struct archive_tar_writer *w, const char *name, const void *data,
			size_t size, int64_t mtime)
{
	const struct archive_member m = {
		.path = name,
		.kind = ARCHIVE_KIND_REG,
		.mode = 0644,
		.uname = "root",
		.gname = "root",
		.size = size,
	};
	int r = archive_tar_writer_add_data(w, &m, mtime, data);

	if (r < 0)
		return log_error_errno(r, "release: cannot add %s to the bundle: %m", name);
	return 0;
}

/* The bundle, in member order, with fixed owner, mode and mtime. */
static int write_bundle(int fd, const struct bundle_manifest *m, const char *build_dir,
			const char *text, size_t text_size, const void *sig, size_t sig_size)
{
	struct archive_tar_writer *w = NULL;
	struct tar_out out = { .fd = fd };
	uint64_t total = text_size + sig_size;
	int r;

	for (size_t i = 0; i < BUNDLE_N_ARTIFACTS; i++)
		total += m->artifacts[i].size_bytes;
	r = archive_tar_writer_new(tar_out_write, &out, &w);
	if (r < 0)
		return log_error_errno(r, "release: cannot start the bundle: %m");
	out.progress = progress_begin("release", total, PROGRESS_BYTES, NULL);
	r = tar_add_data(w, bundle_member_to_string(BUNDLE_MEMBER_MANIFEST), text, text_size,
			 m->source_date_epoch);
	if (r >= 0)
		r = tar_add_data(w, bundle_member_to_string(BUNDLE_MEMBER_SIGNATURE), sig, sig_size,
				 m->source_date_epoch);
	for (size_t i = 0; r >= 0 && i < BUNDLE_N_ARTIFACTS; i++)
		r = tar_add_file(w, build_dir, &m->artifacts[i], m->source_date_epoch);
	if (r < 0) {
		archive_tar_writer_free(w);
		progress_abort(out.progress);
		return r;
	}
	r = archive_tar_writer_finish(w);
	if (r < 0) {
		progress_abort(out.progress);
		return log_error_errno(r, "release: cannot finish the bundle: %m");
	}
	progress_end(out.progress, "%" PRIu64 " bytes", out.written);
	return 0;
}

/* The bundle as an appliance that trusts the signing key reads it (no version policy). */
static int self_check(int fd, const char *key_dir, const struct bundle_manifest *m)
{
	_cleanup_(sig_keyring_freep) struct sig_keyring *k = NULL;
	_cleanup_(bundle_result_done) struct bundle_result res = {};
	_cleanup_bundle_error_ struct bundle_error e = BUNDLE_ERROR_INIT;
	_cleanup_free_ char *pub = path_join(key_dir, KEYS_PUBLIC_KEY_FILE), *error = NULL;
	int r;

	if (!pub)
		return log_oom();
	r = bundle_keyring_open(pub, &k, &error);
	if (r < 0)
		return log_error_errno(r, "release: %s", error ?: strerror(-r));
	if (lseek(fd, 0, SEEK_SET) < 0)
		return log_error_errno(errno, "release: cannot read back the bundle: %m");
	r = bundle_verify(fd, k, NULL, NULL, &res, &e);
	if (r < 0)
		return log_error_errno(r, "release: the bundle does not verify (%s): %s",
				       strna(bundle_refusal_to_string(e.refusal)),
				       e.message ?: strerror(-r));
	if (!streq(res.manifest->version, m->version))
		return log_error_errno(EBADMSG,
				       "release: the bundle reads back as another version");
	return 0;
}

static int release_run(const struct release_options *o)
{
	_cleanup_(bundle_manifest_freep) struct bundle_manifest *m = NULL;
	_cleanup_free_ char *manifest_path = NULL, *sig_path = NULL, *text = NULL, *error = NULL,
			    *sig = NULL, *bundle_name = NULL, *bundle_path = NULL, *tmp = NULL;
	_cleanup_atomic_file_ struct atomic_file f = ATOMIC_FILE_INIT;
	struct sig_signer **signers = NULL;
	size_t n_signers = 0, text_size, sig_size = 0;
	double start = progress_now();
	int r;

	manifest_path = path_join(o->build_dir, "manifest.json");
	sig_path = path_join(o->build_dir, "manifest.json.sig");
	if (!manifest_path || !sig_path)
		return log_oom();
	r = read_full_file(manifest_path, BUNDLE_MANIFEST_MAX_BYTES, &text, &text_size);
	if (r < 0)
		return log_error_errno(r, "release: %s: %m", manifest_path);
	/* The appliance's own parser: what it would refuse is never released. */
	r = bundle_manifest_parse(text, text_size, &m, &error);
	if (r < 0)
		return log_error_errno(r, "release: %s: %s", manifest_path, error ?: strerror(-r));
	if (m->debug && !o->allow_debug)
		return log_error_errno(
			EPERM,
			"release: %s is a debug build (a root shell on the console): "
			"not released without --allow-debug",
			manifest_path);
	if (m->debug)
		log_warning("release: %s is a DEBUG build (a root shell on the console); releasing "
			    "it as asked (--allow-debug).",
			    manifest_path);
	for (size_t i = 0; i < BUNDLE_N_ARTIFACTS; i++) {
		_cleanup_free_ char *p = path_join(o->build_dir, m->artifacts[i].name);
		struct stat st;

		if (!p)
			return log_oom();
		if (stat(p, &st) < 0)
			return log_error_errno(errno, "release: %s: %m", p);
		if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != m->artifacts[i].size_bytes)
			return log_error_errno(EBADMSG,
					       "release: %s is %" PRIu64 " bytes, manifest.json "
					       "says %" PRIu64 ": it changed after the build",
					       p, (uint64_t)st.st_size, m->artifacts[i].size_bytes);
	}

	n_signers = 1 + strv_length(o->rotate_from);
	signers = new0(struct sig_signer *, n_signers);
	if (!signers)
		return log_oom();
	r = open_signer(o->key_dir, &signers[0]);
	for (size_t i = 1; r >= 0 && i < n_signers; i++)
		r = open_signer(o->rotate_from[i - 1], &signers[i]);
	if (r < 0)
		goto out;
	if (!strv_contains(m->trusted_keys, sig_signer_fingerprint(signers[0]))) {
		_cleanup_free_ char *list = strv_join(m->trusted_keys, ", ");
		r = log_error_errno(EKEYREJECTED,
				    "release: the image does not trust its own signing key %s "
				    "(its manifest.json trusts %s): once installed it would refuse "
				    "the next update signed with this key. Build it with "
				    "--update-keys naming %s/%s.",
				    sig_signer_fingerprint(signers[0]), strna(list), o->key_dir,
				    KEYS_PUBLIC_KEY_FILE);
		goto out;
	}
	for (size_t i = 1; i < n_signers; i++)
		for (size_t j = 0; j < i; j++)
			if (streq(sig_signer_fingerprint(signers[i]),
				  sig_signer_fingerprint(signers[j]))) {
				r = log_error_errno(EINVAL, "release: key %s is given twice",
						    sig_signer_fingerprint(signers[i]));
				goto out;
			}

	/* One detached signature per key, concatenated: one signature file carrying all. */
	for (size_t i = 0; i < n_signers; i++) {
		_cleanup_free_ void *one = NULL;
		size_t one_size;
		char *p;

		r = sig_sign_detached(signers[i], text, text_size, &one, &one_size, &error);
		if (r < 0) {
			log_error_errno(r, "release: %s", error ?: strerror(-r));
			goto out;
		}
		p = realloc(sig, sig_size + one_size);
		if (!p) {
			r = log_oom();
			goto out;
		}
		memcpy(p + sig_size, one, one_size);
		sig = p;
		sig_size += one_size;
	}
	r = mkdtemp_in(NULL, "airlock-release-", &tmp);
	if (r < 0) {
		log_error_errno(r, "release: cannot create a temporary directory: %m");
		goto out;
	}
	r = check_each_signature(signers, n_signers, tmp, text, text_size, sig, sig_size);
	if (r < 0)
		goto out;

	if (asprintf(&bundle_name, "%s-%s.tar", m->name, m->version) < 0 ||
	    !(bundle_path = path_join(o->out_dir, bundle_name))) {
		r = log_oom();
		goto out;
	}
	r = mkdir_p(o->out_dir, 0755);
	if (r >= 0)
		r = atomic_file_open(&f, bundle_path, 0644);
	if (r < 0) {
		log_error_errno(r, "release: cannot create %s: %m", bundle_path);
		goto out;
	}
	r = write_bundle(f.fd, m, o->build_dir, text, text_size, sig, sig_size);
	if (r < 0)
		goto out;
	r = self_check(f.fd, o->key_dir, m);
	if (r < 0)
		goto out;
	r = write_file_atomic(sig_path, sig, sig_size, 0644);
	if (r < 0) {
		log_error_errno(r, "release: cannot write %s: %m", sig_path);
		goto out;
	}
	r = atomic_file_commit(&f);
	if (r < 0) {
		log_error_errno(r, "release: cannot write %s: %m", bundle_path);
		goto out;
	}
	progress_line("release: %s (%s %s for %s, floor %s) signed by %s%s in %.1f s", bundle_path,
		      m->name, m->version, m->compatible, m->min_version,
		      sig_signer_fingerprint(signers[0]),
		      n_signers > 1 ? " and older key(s) (rotation)" : "", progress_now() - start);
	for (size_t i = 1; i < n_signers; i++)
		progress_line("release: co-signed by %s (--rotate-from %s)",
			      sig_signer_fingerprint(signers[i]), o->rotate_from[i - 1]);
	printf("%s\n", bundle_path);
out:
	for (size_t i = 0; i < n_signers; i++)
		sig_signer_free(signers[i]);
	free(signers);
	if (tmp)
		(void)rm_rf(tmp);
	return r;
}

int verb_release(int argc, char *argv[])
{
	enum { ARG_KEY = 0x100, ARG_ROTATE_FROM, ARG_OUT, ARG_ALLOW_DEBUG };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "key", required_argument, NULL, ARG_KEY },
		{ "rotate-from", required_argument, NULL, ARG_ROTATE_FROM },
		{ "out", required_argument, NULL, ARG_OUT },
		{ "allow-debug", no_argument, NULL, ARG_ALLOW_DEBUG },
		{},
	};
	_cleanup_strv_free_ char **rotate_from = NULL;
	struct release_options o = {};
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			release_help();
			return 0;
		case ARG_KEY:
			o.key_dir = optarg;
			break;
		case ARG_ROTATE_FROM:
			if (strv_extend(&rotate_from, optarg) < 0)
				return log_oom(), 1;
			break;
		case ARG_OUT:
			o.out_dir = optarg;
			break;
		case ARG_ALLOW_DEBUG:
			o.allow_debug = true;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc || isempty(o.key_dir)) {
		log_error(
			"release: expected BUILD-DIR and --key KEYDIR; see 'airlock-build release "
			"--help'");
		return 2;
	}
	o.build_dir = argv[optind];
	o.out_dir = o.out_dir ?: o.build_dir;
	o.rotate_from = rotate_from;
	r = release_run(&o);
	return r < 0 ? 1 : 0;
}
