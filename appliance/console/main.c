/* SPDX-License-Identifier: Apache-2.0 */
/* airlock-console: the operator console (airlock-console(8)). */
#include <stdio.h>

#include "core/log.h"
#include "core/verb.h"
#include "verbs.h"

static const struct verb verbs[] = {
	{ "run", verb_run, "the console on this terminal (airlock-console@TTY.service)" },
	{ "hash-passphrase", verb_hash_passphrase,
	  "read an operator passphrase, print its yescrypt hash" },
};

static void help(void)
{
	printf("Usage: airlock-console COMMAND [OPTIONS]\n"
	       "\n"
	       "The operator console of an installed appliance: a lock screen, then the\n"
	       "dashboard and every action an operator takes on the box.\n"
	       "\n"
	       "Commands:\n");
	verb_list(verbs, ELEMENTSOF(verbs));
	printf("\n"
	       "'airlock-console COMMAND --help' describes a command's options.\n"
	       "See airlock-console(8).\n");
}

int main(int argc, char **argv)
{
	log_set_program_name("airlock-console");
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
