/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-update status, rollback, mark-good, boot-failed: the slots as the ESP and the
 * partitions show them, the two renames that change the next boot, and what a boot that
 * did not complete does (lib/slot decides them).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "cmdline.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/run.h"
#include "ext/verity.h"
#include "version.h"
#include "update-tool.h"

struct slot_options {
	const char *disk;
	const char *root;
	const char *running_version;
	const char *ledger;
	struct update_system sys; /* without --disk: the running system */
};

static void slot_options_done(struct slot_options *o)
{
	update_system_done(&o->sys);
}

static int parse_slot_options(const char *verb, int argc, char **argv, bool need_running,
			      void (*help)(void), struct slot_options *ret)
{
	enum { ARG_DISK = 0x100, ARG_ROOT, ARG_RUNNING_VERSION, ARG_LEDGER };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "disk", required_argument, NULL, ARG_DISK },
		{ "root", required_argument, NULL, ARG_ROOT },
		{ "running-version", required_argument, NULL, ARG_RUNNING_VERSION },
		{ "ledger-socket", required_argument, NULL, ARG_LEDGER },
		{},
	};
	struct slot_options o = {};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return 1;
		case ARG_DISK:
			o.disk = optarg;
			break;
		case ARG_ROOT:
			o.root = optarg;
			break;
		case ARG_RUNNING_VERSION:
			o.running_version = optarg;
			break;
		case ARG_LEDGER:
			o.ledger = optarg;
			break;
		default:
			return -EXIT_USAGE;
		}
	}
	if (optind != argc)
		return -usage_error(verb, "unexpected argument '%s'", argv[optind]);
	if (!o.disk) {
		if (o.running_version)
			return -usage_error(verb, "--running-version goes with --disk only");
		if (update_system_load(verb, o.root, &o.sys) < 0)
			return -EXIT_FAILURE;
		o.running_version = o.sys.version;
		*ret = o;
		return 0;
	}
	if (o.root)
		return -usage_error(verb, "--root goes without --disk only");
	if (o.running_version && !version_is_valid(o.running_version))
		return -usage_error(verb, "--running-version needs a version (digits and dots)");
	if (need_running && !o.running_version)
		return -usage_error(verb, "--running-version is required with --disk");
	*ret = o;
	return 0;
}

/* What a slot verb needs, besides its options. */
struct slot_verb {
	const char *name;
	void (*help)(void);
	bool need_running; /* --running-version required with --disk */
	bool records; /* it writes to the ledger */
	bool writable; /* it renames entries on the ESP */
	bool one_slot; /* the installer medium (slot a only) will do */
};

/*
 * The start every slot verb shares: its options, the ledger when it records, and the
 * disk it acts on (--disk, or the running system's boot disk). Returns -1 when the verb
 * goes on with *o and *ret, else the status to exit with (--help, errors: logged).
 */
static int slot_verb_open(const struct slot_verb *v, int argc, char **argv, struct slot_options *o,
			  struct update_disk **ret)
{
	int r = parse_slot_options(v->name, argc, argv, v->need_running, v->help, o);

	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : -r;
	if (v->records && record_open(o->ledger) < 0)
		return EXIT_FAILURE;
	if (o->disk)
		r = update_disk_open(o->disk, v->writable, o->running_version, ret);
	else
		r = update_system_open_disk(v->name, &o->sys, v->writable, v->one_slot, ret);
	return r < 0 ? EXIT_FAILURE : -1;
}

/* Whether the slot's verity superblock and top hash block agree with root_hash (quick). */
static const char *superblock_state(struct update_disk *d, char slot, const uint8_t root_hash[32])
{
	int r, i = slot_index(slot);
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *node = NULL;

	if (i < 0 || !d->verity[i])
		return "not checked";
	const struct disklabel_part *v = d->verity[i];

	r = loop_device_attach(d->path, v->start_bytes, v->size_bytes, true, &fd, &node);
	if (r < 0)
		return "not checked (no loop device)";
	r = verity_check_root_hash(node, root_hash);
	if (r >= 0)
		return "matches the root hash";
	if (r == -EPERM)
		return "DOES NOT MATCH the root hash";
	return "MISSING: the slot was overwritten (an import was refused or interrupted)";
}

static void status_help(void)
{
	printf("Usage: airlock-update status [--root DIR]\n"
	       "       airlock-update status --disk IMAGE [--running-version V]\n"
	       "\n"
	       "The slots: each one's image and version, root hash, boot entry and its tries,\n"
	       "whether its verity superblock matches; which slot is booted and which one\n"
	       "systemd-boot boots next; why, when the booted slot is not the newer one.\n"
	       "\n"
	       "Without --disk: the running system's boot disk; the booted slot is the one\n"
	       "airlock-init booted (" BOOT_SLOT_PATH "). With --disk, the slot whose entry\n"
	       "carries --running-version.\n"
	       "\n"
	       "  --disk IMAGE            a disk laid out by airlock-install instead\n"
	       "  --running-version V     with --disk: the booted slot's version\n"
	       "  --root DIR              the running system's files are below DIR (tests)\n");
}

int verb_status(int argc, char **argv)
{
	_cleanup_(update_disk_freep) struct update_disk *d = NULL;
	_cleanup_(slot_options_done) struct slot_options o = {};
	char next;
	int r;

	r = slot_verb_open(&(const struct slot_verb){ .name = "status",
						      .help = status_help,
						      .one_slot = true },
			   argc, argv, &o, &d);
	if (r >= 0)
		return r;
	next = slot_table_next(&d->slots);
	printf("disk:    %s\n", d->path);
	if (d->running)
		printf("booted:  %c (%s)\n", d->running, o.running_version);
	else
		printf("booted:  unknown (a disk image: give --running-version)\n");
	if (next)
		printf("next:    %c\n", next);
	else
		printf("next:    none: no boot entry on the ESP\n");
	for (char s = 'a'; s <= 'b'; s++) {
		const struct slot_entry *e = slot_table_get(&d->slots, s);
		enum slot_state st = slot_entry_state(e);
		uint8_t hash[32];
		char hex[65];

		if (!d->root[slot_index(s)]) {
			printf("slot %c:  none: the disk has no root-%c (the installer medium)\n",
			       s, s);
			continue;
		}
		if (!e) {
			printf("slot %c:  empty (no boot entry)\n", s);
			continue;
		}
		printf("slot %c:  %s %s, %s", s, e->name, e->version, slot_state_to_string(st));
		if (st == SLOT_TRYING)
			printf(", %" PRIu32 " tries left", e->tries_left);
		if (st == SLOT_BAD && e->tries_done > 0)
			printf(" (%" PRIu32 " boots did not complete, or rolled back)",
			       e->tries_done);
		else if (st == SLOT_BAD)
			printf(" (rolled back)");
		printf("%s%s\n", s == d->running ? ", booted" : "", s == next ? ", next" : "");
		printf("         entry %s/%s\n", SLOT_ENTRY_DIR, e->file);
		if (update_disk_root_hash(d, e, hash) < 0) {
			printf("         root hash unknown (no record, no readable UKI command line)\n");
			continue;
		}
		hex_to_buf(hash, 32, hex);
		printf("         root hash %s\n", hex);
		printf("         verity-%c superblock %s\n", s, superblock_state(d, s, hash));
	}
	/* Why the booted slot is not the newest: a fallback or a rollback. */
	if (d->running) {
		const struct slot_entry *b = slot_table_get(&d->slots, d->running),
					*x = slot_table_get(&d->slots, slot_other(d->running));

		if (b && x && slot_entry_state(x) == SLOT_BAD &&
		    version_compare(x->version, b->version) > 0) {
			if (x->tries_done >= update_disk_tries(d, x))
				printf("why:     slot %c (%s %s) did not complete a boot in its %" PRIu32
				       " tries: systemd-boot fell back to slot %c (%s)\n",
				       x->slot, x->name, x->version, x->tries_done, d->running,
				       b->version);
			else
				printf("why:     slot %c (%s %s) was marked bad (a rollback, after %" PRIu32
				       " tries): slot %c (%s) boots\n",
				       x->slot, x->name, x->version, x->tries_done, d->running,
				       b->version);
		}
	}
	return EXIT_SUCCESS;
}

static struct json_object *switch_payload(const struct update_disk *d, const char *from,
					  const char *to, char slot, const char *running_version)
{
	struct json_object *o = json_object_new_object();

	if (o && (json_add_string(o, "disk", d->path) < 0 ||
		  json_add_string(o, "running_version", running_version) < 0 ||
		  json_add_string(o, "slot", (char[]){ slot, 0 }) < 0 ||
		  (from && json_add_string(o, "from", from) < 0) ||
		  (to && json_add_string(o, "to", to) < 0)))
		o = (json_object_put(o), NULL);
	return o;
}

static void rollback_help(void)
{
	printf("Usage: airlock-update rollback [--root DIR]\n"
	       "       airlock-update rollback --disk IMAGE --running-version V\n"
	       "\n"
	       "Makes the other slot the next boot: it must hold a good image (every block is\n"
	       "checked against its root hash first); the running slot's entry is marked bad\n"
	       "(renamed NAME-VERSION-SLOT+0-N.efi) when it would still come first.\n"
	       "\n"
	       "Exit status: 0 done, 3 refused (the other slot is empty, bad or damaged), 1 failed.\n");
}

int verb_rollback(int argc, char **argv)
{
	_cleanup_(update_disk_freep) struct update_disk *d = NULL;
	_cleanup_free_ char *from = NULL, *to = NULL;
	const struct slot_entry *e;
	_cleanup_(slot_options_done) struct slot_options o = {};
	uint8_t hash[32];
	char other;
	int r;

	r = slot_verb_open(&(const struct slot_verb){ .name = "rollback",
						      .help = rollback_help,
						      .need_running = true,
						      .records = true,
						      .writable = true },
			   argc, argv, &o, &d);
	if (r >= 0)
		return r;
	other = slot_other(d->running);
	e = slot_table_get(&d->slots, other);
	r = slot_plan_rollback(&d->slots, other, &from, &to);
	if (r == -ENOENT || r == -EPERM) {
		const char *why = r == -ENOENT ?
					  "has no boot entry (no image)" :
					  "is bad (its tries were spent, or it was rolled back)";
		log_error("rollback: refused: slot %c %s%s%s", other, why, e ? ": " : "",
			  e ? e->file : "");
		(void)record_append("update.rollback-refused",
				    switch_payload(d, NULL, NULL, other, o.running_version));
		return EXIT_REFUSED;
	}
	if (r < 0)
		return log_oom(), EXIT_FAILURE;
	r = update_disk_root_hash(d, e, hash);
	if (r < 0) {
		log_error_errno(r, "rollback: refused: slot %c's root hash is unknown: %m", other);
		return EXIT_REFUSED;
	}
	r = update_disk_verify_slot(d, other, hash);
	if (r == -EPERM) {
		log_error("rollback: refused: slot %c (%s) does not match its root hash: it was "
			  "overwritten or is damaged",
			  other, e->file);
		(void)record_append("update.rollback-refused",
				    switch_payload(d, NULL, NULL, other, o.running_version));
		return EXIT_REFUSED;
	}
	if (r < 0)
		return EXIT_FAILURE;
	if (!from) {
		printf("slot %c (%s) is the next boot already\n", other, e->version);
		return EXIT_SUCCESS;
	}
	r = record_append("update.rollback", switch_payload(d, from, to, other, o.running_version));
	if (r < 0)
		return EXIT_FAILURE;
	r = update_disk_rename_entry(d, from, to);
	if (r < 0)
		return EXIT_FAILURE;
	printf("rolled back: slot %c (%s %s) is the next boot; %s/%s marked bad (%s)\n", other,
	       e->name, e->version, SLOT_ENTRY_DIR, from, to);
	return EXIT_SUCCESS;
}

static void mark_good_help(void)
{
	printf("Usage: airlock-update mark-good [--root DIR]\n"
	       "       airlock-update mark-good --disk IMAGE --running-version V\n"
	       "\n"
	       "Marks the booted slot good: its entry loses its try counter\n"
	       "(NAME-VERSION-SLOT.efi). On the running system it then raises the version floor\n"
	       "the TPM keeps to the image's security version (airlock-tpm(8)).\n"
	       "On the appliance airlock-update-mark-good.service runs\n"
	       "it once boot-complete.target is reached; it replaces systemd-bless-boot, which\n"
	       "the image masks (see airlock-update(8)).\n");
}

int verb_mark_good(int argc, char **argv)
{
	_cleanup_(update_disk_freep) struct update_disk *d = NULL;
	_cleanup_free_ char *from = NULL, *to = NULL;
	_cleanup_(slot_options_done) struct slot_options o = {};
	int r;

	r = slot_verb_open(&(const struct slot_verb){ .name = "mark-good",
						      .help = mark_good_help,
						      .need_running = true,
						      .records = true,
						      .writable = true,
						      .one_slot = true },
			   argc, argv, &o, &d);
	if (r >= 0)
		return r;
	r = slot_plan_mark_good(&d->slots, d->running, &from, &to);
	if (r == -ENOENT) {
		log_error("mark-good: slot %c, the booted one, has no boot entry on %s "
			  "(%s/*-%c*.efi): nothing to mark good",
			  d->running, d->path, SLOT_ENTRY_DIR, d->running);
		return EXIT_FAILURE;
	}
	if (r < 0)
		return log_oom(), EXIT_FAILURE;
	if (!from)
		printf("slot %c is good already\n", d->running);
	else {
		r = record_append("update.marked-good",
				  switch_payload(d, from, to, d->running, o.running_version));
		if (r < 0)
			return EXIT_FAILURE;
		r = update_disk_rename_entry(d, from, to);
		if (r < 0)
			return EXIT_FAILURE;
		printf("marked good: slot %c, %s/%s\n", d->running, SLOT_ENTRY_DIR, to);
	}
	/* A good boot of the running system raises the version floor to its security
	 * version (again at each boot, so that a raise a power cut stopped is finished). */
	if (!o.disk && !o.root && update_raise_floor(&o.sys) < 0)
		return EXIT_FAILURE;
	return EXIT_SUCCESS;
}

static void boot_failed_help(void)
{
	printf("Usage: airlock-update boot-failed [--root DIR]\n"
	       "       airlock-update boot-failed --disk IMAGE --running-version V\n"
	       "\n"
	       "This boot did not complete (airlock-boot-complete.service failed; it is that\n"
	       "unit's OnFailure=): says so on the console and in the ledger, and reboots when\n"
	       "a reboot leads somewhere: the booted slot has tries left (systemd-boot tries\n"
	       "it again), or none and the other slot boots next (the fallback). A good slot,\n"
	       "or a last slot with nothing to fall back to, stays up for the operator.\n"
	       "\n"
	       "With --disk or --root it only says what it would do: it reboots nothing.\n"
	       "\n"
	       "Exit status: 0 (rebooting, or staying up as said), 1 failed.\n");
}

int verb_boot_failed(int argc, char **argv)
{
	_cleanup_(update_disk_freep) struct update_disk *d = NULL;
	_cleanup_(slot_options_done) struct slot_options o = {};
	_cleanup_free_ char *error = NULL;
	const struct slot_entry *e, *n;
	enum slot_failed_action act;
	struct json_object *p;
	char next;
	bool reboot;
	int r;

	r = slot_verb_open(&(const struct slot_verb){ .name = "boot-failed",
						      .help = boot_failed_help,
						      .need_running = true,
						      .records = true,
						      .one_slot = true },
			   argc, argv, &o, &d);
	if (r >= 0)
		return r;
	e = slot_table_get(&d->slots, d->running);
	act = slot_plan_failed_boot(&d->slots, d->running);
	next = slot_table_next(&d->slots);
	n = next ? slot_table_get(&d->slots, next) : NULL;
	/* Only the running system itself is rebooted. */
	reboot = slot_failed_action_reboots(act) && !o.disk && !o.root;

	if (e)
		printf("this boot of slot %c (%s %s, entry %s) did not complete: ", d->running,
		       e->name, e->version, e->file);
	else
		printf("this boot of slot %c did not complete: ", d->running);
	switch (act) {
	case SLOT_FAILED_RETRY:
		printf("%" PRIu32 " %s left, %s\n", e->tries_left,
		       e->tries_left == 1 ? "try" : "tries",
		       reboot ? "rebooting to try it again" : "a reboot would try it again");
		break;
	case SLOT_FAILED_FALL_BACK:
		printf("no tries left, %s slot %c (%s %s)\n",
		       reboot ? "rebooting into" : "a reboot would boot", next, n->name,
		       n->version);
		break;
	case SLOT_FAILED_STAY_GOOD:
		printf("the slot is good (it completed a boot before) and a reboot would boot it "
		       "again: staying up; see 'journalctl -b -u airlock-boot-complete.service'\n");
		break;
	case SLOT_FAILED_STAY_LAST:
		printf("no tries left and no other slot to boot: staying up; see 'journalctl -b "
		       "-u airlock-boot-complete.service'\n");
		break;
	default:
		printf("the slot has no boot entry on %s: staying up\n", d->path);
		break;
	}
	fflush(stdout);

	p = switch_payload(d, e ? e->file : NULL, NULL, d->running, o.running_version);
	if (p && (json_add_string(p, "action", slot_failed_action_to_string(act)) < 0 ||
		  (next && json_add_string(p, "next", (char[]){ next, 0 }) < 0)))
		p = (json_object_put(p), NULL);
	/* The record is wanted, but a ledger that does not take it must not keep a failed
	 * boot from falling back. */
	(void)record_append("update.boot-failed", p);
	if (!reboot)
		return EXIT_SUCCESS;
	r = run_argv((const char *const[]){ "systemctl", "--no-block", "reboot", NULL },
		     &(struct run_opts){ .timeout_sec = 60 }, NULL, &error);
	if (r < 0) {
		log_error("boot-failed: the reboot failed: %s", strna(error));
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}
