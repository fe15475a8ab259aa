/* SPDX-License-Identifier: Apache-2.0 */
/* The ledger's one writer: staging, group commit, checkpoints, files, repair. */
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

/* ---- writing ---------------------------------------------------------------------------- */

struct ledger_writer {
	char *dir;
	int lock_fd;
	int fd; /* the current file, O_APPEND */
	char *file_name;
	uint64_t file_size; /* durable bytes of the current file */
	struct ed25519_key *key;
	char fp[LEDGER_HASH_HEX_SIZE];
	struct ledger_actor self;
	struct sha256_hasher *hasher;
	uint64_t max_file_size;
	uint64_t checkpoint_every;

	/* the durable head */
	uint64_t seq;
	uint8_t hash[LEDGER_HASH_SIZE];
	uint64_t n_unsigned;

	/* the batch: records built but not yet written */
	char *batch;
	size_t batch_size, batch_cap;
	uint64_t batch_seq;
	uint8_t batch_hash[LEDGER_HASH_SIZE];
	uint64_t batch_unsigned;

	bool broken;
};

void ledger_open_info_done(struct ledger_open_info *i)
{
	i->repair_file = mfree(i->repair_file);
	i->repair_saved = mfree(i->repair_saved);
}

struct ledger_writer *ledger_writer_free(struct ledger_writer *w)
{
	if (!w)
		return NULL;
	safe_close(w->fd);
	safe_close(w->lock_fd);
	free(w->file_name);
	ledger_actor_done(&w->self);
	sha256_hasher_free(w->hasher);
	free(w->batch);
	free(w->dir);
	return mfree(w);
}

uint64_t ledger_writer_unsigned(const struct ledger_writer *w)
{
	return w->batch_unsigned;
}

uint64_t ledger_writer_head_seq(const struct ledger_writer *w)
{
	return w->seq;
}

uint64_t ledger_writer_last_seq(const struct ledger_writer *w)
{
	return w->batch_seq;
}

void ledger_writer_rollback(struct ledger_writer *w)
{
	w->batch_size = 0;
	w->batch_seq = w->seq;
	memcpy(w->batch_hash, w->hash, LEDGER_HASH_SIZE);
	w->batch_unsigned = w->n_unsigned;
}

static int now_time(char out[LEDGER_TIME_SIZE])
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return -errno;
	return ledger_time_format((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, out);
}

static int writer_stage(struct ledger_writer *w, const char *type, const struct ledger_actor *actor,
			struct json_object *payload, bool sign, uint64_t *ret_seq,
			uint8_t *ret_hash)
{
	_cleanup_free_ char *line = NULL;
	char t[LEDGER_TIME_SIZE];
	struct ledger_entry e = {
		.seq = w->batch_seq + 1,
		.time = t,
		.type = type,
		.actor = actor,
		.payload = payload,
	};
	uint8_t hash[LEDGER_HASH_SIZE];
	size_t n = 0;
	int r = now_time(t);

	if (r < 0)
		return r;
	memcpy(e.prev, w->batch_hash, LEDGER_HASH_SIZE);
	r = ledger_line_format(&e, w->hasher, sign ? w->key : NULL, &line, &n, hash);
	if (r < 0)
		return r;
	if (w->batch_size + n > w->batch_cap) {
		size_t cap = MAX(w->batch_cap * 2, w->batch_size + n + 4096);
		char *b = realloc(w->batch, cap);
		if (!b)
			return -ENOMEM;
		w->batch = b;
		w->batch_cap = cap;
	}
	memcpy(w->batch + w->batch_size, line, n);
	w->batch_size += n;
	w->batch_seq = e.seq;
	memcpy(w->batch_hash, hash, LEDGER_HASH_SIZE);
	w->batch_unsigned = sign ? 0 : w->batch_unsigned + 1;
	if (ret_seq)
		*ret_seq = e.seq;
	if (ret_hash)
		memcpy(ret_hash, hash, LEDGER_HASH_SIZE);
	return 0;
}

static int writer_stage_checkpoint(struct ledger_writer *w, const char *reason)
{
	_cleanup_json_ struct json_object *p = json_object_new_object();

	if (!p || json_add_string(p, "reason", reason) < 0 || json_add_string(p, "key", w->fp) < 0)
		return -ENOMEM;
	return writer_stage(w, LEDGER_TYPE_CHECKPOINT, &w->self, p, true, NULL, NULL);
}

/* Cuts the file back to its last durable record after a failed write. */
static int writer_cut_back(struct ledger_writer *w)
{
	if (ftruncate(w->fd, (off_t)w->file_size) < 0 || fdatasync(w->fd) < 0) {
		w->broken = true;
		return -EIO;
	}
	return 0;
}

int ledger_writer_commit(struct ledger_writer *w)
{
	int r, k;

	if (w->broken)
		return -EIO;
	if (w->batch_size == 0)
		return 0;
	r = loop_write(w->fd, w->batch, w->batch_size);
	if (r >= 0 && fdatasync(w->fd) < 0)
		r = -errno;
	if (r < 0) {
		k = writer_cut_back(w);
		ledger_writer_rollback(w);
		return k < 0 ? k : r;
	}
	w->file_size += w->batch_size;
	w->seq = w->batch_seq;
	memcpy(w->hash, w->batch_hash, LEDGER_HASH_SIZE);
	w->n_unsigned = w->batch_unsigned;
	w->batch_size = 0;
	return 0;
}

static int writer_open_file(struct ledger_writer *w, uint64_t first_seq, bool create)
{
	_cleanup_free_ char *name = NULL, *p = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	int r = ledger_file_name_make(first_seq, &name);

	if (r < 0)
		return r;
	p = path_join(w->dir, name);
	if (!p)
		return -ENOMEM;
	fd = open(p, O_RDWR | O_APPEND | O_CLOEXEC | O_NOCTTY | (create ? O_CREAT | O_EXCL : 0),
		  0640);
	if (fd < 0)
		return -errno;
	if (create) {
		/* The new name must be durable before anything in it is acknowledged. */
		r = fsync_directory_of(p);
		if (r < 0)
			return r;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	safe_close(w->fd);
	w->fd = TAKE_FD(fd);
	free_and_replace(w->file_name, name);
	w->file_size = (uint64_t)st.st_size;
	return 0;
}

int ledger_writer_rotate(struct ledger_writer *w)
{
	int r;

	if (w->batch_unsigned > 0) {
		r = writer_stage_checkpoint(w, "rotate");
		if (r < 0)
			return r;
	}
	r = ledger_writer_commit(w);
	if (r < 0)
		return r;
	return writer_open_file(w, w->seq + 1, true);
}

int ledger_writer_add(struct ledger_writer *w, const char *type, const struct ledger_actor *actor,
		      struct json_object *payload, uint64_t *ret_seq,
		      uint8_t ret_hash[LEDGER_HASH_SIZE])
{
	uint8_t hash[LEDGER_HASH_SIZE];
	size_t saved_size;
	uint64_t saved_seq, saved_unsigned, seq = 0;
	uint8_t saved_hash[LEDGER_HASH_SIZE];
	int r;

	if (w->broken)
		return -EIO;
	if (!ledger_type_is_valid(type) || streq(type, LEDGER_TYPE_CHECKPOINT) || !actor)
		return -EINVAL;
	if (w->file_size + w->batch_size >= w->max_file_size) {
		r = ledger_writer_rotate(w);
		if (r < 0) {
			ledger_writer_rollback(w);
			return r;
		}
	}
	saved_size = w->batch_size;
	saved_seq = w->batch_seq;
	saved_unsigned = w->batch_unsigned;
	memcpy(saved_hash, w->batch_hash, LEDGER_HASH_SIZE);

	r = writer_stage(w, type, actor, payload, false, &seq, hash);
	if (r >= 0 && w->batch_unsigned >= w->checkpoint_every)
		r = writer_stage_checkpoint(w, "interval");
	if (r < 0) {
		w->batch_size = saved_size;
		w->batch_seq = saved_seq;
		w->batch_unsigned = saved_unsigned;
		memcpy(w->batch_hash, saved_hash, LEDGER_HASH_SIZE);
		return r;
	}
	if (ret_seq)
		*ret_seq = seq;
	if (ret_hash)
		memcpy(ret_hash, hash, LEDGER_HASH_SIZE);
	return 0;
}

int ledger_writer_checkpoint(struct ledger_writer *w, const char *reason)
{
	if (w->broken)
		return -EIO;
	return writer_stage_checkpoint(w, reason);
}

/* What the last file says about the head of the ledger. */
struct scan {
	bool have; /* a valid record was found in the file */
	uint64_t seq;
	uint8_t hash[LEDGER_HASH_SIZE];
	uint64_t n_unsigned;
	bool clean;
	bool torn;
	uint64_t torn_offset;
};

static int scan_last_file(struct ledger_parser *p, struct sha256_hasher *h, const char *dir,
			  const struct ledger_file *f, struct scan *s, char **ret_error)
{
	_cleanup_(ledger_reader_freep) struct ledger_reader *rd = NULL;
	_cleanup_free_ char *last_checkpoint = NULL;
	size_t last_checkpoint_size = 0;
	char last_hex[HASH_HEX_LEN];
	int r = ledger_reader_open(dir, f->first_seq, false, &rd);

	if (r < 0)
		return r;
	*s = (struct scan){};
	for (;;) {
		_cleanup_free_ char *why = NULL;
		struct ledger_frame fr;
		struct ledger_line l;

		r = ledger_reader_next(rd, &l);
		if (r < 0)
			return r;
		if (r == 0 || l.file_first_seq != f->first_seq)
			break;
		if (!l.complete || memchr(l.line, '\0', l.size)) {
			/* Cut short, or zeros where a record was being written: a torn write. */
			s->torn = true;
			s->torn_offset = l.offset;
			break;
		}
		r = ledger_frame_parse(l.line, l.size, &fr, &why);
		if (r >= 0) {
			r = ledger_frame_hash_ok(h, l.line, &fr);
			if (r < 0)
				return r;
			if (r == 0) {
				free(why);
				why = strdup("hash mismatch");
				r = -EBADMSG;
			}
		}
		if (r == -EBADMSG)
			return error_set(ret_error, -EBADMSG,
					 "%s:%" PRIu64 ": %s; this is not a torn write: check the "
					 "ledger with 'airlock-ledger verify'",
					 l.file, l.line_number, strna(why));
		if (r < 0)
			return r;
		if (s->have ? fr.seq != s->seq + 1 || memcmp(fr.prev_hex, last_hex, HASH_HEX_LEN) :
			      fr.seq != f->first_seq)
			return error_set(ret_error, -EBADMSG,
					 "%s:%" PRIu64 ": record %" PRIu64
					 " does not follow the record "
					 "before it; check the ledger with 'airlock-ledger verify'",
					 l.file, l.line_number, fr.seq);
		s->have = true;
		s->seq = fr.seq;
		memcpy(last_hex, fr.hash_hex, HASH_HEX_LEN);
		s->n_unsigned = fr.sig_b64 ? 0 : s->n_unsigned + 1;
		last_checkpoint = mfree(last_checkpoint);
		if (fr.sig_b64) {
			last_checkpoint = strndup(l.line, l.size);
			if (!last_checkpoint)
				return -ENOMEM;
			last_checkpoint_size = l.size;
		}
	}
	if (s->have) {
		char buf[LEDGER_HASH_HEX_SIZE];
		memcpy(buf, last_hex, HASH_HEX_LEN);
		buf[HASH_HEX_LEN] = '\0';
		r = unhex_exact(buf, s->hash, LEDGER_HASH_SIZE);
		if (r < 0)
			return r;
	}
	if (last_checkpoint) {
		/* A ledger that ends with a shutdown checkpoint was closed cleanly. */
		_cleanup_(ledger_record_freep) struct ledger_record *rec = NULL;
		_cleanup_free_ char *why = NULL;
		const char *reason;

		r = ledger_parser_parse(p, last_checkpoint, last_checkpoint_size, &rec, &why);
		if (r == -EBADMSG)
			return error_set(ret_error, -EBADMSG, "%s: record %" PRIu64 ": %s", f->name,
					 s->seq, strna(why));
		if (r < 0)
			return r;
		s->clean = json_get_string(rec->payload, "reason", &reason) >= 0 &&
			   (streq(reason, "shutdown") || streq(reason, "migrate"));
	}
	return 0;
}

/* The last record of a file that is not the last one. */
static int last_record_of(struct ledger_parser *p, const char *dir, const struct ledger_file *f,
			  struct scan *s, char **ret_error)
{
	_cleanup_(ledger_reader_freep) struct ledger_reader *rd = NULL;
	_cleanup_free_ char *last = NULL;
	size_t last_size = 0;
	int r = ledger_reader_open(dir, f->first_seq, false, &rd);

	if (r < 0)
		return r;
	for (;;) {
		struct ledger_line l;

		r = ledger_reader_next(rd, &l);
		if (r < 0)
			return r;
		if (r == 0 || l.file_first_seq != f->first_seq)
			break;
		if (!l.complete)
			return error_set(ret_error, -EBADMSG, "%s ends with an incomplete record",
					 f->name);
		free(last);
		last = strndup(l.line, l.size);
		if (!last)
			return -ENOMEM;
		last_size = l.size;
	}
	if (!last)
		return error_set(ret_error, -EBADMSG, "%s is empty", f->name);
	{
		_cleanup_(ledger_record_freep) struct ledger_record *rec = NULL;
		_cleanup_free_ char *why = NULL;
		r = ledger_parser_parse(p, last, last_size, &rec, &why);
		if (r == -EBADMSG)
			return error_set(ret_error, -EBADMSG, "%s: last record: %s", f->name,
					 strna(why));
		if (r < 0)
			return r;
		*s = (struct scan){ .have = true, .seq = rec->seq };
		memcpy(s->hash, rec->hash, LEDGER_HASH_SIZE);
	}
	return 0;
}

/* Drops a torn tail: saves the bytes beside the file, then cuts the file. */
static int writer_repair(struct ledger_writer *w, uint64_t offset, struct ledger_open_info *info,
			 char ret_sha256[LEDGER_HASH_HEX_SIZE])
{
	_cleanup_free_ char *data = NULL, *saved = NULL, *saved_path = NULL;
	uint8_t d[LEDGER_HASH_SIZE];
	uint64_t n = w->file_size - offset;
	char t[LEDGER_TIME_SIZE];
	ssize_t k;
	int r;

	if (offset > w->file_size || n > SIZE_MAX - 1)
		return -EINVAL;
	data = malloc(n + 1);
	if (!data)
		return -ENOMEM;
	k = pread(w->fd, data, n, (off_t)offset);
	if (k < 0)
		return -errno;
	if ((uint64_t)k != n)
		return -EIO;
	r = now_time(t);
	if (r < 0)
		return r;
	/* "<file>.torn-<offset>-<YYYYMMDDTHHMMSSuuuuuu>" */
	if (asprintf(&saved, "%s.torn-%" PRIu64 "-%.4s%.2s%.2sT%.2s%.2s%.2s%.6s", w->file_name,
		     offset, t, t + 5, t + 8, t + 11, t + 14, t + 17, t + 20) < 0)
		return -ENOMEM;
	saved_path = path_join(w->dir, saved);
	if (!saved_path)
		return -ENOMEM;
	r = write_file_atomic(saved_path, data, n, 0640);
	if (r < 0)
		return r;
	r = sha256_buf(data, n, d);
	if (r < 0)
		return r;
	sha256_hex(d, ret_sha256);
	if (ftruncate(w->fd, (off_t)offset) < 0 || fsync(w->fd) < 0)
		return -errno;
	w->file_size = offset;

	info->repaired = true;
	info->repair_offset = offset;
	info->repair_bytes = n;
	info->repair_file = strdup(w->file_name);
	info->repair_saved = TAKE_PTR(saved);
	if (!info->repair_file)
		return -ENOMEM;
	return 0;
}

static int writer_add_genesis(struct ledger_writer *w)
{
	_cleanup_json_ struct json_object *p = json_object_new_object();
	_cleanup_free_ char *b64 = NULL;
	uint8_t raw[ED25519_PUBLIC_KEY_SIZE];
	int r = ed25519_key_raw_public(w->key, raw);

	if (r < 0)
		return r;
	b64 = base64_encode(raw, sizeof(raw));
	if (!p || !b64 || json_add_int(p, "format", LEDGER_FORMAT) < 0 ||
	    json_add_string(p, "key", w->fp) < 0 || json_add_string(p, "public_key", b64) < 0)
		return -ENOMEM;
	return writer_stage(w, LEDGER_TYPE_GENESIS, &w->self, p, false, NULL, NULL);
}

static int writer_add_repair(struct ledger_writer *w, const struct ledger_open_info *info,
			     const char *sha256)
{
	_cleanup_json_ struct json_object *p = json_object_new_object();

	if (!p || json_add_string(p, "file", info->repair_file) < 0 ||
	    json_add_int(p, "offset", (int64_t)info->repair_offset) < 0 ||
	    json_add_int(p, "bytes", (int64_t)info->repair_bytes) < 0 ||
	    json_add_string(p, "sha256", sha256) < 0 ||
	    json_add_string(p, "saved_as", info->repair_saved) < 0)
		return -ENOMEM;
	return writer_stage(w, LEDGER_TYPE_REPAIR, &w->self, p, false, NULL, NULL);
}

static int writer_lock(struct ledger_writer *w)
{
	_cleanup_free_ char *p = path_join(w->dir, LOCK_FILE);
	struct flock fl = ledger_whole_file_lock(F_WRLCK);

	if (!p)
		return -ENOMEM;
	w->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (w->lock_fd < 0)
		return -errno;
	if (fcntl(w->lock_fd, F_OFD_SETLK, &fl) < 0)
		return errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
	return 0;
}

int ledger_writer_open(const char *dir, struct ed25519_key *key, const struct ledger_writer_opts *o,
		       const struct ledger_actor *self, struct ledger_writer **ret,
		       struct ledger_open_info *ret_info, char **ret_error)
{
	_cleanup_(ledger_writer_freep) struct ledger_writer *w = NULL;
	_cleanup_(ledger_parser_freep) struct ledger_parser *p = NULL;
	_cleanup_(ledger_open_info_done) struct ledger_open_info info = {};
	_cleanup_(ledger_record_freep) struct ledger_record *genesis = NULL;
	char repair_sha[LEDGER_HASH_HEX_SIZE] = "";
	struct ledger_file *files = NULL;
	struct scan s = {};
	size_t n_files = 0;
	bool need_genesis = false;
	int r;

	if (!key || !ed25519_key_is_private(key) || !self)
		return -EINVAL;
	w = new0(struct ledger_writer, 1);
	if (!w)
		return -ENOMEM;
	w->fd = w->lock_fd = -EBADF;
	w->key = key;
	w->max_file_size = o && o->max_file_size ? o->max_file_size : LEDGER_FILE_SIZE_DEFAULT;
	w->checkpoint_every = o && o->checkpoint_every ? o->checkpoint_every :
							 LEDGER_CHECKPOINT_EVERY_DEFAULT;
	w->dir = strdup(dir);
	if (!w->dir)
		return -ENOMEM;
	w->self = (struct ledger_actor){ .uid = self->uid, .gid = self->gid, .pid = self->pid };
	if (self->unit) {
		w->self.unit = strdup(self->unit);
		if (!w->self.unit)
			return -ENOMEM;
	}
	r = ledger_key_fingerprint(key, w->fp);
	if (r < 0)
		return r;
	r = sha256_hasher_new(&w->hasher);
	if (r < 0)
		return r;
	r = ledger_parser_new(&p);
	if (r < 0)
		return r;

	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		r = -errno;
		error_set(ret_error, -EBADMSG, "%s: cannot create the directory: %s", dir,
			  strerror(-r));
		return r;
	}
	r = writer_lock(w);
	if (r == -EBUSY)
		error_set(ret_error, -EBADMSG,
			  "in use by another writer (is airlock-ledger serve running?)");
	if (r < 0)
		return r;

	r = ledger_dir_list(dir, &files, &n_files);
	if (r < 0)
		return r;

	if (n_files == 0) {
		r = writer_open_file(w, 1, true);
		if (r < 0)
			goto finish;
		need_genesis = true;
		info.created = true;
	} else {
		const struct ledger_file *last = &files[n_files - 1];
		_cleanup_free_ char *why = NULL;

		r = writer_open_file(w, last->first_seq, false);
		if (r < 0)
			goto finish;
		r = scan_last_file(p, w->hasher, dir, last, &s, ret_error);
		if (r < 0)
			goto finish;
		if (s.torn) {
			r = writer_repair(w, s.torn_offset, &info, repair_sha);
			if (r < 0)
				goto finish;
		}
		if (!s.have && n_files > 1) {
			r = last_record_of(p, dir, &files[n_files - 2], &s, ret_error);
			if (r < 0)
				goto finish;
			if (s.seq + 1 != last->first_seq) {
				r = error_set(ret_error, -EBADMSG,
					      "%s ends with record %" PRIu64 " but %s follows it",
					      files[n_files - 2].name, s.seq, last->name);
				goto finish;
			}
		}
		if (!s.have && n_files == 1) {
			/* Nothing survived of the genesis record: begin again. */
			need_genesis = true;
			info.created = true;
		} else {
			r = ledger_read_genesis(p, dir, &files[0], &genesis, &why);
			if (r == -EBADMSG) {
				r = error_set(ret_error, -EBADMSG, "%s: %s", dir, strna(why));
				goto finish;
			}
			if (r < 0)
				goto finish;
			if (!streq(genesis->type, LEDGER_TYPE_GENESIS)) {
				r = error_set(ret_error, -EBADMSG,
					      "%s: the first record is not a %s record",
					      files[0].name, LEDGER_TYPE_GENESIS);
				goto finish;
			}
			{
				const char *gfp = NULL;
				if (json_get_string(genesis->payload, "key", &gfp) < 0 ||
				    !streq(gfp, w->fp)) {
					r = -EKEYREJECTED;
					if (ret_error &&
					    asprintf(ret_error,
						     "the ledger was created with key %s, not with "
						     "this key (%s)",
						     strna(gfp), w->fp) < 0)
						*ret_error = NULL;
					goto finish;
				}
			}
		}
		info.clean = s.clean && !s.torn;
	}

	w->seq = s.seq;
	memcpy(w->hash, s.have ? s.hash : ledger_zero_hash, LEDGER_HASH_SIZE);
	w->n_unsigned = s.n_unsigned;
	ledger_writer_rollback(w);
	info.head_seq = w->seq;

	if (need_genesis) {
		r = writer_add_genesis(w);
		if (r < 0)
			goto finish;
	}
	if (info.repaired) {
		r = writer_add_repair(w, &info, repair_sha);
		if (r < 0)
			goto finish;
	}
	r = ledger_writer_commit(w);
	if (r < 0)
		goto finish;

	if (ret_info) {
		*ret_info = info;
		info = (struct ledger_open_info){};
	}
	*ret = TAKE_PTR(w);
	r = 0;
finish:
	ledger_files_free(files, n_files);
	return r;
}
