/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * airlock-install: lays out a target disk, writes slot A from the installer medium and
 * creates the encrypted data volume (DESIGN.md, "Disk layout", "TPM sealing").
 *
 * Decide apart from doing: probing (disks.c, source.c, tpmcheck.c) fills plain structs;
 * choosing the disk (select.c) and the plan (lib/plan.c) are pure; the screens
 * (flow.c is the pure state machine, screens.c draws it) and the answer file
 * (answers.c) only decide; the stages write, in this order, so that a power cut never
 * leaves a disk that claims to be installed and is not:
 *
 *   wipe.c     clear the old partition tables, file-system and LUKS signatures
 *   table      the GPT with the six partitions (lib/gpt)
 *   esp.c      the ESP, FAT32, populated for slot A from the medium's ESP
 *   slot.c     root-a and verity-a copied from the medium, verified against the root hash
 *   datavol.c  LUKS2 in a detached header in memory: recovery keyslot, TPM keyslot and
 *              token; then (device-mapper) ext4 inside and the ledger moved into it;
 *              the header written to the disk last: it is the install-complete marker
 *
 * install.c runs the stages; main.c parses options and picks the interactive
 * (interactive.c) or unattended way, which share everything but the screens.
 */

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"
#include "core/macro.h"
#include "ext/fdisk.h"
#include "ext/json.h"
#include "ext/luks.h"
#include "plan.h"

/* Exit statuses (airlock-install(8), EXIT STATUS). */
#define EXIT_INSTALL_FAILED 1 /* the install failed: the target does not claim to be installed */
#define EXIT_INSTALL_USAGE 2 /* bad options or answer file: nothing was changed */
#define EXIT_INSTALL_REFUSED 3 /* refused (disk, medium, TPM, confirmation): nothing was changed */
#define EXIT_INSTALL_CANCELLED 4 /* cancelled before the confirmation: nothing was changed */
#define EXIT_INSTALL_INTERRUPTED 5 /* interrupted after writing began: not installed */

#define INSTALL_DM_NAME "airlock-install-data"

/* ---- answers.c: the answer file (and the options that share its keys) ------------------ */

enum keydest {
	KEYDEST_CONSOLE = 1 << 0, /* printed on the console */
	KEYDEST_FILE = 1 << 1, /* escrowed to a file (tests, or a mounted escrow share) */
	KEYDEST_DISK = 1 << 2, /* written to a FAT file system on a second removable disk */
};

enum tpm_mode {
	TPM_MODE_REQUIRED,
	TPM_MODE_ALLOW_MISSING,
	_TPM_MODE_MAX,
	_TPM_MODE_INVALID = -EINVAL,
};

/* What selects the target disk; every criterion given must hold. */
struct disk_match {
	char *path; /* a device node, a /dev/disk/... link, or a disk image file */
	char *id; /* a /dev/disk/by-id name (with or without the directory) */
	char *model; /* fnmatch(3) pattern over the model */
	char *serial;
	uint64_t size_bytes; /* exact */
	uint64_t min_size_bytes;
	uint64_t max_size_bytes;
};

enum answer_key {
	ANSWER_DISK,
	ANSWER_DISK_ID,
	ANSWER_DISK_MODEL,
	ANSWER_DISK_SERIAL,
	ANSWER_DISK_SIZE,
	ANSWER_DISK_MIN_SIZE,
	ANSWER_DISK_MAX_SIZE,
	ANSWER_CONFIRM,
	ANSWER_RECOVERY_KEY,
	ANSWER_RECOVERY_KEY_FILE,
	ANSWER_RECOVERY_KEY_DISK,
	ANSWER_TPM,
	ANSWER_TCTI,
	ANSWER_PCR_PUBLIC_KEY,
	ANSWER_PBKDF,
	ANSWER_PBKDF_MEMORY,
	ANSWER_PBKDF_TIME_COST,
	ANSWER_PBKDF_PARALLEL,
	ANSWER_REBOOT,
	ANSWER_OPERATOR_PASSPHRASE_HASH,
	_ANSWER_KEY_MAX,
	_ANSWER_KEY_INVALID = -EINVAL,
};

const char *answer_key_to_string(enum answer_key k);
enum answer_key answer_key_from_string(const char *s);

struct install_answers {
	char *path; /* the answer file, for messages; NULL for options only */
	struct disk_match disk;
	bool confirm;
	unsigned keydest; /* enum keydest bits */
	char *key_file;
	char *key_disk;
	enum tpm_mode tpm;
	char *tcti;
	char *pcr_public_key;
	struct luks_pbkdf pbkdf; /* type ARGON2ID and all zero: tuned for the machine */
	bool reboot;
	char *operator_hash; /* yescrypt (lib/operator.h), never the passphrase */
	unsigned line[_ANSWER_KEY_MAX]; /* where each key was set: 0 not set, UINT_MAX an option */
};

#define ANSWER_LINE_OPTION UINT32_MAX

int answers_new(struct install_answers **ret);
struct install_answers *answers_free(struct install_answers *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct install_answers *, answers_free);

/*
 * Sets one key. line is where it came from (ANSWER_LINE_OPTION for a command-line
 * option). -EINVAL with "PATH:LINE: key 'K': why" (or "option --K: why") in
 * *ret_error for an unknown key, a bad value, or a key given twice.
 */
int answers_set(struct install_answers *a, const char *key, const char *value, unsigned line,
		char **ret_error);
/*
 * Parses an answer file: "key = value" lines, '#' comment lines, blank lines. Errors
 * name the file, line and key.
 */
int answers_parse(const char *path, const char *text, struct install_answers **ret,
		  char **ret_error);
int answers_load(const char *path, struct install_answers **ret, char **ret_error);
/*
 * For an unattended install: a disk criterion, confirm=yes and a recovery-key
 * destination must be there, and the destinations' keys must agree. -EINVAL
 * (missing or inconsistent) or -EPERM (confirm is not yes), with a message.
 */
int answers_check_unattended(const struct install_answers *a, char **ret_error);
/* A one-line description of the criteria ("path /dev/sdb, size 8.0 GiB"). */
char *disk_match_describe(const struct disk_match *m);

/* ---- disks.c: what the machine's disks are (probing fills plain structs) ---------------- */

struct install_part {
	unsigned number;
	char *name; /* GPT partition name, or NULL */
	char *type; /* type GUID (or 0xNN for MBR), lower case */
	uint64_t start_bytes;
	uint64_t size_bytes;
	char *fs_type; /* "vfat", "ext4", "crypto_LUKS", ... or NULL */
	char *fs_label; /* or NULL */
};

/* A block device (devnum) or a file (st_dev, st_ino): what a disk's writes reach. */
struct stat_id {
	bool is_file;
	dev_t devnum;
	dev_t file_dev;
	ino_t file_ino;
};

/*
 * Everything that writing to id would reach, id itself first: for a partition its whole
 * disk, for a loop device its backing file (and what that is on, if a device), for a
 * device-mapper or md device its slaves, each resolved in turn (16 levels at most), from
 * sysfs (sysfs_root normally "/sys"). Never fails for want of sysfs: what cannot be read
 * is not followed.
 */
int stat_id_backing(const char *sysfs_root, const struct stat_id *id, struct stat_id **ret,
		    size_t *ret_n);
/* Whether two such sets share an element. */
bool stat_ids_overlap(const struct stat_id *a, size_t na, const struct stat_id *b, size_t nb);

struct install_disk {
	char *node; /* /dev/sdb, or an image file */
	bool is_file;
	dev_t devnum; /* block devices */
	dev_t file_dev; /* image files: st_dev and st_ino, to recognize the same file */
	ino_t file_ino;
	char *model;
	char *serial;
	char **by_id; /* names in /dev/disk/by-id that point at it */
	uint64_t size_bytes;
	uint32_t sector_size;
	bool removable;
	bool read_only;
	char *table_type; /* "gpt", "dos", or NULL */
	struct install_part *parts;
	size_t n_parts;
	char *fs_type; /* a file system on the whole disk, or NULL */
	char *fs_label;
	char **mounted; /* "/dev/sdb1 on /mnt": partitions of it that are in use */
	char **part_uuids; /* every partition GUID (PARTUUID), lower case */
	struct stat_id *backing; /* what writing to it reaches (stat_id_backing) */
	size_t n_backing;

	/* decided by select.c */
	char *refusal; /* why it cannot be the target, or NULL */
};

void install_disk_done(struct install_disk *d);
void install_disks_free(struct install_disk *d, size_t n);

/*
 * Probes one disk (a block device or an image file). Fills what the kernel (sysfs)
 * and libblkid say; refusal stays NULL.
 */
int disk_probe(const char *node, struct install_disk *ret);
/* Probes every whole disk the kernel knows (sysfs_root normally "/sys"). */
int disks_probe_all(const char *sysfs_root, struct install_disk **ret, size_t *ret_n);
/* The name typed to confirm: the last path component ("sdb", "target.img"). */
const char *install_disk_name(const struct install_disk *d);

/* ---- select.c: which disks may be the target, and which one the answers name (pure) ---- */

/* What the installer knows about where it runs, to refuse the disks it must not touch. */
struct boot_facts {
	const char *boot_part_uuid; /* systemd-boot's LoaderDevicePartUUID, lower case, or NULL */
	dev_t source_devnum; /* the installer medium when it is a block device, else 0 */
	dev_t source_file_dev; /* ... when it is an image file (with source_file_ino) */
	ino_t source_file_ino;
	const struct stat_id *source_backing; /* what the medium is on (stat_id_backing) */
	size_t n_source_backing;
	uint64_t min_disk_bytes; /* the image's smallest disk */
};

/* Sets d->refusal for every disk that must not be the target (boot medium, in use, ...). */
int disks_decide(struct install_disk *disks, size_t n, const struct boot_facts *f);
/*
 * The one disk the criteria match. -ENOENT (none matches; the message lists what was
 * looked at), -ENOTUNIQ (several match; it lists them), -EPERM (the one that matches
 * is refused; it says why). Refused disks never count as a match.
 */
int disks_select(const struct install_disk *disks, size_t n, const struct disk_match *m,
		 size_t *ret_index, char **ret_error);
/*
 * What installing onto d destroys, one line each ("partition 2 'root-a', squashfs,
 * 1.0 GiB"), or a single line saying the disk looks empty.
 */
int disk_describe_contents(const struct install_disk *d, char ***ret_lines);

/* ---- source.c: the installer medium and the image on it ------------------------------- */

struct install_source {
	char *path; /* whole disk or image file */
	struct stat_id id;
	struct stat_id *backing; /* what the medium is on (stat_id_backing) */
	size_t n_backing;
	struct disklabel *table;
	const struct disklabel_part *esp, *root, *verity; /* into table */
	uint8_t root_hash[32]; /* the trust anchor */
	const char *root_hash_origin; /* "/proc/cmdline" or "--root-hash" */
	char *name; /* the image's name and version (manifest.json) */
	char *version;
	struct plan_sizes sizes;
	char *manifest_origin; /* where manifest.json came from */
	char *uki_path; /* the slot-A UKI inside the medium's ESP */
	char *boot_part_uuid; /* LoaderDevicePartUUID, lower case, or NULL */
	char *pcr_pubkey; /* PEM text of the image's PCR-signing key, or NULL */
	size_t pcr_pubkey_size;
	char *pcr_pubkey_origin;
};

struct source_options {
	const char *path; /* --source, or NULL: the boot medium */
	const char *manifest; /* --manifest, or NULL: ESP airlock/manifest.json */
	const char *root_hash_hex; /* --root-hash, or NULL: airlock.roothash= of /proc/cmdline */
	const char *pcr_public_key; /* --pcr-public-key, or NULL: see source_find_pcr_key() */
	const char *proc_cmdline; /* normally /proc/cmdline */
	const char *efivars; /* normally /sys/firmware/efi/efivars */
	const char *sysfs; /* normally /sys */
};

void install_source_done(struct install_source *s);
/* Finds and checks the medium; a failure is logged, naming the file or device. */
int source_load(const struct source_options *o, struct install_source *ret);
/* Replaces the PCR-signing key with the one in this file (an answer file's pcr-public-key). */
int source_set_pcr_key_file(struct install_source *s, const char *path);
/* Parses manifest.json (the fields the installer uses). -EBADMSG with a message. */
int source_parse_manifest(const char *text, size_t size, char **ret_name, char **ret_version,
			  struct plan_sizes *ret_sizes, uint8_t ret_root_hash[32],
			  char **ret_error);
/*
 * Which file in the medium's ESP is the slot-A UKI of name-version: "EFI/Linux/
 * <name>-<version>-a.efi", with or without a boot counter ("+3", "+2-1"). -ENOENT or
 * -ENOTUNIQ.
 */
int source_pick_uki(char *const *esp_files, const char *name, const char *version, char **ret_path);

/* ---- tpmcheck.c: is there a TPM the data volume's key can be sealed to ----------------- */

struct tpm_facts {
	bool usable;
	char *reason; /* why not (or a warning when usable), for screens and logs */
	uint32_t unset_pcr_mask; /* literal PCRs (7) that hold nothing measured */
	/* Airlock's NV indices (lib/tpmnv.h) are defined already (an earlier install). */
	bool floor_defined, ledger_defined;
};
void tpm_facts_done(struct tpm_facts *f);
/* Opens the TPM and reads PCR 7; never fails: the verdict is in *ret. */
int tpm_check(const char *tcti, const struct install_source *s, struct tpm_facts *ret);

/* ---- install.c: the stages --------------------------------------------------------------- */

enum install_step {
	STEP_WIPE,
	STEP_TABLE,
	STEP_ESP,
	STEP_ROOT,
	STEP_VERITY,
	STEP_VERIFY,
	STEP_KEYSLOTS,
	STEP_TPM,
	STEP_FILESYSTEM,
	STEP_LEDGER,
	STEP_HEADER,
	_STEP_MAX,
	_STEP_INVALID = -EINVAL,
};
const char *install_step_to_string(enum install_step s);
/* What each step shows on the progress screen. */
const char *install_step_title(enum install_step s);

struct install_progress {
	void (*update)(void *userdata, enum install_step step, uint64_t done, uint64_t total);
	void *userdata;
};

struct install_settings {
	enum tpm_mode tpm_mode;
	const char *tcti;
	struct luks_pbkdf recovery_pbkdf; /* iterations 0: tuned for the machine */
	const char *ledger_socket; /* NULL: the default */
	bool ledger_socket_given; /* the caller runs the daemon: do not stop units */
	const char *ledger_dir; /* the ledger to move onto the data volume */
	bool no_filesystem; /* TEST-ONLY: no device-mapper here; leave the volume empty */
	const char *operator_hash; /* written to the data volume (OPERATOR_HASH_FILE), or NULL */
	bool dry_run;
};

struct install_job {
	const struct install_settings *settings;
	const struct install_source *source;
	const struct install_disk *target;
	const struct install_plan *plan;
	const struct tpm_facts *tpm;
	const char *recovery_key; /* secret memory, canonical form */
	struct install_progress progress;

	/* state, owned by install.c */
	struct install_state *state;
};

/* Writes everything up to the data volume's file system; the header stays in memory. */
int install_write(struct install_job *j, char **ret_error);
/* Records the install, moves the ledger, writes the header: the install is complete. */
int install_commit(struct install_job *j, char **ret_error);
/* Undoes what is only in memory or mapped (after a failure or an abandon). NULL-safe. */
void install_job_done(struct install_job *j);
/* True once anything was written to the target. */
bool install_job_wrote(const struct install_job *j);
/* Records that the install stopped before it was complete (best effort). */
void install_record_failure(struct install_job *j, const char *why);

/* Test-only fault injection: dies with SIGKILL after the named point (AIRLOCK_INSTALL_CRASH_AT). */
void install_crash_point(const char *name);
/* Set by the SIGINT/SIGTERM handler of the unattended way; stages stop at the next chunk. */
extern volatile sig_atomic_t install_interrupted;

/* ---- stages (wipe.c, esp.c, slot.c, datavol.c, record.c, keydest.c) ------------------- */

int wipe_target(int fd, const struct install_disk *target, const struct install_plan *plan,
		char **ret_error);
/* The files of a slot-A ESP besides the UKI, as on the medium. */
extern const char *const esp_slot_files[3];
int esp_write(const struct install_source *s, const struct install_disk *target,
	      const struct install_plan *plan, int fd, char **ret_error);
int slot_copy(const struct install_source *s, int fd, const struct install_plan *plan,
	      enum plan_part part, const struct install_progress *progress, enum install_step step,
	      char **ret_error);
int slot_verify(const struct install_disk *target, const struct install_plan *plan,
		const uint8_t root_hash[32], char **ret_error);

struct datavol;
struct datavol_enrolment {
	bool tpm;
	int recovery_keyslot;
	int tpm_keyslot;
	int tpm_token;
	uint8_t policy_hash[32];
	uint32_t unset_pcr_mask;
	char luks_uuid[40];
	/* The version floor the TPM key is sealed to (lib/tpmfloor.h), and whether the
	 * ledger's high-water counter was defined (lib/tpmnv.h). */
	bool floor;
	uint32_t floor_index;
	uint64_t floor_base;
	bool ledger_counter;
};
int datavol_new(struct datavol **ret);
struct datavol *datavol_free(struct datavol *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct datavol *, datavol_free);
int datavol_format(struct datavol *v, const struct install_settings *s, const char *recovery_key,
		   char **ret_error);
int datavol_enroll_tpm(struct datavol *v, const struct install_settings *s,
		       const struct install_source *src, char **ret_error);
void datavol_enrolment(struct datavol *v, struct datavol_enrolment *ret);
/* The device-mapper step: map the volume, ext4 inside, mount it. */
int datavol_make_filesystem(struct datavol *v, const struct install_disk *target,
			    const struct install_plan *plan, char **ret_error);
/* The device-mapper step, end: move the ledger in, unmount, unmap. */
int datavol_finish_filesystem(struct datavol *v, const struct install_settings *s,
			      char **ret_error);
/* The marker: the header written to the disk, read back, opened with the recovery key. */
int datavol_commit(struct datavol *v, int fd, const struct install_disk *target,
		   const struct install_plan *plan, const char *recovery_key, char **ret_error);

int record_open(const struct install_settings *s);
int record_append(const char *type, struct json_object *payload, char **ret_error);
bool record_available(void);

int keydest_deliver(const struct install_answers *a, const struct install_disk *target,
		    const struct install_source *s, const char *recovery_key, char **ret_error);

/* ---- main.c / interactive.c: one run of the installer ------------------------------------ */

struct install_ctx {
	struct install_settings settings;
	struct install_answers *answers; /* options, and the answer file's keys when unattended */
	struct install_source source;
	struct install_disk *disks;
	size_t n_disks;
	struct install_plan **plans; /* per disk; NULL for a refused disk */
	struct tpm_facts tpm;
	char *recovery_key; /* secret memory */
};

/* The interactive way; returns an exit status. */
int interactive_run(struct install_ctx *c);
/* Asks the machine to reboot (systemctl reboot). */
int install_reboot(void);

/*
 * console.c: --console (airlock-install@.service). Interactively, waits for Enter on
 * stdin (in), then takes lock_path (NULL: /run/airlock/install.lock) without waiting;
 * unattended, takes it at once. -EBUSY (said on stdout, with where the installer
 * runs) when another console holds it, -ECANCELED at the end of input; else the lock's
 * descriptor, to keep open until exit, in *ret_fd.
 */
int console_claim(const char *lock_path, bool unattended, FILE *in, int *ret_fd);
/* The holder: its result (one line) for the consoles that follow it. */
void console_report(int lock_fd, const char *result);
/* After console_claim() returned -EBUSY with *ret_fd: wait until the holder ends, print
 * its result to out. */
int console_follow(int lock_fd, FILE *out);
