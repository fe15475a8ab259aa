/* SPDX-License-Identifier: Apache-2.0 */
/* airlock-ledger verify: is the ledger whole, in order, unchanged and signed? */
#include <fcntl.h>
#include <getopt.h>

#include "core/fd.h"
#include "core/log.h"
#include "core/path.h"
#include "ledger-tool.h"
#include "ledger.h"

/* Exit status when the ledger fails verification (2 is a usage error, 1 any other). */
#define EXIT_DAMAGED 3

static const char *arg_ledger = NULL;
static const char *arg_pubkey = NULL;
static uint64_t arg_from = 1;
static bool arg_deep = false;
static bool arg_quiet = false;

static void help(void)
{
	printf("Usage: airlock-ledger verify [OPTIONS]\n"
	       "\n"
	       "Check every record of the ledger: its layout, its hash, its place in the\n"
	       "chain and the sequence, the file it is in, and every checkpoint signature.\n"
	       "Prints the first bad record and exits with status 3 if one is found.\n"
	       "\n"
	       "  --ledger DIR     the ledger (default: " LEDGER_DIR_DEFAULT " if it exists,\n"
	       "                   else " LEDGER_DIR_RUNTIME ")\n"
	       "  --pubkey FILE    check signatures with this public key (a trusted copy);\n"
	       "                   default: the key announced by the ledger's first record\n"
	       "  --from SEQ       begin at record SEQ\n"
	       "  --deep           also parse every record and check its canonical form\n"
	       "  -q, --quiet      print nothing when the ledger is intact\n"
	       "  -h, --help       show this help\n");
}

/* Prints the bad line itself (at most 1 KiB of it, control characters escaped). */
static void print_bad_line(const char *dir, const struct ledger_verify_result *res)
{
	_cleanup_free_ char *p = NULL;
	_cleanup_close_ int fd = -EBADF;
	char buf[1024];
	ssize_t n;

	if (!res->bad_file)
		return;
	p = path_join(dir, res->bad_file);
	if (!p)
		return;
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return;
	n = pread(fd, buf, sizeof(buf), (off_t)res->bad_offset);
	if (n <= 0)
		return;
	fprintf(stderr, "  first bad record (%s, line %" PRIu64 ", offset %" PRIu64 "):\n  ",
		res->bad_file, res->bad_line, res->bad_offset);
	for (ssize_t i = 0; i < n && buf[i] != '\n'; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c < 0x20 || c == 0x7f)
			fprintf(stderr, "\\x%02x", c);
		else
			fputc(c, stderr);
	}
	fputs(n == (ssize_t)sizeof(buf) ? "...\n" : "\n", stderr);
}

int verb_verify(int argc, char **argv)
{
	enum { ARG_LEDGER = 0x100, ARG_PUBKEY, ARG_FROM, ARG_DEEP };
	static const struct option options[] = { { "help", no_argument, NULL, 'h' },
						 { "quiet", no_argument, NULL, 'q' },
						 { "ledger", required_argument, NULL, ARG_LEDGER },
						 { "pubkey", required_argument, NULL, ARG_PUBKEY },
						 { "from", required_argument, NULL, ARG_FROM },
						 { "deep", no_argument, NULL, ARG_DEEP },
						 {} };
	_cleanup_(ed25519_key_freep) struct ed25519_key *pub = NULL;
	_cleanup_(ledger_verify_result_done) struct ledger_verify_result res = {};
	struct ledger_verify_opts o = {};
	const char *dir;
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
		case ARG_LEDGER:
			arg_ledger = optarg;
			break;
		case ARG_PUBKEY:
			arg_pubkey = optarg;
			break;
		case ARG_FROM:
			if (parse_seq(optarg, &arg_from) < 0)
				return usage_error("verify", "--from %s: a record number expected",
						   optarg);
			break;
		case ARG_DEEP:
			arg_deep = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("verify", "unexpected argument '%s'", argv[optind]);
	dir = arg_ledger ?: ledger_dir_default();

	if (arg_pubkey) {
		r = ed25519_key_load_public(arg_pubkey, &pub);
		if (r == -EKEYREJECTED)
			log_error("public key '%s' is not an Ed25519 public key (PEM)", arg_pubkey);
		else if (r < 0)
			log_error_errno(r, "public key '%s': %m", arg_pubkey);
		if (r < 0)
			return EXIT_FAILURE;
	}
	o = (struct ledger_verify_opts){ .from_seq = arg_from, .pubkey = pub, .deep = arg_deep };
	r = ledger_verify(dir, &o, &res);
	if (r == -EBADMSG) {
		log_error("ledger '%s' FAILS verification: %s", dir, strna(res.error));
		print_bad_line(dir, &res);
		if (res.n_records > 0)
			fprintf(stderr,
				"  records %" PRIu64 " to %" PRIu64 " before it are intact%s\n",
				res.first_seq, res.last_seq,
				res.last_checkpoint_seq ? "" : " (but none of them is signed)");
		if (res.torn)
			fprintf(stderr, "  a crash while appending leaves such a tail; "
					"'airlock-ledger serve' drops it when it starts, keeps the "
					"bytes, and records that it did\n");
		return EXIT_DAMAGED;
	}
	if (r < 0) {
		log_error("ledger '%s': %s", dir, strna(res.error));
		return EXIT_FAILURE;
	}
	if (arg_quiet)
		return EXIT_SUCCESS;

	printf("ledger %s: intact\n", dir);
	printf("  records %" PRIu64 " to %" PRIu64 " (%" PRIu64 ") in %" PRIu64 " file%s%s\n",
	       res.first_seq, res.last_seq, res.n_records, res.n_files, res.n_files == 1 ? "" : "s",
	       arg_deep ? ", each in canonical form" : "");
	if (res.n_checkpoints > 0)
		printf("  %" PRIu64 " checkpoint%s signed by key %s, the last at record %" PRIu64
		       "\n",
		       res.n_checkpoints, res.n_checkpoints == 1 ? "" : "s", res.key_fingerprint,
		       res.last_checkpoint_seq);
	if (res.last_seq > res.last_checkpoint_seq)
		printf("  %" PRIu64 " record%s after the last checkpoint %s not signed yet\n",
		       res.last_seq - res.last_checkpoint_seq,
		       res.last_seq - res.last_checkpoint_seq == 1 ? "" : "s",
		       res.last_seq - res.last_checkpoint_seq == 1 ? "is" : "are");
	if (res.key_from_ledger)
		printf("  signatures were checked with the key the ledger's first record "
		       "announces;\n  give --pubkey with a trusted copy of the public key to "
		       "check the ledger is the appliance's own\n");
	if (res.in_progress_bytes > 0)
		printf("  the daemon was writing a record while this ran (%" PRIu64
		       " bytes, not checked)\n",
		       res.in_progress_bytes);
	if (arg_from > 1)
		printf("  from record %" PRIu64 " on: records before it were not checked\n",
		       arg_from);
	return EXIT_SUCCESS;
}
