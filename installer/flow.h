/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The installer's screens as a pure state machine: an event (a key, or the end of a
 * long step) goes in, the next screen and one action for the caller come out. Nothing
 * here draws, probes or writes, so cmocka drives it without a terminal.
 *
 *   WELCOME -> DISKS -> SUMMARY [-> NO_TPM] -> PROGRESS -> KEY_SHOW <-> KEY_CONFIRM
 *           -> PASSPHRASE -> PASSPHRASE_AGAIN -> FINISHING -> DONE
 *                                                       (any long step may -> FAILED)
 *
 * Before the confirmation (typing the disk's name on SUMMARY, and on NO_TPM the
 * second one), Ctrl-C and Esc only ever go back or leave: the caller writes nothing
 * until it gets FLOW_ACTION_WRITE. After the disk work, the install is not complete
 * until the recovery key has been typed back and the operator console's passphrase
 * given twice (the caller hashes flow.passphrase on FLOW_ACTION_COMMIT); leaving there
 * needs Ctrl-C twice and leaves a disk that does not claim to be installed.
 */

#include "core/macro.h"
#include "ext/tui.h"

#define FLOW_TYPED_MAX 257 /* an operator passphrase (256) and one more: "too long" */
#define FLOW_NO_TPM_PHRASE "recovery-only"

enum flow_screen {
	FLOW_WELCOME,
	FLOW_DISKS,
	FLOW_SUMMARY,
	FLOW_NO_TPM,
	FLOW_PROGRESS,
	FLOW_KEY_SHOW,
	FLOW_KEY_CONFIRM,
	FLOW_PASSPHRASE,
	FLOW_PASSPHRASE_AGAIN,
	FLOW_FINISHING,
	FLOW_DONE,
	FLOW_FAILED,
	FLOW_EXIT,
	_FLOW_SCREEN_MAX,
	_FLOW_SCREEN_INVALID = -EINVAL,
};

enum flow_event_type {
	FLOW_EVENT_KEY,
	FLOW_EVENT_WRITTEN, /* the disk work before the recovery key is done */
	FLOW_EVENT_COMMITTED, /* the header is written: the install is complete */
	FLOW_EVENT_FAILED, /* a long step failed */
};

struct flow_event {
	enum flow_event_type type;
	struct tui_input input; /* FLOW_EVENT_KEY */
};

enum flow_action {
	FLOW_ACTION_NONE,
	FLOW_ACTION_WRITE, /* confirmed: do the disk work, then send WRITTEN or FAILED */
	FLOW_ACTION_COMMIT, /* the key was typed back: finish, then COMMITTED or FAILED */
	FLOW_ACTION_REBOOT,
	FLOW_ACTION_EXIT, /* leave; flow.outcome says how it ended */
};

/* What the screen says besides its own text; set by the last event. */
enum flow_notice {
	FLOW_NOTICE_NONE,
	FLOW_NOTICE_NO_DISKS, /* Enter on an empty disk list */
	FLOW_NOTICE_DISK_REFUSED, /* Enter on a disk that cannot be the target */
	FLOW_NOTICE_NAME_MISMATCH, /* the typed name is not the disk's */
	FLOW_NOTICE_PHRASE_MISMATCH, /* NO_TPM: not the phrase */
	FLOW_NOTICE_KEY_MISMATCH, /* the typed key is another key */
	FLOW_NOTICE_KEY_MALFORMED, /* not a key at all (wrong letters or length) */
	FLOW_NOTICE_ABORT_ARMED, /* Ctrl-C once after the disk work: press again to abandon */
	FLOW_NOTICE_PASSPHRASE_REFUSED, /* flow.passphrase_why says why */
	FLOW_NOTICE_PASSPHRASE_MISMATCH, /* the second differs from the first */
	_FLOW_NOTICE_MAX,
};

enum flow_outcome {
	FLOW_OUTCOME_NONE,
	FLOW_OUTCOME_CANCELLED, /* left before the confirmation: nothing was written */
	FLOW_OUTCOME_ABANDONED, /* left at the recovery key: written, but not complete */
	FLOW_OUTCOME_FAILED,
	FLOW_OUTCOME_INSTALLED,
};

struct flow_disk {
	const char *name; /* what is typed to confirm (the node's last component) */
	bool refused;
};

struct flow {
	enum flow_screen screen;
	enum flow_notice notice;
	enum flow_outcome outcome;

	/* inputs */
	const struct flow_disk *disks;
	size_t n_disks;
	bool tpm_usable;
	const char *recovery_key; /* canonical form, secret memory, borrowed */

	size_t cursor; /* DISKS: the highlighted disk */
	size_t chosen; /* from SUMMARY on: the disk being installed */
	char *typed; /* what is being typed (secret memory: it may be the recovery key) */
	size_t n_typed;
	unsigned key_group; /* KEY_MISMATCH: the first group (1-based) that differs */
	char *passphrase; /* PASSPHRASE's, from PASSPHRASE_AGAIN on (secret memory) */
	const char *passphrase_why; /* PASSPHRASE_REFUSED */
	bool abort_armed;
};

int flow_init(struct flow *f, const struct flow_disk *disks, size_t n_disks, bool tpm_usable,
	      const char *recovery_key);
void flow_done(struct flow *f);
enum flow_action flow_handle(struct flow *f, const struct flow_event *e);
/* Helpers for tests and the screens. */
const char *flow_screen_to_string(enum flow_screen s);
/* True while nothing has been written yet and nothing will be without a new confirmation. */
bool flow_nothing_written(const struct flow *f);
