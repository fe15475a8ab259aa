/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-ledger: the appliance's audit ledger. `serve` is the daemon that appends;
 * `append` is a client; `verify`, `show` and `export` read a ledger directory;
 * `keygen` makes the signing key; `migrate` moves a ledger to the data volume.
 */
#include <stdarg.h>

#include "core/log.h"
#include "core/parse.h"
#include "core/verb.h"
#include "ledger-tool.h"

static const struct verb verbs[] = {
	{ "serve", verb_serve, "run the daemon that appends records (socket-activated)" },
	{ "append", verb_append, "append a record through the daemon" },
	{ "verify", verb_verify, "check hashes, chain, sequence and checkpoint signatures" },
	{ "show", verb_show, "print records, optionally filtered, optionally following" },
	{ "export", verb_export, "write records for a SIEM: jsonl, rfc5424 or cef" },
	{ "keygen", verb_keygen, "create the ledger's Ed25519 signing key" },
	{ "migrate", verb_migrate, "copy a ledger to a new directory (e.g. the data volume)" },
	{ "acknowledge-rollback", verb_acknowledge,
	  "take appends again after a detected rollback (root)" },
};

static void help(void)
{
	printf("Usage: airlock-ledger COMMAND [OPTIONS] [ARGUMENTS]\n"
	       "\n"
	       "The appliance's append-only, hash-chained, signed audit ledger.\n"
	       "\n"
	       "Commands:\n");
	verb_list(verbs, ELEMENTSOF(verbs));
	printf("\n"
	       "'airlock-ledger COMMAND --help' describes a command's options.\n"
	       "See airlock-ledger(8) and airlock-ledger(5).\n");
}

int parse_seq(const char *s, uint64_t *ret)
{
	uint64_t v;
	int r = safe_atou64(s, &v);

	if (r < 0)
		return r;
	if (v == 0 || v > INT64_MAX)
		return -ERANGE;
	*ret = v;
	return 0;
}

int main(int argc, char **argv)
{
	log_set_program_name("airlock-ledger");
	log_parse_environment();

	if (argc < 2) {
		help();
		return EXIT_USAGE;
	}
	if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
		help();
		return EXIT_SUCCESS;
	}
	return verb_dispatch(verbs, ELEMENTSOF(verbs), argc - 1, argv + 1);
}
