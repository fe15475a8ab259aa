/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-tpm: the TPM lifecycle of an installed appliance. `status` says what the TPM
 * and the data volume's token look like now; `reseal` seals the data volume's key again
 * to today's PCR 7 after a firmware or Secure Boot change, with the recovery key;
 * `boot-report` records in the ledger why a boot needed the recovery key.
 */
#include <signal.h>
#include <stdio.h>

#include "core/log.h"
#include "core/version.h"
#include "tpm-tool.h"

static const struct verb verbs[] = {
	{ "status", verb_status, "the TPM, its PCRs and lockout, and whether the token unseals" },
	{ "reseal", verb_reseal, "seal the data volume's key to today's PCR 7 (recovery key)" },
	{ "boot-report", verb_boot_report,
	  "record why this boot needed the recovery key (run at boot)" },
};

static void help(void)
{
	printf("Usage: airlock-tpm COMMAND [OPTIONS]\n"
	       "\n"
	       "The TPM that seals the data volume's key: its state, and re-sealing after a\n"
	       "firmware or Secure Boot change.\n"
	       "\n"
	       "Commands:\n");
	verb_list(verbs, ELEMENTSOF(verbs));
	printf("\n"
	       "'airlock-tpm COMMAND --help' describes a command's options.\n"
	       "See airlock-tpm(8).\n");
}

int main(int argc, char **argv)
{
	log_set_program_name("airlock-tpm");
	log_parse_environment();
	signal(SIGPIPE, SIG_IGN);

	if (argc < 2) {
		help();
		return EXIT_USAGE;
	}
	if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
		help();
		return EXIT_SUCCESS;
	}
	if (streq(argv[1], "--version")) {
		printf("airlock-tpm %s\n", AIRLOCK_VERSION);
		return EXIT_SUCCESS;
	}
	return verb_dispatch(verbs, ELEMENTSOF(verbs), argc - 1, argv + 1);
}
