/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The audit ledger (airlock-ledger(5)): append-only, hash-chained records, one JSON
 * line each, in numbered files that rotate by size, with Ed25519-signed checkpoints.
 *
 * A record line is the canonical body B followed by its hash (and, for checkpoints,
 * a signature):
 *
 *   B = {"seq":N,"time":"YYYY-MM-DDTHH:MM:SS.uuuuuuZ","type":T,
 *        "actor":{"uid":U,"gid":G,"pid":P,"unit":S|null},"payload":{...},"prev":"<hex>"
 *   line = B,"hash":"<hex of sha256(B)>"}\n
 *   line = B,"hash":"<hex>","sig":"<base64 Ed25519 signature>"}\n      (checkpoints)
 *
 * B is json-c's compact serialisation of the record without "hash" and "sig", minus
 * its final '}'. "prev" is the hash of the record before (64 zeros for the first).
 * Files are DIR/ledger-<seq of their first record, 16 digits>.jsonl; the first
 * record of a file chains to the last record of the file before.
 *
 * This module is the format (building and parsing lines), reading and verifying a
 * ledger directory, and the single writer that appends to one (the daemon, or
 * migrate): durable appends, rotation, checkpoints, and repair of a torn tail.
 */

#include <stdint.h>
#include <sys/types.h>

#include "core/macro.h"
#include "ext/crypto.h"
#include "ext/json.h"

#define LEDGER_FORMAT 1
#define LEDGER_DIR_DEFAULT "/var/lib/airlock/ledger"
#define LEDGER_DIR_RUNTIME "/run/airlock/ledger"

#define LEDGER_HASH_SIZE SHA256_DIGEST_SIZE
#define LEDGER_HASH_HEX_SIZE SHA256_HEX_SIZE
#define LEDGER_TIME_SIZE 28 /* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" and NUL */
#define LEDGER_TYPE_MAX 32
#define LEDGER_PAYLOAD_MAX (32U * 1024U) /* serialised payload bytes */
#define LEDGER_LINE_MAX (64U * 1024U)
#define LEDGER_FILE_SIZE_DEFAULT (64ULL * 1024 * 1024)
#define LEDGER_CHECKPOINT_EVERY_DEFAULT 1000U

/* Types the ledger writes itself. Clients may not use the "ledger." prefix. */
#define LEDGER_TYPE_PREFIX_RESERVED "ledger."
#define LEDGER_TYPE_GENESIS "ledger.genesis"
#define LEDGER_TYPE_CHECKPOINT "ledger.checkpoint"
#define LEDGER_TYPE_REPAIR "ledger.repair"
#define LEDGER_TYPE_START "ledger.start"
#define LEDGER_TYPE_MIGRATE "ledger.migrate"
/* The high-water mark kept in a TPM counter (airlock-ledger serve --tpm-counter). */
#define LEDGER_TYPE_HIGH_WATER "ledger.high-water"
#define LEDGER_TYPE_ROLLBACK_DETECTED "ledger.rollback-detected"
/* The one reserved type a client may send: root, only while appends are refused after a
 * detected rollback (airlock-ledger acknowledge-rollback). */
#define LEDGER_TYPE_ROLLBACK_ACK "ledger.rollback-acknowledged"

/* What a checkpoint signs: this prefix followed by the checkpoint's hash in hex. */
#define LEDGER_CHECKPOINT_SIG_PREFIX "airlock-ledger-checkpoint-v1:"

/* Who appended a record, as the kernel reported it (SO_PEERCRED, /proc/PID/cgroup). */
struct ledger_actor {
	uint32_t uid;
	uint32_t gid;
	uint32_t pid;
	char *unit; /* the systemd unit the process ran in; NULL if unknown */
};
void ledger_actor_done(struct ledger_actor *a);
/* The calling process itself, for the records the ledger writes. */
int ledger_actor_self(struct ledger_actor *ret);
/*
 * The unit named by the contents of a /proc/PID/cgroup file: the first component of
 * the unified (or name=systemd) path that is not a slice, e.g. "foo.service" for
 * "0::/system.slice/foo.service/sub", "user@1000.service" for a user's own units.
 * -ENODATA if there is none (the root cgroup, no systemd).
 */
int ledger_unit_from_cgroup(const char *text, char **ret);
int ledger_unit_of_pid(pid_t pid, char **ret);

/* [a-z0-9][a-z0-9._-]*, at most LEDGER_TYPE_MAX characters. */
bool ledger_type_is_valid(const char *type);
bool ledger_type_is_reserved(const char *type);
/*
 * A payload must be a JSON object of integers, strings, booleans, nulls, arrays and
 * objects (no floating point: their text is not stable), at most LEDGER_PAYLOAD_MAX
 * bytes serialised. -EINVAL with a reason otherwise.
 */
int ledger_payload_check(struct json_object *payload, char **ret_error);

/* Seconds and microseconds since the epoch as "YYYY-MM-DDTHH:MM:SS.uuuuuuZ". */
int ledger_time_format(int64_t usec, char out[LEDGER_TIME_SIZE]);
/*
 * Parses a time given by a user into the same form, for comparisons: "@SECONDS",
 * "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]" or with a space for "T", optionally with
 * a final "Z"; always UTC.
 */
int ledger_time_parse(const char *s, char out[LEDGER_TIME_SIZE]);

/* What a record says, before it is chained. */
struct ledger_entry {
	uint64_t seq;
	const char *time; /* LEDGER_TIME_SIZE form */
	const char *type;
	const struct ledger_actor *actor;
	struct json_object *payload;
	uint8_t prev[LEDGER_HASH_SIZE];
};

/*
 * Builds the canonical line of an entry, with its final newline. A checkpoint
 * (signer given) also carries the signature. The line is *ret (*ret_size bytes).
 */
int ledger_line_format(const struct ledger_entry *e, struct sha256_hasher *h,
		       struct ed25519_key *signer, char **ret, size_t *ret_size,
		       uint8_t ret_hash[LEDGER_HASH_SIZE]);

/* One record, parsed and checked against itself (format, canonical form, own hash). */
struct ledger_record {
	uint64_t seq;
	char time[LEDGER_TIME_SIZE];
	char *type;
	struct ledger_actor actor;
	struct json_object *payload;
	uint8_t prev[LEDGER_HASH_SIZE];
	uint8_t hash[LEDGER_HASH_SIZE];
	bool has_sig;
	uint8_t sig[ED25519_SIGNATURE_SIZE];
	/* the line itself, without its newline */
	char *line;
	size_t line_size;
};
struct ledger_record *ledger_record_free(struct ledger_record *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ledger_record *, ledger_record_free);

/*
 * Parses one line (without its newline). -EBADMSG with a one-line reason if it is
 * not a canonical record or its hash does not match its body. A parser keeps its
 * hashing and JSON state between lines.
 */
struct ledger_parser;
int ledger_parser_new(struct ledger_parser **ret);
struct ledger_parser *ledger_parser_free(struct ledger_parser *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ledger_parser *, ledger_parser_free);
int ledger_parser_parse(struct ledger_parser *p, const char *line, size_t n,
			struct ledger_record **ret, char **ret_error);
/*
 * The fixed layout of a line, checked without parsing its JSON: the sequence number,
 * time and type at its start, "prev", "hash" and "sig" at its end, no NUL bytes.
 * Pointers are into the line. Does not check the hash (see ledger_frame_hash_ok()).
 */
struct ledger_frame {
	uint64_t seq;
	const char *type;
	size_t type_size;
	const char *prev_hex; /* 64 characters */
	const char *hash_hex; /* 64 characters */
	const char *sig_b64; /* 88 characters; NULL if not signed */
	size_t body_size; /* the bytes the hash covers */
};
int ledger_frame_parse(const char *line, size_t n, struct ledger_frame *ret, char **ret_error);
/* Whether the hash field of a framed line is the hash of its body. */
int ledger_frame_hash_ok(struct sha256_hasher *h, const char *line, const struct ledger_frame *f);
bool ledger_frame_type_is(const struct ledger_frame *f, const char *type);

/* The message a checkpoint's signature covers (LEDGER_CHECKPOINT_SIG_PREFIX + hex). */
int ledger_checkpoint_message(const uint8_t hash[LEDGER_HASH_SIZE], char **ret);
/* The key fingerprint used in records: hex of sha256 of the raw 32-byte public key. */
int ledger_key_fingerprint(struct ed25519_key *k, char ret[LEDGER_HASH_HEX_SIZE]);

/* "ledger-<16 digits>.jsonl" */
bool ledger_file_name_parse(const char *name, uint64_t *ret_first_seq);
/* The ledger files of dir, sorted by their first sequence number (none: *ret_n = 0). */
struct ledger_file {
	char *name;
	uint64_t first_seq;
};
int ledger_dir_list(const char *dir, struct ledger_file **ret, size_t *ret_n);
void ledger_files_free(struct ledger_file *f, size_t n);
/* 1 if a writer (the daemon) holds dir open for appending, 0 if not. */
int ledger_dir_is_live(const char *dir);
/* /var/lib/airlock/ledger if it exists, /run/airlock/ledger otherwise. */
const char *ledger_dir_default(void);
/* The default key of a ledger: <parent of dir>/ledger-key/ledger.key. */
int ledger_key_path_default(const char *dir, char **ret);
/* The public key next to a private key file: ".key" replaced by (or else ".pub" added). */
int ledger_pubkey_path(const char *key_path, char **ret);

/*
 * Reads the lines of a ledger directory in order, file after file. A line is complete
 * when it ends with a newline; the bytes after the last newline of a file come as
 * one incomplete line. With follow set, the reader looks for files created since,
 * and calling next again after it returned 0 reads what was appended meanwhile.
 */
struct ledger_line {
	const char *line; /* without the newline; valid until the next call */
	size_t size;
	bool complete;
	const char *file; /* file name (without the directory) */
	uint64_t file_first_seq;
	bool first_in_file;
	bool last_file; /* no later file is known */
	uint64_t line_number; /* 1-based, within the file */
	uint64_t offset; /* of the line in the file */
};
struct ledger_reader;
/* Starts at the file that holds from_seq (1: the beginning). */
int ledger_reader_open(const char *dir, uint64_t from_seq, bool follow, struct ledger_reader **ret);
/* 1 and a line, 0 at the end for now, -errno. */
int ledger_reader_next(struct ledger_reader *r, struct ledger_line *ret);
/*
 * Waits up to timeout_ms (-1: forever) for the ledger to change (follow only): 1 if it
 * may have, 0 on timeout, -ENOENT if the directory was removed or moved away.
 */
int ledger_reader_wait(struct ledger_reader *r, int timeout_ms);
struct ledger_reader *ledger_reader_free(struct ledger_reader *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ledger_reader *, ledger_reader_free);

/*
 * Verification of a whole ledger directory (airlock-ledger verify): the layout of
 * every line, every hash, the chain, the sequence, the files' names, and every
 * checkpoint signature. With deep set, every record is also parsed as JSON and
 * checked to be in canonical form (several times slower).
 */
struct ledger_verify_opts {
	uint64_t from_seq; /* 0 or 1: from the beginning */
	struct ed25519_key *pubkey; /* NULL: the key announced by the genesis record */
	bool deep;
};
struct ledger_verify_result {
	uint64_t n_records; /* records checked */
	uint64_t first_seq, last_seq;
	uint64_t n_files;
	uint64_t n_checkpoints;
	uint64_t last_checkpoint_seq; /* 0: none */
	char key_fingerprint[LEDGER_HASH_HEX_SIZE];
	bool key_from_ledger; /* no pubkey given: checked against the genesis record's key */
	bool live; /* a writer had the ledger open */
	uint64_t in_progress_bytes; /* an incomplete final record of a live ledger */

	/* Set when verification fails (-EBADMSG): the first bad record. */
	char *error; /* "FILE:LINE: record SEQ: what is wrong" */
	uint64_t bad_seq; /* the sequence number the bad record has or should have had */
	char *bad_file;
	uint64_t bad_line;
	uint64_t bad_offset;
	bool torn; /* the ledger ends in an incomplete record */
};
/*
 * 0 if the ledger is intact; -EBADMSG if not (ret->error and bad_* say where); another
 * -errno if it cannot be read (ret->error says what). *ret is filled in any case and
 * must be released with ledger_verify_result_done().
 */
int ledger_verify(const char *dir, const struct ledger_verify_opts *o,
		  struct ledger_verify_result *ret);
void ledger_verify_result_done(struct ledger_verify_result *r);

/* The single writer of a ledger directory. */
struct ledger_writer_opts {
	uint64_t max_file_size; /* rotate when a file reaches this size; 0: the default */
	uint64_t checkpoint_every; /* records between checkpoints; 0: the default */
};
struct ledger_open_info {
	bool created; /* a new ledger: its genesis record was written */
	bool clean; /* the ledger ended with a "shutdown" (or "migrate") checkpoint */
	uint64_t head_seq; /* the last record before this writer appended anything */
	/* a torn tail that was dropped (and recorded in a ledger.repair record) */
	bool repaired;
	uint64_t repair_offset;
	uint64_t repair_bytes;
	char *repair_file; /* the ledger file it was cut from */
	char *repair_saved; /* the file the dropped bytes were saved to */
};
void ledger_open_info_done(struct ledger_open_info *i);

struct ledger_writer;
/*
 * Opens (creating if needed) the ledger in dir for appending, with the signing key.
 * Takes the ledger's lock (-EBUSY if another writer holds it); refuses a key other
 * than the one the ledger was created with (-EKEYREJECTED); checks the last file and
 * drops a torn tail left by a crash (saving the bytes beside it and recording a
 * ledger.repair record), but refuses (-EBADMSG) a damaged record that is not a torn
 * write. self is the actor of the records the writer adds itself. On failure,
 * *ret_error (optional) says why.
 */
int ledger_writer_open(const char *dir, struct ed25519_key *key, const struct ledger_writer_opts *o,
		       const struct ledger_actor *self, struct ledger_writer **ret,
		       struct ledger_open_info *ret_info, char **ret_error);
/*
 * Adds a record to the batch being built. Nothing is durable before
 * ledger_writer_commit(), except that a full file makes earlier records be written
 * first (the file is closed with a checkpoint and a new one begun). A checkpoint is
 * added after every checkpoint_every records.
 */
int ledger_writer_add(struct ledger_writer *w, const char *type, const struct ledger_actor *actor,
		      struct json_object *payload, uint64_t *ret_seq,
		      uint8_t ret_hash[LEDGER_HASH_SIZE]);
/* Adds a signed checkpoint; reason is e.g. "shutdown", "interval". */
int ledger_writer_checkpoint(struct ledger_writer *w, const char *reason);
/* Signs what is unsigned, commits, and continues in a new file. */
int ledger_writer_rotate(struct ledger_writer *w);
/*
 * Writes the batch with one write and makes it durable (fdatasync) before returning.
 * On failure the file is cut back to the last durable record and the batch dropped;
 * -EIO from a writer that could not even do that: it refuses everything afterwards.
 */
int ledger_writer_commit(struct ledger_writer *w);
/* Drops the batch. */
void ledger_writer_rollback(struct ledger_writer *w);
/* Records since the last checkpoint (committed or not). */
uint64_t ledger_writer_unsigned(const struct ledger_writer *w);
/* The last durable record. */
uint64_t ledger_writer_head_seq(const struct ledger_writer *w);
/*
 * The last record added, durable or not. When it goes down after a failed
 * ledger_writer_add() or ledger_writer_commit(), the records after it were dropped
 * (and their numbers will be used again).
 */
uint64_t ledger_writer_last_seq(const struct ledger_writer *w);
/* Closes without adding anything: a batch not committed is dropped. */
struct ledger_writer *ledger_writer_free(struct ledger_writer *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ledger_writer *, ledger_writer_free);
