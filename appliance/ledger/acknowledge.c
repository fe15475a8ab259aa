/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-ledger acknowledge-rollback: after the daemon detected a rolled-back ledger
 * (serve --tpm-counter; ledger.rollback-detected), root says it has seen it, and appends
 * are taken again (a ledger.rollback-acknowledged record, then a fresh high-water mark).
 */
#include <getopt.h>
#include <inttypes.h>

#include "core/log.h"
#include "ledger-client.h"
#include "ledger-tool.h"

static void help(void)
{
	printf("Usage: airlock-ledger acknowledge-rollback [OPTIONS] [REASON]\n"
	       "\n"
	       "Acknowledge a rollback the daemon detected (root only), so that it takes\n"
	       "appends again. REASON, if given, is recorded with the acknowledgment.\n"
	       "\n"
	       "  --socket PATH  the daemon's socket (default " LEDGER_SOCKET_DEFAULT ")\n"
	       "  -h, --help     show this help\n");
}

int verb_acknowledge(int argc, char **argv)
{
	enum { ARG_SOCKET = 0x100 };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "socket", required_argument, NULL, ARG_SOCKET },
		{},
	};
	_cleanup_json_ struct json_object *p = NULL;
	_cleanup_free_ char *why = NULL;
	const char *socket_path = NULL;
	uint64_t seq = 0;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return EXIT_SUCCESS;
		case ARG_SOCKET:
			socket_path = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1)
		return usage_error("acknowledge-rollback", "unexpected argument '%s'",
				   argv[optind + 1]);
	p = json_object_new_object();
	if (!p || (optind < argc && json_add_string(p, "reason", argv[optind]) < 0))
		return log_oom();
	r = ledger_client_append(socket_path, LEDGER_TYPE_ROLLBACK_ACK, p, &seq, &why);
	if (r < 0) {
		log_error_errno(r, "the acknowledgment was not taken: %s", why ?: strerror(-r));
		return EXIT_FAILURE;
	}
	printf("acknowledged as record %" PRIu64 "; the ledger takes appends again\n", seq);
	return EXIT_SUCCESS;
}
