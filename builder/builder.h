/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * airlock-build: one file per pipeline stage, main.c parses options and runs the
 * verbs. Verbs take their own argv (argv[0] is the verb) and return an exit
 * status; stages take their inputs as arguments and return outputs, never reaching
 * into globals or earlier stages.
 */

#include <stdint.h>

#include "core/error.h"
#include "core/macro.h"
#include "ext/archive.h"

/* Exit statuses shared by the verbs (documented in airlock-build(1)). */
#define EXIT_STALE_LOCK 3 /* fetch: the archive no longer has a locked version */

/* Options every verb understands, parsed by main.c before the verb. */
struct build_globals {
	bool quiet;
	const char *tools_dir;
};
extern struct build_globals arg_globals;

/* Verbs */
int verb_lock(int argc, char *argv[]);
int verb_fetch(int argc, char *argv[]);
int verb_build(int argc, char *argv[]);
int verb_disk(int argc, char *argv[]);
int verb_keygen(int argc, char *argv[]);
int verb_release(int argc, char *argv[]);

/* ---- uki.c: Unified Kernel Image on systemd-stub ------------------------------------------ */

struct uki_params {
	const char *stub_path; /* usr/lib/systemd/boot/efi/linuxx64.efi.stub of the image tree */
	const char *kernel_path; /* the bzImage, boot/vmlinuz-<version> of the image tree */
	const char *initrd_path;
	const char *os_release_path; /* usr/lib/os-release of the image tree */
	const char *cmdline; /* the whole kernel command line (uki_cmdline()) */
	const char *uname; /* kernel version for .uname, or NULL for none */
	/* The PCR-signing key (RSA, private): the UKI then carries .pcrpkey and a .pcrsig
	 * for the PCR 11 value systemd-stub will measure (lib/pcr.h). NULL: neither. */
	const struct rsa_key *pcr_key;
};

/*
 * The UKI command line: "airlock.slot=<slot> airlock.roothash=<hex>" and then the
 * manifest's kernel-cmdline words. Never "roothash=" (systemd's generator would act
 * on it). -EINVAL for a slot other than a/b, a root hash that is not 64 hex
 * digits, or extra words that set airlock.slot/airlock.roothash/roothash/usrhash.
 */
int uki_cmdline(const char *slot, const char *root_hash_hex, const char *extra, char **ret);
/* Writes the (unsigned) UKI: stub + .osrel .cmdline [.uname] .initrd .linux, in that order. */
int uki_build(const struct uki_params *p, const char *output_path, char **ret_error);

/* ---- sign.c: UEFI Secure Boot signatures (sbsign) ------------------------------------------ */

struct sign_key {
	const char *key_path; /* PEM private key, unencrypted */
	const char *cert_path; /* PEM X.509 certificate */
};

/*
 * Signs a PE image (Authenticode) with sbsign into output_path (atomically). The
 * signature's signing time is pinned to source_date_epoch so that the same input
 * and key give the same bytes (see sign.c).
 */
int sign_pe(const struct sign_key *k, int64_t source_date_epoch, const char *input_path,
	    const char *output_path, char **ret_error);
/* Checks a signed image against a certificate (sbverify); -EPERM if it does not verify. */
int sign_verify(const char *cert_path, const char *path, char **ret_error);

/* ---- esp.c: the EFI System Partition as a FAT image (mtools, no mounting) -------------------- */

struct esp_file {
	const char *path; /* inside the ESP, e.g. "EFI/BOOT/BOOTX64.EFI" */
	const char *source; /* a file on the host, or NULL with data */
	const char *data; /* literal contents (e.g. loader.conf), when source is NULL */
};

/* loader.conf for our boot menu: no timeout, no editor, default to entries matching pattern. */
int esp_loader_conf(const char *default_pattern, char **ret);
/* 0 if size_bytes is 0: the size to give an ESP holding these files (>= 64 MiB, MiB multiple). */
int esp_size_for(const struct esp_file *files, size_t n_files, uint64_t *ret_size_bytes);
/*
 * Builds a FAT32 image of size_bytes (a MiB multiple) holding files, creating their
 * directories. Timestamps come from source_date_epoch; the volume serial from the
 * contents, so two builds of the same files are byte-identical.
 */
int esp_build(const struct esp_file *files, size_t n_files, uint64_t size_bytes,
	      int64_t source_date_epoch, const char *output_path, char **ret_error);

/* ---- disk.c: boot artifacts and the raw GPT disk image ------------------------------------- */

struct disk_params {
	const char *name; /* image name (manifest [image] name) */
	const char *version; /* image version */
	const char *slot; /* "a" for a fresh disk */
	unsigned boot_tries; /* boot counting: tries left in the UKI's file name (3) */

	/* from the image tree */
	const char *stub_path;
	const char *systemd_boot_path; /* usr/lib/systemd/boot/efi/systemd-bootx64.efi */
	const char *kernel_path;
	const char *os_release_path;
	const char *uname; /* or NULL */
	/* from the earlier stages */
	const char *initrd_path;
	const char *root_path; /* root.squashfs */
	const char *verity_path; /* root.verity */
	const uint8_t *root_hash; /* 32 bytes */
	const char *kernel_cmdline; /* manifest [image] kernel-cmdline, or NULL */

	struct sign_key key; /* both NULL: unsigned (only with allow_unsigned) */
	const char *pcr_key_path; /* PCR 11 signing key (PEM RSA private key), or NULL */
	bool allow_unsigned;
	uint64_t esp_size_bytes; /* 0: sized to fit the files */
	int64_t source_date_epoch;
	const char *work_dir; /* intermediates */
	const char *out_dir; /* uki.efi and <name>-<version>.img */
	bool link_stable_name; /* also out_dir/<name>.img -> <name>-<version>.img */
	const struct esp_file *extra_esp_files; /* more files for the ESP (e.g. manifest.json) */
	size_t n_extra_esp_files;
};

struct disk_result {
	char *uki_path; /* out_dir/uki.efi (signed unless allow_unsigned without a key) */
	char *boot_efi_path; /* systemd-boot for the ESP (signed unless unsigned) */
	char *image_path; /* out_dir/<name>-<version>.img */
	char *uki_esp_name; /* e.g. "airlock-1.0.0-a+3.efi" */
	char *cmdline;
	uint64_t image_size_bytes;
};
void disk_result_done(struct disk_result *r);

/* uki -> sign (UKI, systemd-boot): fills uki_path, boot_efi_path, cmdline. */
int disk_build_uki(const struct disk_params *p, struct disk_result *ret, char **ret_error);
/* esp -> GPT disk image from what disk_build_uki() made: fills the rest of res. */
int disk_build_image(const struct disk_params *p, struct disk_result *res, char **ret_error);
/* Both, in order. */
int disk_build(const struct disk_params *p, struct disk_result *ret, char **ret_error);
/* <out_dir>/<name>.img -> <name>-<version>.img (image_path's last component), atomically. */
int disk_link_stable_name(const char *out_dir, const char *name, const char *image_path);

int verb_initramfs(int argc, char *argv[]);

/* ---- initramfs.c ---- */
#define INITRAMFS_ZSTD_LEVEL 19

struct initramfs_params {
	const char *tree; /* staged image tree: real files, merged /usr, modules.dep generated */
	const char *kernel_version; /* usr/lib/modules/<kernel_version> in the tree */
	const char *init_path; /* the airlock-init program, installed as /init */
	char *const *modules; /* module names to load; their modules.dep closure comes along */
	int64_t epoch; /* SOURCE_DATE_EPOCH: the mtime of every entry */
	enum cpio_compression compression;
	int compression_level; /* zstd level */
};

/*
 * Writes the initramfs (deterministic cpio newc) to out_path atomically. Logs what
 * failed (naming the library, module or file) and returns -errno.
 */
int initramfs_build(const struct initramfs_params *p, const char *out_path);

/* The default pool directory (~/.cache/airlock/pool, or $AIRLOCK_POOL). */
int default_pool_dir(char **ret);
/* Directory of this executable, where its sibling programs were built. */
int self_dir(char **ret);

/* unpack.c */
struct lockfile;
struct tree;
/* Checks every locked package in the pool (presence, size, sha256); logs each problem. */
int unpack_check_pool(const struct lockfile *lf, const char *pool);
/* Reads every package's data archive into t; contents go to files below blobs. */
int unpack_packages(const struct lockfile *lf, const char *pool, const char *blobs, struct tree *t);

/* tree.c */
struct manifest;
int tree_apply_overlay(struct tree *t, const char *overlay_dir, const char *units_dir);
/* Adds airlock-* programs (stripped copies in scratch); returns the path of airlock-init. */
int tree_add_programs(struct tree *t, const char *programs_dir, const char *scratch,
		      char **ret_init);
int tree_prune(struct tree *t, const struct manifest *m);
/* Keeps the modules of the manifest's classes and their dependencies. */
int tree_prune_modules(struct tree *t, const struct manifest *m, char **ret_kernel_version,
		       char ***ret_kept);
/* Lays the tree out below dir: directories, hard links to the contents, symlinks. */
int tree_materialize(const struct tree *t, const char *dir);

/* generate.c */
struct sysusers;
/* Makes what maintainer scripts would have; generated contents go below dir. */
int generate_image_files(struct tree *t, const struct manifest *m, const struct lockfile *lf,
			 const char *pool, const char *dir, bool debug,
			 struct sysusers **ret_users);

/* squashfs.c */
struct squashfs_result {
	uint8_t content_sha256[32]; /* of the canonical tar stream */
	uint64_t tar_size;
	uint64_t size; /* of root.squashfs */
	size_t entries;
};
int squashfs_build(const struct tree *t, const struct sysusers *users, int64_t epoch,
		   const char *out_path, struct squashfs_result *ret);

/* verity.c */
#include "ext/verity.h"
struct verity_result {
	uint8_t root_hash[VERITY_ROOT_HASH_SIZE];
	struct verity_params params;
	uint64_t hash_size;
};
int verity_build(const char *squashfs, const char *hash_path, const uint8_t content_sha256[32],
		 struct verity_result *ret);
/* Runs depmod on the materialized tree at root and adds its outputs to t. */
int tree_depmod(struct tree *t, const char *root, const char *kernel_version);

/* sbom.c */
int sbom_write(const struct manifest *m, const struct lockfile *lf, const char *airlock_version,
	       const char *squashfs_sha256, const char *root_hash, const char *path);

/* keys.c: update signing keys (keygen) and the key set an image trusts */
#define KEYS_HOME_DIR "gnupg" /* KEYDIR/gnupg: the GnuPG home with the secret key */
#define KEYS_PUBLIC_KEY_FILE "signing-key.pub.asc"
/*
 * Adds the public keys of dir (*.asc, *.gpg) to the image below
 * usr/share/airlock/update-keys/ and returns their fingerprints, sorted.
 */
int keys_add_to_tree(struct tree *t, const char *dir, char ***ret_fingerprints);

/* release.c */
struct release_artifact {
	const char *name; /* as listed and as named in an update tarball */
	const char *path;
};
struct release_input {
	const struct manifest *manifest;
	const struct lockfile *lock;
	const char *kernel_version;
	const uint8_t *content_sha256; /* 32 bytes */
	const struct verity_result *verity;
	const struct release_artifact *artifacts;
	size_t n_artifacts;
	char *const *trusted_keys; /* fingerprints of the update keys the image trusts */
	bool debug; /* a debug build (a root shell): recorded so nobody ships it unknowingly */
};
int release_manifest_write(const struct release_input *in, const char *path);
