/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-ledger serve --tpm-counter: the ledger's high-water mark in a TPM NV counter
 * (airlock-ledger(8), ROLLBACK DETECTION). A counter only increases by one, and the TPM
 * starts a redefined one at the highest value any counter on it held, so the mark is the
 * counter's value as the ledger last recorded it:
 *
 *   1. a "ledger.high-water" record {"counter": C + 1} is made durable, then
 *   2. the counter is incremented to C + 1.
 *
 * At every start (after the check below), at most once per --tpm-interval (at a
 * checkpoint), and at a clean shutdown. At start,
 * the last such record (H) and the counter (C) must agree: H == C, or H == C + 1 (a cut
 * between the two steps: the increment is done now). H < C means the ledger is older than
 * the TPM knows: it was rolled back (a copy written back); H > C + 1, or no counter, means
 * the TPM's counter was replaced. Either is recorded as ledger.rollback-detected, in a
 * fresh file, and every append is refused until root acknowledges it (a request of type
 * LEDGER_TYPE_ROLLBACK_ACK, `airlock-ledger acknowledge-rollback`).
 */
#include <inttypes.h>

#include "core/fileio.h"
#include "core/log.h"
#include "core/secret.h"
#include "ext/tpm.h"
#include "serve.h"

#define AUTH_FILE_MAX 64

/* The last ledger.high-water record's counter: 1 and *ret, 0 if there is none. */
static int last_mark(const char *dir, uint64_t *ret)
{
	_cleanup_(ledger_reader_freep) struct ledger_reader *rd = NULL;
	_cleanup_(ledger_parser_freep) struct ledger_parser *p = NULL;
	bool found = false;
	int r;

	r = ledger_reader_open(dir, 1, false, &rd);
	if (r < 0)
		return r;
	r = ledger_parser_new(&p);
	if (r < 0)
		return r;
	for (;;) {
		_cleanup_(ledger_record_freep) struct ledger_record *rec = NULL;
		struct ledger_frame f;
		struct ledger_line l;
		int64_t v;

		r = ledger_reader_next(rd, &l);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		if (!l.complete || ledger_frame_parse(l.line, l.size, &f, NULL) < 0 ||
		    !ledger_frame_type_is(&f, LEDGER_TYPE_HIGH_WATER))
			continue;
		if (ledger_parser_parse(p, l.line, l.size, &rec, NULL) < 0 ||
		    json_get_int(rec->payload, "counter", &v) < 0 || v < 0)
			continue; /* verify reports a damaged record; the mark is the last good */
		*ret = (uint64_t)v;
		found = true;
	}
	return found;
}

/* Steps 1 and 2 above: the record of C + 1, durable, then the increment. */
static int write_mark(struct server *s, struct tpm_context *t, uint64_t now_value)
{
	struct json_object *p = json_object_new_object();
	uint64_t v = 0;
	int r;

	if (!p || json_add_int(p, "counter", (int64_t)(now_value + 1)) < 0 ||
	    json_add_string(p, "index", s->mark.index_hex) < 0) {
		json_object_put(p);
		return log_oom();
	}
	r = server_record(s, LEDGER_TYPE_HIGH_WATER, s->mark.self, p);
	if (r < 0)
		return r;
	r = tpm_nv_counter_increment(t, s->mark.index, s->mark.auth, s->mark.auth_size, &v);
	if (r < 0)
		return log_error_errno(r,
				       "TPM counter %s: the increment failed: %m (the record "
				       "says %" PRIu64 "; the next mark catches up)",
				       s->mark.index_hex, now_value + 1);
	if (v != now_value + 1)
		log_warning("TPM counter %s: %" PRIu64 " after the increment, not %" PRIu64
			    " (something else incremented it)",
			    s->mark.index_hex, v, now_value + 1);
	s->mark.value = v;
	s->mark.last_write = now_mono();
	return 0;
}

static int detected(struct server *s, const char *reason, bool have_mark, uint64_t mark,
		    int counter_r, uint64_t counter)
{
	struct json_object *p = json_object_new_object();
	int r;

	free(s->mark.refusal);
	if (asprintf(&s->mark.refusal,
		     "the ledger was rolled back or its TPM counter replaced (%s): appends are "
		     "refused until root acknowledges it (airlock-ledger acknowledge-rollback)",
		     reason) < 0) {
		json_object_put(p);
		return log_oom();
	}
	log_error("ledger: ROLLBACK DETECTED: %s; last high-water mark %s%" PRIu64
		  ", TPM counter %s %s%" PRIu64,
		  reason, have_mark ? "" : "none ", have_mark ? mark : 0, s->mark.index_hex,
		  counter_r < 0 ? "unreadable " : "", counter_r < 0 ? 0 : counter);
	if (!p || json_add_string(p, "reason", reason) < 0 ||
	    json_add_string(p, "index", s->mark.index_hex) < 0 ||
	    (have_mark && json_add_int(p, "ledger_mark", (int64_t)mark) < 0) ||
	    (counter_r >= 0 && json_add_int(p, "tpm_counter", (int64_t)counter) < 0) ||
	    json_add_int(p, "head_seq", (int64_t)ledger_writer_head_seq(s->w)) < 0) {
		json_object_put(p);
		return log_oom();
	}
	/* In a file of its own: what follows the rollback starts afresh, visibly. */
	r = ledger_writer_rotate(s->w);
	if (r < 0) {
		json_object_put(p);
		return log_error_errno(r, "starting a fresh ledger file: %m");
	}
	r = server_record(s, LEDGER_TYPE_ROLLBACK_DETECTED, s->mark.self, p);
	if (r < 0)
		return r;
	s->mark.rolled_back = true;
	return 0;
}

int mark_start(struct server *s, const char *dir)
{
	_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
	_cleanup_free_ char *auth = NULL;
	uint64_t h = 0, c = 0;
	bool have;
	int r, cr;

	if (!s->mark.enabled)
		return 0;
	r = last_mark(dir, &h);
	if (r < 0)
		return log_error_errno(r, "ledger '%s': reading its high-water marks: %m", dir);
	have = r > 0;
	r = read_full_file(s->mark.auth_file, AUTH_FILE_MAX, &auth, &s->mark.auth_size);
	if (r == -ENOENT && !have) {
		/* Not provisioned: a ledger in /run, or one whose install defined no counter
		 * (no TPM). Nothing was ever marked, so nothing can have been rolled back. */
		log_notice("ledger: no high-water mark in the TPM: %s does not exist and the "
			   "ledger holds no mark (the install defined no counter)",
			   s->mark.auth_file);
		s->mark.enabled = false;
		return 0;
	}
	if (r == -ENOENT)
		return detected(s,
				"the ledger holds high-water marks but the counter's "
				"authorization file is gone",
				have, h, -ENOENT, 0);
	if (r < 0)
		return log_error_errno(r, "--tpm-auth %s: %m", s->mark.auth_file);
	s->mark.auth = secret_alloc(s->mark.auth_size + 1);
	if (!s->mark.auth)
		return log_oom();
	memcpy(s->mark.auth, auth, s->mark.auth_size);
	explicit_bzero(auth, s->mark.auth_size);

	r = tpm_context_new(s->mark.tcti, &t);
	if (r < 0)
		return log_error_errno(r, "TPM at %s: %m (--tpm-counter needs the TPM)",
				       s->mark.tcti ?: TPM_DEFAULT_TCTI);
	cr = tpm_nv_counter_read(t, s->mark.index, &c);
	if (cr == -ENODATA) /* defined, never incremented: it holds no value yet */
		cr = tpm_nv_counter_increment(t, s->mark.index, s->mark.auth, s->mark.auth_size,
					      &c);
	if (cr < 0 && cr != -ENOENT && cr != -EMEDIUMTYPE)
		return log_error_errno(cr, "TPM counter %s: %m", s->mark.index_hex);
	s->mark.value = c;

	if (cr == -ENOENT || cr == -EMEDIUMTYPE)
		return detected(s,
				cr == -ENOENT ? "the TPM has no counter at the index" :
						"the index holds no counter",
				have, h, cr, c);
	if (!have) {
		log_info("ledger: no high-water mark yet; the first is %" PRIu64
			 " (TPM counter %s)",
			 c + 1, s->mark.index_hex);
		return write_mark(s, t, c);
	}
	if (h < c)
		return detected(s, "the ledger's last high-water mark is below the TPM's counter",
				have, h, cr, c);
	if (h > c + 1)
		return detected(s, "the TPM's counter is below the ledger's last high-water mark",
				have, h, cr, c);
	if (h == c + 1) {
		log_notice("ledger: the last high-water mark %" PRIu64 " was recorded but the "
			   "counter not incremented (a cut between the two): incrementing now",
			   h);
		r = tpm_nv_counter_increment(t, s->mark.index, s->mark.auth, s->mark.auth_size, &c);
		if (r < 0)
			return log_error_errno(r, "TPM counter %s: %m", s->mark.index_hex);
		s->mark.value = c;
	}
	log_info("ledger: high-water mark %" PRIu64 " matches TPM counter %s", s->mark.value,
		 s->mark.index_hex);
	/* And a new mark at every start: a copy of the ledger taken before this boot is
	 * found out at the next start, even when nothing was appended in between. */
	return write_mark(s, t, s->mark.value);
}

int mark_maybe(struct server *s, bool force)
{
	_cleanup_(tpm_context_freep) struct tpm_context *t = NULL;
	int r;

	if (!s->mark.enabled || s->mark.rolled_back)
		return 0;
	if (!force && now_mono() < s->mark.last_write + s->mark.interval)
		return 0;
	r = tpm_context_new(s->mark.tcti, &t);
	if (r < 0) {
		s->mark.last_write = now_mono(); /* not again in a tight loop */
		return log_error_errno(r, "TPM at %s: %m; no high-water mark this time",
				       s->mark.tcti ?: TPM_DEFAULT_TCTI);
	}
	r = write_mark(s, t, s->mark.value);
	if (r < 0)
		s->mark.last_write = now_mono();
	return r;
}

void mark_done(struct server *s)
{
	s->mark.auth = secret_free(s->mark.auth);
	s->mark.refusal = mfree(s->mark.refusal);
}
