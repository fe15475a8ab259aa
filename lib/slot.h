/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A/B slots as the ESP shows them (DESIGN.md, "Boot", "Updates"). Each slot's boot entry
 * is a UKI in EFI/Linux named
 *
 *     NAME-VERSION-SLOT[+LEFT[-DONE]].efi     e.g. airlock-1.0.1-b+3.efi
 *
 * with systemd-boot's boot counter: "+3" is a fresh entry with three tries left,
 * "+1-2" one left after two failed tries, "+0-3" (or "+0") a bad entry, and no
 * counter a good one (airlock-update mark-good, as systemd-bless-boot would). loader.conf says
 * "default NAME-*" and is never rewritten: systemd-boot 252 sorts entries with no
 * tries left last and the others by version, newest first, and boots the first that
 * matches. So the next boot is the newest slot that is not bad; installing a newer
 * UKI makes it the next boot, spending its tries falls back to the other slot, and a
 * rollback marks the newer entry bad.
 *
 * Pure: parsing and formatting names, and deciding what to rename; lib/fat and the
 * program do the I/O.
 */

#include <stdint.h>

#include "core/macro.h"

#define SLOT_ENTRY_DIR "EFI/Linux"
#define SLOT_ENTRY_TRIES 3 /* a fresh entry's "+3", unless the import says otherwise */
#define SLOT_ENTRY_TRIES_MAX 9 /* the most tries an import may give (one digit) */
/* An entry being written: systemd-boot reads only *.efi in EFI/Linux. */
#define SLOT_ENTRY_TMP_SUFFIX ".tmp"
#define SLOT_TRIES_NONE UINT32_MAX /* no counter: a good entry */

enum slot_state {
	SLOT_EMPTY, /* no boot entry */
	SLOT_GOOD, /* no counter: booted to completion once */
	SLOT_TRYING, /* a counter with tries left */
	SLOT_BAD, /* no tries left */
	_SLOT_STATE_MAX,
	_SLOT_STATE_INVALID = -EINVAL,
};

const char *slot_state_to_string(enum slot_state s);

struct slot_entry {
	char *file; /* "airlock-1.0.1-b+3.efi" (in SLOT_ENTRY_DIR) */
	char *name; /* "airlock" */
	char *version; /* "1.0.1" */
	char slot; /* 'a' or 'b' */
	uint32_t tries_left; /* SLOT_TRIES_NONE: no counter */
	uint32_t tries_done;
};

void slot_entry_done(struct slot_entry *e);

/* Parses a file name of EFI/Linux; -EINVAL if it is not a slot entry. */
int slot_entry_parse(const char *file, struct slot_entry *ret);
/* "NAME-VERSION-SLOT[+LEFT[-DONE]].efi"; tries_left SLOT_TRIES_NONE: no counter. */
int slot_entry_format(const char *name, const char *version, char slot, uint32_t tries_left,
		      uint32_t tries_done, char **ret);
enum slot_state slot_entry_state(const struct slot_entry *e);

/* The ESP's entries, one per slot at most. */
struct slot_table {
	struct slot_entry slots[2]; /* [0] a, [1] b; file NULL: none */
};

void slot_table_done(struct slot_table *t);

/*
 * From the file names in EFI/Linux: the entry of each slot. Files that are not slot
 * entries, or of another image name (name NULL: any), are passed over. -ENOTUNIQ (and
 * the two names in *ret_error) when a slot has two entries.
 */
int slot_table_build(char *const *files, const char *name, struct slot_table *ret,
		     char **ret_error);
const struct slot_entry *slot_table_get(const struct slot_table *t, char slot);
/* The slot systemd-boot boots next ('a', 'b'), or 0 when there is no entry at all. */
char slot_table_next(const struct slot_table *t);
/* The slot whose entry carries version, or 0 (none, or both: -ENOTUNIQ via 0). */
char slot_table_find_version(const struct slot_table *t, const char *version);

static inline char slot_other(char slot)
{
	return slot == 'a' ? 'b' : 'a';
}

static inline int slot_index(char slot)
{
	return slot == 'a' ? 0 : slot == 'b' ? 1 : -EINVAL;
}

/*
 * Rollback: the renames that make slot the next boot. It must have a good or trying
 * entry; the other slot's entry, when it would still come first, is marked bad
 * ("+0-DONE"). *ret_from and *ret_to NULL: nothing to rename (slot is the next boot
 * already). -ENOENT: slot has no entry; -EPERM: its entry is bad.
 */
int slot_plan_rollback(const struct slot_table *t, char slot, char **ret_from, char **ret_to);
/* mark-good: the rename of slot's counted entry to its name without counter (NULL: good already). */
int slot_plan_mark_good(const struct slot_table *t, char slot, char **ret_from, char **ret_to);

/*
 * A boot of slot running that did not complete (its boot-complete check failed): what
 * rebooting would do, as systemd-boot counts. systemd-boot takes a try off a counted
 * entry before it boots it, so the running entry already shows this boot as done.
 */
enum slot_failed_action {
	SLOT_FAILED_RETRY, /* tries left: reboot, systemd-boot boots the slot again */
	SLOT_FAILED_FALL_BACK, /* no tries left, the other slot boots next: reboot */
	SLOT_FAILED_STAY_GOOD, /* a good entry (booted to completion before): no reboot,
				* which would fail the same way for ever */
	SLOT_FAILED_STAY_LAST, /* no tries left and no other slot to boot: no reboot */
	SLOT_FAILED_STAY_NO_ENTRY, /* the running slot has no entry: not known, no reboot */
	_SLOT_FAILED_ACTION_MAX,
	_SLOT_FAILED_ACTION_INVALID = -EINVAL,
};

/* "retry", "fall-back", "stay-good", "stay-last", "stay-no-entry" (ledger records) */
const char *slot_failed_action_to_string(enum slot_failed_action a);
static inline bool slot_failed_action_reboots(enum slot_failed_action a)
{
	return a == SLOT_FAILED_RETRY || a == SLOT_FAILED_FALL_BACK;
}
enum slot_failed_action slot_plan_failed_boot(const struct slot_table *t, char running);
