/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Update bundles (airlock-update(8)): one uncompressed POSIX tar whose members are,
 * in exactly this order, regular files named
 *
 *     manifest.json  manifest.json.sig  root.squashfs  root.verity  uki.efi  sbom.spdx.json
 *
 * manifest.json (written by airlock-build build) names the image, its version, the
 * oldest version it may replace (min_version), the product it is for (compatible),
 * the size and sha256 of every payload member in this order, the dm-verity root hash
 * and the fingerprints of the update keys the image trusts (trusted_keys).
 * manifest.json.sig is a detached OpenPGP signature of it by one or more keys.
 *
 * The verifier reads the tar from start to end once, from a file or a block device,
 * in fixed-size blocks and with no temporary copy: it reads manifest.json and its
 * signature first and checks the signature against the running image's keys before
 * it reads any payload byte; then it parses the manifest, applies the update policy
 * (product, version, floor), and streams each payload member to a caller's sink while
 * hashing it. Nothing here writes to a disk: the sink does (airlock-update import
 * writes into the inactive slot). Memory use is bounded by BUNDLE_BLOCK_BYTES, the
 * manifest and signature bounds and libarchive's own buffers, whatever the image size.
 *
 * Decide apart from doing: bundle_manifest_parse(), bundle_member_check() and
 * bundle_policy_check() are pure; the reader feeds them.
 */

#include <stdint.h>

#include "core/macro.h"
#include "ext/crypto.h"

struct archive_member;
struct json_object;
struct sig_keyring;

#define BUNDLE_FORMAT 1
#define BUNDLE_MANIFEST_MAX_BYTES (4U * 1024U * 1024U)
#define BUNDLE_SIGNATURE_MAX_BYTES (64U * 1024U)
#define BUNDLE_TRUSTED_KEYS_MAX 64U
/* read(2) size; also what a sink gets at most per call */
#define BUNDLE_BLOCK_BYTES (1024U * 1024U)
/* tar pads its output to records of this size; zero padding up to one is accepted */
#define BUNDLE_TAR_RECORD_BYTES 10240U
/* where an image keeps the public keys it trusts for updates (*.asc) */
#define BUNDLE_KEYS_DIR "usr/share/airlock/update-keys"

enum bundle_member {
	BUNDLE_MEMBER_MANIFEST,
	BUNDLE_MEMBER_SIGNATURE,
	BUNDLE_MEMBER_ROOT,
	BUNDLE_MEMBER_VERITY,
	BUNDLE_MEMBER_UKI,
	BUNDLE_MEMBER_SBOM,
	_BUNDLE_MEMBER_MAX,
	_BUNDLE_MEMBER_INVALID = -EINVAL,
};
#define BUNDLE_FIRST_ARTIFACT BUNDLE_MEMBER_ROOT
#define BUNDLE_N_ARTIFACTS (_BUNDLE_MEMBER_MAX - BUNDLE_FIRST_ARTIFACT)

/* The member's file name ("root.squashfs"), NULL for an invalid value. */
const char *bundle_member_to_string(enum bundle_member m);

/* Why a bundle is refused. Every refusal has its own value and a stable name. */
enum bundle_refusal {
	BUNDLE_REFUSAL_MALFORMED, /* not a POSIX tar, a damaged header */
	BUNDLE_REFUSAL_TRUNCATED, /* the input ends inside the archive or a member */
	BUNDLE_REFUSAL_TRAILING_DATA, /* bytes after the end of the archive */
	BUNDLE_REFUSAL_NOT_REGULAR, /* symlink, hard link, device, fifo, directory, sparse */
	BUNDLE_REFUSAL_BAD_PATH, /* '/', "..", empty or unprintable member name */
	BUNDLE_REFUSAL_UNEXPECTED_MEMBER, /* not the member due here (renamed, reordered) */
	BUNDLE_REFUSAL_EXTRA_MEMBER, /* a member after the last one */
	BUNDLE_REFUSAL_TOO_LARGE, /* larger than the manifest declares (or than the bound) */
	BUNDLE_REFUSAL_TOO_SMALL, /* smaller than the manifest declares, or empty */
	BUNDLE_REFUSAL_NO_SIGNATURE, /* no manifest.json.sig, or one without a signature */
	BUNDLE_REFUSAL_BAD_SIGNATURE, /* the manifest or the signature was altered */
	BUNDLE_REFUSAL_UNKNOWN_KEY, /* signed only by keys the running image does not trust */
	BUNDLE_REFUSAL_REVOKED_KEY, /* signed only by revoked keys */
	BUNDLE_REFUSAL_BAD_MANIFEST, /* manifest.json is signed but not a valid manifest */
	BUNDLE_REFUSAL_INCOMPATIBLE, /* for another product */
	BUNDLE_REFUSAL_SAME_VERSION, /* the running version again (a replay) */
	BUNDLE_REFUSAL_DOWNGRADE, /* older than the running version */
	BUNDLE_REFUSAL_BELOW_FLOOR, /* the running version is below the update's min_version */
	BUNDLE_REFUSAL_DIGEST_MISMATCH, /* a payload member's sha256 is not the manifest's */
	BUNDLE_REFUSAL_DEBUG_BUILD, /* a debug build, for a system that is not one */
	BUNDLE_REFUSAL_BELOW_VERSION_FLOOR, /* its security_version is below the TPM's floor */
	_BUNDLE_REFUSAL_MAX,
	_BUNDLE_REFUSAL_INVALID = -EINVAL,
};

/* The refusal's stable name ("bad-signature"), NULL for an invalid value. */
const char *bundle_refusal_to_string(enum bundle_refusal r);
enum bundle_refusal bundle_refusal_from_string(const char *s);

/*
 * What went wrong. Functions below that return -EPERM have refused the bundle and set
 * refusal; any other negative return is a failure to check it (I/O, memory, gpg
 * missing, the sink), with refusal _BUNDLE_REFUSAL_INVALID. message names the member
 * (when there is one) and what was wrong with it.
 */
struct bundle_error {
	enum bundle_refusal refusal;
	enum bundle_member member; /* or _BUNDLE_MEMBER_INVALID */
	char *message;
};
#define BUNDLE_ERROR_INIT                                                            \
	{                                                                            \
		.refusal = _BUNDLE_REFUSAL_INVALID, .member = _BUNDLE_MEMBER_INVALID \
	}
void bundle_error_done(struct bundle_error *e);
#define _cleanup_bundle_error_ _cleanup_(bundle_error_done)

/* ---- the manifest (bundle-manifest.c) -------------------------------------------------------- */

struct bundle_artifact {
	enum bundle_member member;
	const char *name; /* bundle_member_to_string(member) */
	uint64_t size_bytes;
	uint8_t sha256[SHA256_DIGEST_SIZE];
};

struct bundle_manifest {
	char *name; /* image name: letters, digits, '-', '_', '.'; never starts with '.' */
	char *version;
	char *min_version; /* the oldest running version this update may replace */
	uint64_t security_version; /* the version floor's epoch (lib/tpmfloor.h); 0 if absent */
	char *compatible; /* the product, e.g. airlock/x86-64 */
	char *architecture;
	int64_t source_date_epoch;
	struct bundle_artifact artifacts[BUNDLE_N_ARTIFACTS]; /* in member order */
	uint8_t root_hash[SHA256_DIGEST_SIZE]; /* dm-verity root hash of root.squashfs */
	uint32_t data_block_size, hash_block_size; /* dm-verity */
	uint64_t data_blocks;
	uint64_t root_size_bytes, verity_size_bytes; /* the slot partitions the image wants */
	char **trusted_keys; /* fingerprints (upper-case hex) of the keys the image trusts */
	bool debug; /* a debug build (build --debug: a root shell on the console) */
};

/*
 * Parses manifest.json strictly (RFC 8259, UTF-8, at most BUNDLE_MANIFEST_MAX_BYTES):
 * every field the updater uses must be present, of its type and within its bounds;
 * the artifacts must be exactly the payload members, in order; "debug", when present,
 * is a boolean. Fields the updater does not use (packages, kernel, ...) are not
 * checked. -EBADMSG with *ret_error
 * ("artifacts[1].size: ...") on a bad manifest.
 */
int bundle_manifest_parse(const char *text, size_t size, struct bundle_manifest **ret,
			  char **ret_error);
struct bundle_manifest *bundle_manifest_free(struct bundle_manifest *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct bundle_manifest *, bundle_manifest_free);
const struct bundle_artifact *bundle_manifest_artifact(const struct bundle_manifest *m,
						       enum bundle_member member);

/* What manifest.json says, as airlock-build writes it (bundle_manifest_format()). */
struct bundle_manifest_package {
	const char *name, *version, *architecture, *source, *source_version;
	uint64_t size_bytes;
	const char *sha256; /* hex */
};

struct bundle_manifest_info {
	const char *name, *version, *min_version, *compatible, *architecture;
	uint64_t security_version;
	int64_t source_date_epoch;
	const char *kernel;
	const uint8_t *content_sha256; /* 32 bytes */
	bool debug;
	const uint8_t *root_hash; /* 32 bytes */
	const uint8_t *salt; /* 32 bytes */
	const char *verity_uuid;
	uint32_t data_block_size, hash_block_size;
	uint64_t data_blocks;
	uint64_t esp_size_bytes, root_size_bytes, verity_size_bytes, data_min_size_bytes;
	const struct bundle_artifact *artifacts; /* name, size, sha256; in member order */
	size_t n_artifacts;
	char *const *trusted_keys;
	const struct bundle_manifest_package *packages;
	size_t n_packages;
};

/* manifest.json as a JSON object (the writer; bundle_manifest_parse() reads it back). */
int bundle_manifest_format(const struct bundle_manifest_info *in, struct json_object **ret);

/* What the installer takes from the manifest.json on its medium's ESP. */
struct bundle_manifest_disk {
	char *name, *version;
	uint64_t esp_bytes, root_bytes, verity_bytes, data_min_bytes;
	uint8_t root_hash[SHA256_DIGEST_SIZE];
};
void bundle_manifest_disk_done(struct bundle_manifest_disk *d);
/*
 * Reads just those fields (name, version, disk.*, verity.root_hash) of a manifest.json,
 * each required; -EBADMSG with *ret_error naming the field. The installer's medium holds
 * the image it boots, whose root hash it checks against the command line; it does not
 * need the update rules.
 */
int bundle_manifest_parse_disk(const char *text, size_t size, struct bundle_manifest_disk *ret,
			       char **ret_error);

/* ---- the rules (pure) ------------------------------------------------------------------------ */

/* What the running image is. */
struct bundle_policy {
	const char *running_version; /* its IMAGE_VERSION */
	const char *compatible; /* its product */
	bool running_debug; /* it is a debug build itself (os-release VARIANT_ID=airlock-debug) */
	/* The version floor the TPM keeps (lib/tpmfloor.h), when one is kept. */
	bool has_version_floor;
	uint64_t version_floor;
};

/*
 * The update policy: the same product; a version higher than the running one (the
 * same one is a replay, a lower one a downgrade); a running version not below the
 * update's min_version; no debug build (a root shell on the console) unless the running
 * system is one; a security_version not below the version floor, when one is kept (an
 * update the TPM would not open the data volume for). 0, or -EPERM with the refusal; -EINVAL if the policy itself
 * is not valid (a bad running version).
 */
int bundle_policy_check(const struct bundle_policy *p, const struct bundle_manifest *m,
			struct bundle_error *ret_error);

/*
 * The checks on a member's header before any of its data is read: a name that is a
 * plain file name (no '/', not "." or "..", printable), a regular file (not sparse),
 * the member due at this point (expected), and its size: bounded for manifest.json
 * and manifest.json.sig, exactly the manifest's for payload members (m may be NULL
 * for the first two). 0, or -EPERM with the refusal.
 */
int bundle_member_check(enum bundle_member expected, const struct archive_member *h,
			const struct bundle_manifest *m, struct bundle_error *ret_error);

/* ---- reading a bundle ------------------------------------------------------------------------ */

/*
 * Where the payload goes. Each callback may be NULL; a negative return stops the
 * verification with that error (message from *ret_error, if the callback sets it).
 * The bytes a member's data() gets are not known to be good until its end() is
 * called, and the bundle as a whole not until bundle_verify() returned 0: a sink must
 * not make anything it wrote take effect (switch a slot) before that.
 */
struct bundle_sink {
	/* The manifest is signed by a trusted key and passed the policy; no payload read. */
	int (*begin)(void *userdata, const struct bundle_manifest *m, const char *signer,
		     char **ret_error);
	int (*member_begin)(void *userdata, const struct bundle_artifact *a, char **ret_error);
	/* Consecutive pieces of the member, at most BUNDLE_BLOCK_BYTES each. */
	int (*member_data)(void *userdata, const struct bundle_artifact *a, const void *buf,
			   size_t n, char **ret_error);
	/* All of the member's bytes were passed and their sha256 is the manifest's. */
	int (*member_end)(void *userdata, const struct bundle_artifact *a, char **ret_error);
	void *userdata;
};

struct bundle_result {
	struct bundle_manifest *manifest;
	char *signer; /* fingerprint of the (first) good signature's key */
	uint64_t archive_bytes; /* the archive's length up to its end-of-archive marker */
};
void bundle_result_done(struct bundle_result *r);

/*
 * Opens the keys the running image trusts, for bundle_verify(): a file (one or more
 * armored or binary public keys) or a directory, whose *.asc and *.gpg files are
 * read. Signatures are judged without the clock (SIG_KEYRING_IGNORE_TIME).
 */
int bundle_keyring_open(const char *path, struct sig_keyring **ret, char **ret_error);
/* The key files of a directory as bundle_keyring_open() reads them, sorted; -ENOKEY if none. */
int bundle_key_files(const char *dir, char ***ret, char **ret_error);

/*
 * Verifies the bundle read from fd (a regular file or a block device, positioned at
 * the start of the bundle) against the keyring and, unless policy is NULL (the build
 * host checking what it just released), the policy, streaming the payload to sink
 * (NULL: only check). On a block device the bundle ends at its end-of-archive marker
 * and what follows on the device is not read; in a file nothing but zero padding up
 * to the next tar record may follow it.
 */
int bundle_verify(int fd, struct sig_keyring *keyring, const struct bundle_policy *policy,
		  const struct bundle_sink *sink, struct bundle_result *ret,
		  struct bundle_error *ret_error);

/*
 * The steps of bundle_verify(), for tests and fuzzing: the reader checks members and
 * the end of the archive but neither signatures nor the policy.
 */
struct bundle_reader;
int bundle_reader_open(int fd, struct bundle_reader **ret, struct bundle_error *ret_error);
struct bundle_reader *bundle_reader_free(struct bundle_reader *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct bundle_reader *, bundle_reader_free);
/* Reads manifest.json and manifest.json.sig (each NUL-terminated). */
int bundle_reader_read_head(struct bundle_reader *r, char **ret_manifest, size_t *ret_manifest_size,
			    char **ret_signature, size_t *ret_signature_size,
			    struct bundle_error *ret_error);
/* Streams the payload members to sink (may be NULL), checking each against m. */
int bundle_reader_read_payload(struct bundle_reader *r, const struct bundle_manifest *m,
			       const struct bundle_sink *sink, struct bundle_error *ret_error);
/* After the last member: the end-of-archive marker and nothing after it. */
int bundle_reader_finish(struct bundle_reader *r, uint64_t *ret_archive_bytes,
			 struct bundle_error *ret_error);
