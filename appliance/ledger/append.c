/* SPDX-License-Identifier: Apache-2.0 */
/* airlock-ledger append: a client of the daemon. */
#include <getopt.h>

#include "core/log.h"
#include "ledger-client.h"
#include "ledger-tool.h"

#define WINDOW 64 /* requests in flight at most */

static const char *arg_socket = NULL;
static bool arg_quiet = false;

static void help(void)
{
	printf("Usage: airlock-ledger append [OPTIONS] TYPE JSON\n"
	       "       airlock-ledger append [OPTIONS] TYPE -\n"
	       "\n"
	       "Append a record of TYPE with JSON (an object) as its payload, through the\n"
	       "daemon, and wait until it is durable. With '-', each line of standard input\n"
	       "is the payload of one record; they are sent in a pipeline.\n"
	       "Who appends is what the kernel says about this process, nothing else.\n"
	       "\n"
	       "  --socket PATH  the daemon's socket (default " LEDGER_SOCKET_DEFAULT ")\n"
	       "  -q, --quiet    print nothing on success\n"
	       "  -h, --help     show this help\n");
}

static int connect_daemon(struct ledger_client **ret)
{
	const char *p = arg_socket ?: LEDGER_SOCKET_DEFAULT;
	int r = ledger_client_connect(p, ret);

	if (r < 0)
		return log_error_errno(r,
				       "cannot reach the ledger daemon at '%s': %m (is "
				       "airlock-ledger.socket running?)",
				       p);
	return 0;
}

static int parse_payload(const char *text, size_t n, const char *where, struct json_object **ret)
{
	_cleanup_json_ struct json_object *o = NULL;
	_cleanup_free_ char *err = NULL;
	int r = json_parse_strict(text, n, &o, &err);

	if (r == -ENOMEM)
		return log_oom();
	if (r < 0)
		return log_error_errno(r, "%s: not valid JSON: %s", where, strna(err));
	r = ledger_payload_check(o, &err);
	if (r == -ENOMEM)
		return log_oom();
	if (r < 0)
		return log_error_errno(r, "%s: %s", where, strna(err));
	*ret = TAKE_PTR(o);
	return 0;
}

static int refused(int r, const char *where, const char *why)
{
	if (r == -ETIMEDOUT)
		return log_error_errno(r, "%s: no answer from the ledger daemon within %d s", where,
				       LEDGER_CLIENT_TIMEOUT_SEC);
	if (r == -ECONNRESET)
		return log_error_errno(r,
				       "%s: the ledger daemon closed the connection before "
				       "answering; the record may or may not be in the ledger",
				       where);
	if (why)
		return log_error_errno(r, "%s: refused by the ledger daemon: %s", where, why);
	return log_error_errno(r, "%s: %m", where);
}

/* Through the one call other programs use. */
static int append_one(const char *type, const char *json)
{
	_cleanup_json_ struct json_object *payload = NULL;
	_cleanup_free_ char *why = NULL;
	const char *p = arg_socket ?: LEDGER_SOCKET_DEFAULT;
	uint64_t seq = 0;
	int r = parse_payload(json, strlen(json), "payload", &payload);

	if (r < 0)
		return r;
	r = ledger_client_append(p, type, payload, &seq, &why);
	/* Without a reason from the daemon, the daemon was never reached. */
	if (r < 0 && !why && (r == -ENOENT || r == -ECONNREFUSED || r == -EACCES || r == -ENOTSOCK))
		return log_error_errno(r,
				       "cannot reach the ledger daemon at '%s': %m (is "
				       "airlock-ledger.socket running?)",
				       p);
	if (r < 0)
		return refused(r, type, why);
	if (!arg_quiet)
		printf("appended record %" PRIu64 "\n", seq);
	return 0;
}

static int append_stream(const char *type)
{
	_cleanup_(ledger_client_freep) struct ledger_client *c = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, in_flight = 0, head = 0;
	uint64_t lines[WINDOW], n_lines = 0, n_done = 0, first = 0, last = 0;
	int r, failed = 0;

	r = connect_daemon(&c);
	if (r < 0)
		return r;
	for (;;) {
		ssize_t n = failed ? -1 : getline(&line, &cap, stdin);
		_cleanup_json_ struct json_object *payload = NULL;
		char where[64];

		/* Collect a reply when the window is full, or everything at the end. */
		while (in_flight > 0 && (in_flight == WINDOW || n < 0)) {
			_cleanup_free_ char *why = NULL;
			uint64_t seq = 0;

			snprintf(where, sizeof(where), "line %" PRIu64, lines[head]);
			r = ledger_client_receive(c, &seq, &why);
			head = (head + 1) % WINDOW;
			in_flight--;
			if (r < 0) {
				if (!failed)
					failed = refused(r, where, why);
				if (r == -ETIMEDOUT || r == -ECONNRESET || r == -EBADMSG)
					in_flight = 0;
				continue;
			}
			if (!first)
				first = seq;
			last = seq;
			n_done++;
		}
		if (n < 0)
			break;

		n_lines++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		snprintf(where, sizeof(where), "line %" PRIu64, n_lines);
		r = parse_payload(line, (size_t)n, where, &payload);
		if (r < 0) {
			failed = r;
			continue;
		}
		r = ledger_client_send(c, type, payload);
		if (r < 0) {
			failed = log_error_errno(r, "%s: sending to the ledger daemon: %m", where);
			continue;
		}
		lines[(head + in_flight) % WINDOW] = n_lines;
		in_flight++;
	}
	if (ferror(stdin) && !failed)
		failed = log_error_errno(EIO, "reading standard input: %m");
	if (!arg_quiet || failed)
		fprintf(failed ? stderr : stdout,
			"appended %" PRIu64 " records%s (records %" PRIu64 " to %" PRIu64 ")\n",
			n_done, failed ? " before the failure" : "", first, last);
	return failed;
}

int verb_append(int argc, char **argv)
{
	enum { ARG_SOCKET = 0x100 };
	static const struct option options[] = { { "help", no_argument, NULL, 'h' },
						 { "quiet", no_argument, NULL, 'q' },
						 { "socket", required_argument, NULL, ARG_SOCKET },
						 {} };
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "hq", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return EXIT_SUCCESS;
		case 'q':
			arg_quiet = true;
			break;
		case ARG_SOCKET:
			arg_socket = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2)
		return usage_error("append", "TYPE and JSON (or '-') expected");
	if (!ledger_type_is_valid(argv[optind]))
		return usage_error("append",
				   "type '%s' is not valid: 1 to %d of a-z, 0-9, '.', '_', '-', "
				   "beginning with a letter or digit",
				   argv[optind], LEDGER_TYPE_MAX);
	if (streq(argv[optind + 1], "-"))
		r = append_stream(argv[optind]);
	else
		r = append_one(argv[optind], argv[optind + 1]);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
