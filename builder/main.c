/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>

#include "builder.h"
#include "core/log.h"
#include "core/path.h"
#include "core/progress.h"
#include "core/run.h"
#include "core/verb.h"
#include "core/version.h"

struct build_globals arg_globals;

static const struct verb verbs[] = {
	{ "lock", verb_lock, "MANIFEST  resolve its packages in the signed apt lists, pin them" },
	{ "fetch", verb_fetch, "LOCK      download the locked .debs into the pool (network)" },
	{ "build", verb_build, "MANIFEST  build the image's artifacts offline from the pool" },
	{ "disk", verb_disk, "          UKI, Secure Boot signatures, ESP and GPT disk image" },
	{ "initramfs", verb_initramfs,
	  "          write the initramfs of an image tree (a stage alone)" },
	{ "keygen", verb_keygen, "--dir DIR make an Ed25519 OpenPGP key for signing updates" },
	{ "release", verb_release, "BUILD-DIR sign manifest.json, write the update bundle" },
};

static void help(void)
{
	printf("Usage: airlock-build [OPTIONS] VERB [ARGS...]\n"
	       "\n"
	       "Builds reproducible, dm-verity-protected Airlock appliance images from pinned\n"
	       "Debian packages.\n"
	       "\n"
	       "Verbs:\n");
	verb_list(verbs, ELEMENTSOF(verbs));
	printf("\n"
	       "Options:\n"
	       "  -h --help            show this help (also: airlock-build VERB --help)\n"
	       "     --version         show the version\n"
	       "  -q --quiet           no progress output, only errors\n"
	       "  -v --verbose         debug output\n"
	       "     --tools-dir DIR   look for external tools (mksquashfs, sbsign, ...) here first\n"
	       "\n"
	       "See airlock-build(1).\n");
}

int default_pool_dir(char **ret)
{
	const char *e = getenv("AIRLOCK_POOL"), *home = getenv("HOME");
	char *p;

	if (!isempty(e))
		p = strdup(e);
	else if (!isempty(home))
		p = path_join(home, ".cache/airlock/pool");
	else
		return -ENOENT;
	if (!p)
		return -ENOMEM;
	*ret = p;
	return 0;
}

int self_dir(char **ret)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return path_parent(buf, ret);
}

int main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "tools-dir", required_argument, NULL, 'T' },
		{},
	};
	int c;

	log_set_program_name(argv[0]);
	log_parse_environment();
	/* A tool that dies while we write its stdin must give us EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);

	/* "+": stop at the verb; what follows it belongs to the verb. */
	while ((c = getopt_long(argc, argv, "+hqv", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return 0;
		case 'V':
			printf("airlock-build %s\n", AIRLOCK_VERSION);
			return 0;
		case 'q':
			arg_globals.quiet = true;
			break;
		case 'v':
			log_set_max_level(LOG_DEBUG);
			break;
		case 'T':
			arg_globals.tools_dir = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		log_error("no verb given; see 'airlock-build --help'");
		return EXIT_USAGE;
	}
	progress_set_quiet(arg_globals.quiet);
	if (arg_globals.tools_dir)
		run_set_tools_dirs(arg_globals.tools_dir);

	{
		int verb_argc = argc - optind;
		char **verb_argv = argv + optind;

		optind = 0; /* let the verb run getopt afresh */
		return verb_dispatch(verbs, ELEMENTSOF(verbs), verb_argc, verb_argv);
	}
}
