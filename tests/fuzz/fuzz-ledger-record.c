/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One ledger line, as verify, show, export and the daemon's start read it from a
 * file anyone with write access may have changed. Besides not crashing: a line the
 * parser accepts must be exactly what the formatter writes for the record it parsed.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ledger_parser *p;
	static struct sha256_hasher *h;
	struct ledger_record *rec = NULL;
	struct ledger_frame f;
	char *why = NULL;
	int r;

	if (!p && (ledger_parser_new(&p) < 0 || sha256_hasher_new(&h) < 0))
		abort();

	if (ledger_frame_parse((const char *)data, size, &f, NULL) >= 0) {
		/* What the frame points at lies inside the line. */
		if (f.body_size > size || f.hash_hex < (const char *)data ||
		    f.hash_hex + 64 > (const char *)data + size)
			abort();
		(void)ledger_frame_hash_ok(h, (const char *)data, &f);
	}

	r = ledger_parser_parse(p, (const char *)data, size, &rec, &why);
	if (r >= 0) {
		struct ledger_entry e = {
			.seq = rec->seq,
			.time = rec->time,
			.type = rec->type,
			.actor = &rec->actor,
			.payload = rec->payload,
		};
		uint8_t hash[LEDGER_HASH_SIZE];
		char *line = NULL;
		size_t n = 0;

		memcpy(e.prev, rec->prev, sizeof(e.prev));
		if (!rec->has_sig) {
			/* Canonical: formatting the parsed record gives the line back. */
			if (ledger_line_format(&e, h, NULL, &line, &n, hash) < 0)
				abort();
			if (n != size + 1 || memcmp(line, data, size) != 0 ||
			    memcmp(hash, rec->hash, sizeof(hash)) != 0)
				abort();
			free(line);
		}
		ledger_record_free(rec);
	} else if (r != -ENOMEM && r != -EBADMSG)
		abort();
	free(why);
	return 0;
}
