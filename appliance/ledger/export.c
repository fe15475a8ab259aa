/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-ledger export: records for a SIEM. jsonl is the records exactly as stored
 * (a SIEM can check every hash); rfc5424 is one syslog message a line (RFC 5424
 * syntax, facility "log audit"); cef is ArcSight's Common Event Format.
 */
#include <getopt.h>
#include <time.h>

#include "core/log.h"
#include "core/hex.h"
#include "ledger-tool.h"
#include "ledger.h"

/* RFC 5424: facility 13 (log audit), severity 5 (notice). */
#define SYSLOG_PRI (13 * 8 + 5)
/*
 * The SD-ID of our structured data. 32473 is the private enterprise number RFC 5612
 * reserves for documentation; a vendor with its own number uses --sd-id.
 */
#define SD_ID_DEFAULT "airlock@32473"
#define APP_NAME "airlock-ledger"

enum format { FORMAT_JSONL, FORMAT_RFC5424, FORMAT_CEF, _FORMAT_MAX, _FORMAT_INVALID = -EINVAL };

static const char *const format_names[_FORMAT_MAX] = {
	[FORMAT_JSONL] = "jsonl",
	[FORMAT_RFC5424] = "rfc5424",
	[FORMAT_CEF] = "cef",
};

struct export_ctx {
	enum format format;
	const char *hostname;
	const char *sd_id;
	uint64_t n;
};

static void help(void)
{
	printf("Usage: airlock-ledger export --format FORMAT [OPTIONS]\n"
	       "\n"
	       "Write the ledger's records to standard output for a SIEM, one a line.\n"
	       "Each record's own hash is checked and it must follow the one before.\n"
	       "\n"
	       "  --format jsonl     the records exactly as stored (hashes can be rechecked)\n"
	       "  --format rfc5424   syslog messages (RFC 5424), facility log audit\n"
	       "  --format cef       Common Event Format\n"
	       "  --ledger DIR       the ledger (default: " LEDGER_DIR_DEFAULT " if it exists,\n"
	       "                     else " LEDGER_DIR_RUNTIME ")\n"
	       "  --type GLOB        only records whose type matches\n"
	       "  --since TIME       only records at or after TIME (UTC)\n"
	       "  --from SEQ         only records from SEQ on\n"
	       "  --hostname NAME    the host name to put in messages (default: this host's)\n"
	       "  --sd-id ID         rfc5424 structured-data ID (default " SD_ID_DEFAULT ")\n"
	       "  -h, --help         show this help\n");
}

static bool printusascii(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (const char *c = s; *c; c++)
		if (*c < 33 || *c > 126)
			return false;
	return true;
}

static bool is_ascii(const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c >= 0x80)
			return false;
	return true;
}

/* An RFC 5424 PARAM-VALUE: '"', '\' and ']' escaped with a backslash. */
static void put_sd_value(const char *v)
{
	for (const char *c = v; *c; c++) {
		if (*c == '"' || *c == '\\' || *c == ']')
			putchar('\\');
		putchar(*c);
	}
}

static void put_sd_param(const char *name, const char *value)
{
	printf(" %s=\"", name);
	put_sd_value(value);
	putchar('"');
}

static int put_rfc5424(const struct export_ctx *x, const struct ledger_record *rec)
{
	const char *msg = json_format_compact(rec->payload);
	char hex[LEDGER_HASH_HEX_SIZE], num[32];

	if (!msg)
		return -ENOMEM;
	/* HEADER: PRI VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID */
	printf("<%d>1 %s %s " APP_NAME " %u %s [%s", SYSLOG_PRI, rec->time, x->hostname,
	       rec->actor.pid, rec->type, x->sd_id);
	snprintf(num, sizeof(num), "%" PRIu64, rec->seq);
	put_sd_param("seq", num);
	snprintf(num, sizeof(num), "%u", rec->actor.uid);
	put_sd_param("uid", num);
	snprintf(num, sizeof(num), "%u", rec->actor.gid);
	put_sd_param("gid", num);
	if (rec->actor.unit)
		put_sd_param("unit", rec->actor.unit);
	sha256_hex(rec->prev, hex);
	put_sd_param("prev", hex);
	sha256_hex(rec->hash, hex);
	put_sd_param("hash", hex);
	/* MSG: the payload; UTF-8 text begins with a BOM, as RFC 5424 asks. */
	printf("] %s%s\n", is_ascii(msg) ? "" : "\xef\xbb\xbf", msg);
	return 0;
}

/* CEF header fields escape '\' and '|'; extension values '\', '=' and line ends. */
static void put_cef_header(const char *v)
{
	for (const char *c = v; *c; c++) {
		if (*c == '\\' || *c == '|')
			putchar('\\');
		putchar(*c);
	}
	putchar('|');
}

static void put_cef_ext(const char *key, const char *v, bool first)
{
	printf("%s%s=", first ? "" : " ", key);
	for (const char *c = v; *c; c++) {
		if (*c == '\n')
			fputs("\\n", stdout);
		else if (*c == '\r')
			fputs("\\r", stdout);
		else {
			if (*c == '\\' || *c == '=')
				putchar('\\');
			putchar(*c);
		}
	}
}

/* Milliseconds since the epoch of a record's time. */
static int64_t time_ms(const char *t)
{
	struct tm tm = {};
	unsigned usec = 0;

	if (sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%6uZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &usec) != 7)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + usec / 1000;
}

static int put_cef(const struct export_ctx *x, const struct ledger_record *rec)
{
	const char *msg = json_format_compact(rec->payload);
	char hex[LEDGER_HASH_HEX_SIZE], num[32];
	/* A repair means a crash cut a record short: worth a look. */
	int severity = streq(rec->type, LEDGER_TYPE_REPAIR) ? 7 : 3;

	if (!msg)
		return -ENOMEM;
	fputs("CEF:0|", stdout);
	put_cef_header("Airlock");
	put_cef_header(APP_NAME);
	snprintf(num, sizeof(num), "%d", LEDGER_FORMAT);
	put_cef_header(num);
	put_cef_header(rec->type);
	put_cef_header(rec->type);
	printf("%d|", severity);
	snprintf(num, sizeof(num), "%" PRId64, time_ms(rec->time));
	put_cef_ext("rt", num, true);
	put_cef_ext("dvchost", x->hostname, false);
	snprintf(num, sizeof(num), "%" PRIu64, rec->seq);
	put_cef_ext("externalId", num, false);
	snprintf(num, sizeof(num), "%u", rec->actor.uid);
	put_cef_ext("suid", num, false);
	snprintf(num, sizeof(num), "%u", rec->actor.pid);
	put_cef_ext("spid", num, false);
	snprintf(num, sizeof(num), "%u", rec->actor.gid);
	put_cef_ext("cn1Label", "gid", false);
	put_cef_ext("cn1", num, false);
	put_cef_ext("cs1Label", "unit", false);
	put_cef_ext("cs1", rec->actor.unit ?: "-", false);
	sha256_hex(rec->hash, hex);
	put_cef_ext("cs2Label", "hash", false);
	put_cef_ext("cs2", hex, false);
	sha256_hex(rec->prev, hex);
	put_cef_ext("cs3Label", "prev", false);
	put_cef_ext("cs3", hex, false);
	put_cef_ext("msg", msg, false);
	putchar('\n');
	return 0;
}

static int export_record(const struct ledger_record *rec, void *userdata)
{
	struct export_ctx *x = userdata;
	int r = 0;

	switch (x->format) {
	case FORMAT_JSONL:
		printf("%s\n", rec->line);
		break;
	case FORMAT_RFC5424:
		r = put_rfc5424(x, rec);
		break;
	case FORMAT_CEF:
		r = put_cef(x, rec);
		break;
	default:
		r = -EINVAL;
	}
	if (r < 0)
		return r;
	if (ferror(stdout))
		return log_error_errno(EIO, "writing: %m");
	x->n++;
	return 0;
}

int verb_export(int argc, char **argv)
{
	enum { ARG_LEDGER = 0x100, ARG_FORMAT, ARG_HOSTNAME, ARG_SD_ID };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "ledger", required_argument, NULL, ARG_LEDGER },
		{ "format", required_argument, NULL, ARG_FORMAT },
		{ "hostname", required_argument, NULL, ARG_HOSTNAME },
		{ "sd-id", required_argument, NULL, ARG_SD_ID },
		{ "type", required_argument, NULL, ARG_FILTER_TYPE },
		{ "since", required_argument, NULL, ARG_FILTER_SINCE },
		{ "from", required_argument, NULL, ARG_FILTER_FROM },
		{}
	};
	struct export_ctx x = { .format = _FORMAT_INVALID, .sd_id = SD_ID_DEFAULT };
	struct record_filter f = {};
	const char *dir = NULL;
	char host[256];
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		r = record_filter_option(&f, "export", c, optarg);
		if (r < 0)
			return -r;
		if (r > 0)
			continue;
		switch (c) {
		case 'h':
			help();
			return EXIT_SUCCESS;
		case ARG_LEDGER:
			dir = optarg;
			break;
		case ARG_FORMAT:
			x.format = _FORMAT_INVALID;
			for (size_t i = 0; i < _FORMAT_MAX; i++)
				if (streq(optarg, format_names[i]))
					x.format = (enum format)i;
			if (x.format < 0)
				return usage_error("export", "--format %s: jsonl, rfc5424 or cef",
						   optarg);
			break;
		case ARG_HOSTNAME:
			if (!printusascii(optarg, 255))
				return usage_error("export",
						   "--hostname '%s': 1 to 255 printable "
						   "ASCII characters, no spaces",
						   optarg);
			x.hostname = optarg;
			break;
		case ARG_SD_ID:
			/* SD-NAME: 1-32 printable ASCII except '=', ' ', ']', '"' */
			if (!printusascii(optarg, 32) || strpbrk(optarg, "= ]\"") ||
			    !strchr(optarg, '@'))
				return usage_error("export",
						   "--sd-id '%s': NAME@NUMBER, at most "
						   "32 characters",
						   optarg);
			x.sd_id = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("export", "unexpected argument '%s'", argv[optind]);
	if (x.format < 0)
		return usage_error("export", "--format is required (jsonl, rfc5424 or cef)");
	if (!x.hostname) {
		if (gethostname(host, sizeof(host)) < 0)
			host[0] = '\0';
		host[sizeof(host) - 1] = '\0';
		x.hostname = printusascii(host, 255) ? host : "-";
	}
	r = records_walk(dir ?: ledger_dir_default(), &f, false, export_record, &x);
	if (fflush(stdout) != 0 && r >= 0)
		r = log_error_errno(errno, "writing: %m");
	if (r < 0) {
		log_error("export stopped after %" PRIu64 " records", x.n);
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}
