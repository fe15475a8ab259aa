/* SPDX-License-Identifier: Apache-2.0 */
/* The ledger: reading records in order, and verifying the chain and its checkpoints. */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>

#include "core/fd.h"
#include "core/fileio.h"
#include "core/fs.h"
#include "core/hex.h"
#include "core/parse.h"
#include "core/path.h"
#include "core/error.h"
#include "ledger-internal.h"
#include "ledger.h"

/* ---- reading ---------------------------------------------------------------------------- */

struct ledger_reader {
	char *dir;
	struct ledger_file *files;
	size_t n_files;
	size_t index; /* current file */
	int fd;
	bool follow;
	int inotify_fd;

	char *buf;
	size_t cap, start, end;
	uint64_t base_offset; /* file offset of buf[0] */
	uint64_t line_number;
	bool tail_reported; /* the incomplete tail was returned since the last read */
	bool broken; /* an over-long line: nothing more can be read */
};

struct ledger_reader *ledger_reader_free(struct ledger_reader *r)
{
	if (!r)
		return NULL;
	safe_close(r->fd);
	safe_close(r->inotify_fd);
	ledger_files_free(r->files, r->n_files);
	free(r->buf);
	free(r->dir);
	return mfree(r);
}

int ledger_reader_open(const char *dir, uint64_t from_seq, bool follow, struct ledger_reader **ret)
{
	_cleanup_(ledger_reader_freep) struct ledger_reader *r = new0(struct ledger_reader, 1);
	int k;

	if (!r)
		return -ENOMEM;
	r->fd = r->inotify_fd = -EBADF;
	r->follow = follow;
	r->dir = strdup(dir);
	if (!r->dir)
		return -ENOMEM;
	if (follow) {
		/* Watch before listing, so that nothing created in between is missed. */
		r->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (r->inotify_fd < 0)
			return -errno;
		if (inotify_add_watch(r->inotify_fd, dir,
				      IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE |
					      IN_DELETE_SELF | IN_MOVE_SELF) < 0)
			return -errno;
	}
	k = ledger_dir_list(dir, &r->files, &r->n_files);
	if (k < 0)
		return k;
	for (size_t i = 0; i < r->n_files; i++)
		if (r->files[i].first_seq <= from_seq)
			r->index = i;
	r->cap = READ_CHUNK;
	r->buf = malloc(r->cap);
	if (!r->buf)
		return -ENOMEM;
	*ret = TAKE_PTR(r);
	return 0;
}

static int reader_rescan(struct ledger_reader *r)
{
	struct ledger_file *files = NULL;
	size_t n = 0;
	uint64_t last = r->n_files > 0 ? r->files[r->n_files - 1].first_seq : 0;
	int k = ledger_dir_list(r->dir, &files, &n);

	if (k < 0)
		return k;
	for (size_t i = 0; i < n; i++) {
		struct ledger_file *nf;

		if (files[i].first_seq <= last)
			continue;
		nf = realloc(r->files, (r->n_files + 1) * sizeof(*nf));
		if (!nf) {
			ledger_files_free(files, n);
			return -ENOMEM;
		}
		r->files = nf;
		r->files[r->n_files++] = files[i];
		files[i].name = NULL;
	}
	ledger_files_free(files, n);
	return 0;
}

static void reader_fill_line(struct ledger_reader *r, size_t size, bool complete,
			     struct ledger_line *ret)
{
	*ret = (struct ledger_line){
		.line = r->buf + r->start,
		.size = size,
		.complete = complete,
		.file = r->files[r->index].name,
		.file_first_seq = r->files[r->index].first_seq,
		.first_in_file = r->line_number == 0,
		.last_file = r->index + 1 >= r->n_files,
		.line_number = r->line_number + 1,
		.offset = r->base_offset + r->start,
	};
}

int ledger_reader_next(struct ledger_reader *r, struct ledger_line *ret)
{
	int k;

	if (r->broken)
		return -EBADMSG;
	for (;;) {
		const char *nl;
		ssize_t n;

		if (r->fd < 0) {
			_cleanup_free_ char *p = NULL;

			if (r->index >= r->n_files)
				return 0;
			p = path_join(r->dir, r->files[r->index].name);
			if (!p)
				return -ENOMEM;
			r->fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
			if (r->fd < 0)
				return -errno;
			(void)posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
			r->start = r->end = 0;
			r->base_offset = 0;
			r->line_number = 0;
			r->tail_reported = false;
		}

		nl = r->start < r->end ? memchr(r->buf + r->start, '\n', r->end - r->start) : NULL;
		if (nl) {
			size_t size = (size_t)(nl - (r->buf + r->start));
			reader_fill_line(r, size, true, ret);
			r->start += size + 1;
			r->line_number++;
			return 1;
		}
		if (r->end - r->start > LEDGER_LINE_MAX) {
			/* No newline where one must have been: report it and stop here. */
			reader_fill_line(r, r->end - r->start, false, ret);
			r->broken = true;
			return 1;
		}
		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->base_offset += r->start;
			r->end -= r->start;
			r->start = 0;
		}
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n > 0) {
			r->end += (size_t)n;
			r->tail_reported = false;
			continue;
		}

		/* End of this file. */
		if (r->follow && r->index + 1 >= r->n_files) {
			k = reader_rescan(r);
			if (k < 0)
				return k;
		}
		if (r->end > r->start && !r->tail_reported) {
			reader_fill_line(r, r->end - r->start, false, ret);
			r->tail_reported = true;
			return 1;
		}
		if (r->index + 1 >= r->n_files)
			return 0;
		r->fd = safe_close(r->fd);
		r->index++;
	}
}

int ledger_reader_wait(struct ledger_reader *r, int timeout_ms)
{
	struct pollfd pfd = { .fd = r->inotify_fd, .events = POLLIN };
	uint8_t buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool gone = false;
	ssize_t n;
	int k;

	if (r->inotify_fd < 0)
		return -EINVAL;
	k = poll(&pfd, 1, timeout_ms);
	if (k < 0)
		return errno == EINTR ? 0 : -errno;
	if (k == 0)
		return 0;
	while ((n = read(r->inotify_fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *e = (const void *)(buf + i);
			if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
				gone = true;
			i += (ssize_t)sizeof(*e) + e->len;
		}
	/* Nothing more will ever be written where we look. */
	return gone ? -ENOENT : 1;
}

/* ---- verification ----------------------------------------------------------------------- */

void ledger_verify_result_done(struct ledger_verify_result *r)
{
	r->error = mfree(r->error);
	r->bad_file = mfree(r->bad_file);
}

static int verify_bad(struct ledger_verify_result *res, const struct ledger_line *l, uint64_t seq,
		      const char *fmt, ...) _printf_(4, 5);
static int verify_bad(struct ledger_verify_result *res, const struct ledger_line *l, uint64_t seq,
		      const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	res->bad_seq = seq;
	if (l) {
		res->bad_file = strdup(l->file);
		res->bad_line = l->line_number;
		res->bad_offset = l->offset;
		if (asprintf(&res->error, "%s:%" PRIu64 ": record %" PRIu64 ": %s", l->file,
			     l->line_number, seq, strna(msg)) < 0)
			res->error = NULL;
	} else {
		res->error = TAKE_PTR(msg);
	}
	return -EBADMSG;
}

/* The first line of a file, complete, into *ret. */
static int read_first_line(const char *dir, const char *name, char **ret, size_t *ret_size)
{
	_cleanup_free_ char *p = path_join(dir, name), *buf = NULL;
	_cleanup_close_ int fd = -EBADF;
	ssize_t n;
	char *nl;

	if (!p)
		return -ENOMEM;
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	buf = malloc(LEDGER_LINE_MAX + 2);
	if (!buf)
		return -ENOMEM;
	n = loop_read(fd, buf, LEDGER_LINE_MAX + 1);
	if (n < 0)
		return (int)n;
	nl = memchr(buf, '\n', (size_t)n);
	if (!nl)
		return -EBADMSG;
	*nl = '\0';
	*ret_size = (size_t)(nl - buf);
	*ret = TAKE_PTR(buf);
	return 0;
}

/* The key a genesis record announces; checks that its fingerprint matches. */
static int genesis_key(const struct ledger_record *g, struct ed25519_key **ret, char **ret_error)
{
	_cleanup_free_ uint8_t *raw = NULL;
	char fp[LEDGER_HASH_HEX_SIZE];
	const char *b64, *want;
	size_t n = 0;
	int r;

	if (!streq(g->type, LEDGER_TYPE_GENESIS))
		return error_set(ret_error, -EBADMSG, "the first record is not a %s record",
				 LEDGER_TYPE_GENESIS);
	if (json_get_string(g->payload, "public_key", &b64) < 0 ||
	    json_get_string(g->payload, "key", &want) < 0 || base64_decode(b64, &raw, &n) < 0 ||
	    n != ED25519_PUBLIC_KEY_SIZE)
		return error_set(ret_error, -EBADMSG,
				 "the genesis record has no valid \"key\" and \"public_key\"");
	r = ed25519_key_from_raw_public(raw, ret);
	if (r < 0)
		return error_set(ret_error, -EBADMSG,
				 "the genesis record's public key is not an Ed25519 key");
	r = ledger_key_fingerprint(*ret, fp);
	if (r < 0)
		return r;
	if (!streq(fp, want)) {
		*ret = ed25519_key_free(*ret);
		return error_set(ret_error, -EBADMSG,
				 "the genesis record's \"key\" is not the fingerprint of its "
				 "\"public_key\"");
	}
	return 0;
}

int ledger_read_genesis(struct ledger_parser *p, const char *dir, const struct ledger_file *first,
			struct ledger_record **ret, char **ret_error)
{
	_cleanup_free_ char *line = NULL;
	size_t n = 0;
	int r;

	if (first->first_seq != 1)
		return error_set(ret_error, -EBADMSG,
				 "the first file is %s: records 1 to %" PRIu64 " are missing",
				 first->name, first->first_seq - 1);
	r = read_first_line(dir, first->name, &line, &n);
	if (r == -EBADMSG)
		return error_set(ret_error, -EBADMSG, "%s: the genesis record is incomplete",
				 first->name);
	if (r < 0)
		return r;
	return ledger_parser_parse(p, line, n, ret, ret_error);
}

static int verify_checkpoint(struct ledger_verify_result *res, const struct ledger_line *l,
			     const struct ledger_record *rec, struct ed25519_key *key,
			     const char *fp)
{
	_cleanup_free_ char *msg = NULL;
	const char *kfp, *reason;
	int r;

	if (json_get_string(rec->payload, "key", &kfp) < 0 ||
	    json_get_string(rec->payload, "reason", &reason) < 0)
		return verify_bad(res, l, rec->seq, "checkpoint without \"key\" and \"reason\"");
	if (!streq(kfp, fp))
		return verify_bad(res, l, rec->seq,
				  "checkpoint names key %s, but the ledger's key is %s", kfp, fp);
	r = ledger_checkpoint_message(rec->hash, &msg);
	if (r < 0)
		return r;
	r = ed25519_verify(key, msg, strlen(msg), rec->sig);
	if (r == -EBADMSG)
		return verify_bad(res, l, rec->seq,
				  "checkpoint signature does not verify with key %s", fp);
	return r;
}

int ledger_verify(const char *dir, const struct ledger_verify_opts *o,
		  struct ledger_verify_result *res)
{
	_cleanup_(ledger_parser_freep) struct ledger_parser *p = NULL;
	_cleanup_(ledger_reader_freep) struct ledger_reader *rd = NULL;
	_cleanup_(ed25519_key_freep) struct ed25519_key *own_key = NULL;
	_cleanup_(ledger_record_freep) struct ledger_record *genesis = NULL;
	struct ledger_file *files = NULL;
	struct ed25519_key *key = o ? o->pubkey : NULL;
	uint64_t from = o && o->from_seq > 1 ? o->from_seq : 1;
	uint64_t expect = 0;
	char last_hex[HASH_HEX_LEN];
	bool anchored = false;
	const char *last_file = NULL;
	size_t n_files = 0;
	int r;

	*res = (struct ledger_verify_result){};

	r = ledger_dir_list(dir, &files, &n_files);
	if (r < 0) {
		if (asprintf(&res->error, "%s: %s", dir, strerror(-r)) < 0)
			res->error = NULL;
		return r;
	}
	if (n_files == 0) {
		ledger_files_free(files, n_files);
		if (asprintf(&res->error, "%s: no ledger files (" FILE_PREFIX "*" FILE_SUFFIX ")",
			     dir) < 0)
			res->error = NULL;
		return -ENOENT;
	}
	res->live = ledger_dir_is_live(dir) > 0;

	r = ledger_parser_new(&p);
	if (r < 0)
		goto finish;

	/* The key: the one given, which must be the one the ledger was created with. */
	{
		_cleanup_free_ char *why = NULL;
		r = ledger_read_genesis(p, dir, &files[0], &genesis, &why);
		if (r == -EBADMSG && !(key && from > 1)) {
			r = verify_bad(res, NULL, 1, "%s: %s", dir, strna(why));
			goto finish;
		}
		if (r < 0 && r != -EBADMSG)
			goto finish;
		if (genesis) {
			why = mfree(why);
			r = genesis_key(genesis, &own_key, &why);
			if (r == -EBADMSG) {
				r = verify_bad(res, NULL, 1, "%s:1: record 1: %s", files[0].name,
					       strna(why));
				goto finish;
			}
			if (r < 0)
				goto finish;
		}
	}
	if (key) {
		r = ledger_key_fingerprint(key, res->key_fingerprint);
		if (r < 0)
			goto finish;
		if (own_key) {
			char gfp[LEDGER_HASH_HEX_SIZE];
			r = ledger_key_fingerprint(own_key, gfp);
			if (r < 0)
				goto finish;
			if (!streq(gfp, res->key_fingerprint)) {
				r = verify_bad(
					res, NULL, 1,
					"%s:1: record 1: the ledger was created with key %s, "
					"not with the given key %s",
					files[0].name, gfp, res->key_fingerprint);
				goto finish;
			}
		}
	} else {
		key = own_key;
		res->key_from_ledger = true;
		r = ledger_key_fingerprint(key, res->key_fingerprint);
		if (r < 0)
			goto finish;
	}

	r = ledger_reader_open(dir, from, false, &rd);
	if (r < 0)
		goto finish;
	if (from == 1)
		expect = 1;

	for (;;) {
		_cleanup_free_ char *why = NULL;
		struct ledger_frame f;
		struct ledger_line l;

		r = ledger_reader_next(rd, &l);
		if (r < 0)
			goto finish;
		if (r == 0)
			break;
		if (!last_file || !streq(last_file, l.file)) {
			res->n_files++;
			last_file = l.file;
		}

		if (!l.complete) {
			uint64_t s = expect ?: from;
			if (l.last_file && res->live) {
				/* Being written right now: not a record yet. */
				res->in_progress_bytes = l.size;
				break;
			}
			res->torn = l.last_file;
			r = verify_bad(res, &l, s,
				       l.last_file ?
					       "incomplete final record (%zu bytes without an "
					       "end of line): torn write or truncation" :
					       "incomplete record (%zu bytes without an end "
					       "of line) before the end of the file",
				       l.size);
			goto finish;
		}

		r = ledger_frame_parse(l.line, l.size, &f, &why);
		/* Before --from: only follow the chain, to anchor the first record checked. */
		if (expect == 0) {
			if (r < 0 || f.seq + 1 < from)
				continue;
			if (f.seq + 1 == from) {
				memcpy(last_hex, f.hash_hex, HASH_HEX_LEN);
				anchored = true;
				expect = from;
				continue;
			}
			expect = from;
		}
		if (r < 0) {
			r = verify_bad(res, &l, expect, "%s", strna(why));
			goto finish;
		}
		r = ledger_frame_hash_ok(p->hasher, l.line, &f);
		if (r < 0)
			goto finish;
		if (r == 0) {
			r = verify_bad(
				res, &l, f.seq == expect ? f.seq : expect,
				"hash mismatch: the record was changed after it was written");
			goto finish;
		}

		if (f.seq != expect) {
			r = verify_bad(res, &l, f.seq,
				       f.seq > expect ? "sequence gap: expected record %" PRIu64
							" here (records deleted or reordered)" :
							"out of order: expected record %" PRIu64
							" here (records duplicated or reordered)",
				       expect);
			goto finish;
		}
		if (l.first_in_file && f.seq != l.file_first_seq) {
			r = verify_bad(res, &l, f.seq,
				       "the file's name says it begins with record %" PRIu64,
				       l.file_first_seq);
			goto finish;
		}
		if (f.seq == 1) {
			if (!ledger_frame_type_is(&f, LEDGER_TYPE_GENESIS)) {
				r = verify_bad(res, &l, 1, "the first record is not a %s record",
					       LEDGER_TYPE_GENESIS);
				goto finish;
			}
			if (memcmp(f.prev_hex, ledger_zero_hex, HASH_HEX_LEN) != 0) {
				r = verify_bad(res, &l, 1,
					       "the first record's \"prev\" is not zero");
				goto finish;
			}
		} else if (ledger_frame_type_is(&f, LEDGER_TYPE_GENESIS)) {
			r = verify_bad(res, &l, f.seq, "a %s record after the first",
				       LEDGER_TYPE_GENESIS);
			goto finish;
		} else if (anchored && memcmp(f.prev_hex, last_hex, HASH_HEX_LEN) != 0) {
			r = verify_bad(res, &l, f.seq,
				       "chain broken: \"prev\" is not the hash of record %" PRIu64,
				       f.seq - 1);
			goto finish;
		}

		if (f.sig_b64 || f.seq == 1 || (o && o->deep)) {
			_cleanup_(ledger_record_freep) struct ledger_record *rec = NULL;

			why = mfree(why);
			r = ledger_parser_parse(p, l.line, l.size, &rec, &why);
			if (r == -EBADMSG) {
				r = verify_bad(res, &l, f.seq, "%s", strna(why));
				goto finish;
			}
			if (r < 0)
				goto finish;
			if (rec->has_sig) {
				r = verify_checkpoint(res, &l, rec, key, res->key_fingerprint);
				if (r < 0)
					goto finish;
				res->n_checkpoints++;
				res->last_checkpoint_seq = rec->seq;
			}
		}

		if (res->n_records == 0)
			res->first_seq = f.seq;
		res->n_records++;
		res->last_seq = f.seq;
		memcpy(last_hex, f.hash_hex, HASH_HEX_LEN);
		anchored = true;
		expect = f.seq + 1;
	}

	if (res->n_records == 0)
		r = verify_bad(res, NULL, from, "%s: no records from %" PRIu64 " on", dir, from);
	else
		r = 0;
finish:
	if (r < 0 && r != -EBADMSG && !res->error &&
	    asprintf(&res->error, "%s: %s", dir, strerror(-r)) < 0)
		res->error = NULL;
	ledger_files_free(files, n_files);
	return r;
}
