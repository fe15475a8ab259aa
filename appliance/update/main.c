/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-update: the appliance's signed offline updates. `verify` streams a bundle
 * through lib/bundle and writes nothing; `import` writes it into the inactive slot and
 * switches to it; `status`, `rollback` and `mark-good` read and change the slots.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/log.h"
#include "core/version.h"
#include "update-tool.h"

static const struct verb verbs[] = {
	{ "verify", verb_verify,
	  "FILE|DEVICE  check a bundle as an import would, writing nothing" },
	{ "import", verb_import,
	  "FILE|DEVICE  install a bundle into the inactive slot; the next boot" },
	{ "status", verb_status, "             the slots, their versions and tries; booted, next" },
	{ "rollback", verb_rollback, "             make the other (good) slot the next boot" },
	{ "mark-good", verb_mark_good, "             mark the booted slot good (boot complete)" },
	{ "boot-failed", verb_boot_failed,
	  "             a boot that did not complete: try again or fall back" },
};

static void help(void)
{
	printf("Usage: airlock-update COMMAND [OPTIONS] [ARGUMENTS]\n"
	       "\n"
	       "Signed offline updates of an Airlock appliance from update bundles\n"
	       "(airlock-build release).\n"
	       "\n"
	       "Commands:\n");
	verb_list(verbs, ELEMENTSOF(verbs));
	printf("\n"
	       "'airlock-update COMMAND --help' describes a command's options.\n"
	       "See airlock-update(8).\n");
}

int main(int argc, char **argv)
{
	log_set_program_name("airlock-update");
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
		printf("airlock-update %s\n", AIRLOCK_VERSION);
		return EXIT_SUCCESS;
	}
	return verb_dispatch(verbs, ELEMENTSOF(verbs), argc - 1, argv + 1);
}
