/* SPDX-License-Identifier: Apache-2.0 */
/* airlock-ledger show: records for people. */
#include <getopt.h>

#include "core/log.h"
#include "core/parse.h"
#include "ledger-tool.h"
#include "ledger.h"

static bool arg_json = false;
static size_t arg_last = 0;

/* --last N: the newest N lines, a ring. */
static char **last_ring = NULL;
static size_t last_seen = 0;

static void help(void)
{
	printf("Usage: airlock-ledger show [OPTIONS]\n"
	       "\n"
	       "Print the ledger's records, one a line: sequence number, time (UTC), type,\n"
	       "who appended it (uid, pid, unit, as the kernel said), and the payload.\n"
	       "Each record's own hash is checked and it must follow the one before; run\n"
	       "'verify' for the signatures.\n"
	       "\n"
	       "  --ledger DIR   the ledger (default: " LEDGER_DIR_DEFAULT " if it exists,\n"
	       "                 else " LEDGER_DIR_RUNTIME ")\n"
	       "  --type GLOB    only records whose type matches (e.g. 'update.*')\n"
	       "  --since TIME   only records at or after TIME (UTC: YYYY-MM-DD,\n"
	       "                 YYYY-MM-DDTHH:MM[:SS][Z], or @SECONDS)\n"
	       "  --from SEQ     only records from SEQ on\n"
	       "  --last N       only the last N records that match (the newest last)\n"
	       "  -f, --follow   then wait for new records and print them as they come\n"
	       "  --json         print the records as stored (JSON lines)\n"
	       "  -h, --help     show this help\n");
}

static int print_record(const struct ledger_record *rec, void *userdata)
{
	bool follow = *(bool *)userdata;
	char *line = NULL;

	if (arg_json)
		line = strdup(rec->line);
	else if (asprintf(&line, "%" PRIu64 " %s %s uid=%u pid=%u unit=%s %s", rec->seq, rec->time,
			  rec->type, rec->actor.uid, rec->actor.pid, rec->actor.unit ?: "-",
			  json_format_compact(rec->payload)) < 0)
		line = NULL;
	if (!line)
		return log_oom();
	if (arg_last > 0) {
		size_t i = last_seen++ % arg_last;

		free(last_ring[i]);
		last_ring[i] = line;
		return 0;
	}
	printf("%s\n", line);
	free(line);
	if (follow && fflush(stdout) != 0)
		return -EPIPE;
	return 0;
}

int verb_show(int argc, char **argv)
{
	enum { ARG_LEDGER = 0x100, ARG_JSON, ARG_LAST };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "follow", no_argument, NULL, 'f' },
		{ "ledger", required_argument, NULL, ARG_LEDGER },
		{ "json", no_argument, NULL, ARG_JSON },
		{ "type", required_argument, NULL, ARG_FILTER_TYPE },
		{ "since", required_argument, NULL, ARG_FILTER_SINCE },
		{ "from", required_argument, NULL, ARG_FILTER_FROM },
		{ "last", required_argument, NULL, ARG_LAST },
		{}
	};
	struct record_filter f = {};
	const char *dir = NULL;
	bool follow = false;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "hf", options, NULL)) >= 0) {
		r = record_filter_option(&f, "show", c, optarg);
		if (r < 0)
			return -r;
		if (r > 0)
			continue;
		switch (c) {
		case 'h':
			help();
			return EXIT_SUCCESS;
		case 'f':
			follow = true;
			break;
		case ARG_LEDGER:
			dir = optarg;
			break;
		case ARG_JSON:
			arg_json = true;
			break;
		case ARG_LAST: {
			unsigned n;

			if (safe_atou(optarg, &n) < 0 || n == 0 || n > 1000000)
				return usage_error("show",
						   "--last %s: a number of records from 1 "
						   "to 1000000 expected",
						   optarg);
			arg_last = n;
			break;
		}
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("show", "unexpected argument '%s'", argv[optind]);
	if (arg_last > 0 && follow)
		return usage_error("show", "--last and --follow do not go together");
	if (arg_last > 0) {
		last_ring = new0(char *, arg_last);
		if (!last_ring)
			return log_oom(), EXIT_FAILURE;
	}
	r = records_walk(dir ?: ledger_dir_default(), &f, follow, print_record, &follow);
	if (arg_last > 0) {
		size_t n = MIN(last_seen, arg_last), first = last_seen - n;

		for (size_t i = 0; i < n; i++) {
			char *line = last_ring[(first + i) % arg_last];

			if (r >= 0)
				printf("%s\n", line);
			free(line);
		}
		last_ring = mfree(last_ring);
	}
	if (fflush(stdout) != 0 && r >= 0)
		r = log_error_errno(errno, "writing: %m");
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
