/* SPDX-License-Identifier: Apache-2.0 */
/* Reading records for show and export: filtered, each checked on the way. */
#include <fnmatch.h>

#include "core/log.h"
#include "ledger-tool.h"
#include "ledger.h"

int record_filter_option(struct record_filter *f, const char *verb, int opt, const char *arg)
{
	switch (opt) {
	case ARG_FILTER_TYPE:
		f->type_glob = arg;
		return 1;
	case ARG_FILTER_SINCE:
		if (ledger_time_parse(arg, f->since) < 0)
			return -usage_error(verb,
					    "--since %s: a UTC time expected (YYYY-MM-DD, "
					    "YYYY-MM-DDTHH:MM[:SS][Z], or @SECONDS)",
					    arg);
		f->has_since = true;
		return 1;
	case ARG_FILTER_FROM:
		if (parse_seq(arg, &f->from) < 0)
			return -usage_error(verb, "--from %s: a record number expected", arg);
		return 1;
	default:
		return 0;
	}
}

static bool selected(const struct record_filter *f, const struct ledger_record *rec)
{
	if (rec->seq < f->from)
		return false;
	if (f->type_glob && fnmatch(f->type_glob, rec->type, 0) != 0)
		return false;
	if (f->has_since && strcmp(rec->time, f->since) < 0)
		return false;
	return true;
}

int records_walk(const char *dir, const struct record_filter *f, bool follow,
		 int (*fn)(const struct ledger_record *rec, void *userdata), void *userdata)
{
	_cleanup_(ledger_reader_freep) struct ledger_reader *rd = NULL;
	_cleanup_(ledger_parser_freep) struct ledger_parser *p = NULL;
	uint8_t last_hash[LEDGER_HASH_SIZE];
	uint64_t last_seq = 0;
	int r;

	r = ledger_parser_new(&p);
	if (r < 0)
		return log_oom();
	r = ledger_reader_open(dir, f->from ?: 1, follow, &rd);
	if (r < 0)
		return log_error_errno(r, "ledger '%s': %m", dir);

	for (;;) {
		_cleanup_(ledger_record_freep) struct ledger_record *rec = NULL;
		_cleanup_free_ char *why = NULL;
		struct ledger_line l;

		r = ledger_reader_next(rd, &l);
		if (r < 0)
			return log_error_errno(r, "ledger '%s': %m", dir);
		if (r == 0) {
			if (!follow)
				return 0;
			r = ledger_reader_wait(rd, -1);
			if (r < 0)
				return log_error_errno(r, "ledger '%s': waiting for records: %m",
						       dir);
			continue;
		}
		if (!l.complete) {
			if (l.last_file && (follow || ledger_dir_is_live(dir) > 0))
				continue; /* being written */
			log_error("%s/%s:%" PRIu64 ": the ledger ends with an incomplete record "
				  "(%zu bytes); run 'airlock-ledger verify'",
				  dir, l.file, l.line_number, l.size);
			return -EBADMSG;
		}
		r = ledger_parser_parse(p, l.line, l.size, &rec, &why);
		if (r == -ENOMEM)
			return log_oom();
		if (r < 0) {
			log_error("%s/%s:%" PRIu64 ": damaged record: %s; run 'airlock-ledger "
				  "verify'",
				  dir, l.file, l.line_number, strna(why));
			return -EBADMSG;
		}
		if (last_seq > 0 &&
		    (rec->seq != last_seq + 1 || memcmp(rec->prev, last_hash, LEDGER_HASH_SIZE))) {
			log_error("%s/%s:%" PRIu64 ": record %" PRIu64 " does not follow record "
				  "%" PRIu64
				  ": the ledger was changed; run 'airlock-ledger verify'",
				  dir, l.file, l.line_number, rec->seq, last_seq);
			return -EBADMSG;
		}
		last_seq = rec->seq;
		memcpy(last_hash, rec->hash, LEDGER_HASH_SIZE);
		if (!selected(f, rec))
			continue;
		r = fn(rec, userdata);
		if (r != 0)
			return r < 0 ? r : 0;
	}
}
