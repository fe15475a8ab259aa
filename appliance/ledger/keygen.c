/* SPDX-License-Identifier: Apache-2.0 */
/* airlock-ledger keygen: the ledger's Ed25519 signing key. */
#include <getopt.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/path.h"
#include "ledger-tool.h"
#include "ledger.h"

static void help(void)
{
	printf("Usage: airlock-ledger keygen [--key FILE]\n"
	       "\n"
	       "Create an Ed25519 signing key for a ledger: FILE (private, mode 0600) and the\n"
	       "public key next to it (FILE with .key replaced by .pub). Never overwrites.\n"
	       "\n"
	       "  --key FILE   default: the default ledger's key,\n"
	       "               " LEDGER_DIR_DEFAULT "-key/ledger.key or " LEDGER_DIR_RUNTIME
	       "-key/ledger.key\n"
	       "  -h, --help   show this help\n");
}

int verb_keygen(int argc, char **argv)
{
	enum { ARG_KEY = 0x100 };
	static const struct option options[] = { { "help", no_argument, NULL, 'h' },
						 { "key", required_argument, NULL, ARG_KEY },
						 {} };
	_cleanup_(ed25519_key_freep) struct ed25519_key *k = NULL;
	_cleanup_free_ char *def = NULL, *pub = NULL, *parent = NULL;
	char fp[LEDGER_HASH_HEX_SIZE];
	const char *key = NULL;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return EXIT_SUCCESS;
		case ARG_KEY:
			key = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("keygen", "unexpected argument '%s'", argv[optind]);
	if (!key) {
		r = ledger_key_path_default(ledger_dir_default(), &def);
		if (r < 0) {
			log_oom();
			return EXIT_FAILURE;
		}
		key = def;
	}
	r = ledger_pubkey_path(key, &pub);
	if (r < 0) {
		log_oom();
		return EXIT_FAILURE;
	}
	if (access(key, F_OK) == 0 || access(pub, F_OK) == 0) {
		log_error("'%s' or '%s' exists: refusing to replace a ledger key (a ledger signed "
			  "with it could no longer be extended)",
			  key, pub);
		return EXIT_FAILURE;
	}
	r = path_parent(key, &parent);
	if (r < 0) {
		log_oom();
		return EXIT_FAILURE;
	}
	if (!isempty(parent) && mkdir(parent, 0700) < 0 && errno != EEXIST) {
		log_error_errno(errno, "'%s': %m", parent);
		return EXIT_FAILURE;
	}
	r = ed25519_key_generate(&k);
	if (r < 0) {
		log_error_errno(r, "generating a key: %m");
		return EXIT_FAILURE;
	}
	r = ed25519_key_save_private(k, key);
	if (r < 0) {
		log_error_errno(r, "'%s': %m", key);
		return EXIT_FAILURE;
	}
	r = ed25519_key_save_public(k, pub);
	if (r < 0) {
		log_error_errno(r, "'%s': %m", pub);
		(void)unlink(key);
		return EXIT_FAILURE;
	}
	r = ledger_key_fingerprint(k, fp);
	if (r < 0) {
		log_error_errno(r, "fingerprint: %m");
		return EXIT_FAILURE;
	}
	printf("private key: %s (mode 0600)\npublic key:  %s\nfingerprint: %s\n", key, pub, fp);
	return EXIT_SUCCESS;
}
