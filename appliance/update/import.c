/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-update import FILE|DEVICE: the bundle streams through lib/bundle's verifier
 * (signature before any payload byte, every member's name, type, size and sha256) into
 * the inactive slot, with no temporary copy of the bundle. In this order, so that a
 * power cut at any point leaves the running slot and the next boot as they were until
 * the new slot is complete and verified:
 *
 *   1. nothing is written until the manifest's signature and the update rules passed;
 *   2. the inactive slot's verity superblock is cleared (the slot no longer claims its
 *      old image), then root.squashfs and root.verity are written into its partitions
 *      as they stream, then fdatasync; uki.efi and sbom.spdx.json are staged in a
 *      private temporary directory (they go to the ESP);
 *   3. the bundle must have ended well (every sha256, the end of the archive), then the
 *      slot is read back from the disk and checked block by block against the signed
 *      verity root hash;
 *   4. the ESP: the slot's old entry removed (the ESP need hold two UKIs, not three);
 *      the UKI written as EFI/Linux/NAME-VERSION-SLOT+N.efi.tmp (N tries: 3, or
 *      --tries; systemd-boot reads only *.efi) with the slot's record, read back and
 *      compared; then renamed into place. Each step fdatasync'd. The rename is the
 *      switch: systemd-boot boots the newest entry with tries left.
 *
 * The ESP is not touched before step 4: a refused or interrupted import leaves it,
 * the running slot and the next boot byte for byte as they were.
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "bundle.h"
#include "core/error.h"
#include "core/fd.h"
#include "core/fs.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/path.h"
#include "core/progress.h"
#include "core/strv.h"
#include "ext/crypto.h"
#include "ext/sig.h"
#include "version.h"
#include "update-tool.h"

#define WINDOW_BYTES (UINT64_C(64) << 20)
#define COMPATIBLE_DEFAULT "airlock/x86-64"

struct import {
	struct update_disk *disk;
	char target;
	struct progress *progress;
	uint64_t done, total;
	bool quiet;
	unsigned tries; /* the new entry's try counter */
	bool slot_touched; /* the inactive slot's partitions were written to */
	/* the member being written */
	uint64_t base, written, synced;
	int stage_fd;
	char *tmpdir;
	char *stage_uki, *stage_sbom;
};

static int disk_write(struct import *im, const void *buf, size_t n, char **ret_error)
{
	uint64_t off = im->base + im->written;
	int r = pwrite_all(im->disk->fd, buf, n, off);

	if (r < 0)
		return error_set(ret_error, r, "writing %s at offset %" PRIu64 ": %s",
				 im->disk->path, off, strerror(-r));
	im->written += n;
	/* Start writing back each window without waiting: fdatasync() at the end waits. */
	if (im->written - im->synced >= WINDOW_BYTES) {
		(void)sync_file_range(im->disk->fd, (off_t)(im->base + im->synced),
				      (off_t)(im->written - im->synced), SYNC_FILE_RANGE_WRITE);
		im->synced = im->written;
	}
	return 0;
}

static int sink_begin(void *userdata, const struct bundle_manifest *m, const char *signer,
		      char **ret_error)
{
	struct import *im = userdata;
	const struct slot_entry *running = slot_table_get(&im->disk->slots, im->disk->running);
	int t = slot_index(im->target);
	const struct disklabel_part *root = im->disk->root[t], *verity = im->disk->verity[t];
	static const uint8_t zero[4096];
	uint64_t total = 0;

	if (running && !streq(running->name, m->name)) {
		if (asprintf(ret_error, "the bundle is image '%s', the disk runs '%s'", m->name,
			     running->name) < 0)
			*ret_error = NULL;
		return -EMEDIUMTYPE;
	}
	if (m->artifacts[0].size_bytes > root->size_bytes ||
	    m->artifacts[1].size_bytes > verity->size_bytes) {
		if (asprintf(ret_error,
			     "root.squashfs (%" PRIu64 " bytes) and root.verity (%" PRIu64
			     " bytes) do not fit root-%c (%" PRIu64
			     " bytes) and verity-%c (%" PRIu64
			     " bytes): this image needs a new install",
			     m->artifacts[0].size_bytes, m->artifacts[1].size_bytes, im->target,
			     root->size_bytes, im->target, verity->size_bytes) < 0)
			*ret_error = NULL;
		return -EFBIG;
	}
	for (size_t i = 0; i < BUNDLE_N_ARTIFACTS; i++)
		total += m->artifacts[i].size_bytes;
	if (!im->quiet) {
		printf("bundle:    %s %s for %s (replaces %s or newer), security version %" PRIu64
		       "\n",
		       m->name, m->version, m->compatible, m->min_version, m->security_version);
		printf("signed by: %s\n", signer);
		printf("into:      slot %c (root-%c, verity-%c) of %s; slot %c keeps running\n",
		       im->target, im->target, im->target, im->disk->path, slot_other(im->target));
		fflush(stdout);
	}
	/* From here on the inactive slot no longer holds its old image: say so on the disk
	 * first (no verity superblock), so that nothing takes a half-written slot for the
	 * old one. */
	im->slot_touched = true;
	im->base = verity->start_bytes;
	im->written = im->synced = 0;
	int r = disk_write(im, zero, sizeof(zero), ret_error);
	if (r < 0)
		return r;
	if (fdatasync(im->disk->fd) < 0) {
		r = -errno;
		if (asprintf(ret_error, "%s: fdatasync: %s", im->disk->path, strerror(-r)) < 0)
			*ret_error = NULL;
		return r;
	}
	im->total = total;
	im->progress = progress_begin("import", total, PROGRESS_BYTES, NULL);
	return 0;
}

static int sink_member_begin(void *userdata, const struct bundle_artifact *a, char **ret_error)
{
	struct import *im = userdata;
	int t = slot_index(im->target);

	progress_set_note(im->progress, a->name);
	im->written = im->synced = 0;
	switch (a->member) {
	case BUNDLE_MEMBER_ROOT:
		im->base = im->disk->root[t]->start_bytes;
		return 0;
	case BUNDLE_MEMBER_VERITY:
		im->base = im->disk->verity[t]->start_bytes;
		return 0;
	default: {
		char **where = a->member == BUNDLE_MEMBER_UKI ? &im->stage_uki : &im->stage_sbom;

		*where = path_join(im->tmpdir, a->name);
		if (!*where)
			return -ENOMEM;
		im->stage_fd = open(*where, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (im->stage_fd < 0) {
			int r = -errno;
			if (asprintf(ret_error, "%s: %s", *where, strerror(-r)) < 0)
				*ret_error = NULL;
			return r;
		}
		return 0;
	}
	}
}

static int sink_member_data(void *userdata, const struct bundle_artifact *a, const void *buf,
			    size_t n, char **ret_error)
{
	struct import *im = userdata;
	int r;

	if (a->member == BUNDLE_MEMBER_ROOT || a->member == BUNDLE_MEMBER_VERITY)
		r = disk_write(im, buf, n, ret_error);
	else
		r = loop_write(im->stage_fd, buf, n);
	if (r < 0)
		return r;
	im->done += n;
	progress_update(im->progress, im->done);
	return 0;
}

static int sink_member_end(void *userdata, const struct bundle_artifact *a, char **ret_error)
{
	struct import *im = userdata;

	if (a->member == BUNDLE_MEMBER_ROOT || a->member == BUNDLE_MEMBER_VERITY) {
		if (fdatasync(im->disk->fd) < 0) {
			int r = -errno;
			if (asprintf(ret_error, "%s: fdatasync: %s", im->disk->path, strerror(-r)) <
			    0)
				*ret_error = NULL;
			return r;
		}
		return 0;
	}
	im->stage_fd = safe_close(im->stage_fd);
	return 0;
}

static struct json_object *refusal_payload(const char *bundle, const struct update_disk *d,
					   const char *running_version, char target,
					   const struct bundle_error *e, int r)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (json_add_string(o, "bundle", bundle) < 0 || json_add_string(o, "disk", d->path) < 0 ||
	    json_add_string(o, "running_version", running_version) < 0 ||
	    json_add_string(o, "slot", (char[]){ target, 0 }) < 0 ||
	    (e->refusal >= 0 &&
	     json_add_string(o, "reason", bundle_refusal_to_string(e->refusal)) < 0) ||
	    (e->member >= 0 &&
	     json_add_string(o, "member", bundle_member_to_string(e->member)) < 0) ||
	    json_add_string(o, "message", e->message ?: strerror(-r)) < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Step 4: the new slot's entry and record on the ESP, the old ones gone. */
static int esp_commit(struct import *im, const struct bundle_result *res, char **ret_entry)
{
	const struct bundle_manifest *m = res->manifest;
	struct update_disk *d = im->disk;
	const struct fat_volume *v = &d->esp_volume;
	const struct slot_entry *old = slot_table_get(&d->slots, im->target);
	_cleanup_free_ char *entry = NULL, *entry_path = NULL, *tmp_path = NULL, *rec = NULL,
			    *rec_path = NULL, *sbom_path = NULL, *rec_local = NULL, *back = NULL,
			    *error = NULL, *hash_hex = NULL;
	_cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
	uint8_t digest[SHA256_DIGEST_SIZE];
	char hex[65];
	int r;

	if (!o)
		return log_oom();
	r = slot_entry_format(m->name, m->version, im->target, im->tries, 0, &entry);
	if (r < 0)
		return log_error_errno(r, "import: no boot entry name for %s %s: %m", m->name,
				       m->version);
	entry_path = path_join(SLOT_ENTRY_DIR, entry);
	if (!entry_path || asprintf(&tmp_path, "%s" SLOT_ENTRY_TMP_SUFFIX, entry_path) < 0 ||
	    asprintf(&rec, "%s-%s-%c.json", m->name, m->version, im->target) < 0 ||
	    asprintf(&sbom_path, UPDATE_RECORD_DIR "/%s-%s-%c.spdx.json", m->name, m->version,
		     im->target) < 0 ||
	    !(rec_path = path_join(UPDATE_RECORD_DIR, rec)) ||
	    !(rec_local = path_join(im->tmpdir, "record.json")) ||
	    !(back = path_join(im->tmpdir, "back.efi")))
		return log_oom();

	/* Leftovers of an interrupted import are removed first. */
	STRV_FOREACH(f, d->entry_files)
		if (endswith(*f, SLOT_ENTRY_TMP_SUFFIX)) {
			_cleanup_free_ char *p = path_join(SLOT_ENTRY_DIR, *f);
			if (!p)
				return log_oom();
			(void)fat_remove(v, p, NULL);
		}

	/* The slot's old entry goes first (the ESP need hold two UKIs only): from here
	 * the slot has none, and the running slot is the next boot whatever happens. */
	if (old) {
		_cleanup_free_ char *p = path_join(SLOT_ENTRY_DIR, old->file);
		if (!p)
			return log_oom();
		r = fat_remove(v, p, &error);
		if (r < 0)
			return log_error_errno(r, "import: %s: removing %s: %s", d->path, p,
					       strna(error));
		r = update_disk_sync(d, "removing the slot's old entry");
		if (r < 0)
			return r;
	}
	/* The record: what the slot holds, for status. */
	hex_to_buf(m->root_hash, 32, hex);
	{
		struct json_object *verity = json_object_new_object();
		if (!verity || json_add_string(o, "name", m->name) < 0 ||
		    json_add_string(o, "version", m->version) < 0 ||
		    json_add_string(o, "min_version", m->min_version) < 0 ||
		    json_add_string(o, "compatible", m->compatible) < 0 ||
		    json_add_string(o, "slot", (char[]){ im->target, 0 }) < 0 ||
		    json_add_string(o, "signer", res->signer) < 0 ||
		    json_add_int(o, "tries", (int64_t)im->tries) < 0 ||
		    json_add_string(verity, "root_hash", hex) < 0 ||
		    json_add(o, "verity", verity) < 0)
			return log_oom();
	}
	r = json_write_file_atomic(rec_local, o);
	if (r < 0)
		return log_error_errno(r, "import: %s: %m", rec_local);
	if (!strv_length(d->record_files))
		(void)fat_mkdir(v, UPDATE_RECORD_DIR, NULL); /* fails if it exists: fine */
	r = fat_copy_in(v, rec_local, rec_path, &error);
	if (r >= 0)
		r = fat_copy_in(v, im->stage_sbom, sbom_path, &error);
	if (r >= 0)
		r = fat_copy_in(v, im->stage_uki, tmp_path, &error);
	if (r < 0)
		return log_error_errno(r, "import: %s: the ESP: %s", d->path, strna(error));
	r = update_disk_sync(d, "writing the new boot entry");
	if (r < 0)
		return r;
	(void)posix_fadvise(d->fd, (off_t)d->esp->start_bytes, (off_t)d->esp->size_bytes,
			    POSIX_FADV_DONTNEED);
	r = fat_copy_out(v, tmp_path, back, &error);
	if (r >= 0)
		r = sha256_file(back, digest, NULL);
	if (r < 0)
		return log_error_errno(r, "import: %s: reading back %s: %s", d->path, tmp_path,
				       error ?: strerror(-r));
	if (memcmp(digest, bundle_manifest_artifact(m, BUNDLE_MEMBER_UKI)->sha256,
		   sizeof(digest)) != 0)
		return log_error_errno(EIO, "import: %s: %s on the ESP differs from uki.efi",
				       d->path, tmp_path);

	/* The switch. */
	r = fat_rename(v, tmp_path, entry_path, &error);
	if (r < 0)
		return log_error_errno(r, "import: %s: renaming %s: %s", d->path, tmp_path,
				       strna(error));
	r = update_disk_sync(d, "the new boot entry");
	if (r < 0)
		return r;
	/* The slot's older records. */
	STRV_FOREACH(f, d->record_files) {
		_cleanup_free_ char *prefix = NULL, *p = NULL;
		if (asprintf(&prefix, "%s-%s-%c.", m->name, m->version, im->target) < 0)
			return log_oom();
		if (startswith(*f, prefix) || !strstr(*f, (char[]){ '-', im->target, '.', 0 }))
			continue;
		p = path_join(UPDATE_RECORD_DIR, *f);
		if (!p)
			return log_oom();
		(void)fat_remove(v, p, NULL);
	}
	r = update_disk_sync(d, "removing old records");
	if (r < 0)
		return r;
	*ret_entry = TAKE_PTR(entry);
	return 0;
}

static void import_help(void)
{
	printf("Usage: airlock-update import FILE|DEVICE [OPTIONS]\n"
	       "       airlock-update import FILE|DEVICE --disk IMAGE --keyring FILE|DIR\n"
	       "                             --running-version V [OPTIONS]\n"
	       "\n"
	       "Installs an update bundle into the inactive slot: checks it as 'verify' does\n"
	       "while writing root.squashfs and root.verity into the slot's partitions, checks\n"
	       "the slot against the signed verity root hash, then installs the UKI on the ESP\n"
	       "with a fresh try counter (NAME-VERSION-SLOT+3.efi): the next boot. Until then\n"
	       "the running slot, the next boot and the ESP are unchanged. A boot that does\n"
	       "not complete spends a try; with none left, the running slot boots again.\n"
	       "\n"
	       "Without --disk it acts on the running system: the disk it booted from, the slot\n"
	       "airlock-init booted, the version and product of the running image\n"
	       "(/usr/lib/os-release) and the keys it trusts ("
	       "/" BUNDLE_KEYS_DIR ").\n"
	       "\n"
	       "  --disk IMAGE            a disk laid out by airlock-install (an image file or a\n"
	       "                          block device) instead of the running system\n"
	       "  --keyring FILE|DIR      the keys the running image trusts (with --disk)\n"
	       "  --running-version V     the running version; its slot is the running one\n"
	       "                          (with --disk)\n"
	       "  --compatible PRODUCT    the running product (with --disk; default\n"
	       "                          " COMPATIBLE_DEFAULT ")\n"
	       "  --running-debug         the running image is a debug build, and may take one\n"
	       "                          (with --disk; else a debug build is refused)\n"
	       "  --version-floor N       the version floor the TPM keeps (with --disk; on the\n"
	       "                          running system it is read from the TPM)\n"
	       "  --root DIR              the running system's files are below DIR (tests, a\n"
	       "                          rescue system; without --disk)\n"
	       "  --ledger-socket PATH    the ledger daemon's socket (default /run/airlock/ledger.sock)\n"
	       "  --tries N               the boots the new slot gets to complete one (1-9,\n"
	       "                          default 3)\n"
	       "  -q --quiet              print nothing but errors\n"
	       "\n"
	       "Exit status: 0 installed, 3 refused (the reason is printed), 1 failed,\n"
	       "2 usage.\n");
}

int verb_import(int argc, char **argv)
{
	enum {
		ARG_KEYRING = 0x100,
		ARG_RUNNING_VERSION,
		ARG_COMPATIBLE,
		ARG_DISK,
		ARG_ROOT,
		ARG_LEDGER,
		ARG_TRIES,
		ARG_RUNNING_DEBUG,
		ARG_VERSION_FLOOR,
	};
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "disk", required_argument, NULL, ARG_DISK },
		{ "root", required_argument, NULL, ARG_ROOT },
		{ "keyring", required_argument, NULL, ARG_KEYRING },
		{ "running-version", required_argument, NULL, ARG_RUNNING_VERSION },
		{ "compatible", required_argument, NULL, ARG_COMPATIBLE },
		{ "ledger-socket", required_argument, NULL, ARG_LEDGER },
		{ "tries", required_argument, NULL, ARG_TRIES },
		{ "running-debug", no_argument, NULL, ARG_RUNNING_DEBUG },
		{ "version-floor", required_argument, NULL, ARG_VERSION_FLOOR },
		{ "quiet", no_argument, NULL, 'q' },
		{},
	};
	_cleanup_(sig_keyring_freep) struct sig_keyring *k = NULL;
	_cleanup_(bundle_result_done) struct bundle_result res = {};
	_cleanup_bundle_error_ struct bundle_error e = BUNDLE_ERROR_INIT;
	_cleanup_(update_disk_freep) struct update_disk *d = NULL;
	_cleanup_(update_system_done) struct update_system sys = {};
	_cleanup_free_ char *error = NULL, *entry = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct bundle_policy policy = {};
	struct import im = { .stage_fd = -EBADF, .tries = SLOT_ENTRY_TRIES };
	const struct bundle_sink sink = {
		.begin = sink_begin,
		.member_begin = sink_member_begin,
		.member_data = sink_member_data,
		.member_end = sink_member_end,
		.userdata = &im,
	};
	const char *keyring = NULL, *disk = NULL, *root = NULL, *ledger = NULL, *path;
	char hex[65];
	double start;
	int c, r, ret = EXIT_FAILURE;

	optind = 0;
	while ((c = getopt_long(argc, argv, "hq", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			import_help();
			return EXIT_SUCCESS;
		case ARG_DISK:
			disk = optarg;
			break;
		case ARG_ROOT:
			root = optarg;
			break;
		case ARG_KEYRING:
			keyring = optarg;
			break;
		case ARG_RUNNING_VERSION:
			policy.running_version = optarg;
			break;
		case ARG_COMPATIBLE:
			policy.compatible = optarg;
			break;
		case ARG_LEDGER:
			ledger = optarg;
			break;
		case ARG_RUNNING_DEBUG:
			policy.running_debug = true;
			break;
		case ARG_VERSION_FLOOR:
			if (safe_atou64(optarg, &policy.version_floor) < 0)
				return usage_error("import",
						   "--version-floor needs a whole number, not '%s'",
						   optarg);
			policy.has_version_floor = true;
			break;
		case ARG_TRIES:
			if (safe_atou(optarg, &im.tries) < 0 || im.tries < 1 ||
			    im.tries > SLOT_ENTRY_TRIES_MAX)
				return usage_error("import",
						   "--tries needs a number from 1 to %d, not '%s'",
						   SLOT_ENTRY_TRIES_MAX, optarg);
			break;
		case 'q':
			im.quiet = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return usage_error("import", "expected one FILE or DEVICE");
	if (!disk) {
		/* The running system: what it trusts and runs is its image's, never a
		 * caller's. */
		if (keyring || policy.running_version || policy.compatible ||
		    policy.running_debug || policy.has_version_floor)
			return usage_error("import", "--keyring, --running-version, --compatible, "
						     "--running-debug and --version-floor go with "
						     "--disk only");
	} else {
		if (root)
			return usage_error("import", "--root goes without --disk only");
		if (!keyring)
			return usage_error("import", "--keyring is required with --disk");
		if (!version_is_valid(policy.running_version))
			return usage_error("import",
					   "--running-version needs a version (digits and dots)");
		if (!policy.compatible)
			policy.compatible = COMPATIBLE_DEFAULT;
		if (isempty(policy.compatible))
			return usage_error("import", "--compatible needs a product");
	}
	path = argv[optind];
	progress_set_quiet(im.quiet);

	r = record_open(ledger);
	if (r < 0)
		return EXIT_FAILURE;
	if (disk)
		r = update_disk_open(disk, true, policy.running_version, &d);
	else {
		r = update_system_load("import", root, &sys);
		if (r >= 0)
			r = update_system_open_disk("import", &sys, true, false, &d);
		keyring = sys.keyring;
		policy.running_version = sys.version;
		policy.compatible = sys.compatible;
		policy.running_debug = sys.debug;
		if (r >= 0)
			r = update_version_floor("import", &policy);
	}
	if (r < 0)
		return EXIT_FAILURE;
	im.disk = d;
	im.target = slot_other(d->running);

	r = bundle_keyring_open(keyring, &k, &error);
	if (r < 0) {
		log_error_errno(r, "import: keyring: %s", error ?: strerror(-r));
		return EXIT_FAILURE;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		log_error_errno(errno, "import: %s: %m", path);
		return EXIT_FAILURE;
	}
	r = mkdtemp_in(NULL, "airlock-update.", &im.tmpdir);
	if (r < 0) {
		log_error_errno(r, "import: a temporary directory: %m");
		return EXIT_FAILURE;
	}

	start = progress_now();
	r = bundle_verify(fd, k, &policy, &sink, &res, &e);
	im.stage_fd = safe_close(im.stage_fd);
	if (r < 0) {
		progress_abort(im.progress);
		im.progress = NULL;
		if (e.refusal >= 0) {
			log_error("import: %s: refused (%s): %s", path,
				  bundle_refusal_to_string(e.refusal), strna(e.message));
			ret = EXIT_REFUSED;
		} else
			log_error_errno(r, "import: %s: %s", path, e.message ?: strerror(-r));
		if (im.slot_touched)
			log_notice("import: slot %c was partly overwritten and holds no image now; "
				   "slot %c, the running one, and the next boot are unchanged",
				   im.target, d->running);
		(void)record_append(ret == EXIT_REFUSED ? "update.refused" : "update.failed",
				    refusal_payload(path, d, policy.running_version, im.target, &e,
						    r));
		goto finish;
	}
	{
		double secs = progress_now() - start;
		char b[FORMAT_BYTES_MAX];

		progress_end(im.progress, "%s written, %.1f MB/s",
			     format_bytes(b, sizeof(b), im.done),
			     secs > 0 ? (double)res.archive_bytes / secs / 1e6 : 0.0);
		im.progress = NULL;
	}

	/* Step 3: the slot as the disk holds it. */
	hex_to_buf(res.manifest->root_hash, 32, hex);
	r = update_disk_verify_slot(d, im.target, res.manifest->root_hash);
	if (r == -EPERM)
		log_error("import: %s: root-%c and verity-%c do not match the signed root hash "
			  "%s after writing: the disk is damaged",
			  d->path, im.target, im.target, hex);
	if (r < 0) {
		struct bundle_error ve = { .refusal = _BUNDLE_REFUSAL_INVALID,
					   .member = _BUNDLE_MEMBER_INVALID,
					   .message = (char *)"the written slot does not verify" };
		(void)record_append("update.failed",
				    refusal_payload(path, d, policy.running_version, im.target, &ve,
						    r));
		goto finish;
	}
	if (!im.quiet)
		printf("verified:  root-%c and verity-%c match root hash %s\n", im.target,
		       im.target, hex);

	{
		struct json_object *o = json_object_new_object();
		if (o && (json_add_string(o, "bundle", path) < 0 ||
			  json_add_string(o, "disk", d->path) < 0 ||
			  json_add_string(o, "name", res.manifest->name) < 0 ||
			  json_add_string(o, "version", res.manifest->version) < 0 ||
			  json_add_string(o, "running_version", policy.running_version) < 0 ||
			  json_add_string(o, "slot", (char[]){ im.target, 0 }) < 0 ||
			  json_add_string(o, "root_hash", hex) < 0 ||
			  json_add_string(o, "signer", res.signer) < 0 ||
			  json_add_int(o, "bytes", (int64_t)res.archive_bytes) < 0))
			o = (json_object_put(o), NULL);
		/* Nothing takes effect without its record. */
		r = record_append("update.imported", o);
		if (r < 0)
			goto finish;
	}

	r = esp_commit(&im, &res, &entry);
	if (r < 0) {
		struct bundle_error ve = { .refusal = _BUNDLE_REFUSAL_INVALID,
					   .member = _BUNDLE_MEMBER_INVALID,
					   .message = (char *)"installing the boot entry failed" };
		(void)record_append("update.failed",
				    refusal_payload(path, d, policy.running_version, im.target, &ve,
						    r));
		goto finish;
	}
	{
		struct json_object *o = json_object_new_object();
		if (o && (json_add_string(o, "disk", d->path) < 0 ||
			  json_add_string(o, "from_slot", (char[]){ d->running, 0 }) < 0 ||
			  json_add_string(o, "slot", (char[]){ im.target, 0 }) < 0 ||
			  json_add_string(o, "entry", entry) < 0 ||
			  json_add_int(o, "tries", (int64_t)im.tries) < 0 ||
			  json_add_string(o, "version", res.manifest->version) < 0))
			o = (json_object_put(o), NULL);
		(void)record_append("update.switched", o);
	}
	if (!im.quiet)
		printf("installed: %s %s in slot %c, boot entry %s/%s: the next boot (%u tries)\n",
		       res.manifest->name, res.manifest->version, im.target, SLOT_ENTRY_DIR, entry,
		       im.tries);
	ret = EXIT_SUCCESS;
finish:
	progress_abort(im.progress);
	if (im.tmpdir)
		(void)rm_rf(im.tmpdir);
	free(im.tmpdir);
	free(im.stage_uki);
	free(im.stage_sbom);
	return ret;
}
