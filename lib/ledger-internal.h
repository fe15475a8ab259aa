/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Inside lib/ledger: what its three files share and nothing outside them uses. The
 * format, parsing and files are ledger.c; reading and verifying ledger-read.c; the
 * writer ledger-write.c. The public face is ledger.h.
 */

#include <fcntl.h>
#include <inttypes.h>

#include "ext/crypto.h"
#include "ledger.h"

#define LOCK_FILE ".lock"
#define FILE_PREFIX "ledger-"
#define FILE_SUFFIX ".jsonl"
#define FILE_DIGITS 16
#define HASH_HEX_LEN (2 * LEDGER_HASH_SIZE)
#define SIG_B64_LEN 88 /* base64 of 64 bytes */
#define TIME_LEN (LEDGER_TIME_SIZE - 1)
/* ,"hash":"<64>"}  and  ,"hash":"<64>","sig":"<88>"} */
#define HASH_OPEN ",\"hash\":\""
#define SIG_OPEN "\",\"sig\":\""
#define SUFFIX_PLAIN_LEN (sizeof(HASH_OPEN) - 1 + HASH_HEX_LEN + 2)
#define SUFFIX_SIG_LEN \
	(sizeof(HASH_OPEN) - 1 + HASH_HEX_LEN + sizeof(SIG_OPEN) - 1 + SIG_B64_LEN + 2)
#define PAYLOAD_DEPTH_MAX 64
#define READ_CHUNK (1024U * 1024U)

struct ledger_parser {
	struct sha256_hasher *hasher;
};

extern const uint8_t ledger_zero_hash[LEDGER_HASH_SIZE];
extern const char ledger_zero_hex[];

/* "ledger-<first_seq, 16 digits>.jsonl" */
int ledger_file_name_make(uint64_t first_seq, char **ret);
/* A lock of the whole file, of type F_RDLCK or F_WRLCK. */
struct flock ledger_whole_file_lock(short type);
/* The first file's first record, which must be the genesis record (-EBADMSG otherwise). */
int ledger_read_genesis(struct ledger_parser *p, const char *dir, const struct ledger_file *first,
			struct ledger_record **ret, char **ret_error);
