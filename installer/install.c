/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stages in their order, the records of each, the progress shown, and the
 * test-only crash points. install_write() does everything that can be done before the
 * recovery key has been written down; install_commit() records the install, moves the
 * ledger onto the data volume and writes the data volume's header, which is what makes
 * the disk an installed one.
 */
#include <assert.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include "core/hex.h"
#include "core/log.h"
#include "ext/crypto.h"
#include "ext/json.h"
#include "gpt.h"
#include "installer.h"
#include "tpmnv.h"
#include "pcr.h"

struct install_state {
	int fd;
	struct datavol *dv;
	bool written; /* something was written to the target */
	bool committed;
};

static const char *const step_names[_STEP_MAX] = {
	[STEP_WIPE] = "wipe",	      [STEP_TABLE] = "table",	[STEP_ESP] = "esp",
	[STEP_ROOT] = "root",	      [STEP_VERITY] = "verity", [STEP_VERIFY] = "verify",
	[STEP_KEYSLOTS] = "keyslots", [STEP_TPM] = "tpm",	[STEP_FILESYSTEM] = "filesystem",
	[STEP_LEDGER] = "ledger",     [STEP_HEADER] = "header",
};

static const char *const step_titles[_STEP_MAX] = {
	[STEP_WIPE] = "Clear old signatures",
	[STEP_TABLE] = "Partition table (GPT)",
	[STEP_ESP] = "esp: boot loader and UKI",
	[STEP_ROOT] = "root-a: system image",
	[STEP_VERITY] = "verity-a: hash tree",
	[STEP_VERIFY] = "Verify slot A (root hash)",
	[STEP_KEYSLOTS] = "data: LUKS2 recovery keyslot",
	[STEP_TPM] = "data: TPM keyslot and token",
	[STEP_FILESYSTEM] = "data: ext4 file system",
	[STEP_LEDGER] = "Ledger onto the data volume",
	[STEP_HEADER] = "data: LUKS2 header (marker)",
};

const char *install_step_to_string(enum install_step s)
{
	return s >= 0 && s < _STEP_MAX ? step_names[s] : NULL;
}

const char *install_step_title(enum install_step s)
{
	return s >= 0 && s < _STEP_MAX ? step_titles[s] : NULL;
}

void install_crash_point(const char *name)
{
	const char *at = getenv("AIRLOCK_INSTALL_CRASH_AT");

	if (at && streq(at, name)) {
		log_warning("AIRLOCK_INSTALL_CRASH_AT=%s: killing myself here (TEST-ONLY)", name);
		(void)raise(SIGKILL);
	}
}

static void progress(const struct install_job *j, enum install_step s, uint64_t done,
		     uint64_t total)
{
	if (j->progress.update)
		j->progress.update(j->progress.userdata, s, done, total);
}

/* The NV counters the install defined (lib/tpmnv.h): "floor": {index, base}, "ledger_counter". */
static int add_counters(struct json_object *payload, const struct datavol_enrolment *e)
{
	struct json_object *f = json_object_new_object();
	char index[16];

	(void)snprintf(index, sizeof(index), "0x%08" PRIx32, e->floor_index);
	if (json_add(payload, "floor", f) < 0 || json_add_string(f, "index", index) < 0 ||
	    json_add_int(f, "base", (int64_t)e->floor_base) < 0)
		return -ENOMEM;
	(void)snprintf(index, sizeof(index), "0x%08" PRIx32, TPMNV_LEDGER);
	return e->ledger_counter ? json_add_string(payload, "ledger_counter", index) : 0;
}

static int step_begin(const struct install_job *j, enum install_step s, char **ret_error)
{
	if (install_interrupted)
		return error_replace(ret_error, -EINTR, "interrupted before %s",
				     install_step_to_string(s));
	progress(j, s, 0, 1);
	return 0;
}

static void step_end(const struct install_job *j, enum install_step s)
{
	/* Copies report their own bytes; every other step is done in one piece. */
	if (s != STEP_ROOT && s != STEP_VERITY)
		progress(j, s, 1, 1);
	install_crash_point(install_step_to_string(s));
}

/* ---- ledger payloads ------------------------------------------------------------------- */

static struct json_object *disk_json(const struct install_disk *d)
{
	struct json_object *o = json_object_new_object();

	if (!o || json_add_string(o, "device", d->node) < 0 ||
	    json_add_int(o, "size", (int64_t)d->size_bytes) < 0 ||
	    (d->model && json_add_string(o, "model", d->model) < 0) ||
	    (d->serial && json_add_string(o, "serial", d->serial) < 0)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *image_json(const struct install_source *s)
{
	struct json_object *o = json_object_new_object();
	char hex[65];

	hex_to_buf(s->root_hash, 32, hex);
	if (!o || json_add_string(o, "name", s->name) < 0 ||
	    json_add_string(o, "version", s->version) < 0 ||
	    json_add_string(o, "root_hash", hex) < 0 || json_add_string(o, "medium", s->path) < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *partitions_json(const struct install_plan *p)
{
	struct json_object *a = json_object_new_array();

	if (!a)
		return NULL;
	for (size_t i = 0; i < p->layout->n_parts; i++) {
		const struct disklabel_part *part = &p->layout->parts[i];
		struct json_object *o = json_object_new_object();
		if (!o || json_add_string(o, "name", part->name) < 0 ||
		    json_add_string(o, "uuid", part->uuid) < 0 ||
		    json_add_int(o, "start", (int64_t)part->start_bytes) < 0 ||
		    json_add_int(o, "size", (int64_t)part->size_bytes) < 0 ||
		    json_array_add(a, o) < 0) {
			json_object_put(o);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

static int record(const char *type, struct json_object *payload, char **ret_error)
{
	int r;

	if (!payload)
		return error_replace(ret_error, -ENOMEM, "ledger: %s: out of memory", type);
	r = record_append(type, payload, ret_error);
	json_object_put(payload);
	return r;
}

static struct json_object *base_payload(const struct install_job *j)
{
	struct json_object *o = json_object_new_object();

	if (!o || json_add(o, "disk", disk_json(j->target)) < 0 ||
	    json_add(o, "image", image_json(j->source)) < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* ---- the stages --------------------------------------------------------------------------- */

static int open_target(const struct install_disk *d, int *ret_fd, char **ret_error)
{
	struct stat st;
	int fd;

	/*
	 * A block device opened with O_EXCL fails with EBUSY while anything (a mount, dm,
	 * md, another exclusive opener) holds it: the last check that the disk is free. It
	 * is not kept open that way: the kernel would then refuse libfdisk's request to
	 * re-read the new partition table.
	 */
	if (!d->is_file) {
		fd = open(d->node, O_RDWR | O_CLOEXEC | O_EXCL);
		if (fd < 0)
			return error_replace(ret_error, -errno, "%s: %m%s", d->node,
					     errno == EBUSY ? " (in use: mounted, or held by "
							      "another device)" :
							      "");
		safe_close(fd);
	}
	fd = open(d->node, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return error_replace(ret_error, -errno, "%s: %m", d->node);
	if (fstat(fd, &st) < 0 ||
	    (d->is_file ? (st.st_dev != d->file_dev || st.st_ino != d->file_ino) :
			  (!S_ISBLK(st.st_mode) || st.st_rdev != d->devnum))) {
		safe_close(fd);
		return error_replace(ret_error, -ESTALE,
				     "%s is no longer the disk that was probed and confirmed",
				     d->node);
	}
	*ret_fd = fd;
	return 0;
}

int install_write(struct install_job *j, char **ret_error)
{
	struct install_state *st;
	struct json_object *payload;
	int r;

	assert(!j->state);
	st = new0(struct install_state, 1);
	if (!st)
		return -ENOMEM;
	st->fd = -EBADF;
	j->state = st;

	r = open_target(j->target, &st->fd, ret_error);
	if (r < 0)
		return r;

	payload = base_payload(j);
	if (payload && (json_add_string(payload, "disk_guid", j->plan->layout->uuid) < 0 ||
			json_add(payload, "partitions", partitions_json(j->plan)) < 0 ||
			json_add_bool(payload, "tpm", j->tpm->usable) < 0))
		payload = (json_object_put(payload), NULL);
	r = record("install.started", payload, ret_error);
	if (r < 0)
		return r;
	install_crash_point("started");

	if ((r = step_begin(j, STEP_WIPE, ret_error)) < 0)
		return r;
	st->written = true;
	r = wipe_target(st->fd, j->target, j->plan, ret_error);
	if (r < 0)
		return r;
	step_end(j, STEP_WIPE);

	if ((r = step_begin(j, STEP_TABLE, ret_error)) < 0)
		return r;
	r = gpt_write(j->target->node, j->plan->layout);
	if (r < 0)
		return error_replace(ret_error, r, "table: writing the GPT to %s: %s",
				     j->target->node, strerror(-r));
	if (fdatasync(st->fd) < 0)
		return error_replace(ret_error, -errno, "table: %s: fdatasync: %m",
				     j->target->node);
	step_end(j, STEP_TABLE);

	if ((r = step_begin(j, STEP_ESP, ret_error)) < 0)
		return r;
	r = esp_write(j->source, j->target, j->plan, st->fd, ret_error);
	if (r < 0)
		return r;
	step_end(j, STEP_ESP);

	r = slot_copy(j->source, st->fd, j->plan, PLAN_ROOT_A, &j->progress, STEP_ROOT, ret_error);
	if (r < 0)
		return r;
	step_end(j, STEP_ROOT);
	r = slot_copy(j->source, st->fd, j->plan, PLAN_VERITY_A, &j->progress, STEP_VERITY,
		      ret_error);
	if (r < 0)
		return r;
	step_end(j, STEP_VERITY);

	if ((r = step_begin(j, STEP_VERIFY, ret_error)) < 0)
		return r;
	r = slot_verify(j->target, j->plan, j->source->root_hash, ret_error);
	if (r < 0)
		return r;
	step_end(j, STEP_VERIFY);

	payload = base_payload(j);
	if (payload && (json_add(payload, "partitions", partitions_json(j->plan)) < 0 ||
			json_add_string(payload, "verified", "root-a, verity-a") < 0))
		payload = (json_object_put(payload), NULL);
	r = record("install.disk-written", payload, ret_error);
	if (r < 0)
		return r;

	if ((r = step_begin(j, STEP_KEYSLOTS, ret_error)) < 0)
		return r;
	r = datavol_new(&st->dv);
	if (r < 0)
		return r;
	r = datavol_format(st->dv, j->settings, j->recovery_key, ret_error);
	if (r < 0)
		return r;
	step_end(j, STEP_KEYSLOTS);

	if ((r = step_begin(j, STEP_TPM, ret_error)) < 0)
		return r;
	if (j->tpm->usable) {
		struct datavol_enrolment e;
		char hex[65], pk_hex[65];
		uint8_t pk[SHA256_DIGEST_SIZE];

		r = datavol_enroll_tpm(st->dv, j->settings, j->source, ret_error);
		if (r < 0)
			return r;
		datavol_enrolment(st->dv, &e);
		hex_to_buf(e.policy_hash, sizeof(e.policy_hash), hex);
		(void)sha256_buf(j->source->pcr_pubkey, j->source->pcr_pubkey_size, pk);
		hex_to_buf(pk, sizeof(pk), pk_hex);
		payload = base_payload(j);
		struct json_object *pcrs = json_object_new_array(),
				   *signed_pcrs = json_object_new_array();
		if (!payload || !pcrs || !signed_pcrs ||
		    json_array_add(pcrs, json_object_new_int(PCR_SECURE_BOOT_POLICY)) < 0 ||
		    json_array_add(signed_pcrs, json_object_new_int(PCR_KERNEL_BOOT)) < 0 ||
		    json_add(payload, "pcrs", TAKE_PTR(pcrs)) < 0 ||
		    json_add(payload, "signed_pcrs", TAKE_PTR(signed_pcrs)) < 0 ||
		    json_add_string(payload, "policy_hash", hex) < 0 ||
		    json_add_string(payload, "pcr_key_sha256", pk_hex) < 0 ||
		    json_add_string(payload, "pcr_key_origin",
				    strna(j->source->pcr_pubkey_origin)) < 0 ||
		    json_add_int(payload, "keyslot", e.tpm_keyslot) < 0 ||
		    json_add_int(payload, "token", e.tpm_token) < 0 ||
		    json_add_bool(payload, "pcr7_measured", e.unset_pcr_mask == 0) < 0 ||
		    (e.floor && add_counters(payload, &e) < 0)) {
			json_object_put(pcrs);
			json_object_put(signed_pcrs);
			payload = (json_object_put(payload), NULL);
		}
		r = record("install.tpm-enrolled", payload, ret_error);
		if (r < 0)
			return r;
		if (e.unset_pcr_mask)
			log_warning("tpm: PCR 7 holds nothing measured: the binding to it adds no "
				    "protection (the signed PCR 11 policy still applies)");
	} else {
		payload = base_payload(j);
		if (payload && json_add_string(payload, "reason", strna(j->tpm->reason)) < 0)
			payload = (json_object_put(payload), NULL);
		r = record("install.tpm-skipped", payload, ret_error);
		if (r < 0)
			return r;
	}
	step_end(j, STEP_TPM);

	if ((r = step_begin(j, STEP_FILESYSTEM, ret_error)) < 0)
		return r;
	if (j->settings->no_filesystem)
		log_warning("data: --no-filesystem (TEST-ONLY): the data volume is left without "
			    "a file system and the ledger is not moved");
	else {
		r = datavol_make_filesystem(st->dv, j->target, j->plan, ret_error);
		if (r < 0)
			return r;
	}
	step_end(j, STEP_FILESYSTEM);
	return 0;
}

int install_commit(struct install_job *j, char **ret_error)
{
	struct install_state *st = j->state;
	struct datavol_enrolment e;
	struct json_object *payload;
	int r;

	if (!st || !st->dv)
		return -EINVAL;
	datavol_enrolment(st->dv, &e);

	if ((r = step_begin(j, STEP_LEDGER, ret_error)) < 0)
		return r;
	/* The last record before the ledger moves: it is read on the installed system only
	 * if the header below is written, which nothing after this record can prevent but
	 * a failure that the installer then reports. */
	payload = base_payload(j);
	if (payload &&
	    (json_add_string(payload, "luks_uuid", e.luks_uuid) < 0 ||
	     json_add_int(payload, "recovery_keyslot", e.recovery_keyslot) < 0 ||
	     json_add_bool(payload, "tpm", e.tpm) < 0 ||
	     json_add_bool(payload, "operator_passphrase",
			   j->settings->operator_hash && !j->settings->no_filesystem) < 0 ||
	     json_add_string(payload, "marker",
			     "the data volume's LUKS2 header, written after this "
			     "record") < 0))
		payload = (json_object_put(payload), NULL);
	r = record("install.complete", payload, ret_error);
	if (r < 0)
		return r;
	if (!j->settings->no_filesystem) {
		r = datavol_finish_filesystem(st->dv, j->settings, ret_error);
		if (r < 0)
			return r;
	}
	step_end(j, STEP_LEDGER);

	if ((r = step_begin(j, STEP_HEADER, ret_error)) < 0)
		return r;
	r = datavol_commit(st->dv, st->fd, j->target, j->plan, j->recovery_key, ret_error);
	if (r < 0)
		return r;
	st->committed = true;
	step_end(j, STEP_HEADER);
	return 0;
}

void install_record_failure(struct install_job *j, const char *why)
{
	_cleanup_free_ char *error = NULL;
	struct json_object *payload = base_payload(j);

	if (payload && json_add_string(payload, "reason", strna(why)) < 0)
		payload = (json_object_put(payload), NULL);
	if (payload &&
	    json_add_string(payload, "state", "not installed: no data volume header") < 0)
		payload = (json_object_put(payload), NULL);
	if (record("install.failed", payload, &error) < 0)
		log_warning("%s, ignoring.", strna(error));
}

bool install_job_wrote(const struct install_job *j)
{
	return j && j->state && j->state->written;
}

void install_job_done(struct install_job *j)
{
	if (!j || !j->state)
		return;
	datavol_free(j->state->dv);
	if (j->state->fd >= 0 && fdatasync(j->state->fd) < 0)
		log_warning_errno(errno, "%s: fdatasync: %m, ignoring.", j->target->node);
	safe_close(j->state->fd);
	j->state = mfree(j->state);
}
