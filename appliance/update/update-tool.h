/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "core/verb.h"

/* airlock-update: one file per verb; what they share. */

#include <stdint.h>

#include "core/macro.h"
#include "bootdisk.h"
#include "ext/fdisk.h"
#include "ext/json.h"
#include "fat.h"
#include "slot.h"

/* Exit statuses (airlock-update(8)). */
#define EXIT_REFUSED 3 /* the bundle (or the request) was refused; the reason is printed */

int verb_verify(int argc, char **argv);
int verb_import(int argc, char **argv);
int verb_status(int argc, char **argv);
int verb_rollback(int argc, char **argv);
int verb_mark_good(int argc, char **argv);
int verb_boot_failed(int argc, char **argv);

/* ---- disk.c: an installed disk (a disk image with --disk) ---------------------------- */

/* Per slot: its records on the ESP, next to the boot entries. */
#define UPDATE_RECORD_DIR "airlock"

struct update_disk {
	char *path;
	int fd; /* the whole disk; writes and fdatasync() go through it */
	struct disklabel *label;
	const struct disklabel_part *esp;
	const struct disklabel_part *root[2], *verity[2]; /* [0] a, [1] b */
	struct fat_volume esp_volume;
	char **entry_files; /* EFI/Linux/... as fat_list() gives them, sorted */
	char **record_files; /* airlock/... */
	struct slot_table slots;
	char running; /* the booted slot, 0: not known */
};

/*
 * Opens a disk laid out by airlock-install: the GPT's esp, root-a, verity-a, root-b and
 * verity-b, and the boot entries on the ESP. running_version (may be NULL) names the
 * booted slot: the one whose entry carries it. Errors are logged.
 */
int update_disk_open(const char *path, bool writable, const char *running_version,
		     struct update_disk **ret);
/* The same; one_slot: a disk with slot a only (no root-b, verity-b: the installer
 * medium) is opened too, with root[1] and verity[1] NULL. */
int update_disk_open_full(const char *path, bool writable, const char *running_version,
			  bool one_slot, struct update_disk **ret);
struct update_disk *update_disk_free(struct update_disk *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct update_disk *, update_disk_free);
/* Re-reads the ESP's entries after a change. */
int update_disk_reload(struct update_disk *d);
/* Makes what was written to the disk durable (fdatasync of the disk). */
int update_disk_sync(struct update_disk *d, const char *what);
/* The root hash a slot's records on the ESP (airlock/NAME-VERSION-SLOT.json) give. */
int update_disk_root_hash(struct update_disk *d, const struct slot_entry *e, uint8_t ret[32]);
/* The tries the slot's entry was given (its record's "tries"; SLOT_ENTRY_TRIES when it
 * has no record: the installer's slot a, an older import). */
unsigned update_disk_tries(struct update_disk *d, const struct slot_entry *e);
/* Renames an ESP file in EFI/Linux and syncs; logs errors. */
int update_disk_rename_entry(struct update_disk *d, const char *from, const char *to);
/* Checks a slot's root and verity partitions against a root hash (every block). */
int update_disk_verify_slot(struct update_disk *d, char slot, const uint8_t root_hash[32]);

/* ---- system.c: the running system ------------------------------------------------------- */

/* The running image's facts (below a root prefix, "/" on the appliance). */
struct update_system {
	const char *root;
	struct bootdisk boot; /* the booted slot and the disk it lives on */
	char *name; /* os-release IMAGE_ID */
	char *version; /* os-release IMAGE_VERSION: the running version */
	char *compatible; /* os-release AIRLOCK_COMPATIBLE: the product */
	bool debug; /* os-release VARIANT_ID=airlock-debug: a debug build */
	uint64_t security_version; /* os-release AIRLOCK_SECURITY_VERSION (0 when absent) */
	char *keyring; /* ROOT/usr/share/airlock/update-keys: the keys it trusts */
};

/*
 * Loads what the running system is: its boot disk (lib/bootdisk), its version and
 * product from its os-release, the path of its keyring. Errors are logged, naming the
 * verb.
 */
int update_system_load(const char *verb, const char *root, struct update_system *ret);
void update_system_done(struct update_system *s);
/*
 * Opens the boot disk as update_disk_open() does and checks that the booted slot's root
 * and verity partitions are the ones / is verified from; unless one_slot, the disk must
 * have both slots (the installer medium has slot a only: status and mark-good work
 * there, import and rollback do not). writable also needs the ESP unmounted (mtools
 * writes it through the whole disk, beside no kernel file system). Sets d->running to
 * the booted slot. Errors are logged.
 */
int update_system_open_disk(const char *verb, struct update_system *s, bool writable, bool one_slot,
			    struct update_disk **ret);

/* ---- floor.c: the version floor the TPM keeps (lib/tpmfloor.h) --------------------------- */

/*
 * Sets p->has_version_floor and p->version_floor from the running appliance's TPM when
 * its data volume is sealed to a floor (none kept: said, and 0). An error reading a floor
 * that is kept (no TPM, the counter gone) is logged, naming the verb.
 */
struct bundle_policy;
int update_version_floor(const char *verb, struct bundle_policy *p);
/*
 * After mark-good: raises the floor to the running image's security version with the
 * counter's auth from the data volume, and records update.floor-raised. Nothing when no
 * floor is kept or it is there already. Errors are logged.
 */
int update_raise_floor(const struct update_system *s);

/* ---- record.c: the audit ledger ----------------------------------------------------------- */

/* Where the ledger daemon listens (NULL: the default); says so once when none runs. */
int record_open(const char *socket_path);
/*
 * Appends a record "update.TYPE" with payload (taken). Where no ledger daemon runs the
 * record is logged instead; where one runs, a record it does not take is an error.
 */
int record_append(const char *type, struct json_object *payload);
