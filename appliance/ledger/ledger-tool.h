/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "core/verb.h"

/* airlock-ledger: one file per subcommand; what they share. */

#include "core/macro.h"

/* Exit status of a usage error (unknown option, missing argument). */

int verb_serve(int argc, char **argv);
int verb_append(int argc, char **argv);
int verb_verify(int argc, char **argv);
int verb_show(int argc, char **argv);
int verb_export(int argc, char **argv);
int verb_keygen(int argc, char **argv);
int verb_migrate(int argc, char **argv);
int verb_acknowledge(int argc, char **argv);

/* Parses a positive sequence number given on the command line. */
int parse_seq(const char *s, uint64_t *ret);

struct ledger_record;

/* What show and export select. */
struct record_filter {
	const char *type_glob; /* NULL: any */
	bool has_since;
	char since[28]; /* LEDGER_TIME_SIZE form: records at or after it */
	uint64_t from; /* records from this sequence number on */
};
/* Parses --type, --since and --from into f; 1 if the option was one of these. */
int record_filter_option(struct record_filter *f, const char *verb, int opt, const char *arg);
/* getopt values of --type, --since and --from */
#define ARG_FILTER_TYPE 0x200
#define ARG_FILTER_SINCE 0x201
#define ARG_FILTER_FROM 0x202

/*
 * Calls fn for each record of the ledger in dir that passes the filter, checking
 * each record's own hash and form and that it follows the one before. With follow,
 * waits for new records until fn returns non-zero or a signal ends the program.
 */
int records_walk(const char *dir, const struct record_filter *f, bool follow,
		 int (*fn)(const struct ledger_record *rec, void *userdata), void *userdata);
