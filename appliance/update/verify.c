/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-update verify FILE|DEVICE: the checks of an import, with a sink that writes
 * nothing. It tells where each member would go and prints the throughput, so that a
 * bundle can be checked on any host before it is carried to an appliance.
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "bundle.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/progress.h"
#include "core/strv.h"
#include "ext/sig.h"
#include "version.h"
#include "update-tool.h"

/* Where import puts each payload member. */
static const char *const destinations[_BUNDLE_MEMBER_MAX] = {
	[BUNDLE_MEMBER_ROOT] = "the inactive slot's root partition",
	[BUNDLE_MEMBER_VERITY] = "the inactive slot's verity partition",
	[BUNDLE_MEMBER_UKI] = "the ESP, as the inactive slot's boot entry",
	[BUNDLE_MEMBER_SBOM] = "the slot's records (the image's SBOM)",
};

struct verify_sink {
	struct progress *progress;
	uint64_t done;
	bool quiet;
};

static int sink_begin(void *userdata, const struct bundle_manifest *m, const char *signer,
		      char **ret_error)
{
	struct verify_sink *v = userdata;
	uint64_t total = 0;

	(void)ret_error;
	for (size_t i = 0; i < BUNDLE_N_ARTIFACTS; i++)
		total += m->artifacts[i].size_bytes;
	if (!v->quiet) {
		printf("bundle:    %s %s for %s (replaces %s or newer), security version %" PRIu64
		       "\n",
		       m->name, m->version, m->compatible, m->min_version, m->security_version);
		printf("signed by: %s\n", signer);
		if (m->debug)
			printf("WARNING:   a debug build (a root shell on the console)\n");
		fflush(stdout);
	}
	v->progress = progress_begin("verify", total, PROGRESS_BYTES, NULL);
	return 0;
}

static int sink_member_begin(void *userdata, const struct bundle_artifact *a, char **ret_error)
{
	struct verify_sink *v = userdata;

	(void)ret_error;
	progress_set_note(v->progress, a->name);
	return 0;
}

static int sink_member_data(void *userdata, const struct bundle_artifact *a, const void *buf,
			    size_t n, char **ret_error)
{
	struct verify_sink *v = userdata;

	(void)a, (void)buf, (void)ret_error;
	v->done += n;
	progress_update(v->progress, v->done);
	return 0;
}

static int sink_member_end(void *userdata, const struct bundle_artifact *a, char **ret_error)
{
	struct verify_sink *v = userdata;
	char hex[SHA256_HEX_SIZE];

	(void)ret_error;
	if (v->quiet)
		return 0;
	sha256_hex(a->sha256, hex);
	/* the progress bar is on stderr; these lines are the report, on stdout */
	printf("%-15s %12" PRIu64 " bytes  sha256 %s ok, would go to %s\n", a->name, a->size_bytes,
	       hex, destinations[a->member]);
	fflush(stdout);
	return 0;
}

static void verify_help(void)
{
	printf("Usage: airlock-update verify FILE|DEVICE --keyring FILE|DIR --running-version V\n"
	       "                             --compatible PRODUCT [--running-debug]\n"
	       "                             [--version-floor N] [--quiet]\n"
	       "\n"
	       "Reads an update bundle from start to end as 'import' does: its signature against\n"
	       "the trusted keys before any payload byte, the product, version and floor rules,\n"
	       "every member's name, type and size, and every sha256. Writes nothing.\n"
	       "\n"
	       "  --keyring FILE|DIR      the public keys the running image trusts (a key file,\n"
	       "                          or a directory of *.asc and *.gpg files)\n"
	       "  --running-version V     the version the update must be newer than\n"
	       "  --compatible PRODUCT    the product the update must be for (e.g. airlock/x86-64)\n"
	       "  --running-debug         the running image is a debug build, and may take one\n"
	       "                          (else a debug build is refused)\n"
	       "  --version-floor N       the version floor the TPM keeps: a lower\n"
	       "                          security_version is refused\n"
	       "  -q --quiet              print nothing but errors\n"
	       "\n"
	       "Exit status: 0 verified, 3 refused (the reason is printed), 1 could not check,\n"
	       "2 usage.\n");
}

int verb_verify(int argc, char **argv)
{
	enum {
		ARG_KEYRING = 0x100,
		ARG_RUNNING_VERSION,
		ARG_COMPATIBLE,
		ARG_RUNNING_DEBUG,
		ARG_VERSION_FLOOR,
	};
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "keyring", required_argument, NULL, ARG_KEYRING },
		{ "running-version", required_argument, NULL, ARG_RUNNING_VERSION },
		{ "compatible", required_argument, NULL, ARG_COMPATIBLE },
		{ "running-debug", no_argument, NULL, ARG_RUNNING_DEBUG },
		{ "version-floor", required_argument, NULL, ARG_VERSION_FLOOR },
		{ "quiet", no_argument, NULL, 'q' },
		{},
	};
	_cleanup_(sig_keyring_freep) struct sig_keyring *k = NULL;
	_cleanup_(bundle_result_done) struct bundle_result res = {};
	_cleanup_bundle_error_ struct bundle_error e = BUNDLE_ERROR_INIT;
	_cleanup_free_ char *error = NULL, *keys = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct bundle_policy policy = {};
	struct verify_sink v = {};
	const struct bundle_sink sink = {
		.begin = sink_begin,
		.member_begin = sink_member_begin,
		.member_data = sink_member_data,
		.member_end = sink_member_end,
		.userdata = &v,
	};
	const char *keyring = NULL, *path;
	double start;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "hq", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			verify_help();
			return EXIT_SUCCESS;
		case ARG_KEYRING:
			keyring = optarg;
			break;
		case ARG_RUNNING_VERSION:
			policy.running_version = optarg;
			break;
		case ARG_COMPATIBLE:
			policy.compatible = optarg;
			break;
		case ARG_RUNNING_DEBUG:
			policy.running_debug = true;
			break;
		case ARG_VERSION_FLOOR:
			if (safe_atou64(optarg, &policy.version_floor) < 0)
				return usage_error("verify",
						   "--version-floor needs a whole number, not '%s'",
						   optarg);
			policy.has_version_floor = true;
			break;
		case 'q':
			v.quiet = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return usage_error("verify", "expected one FILE or DEVICE");
	if (!keyring)
		return usage_error("verify", "--keyring is required");
	if (!version_is_valid(policy.running_version))
		return usage_error("verify", "--running-version needs a version (digits and dots)");
	if (isempty(policy.compatible))
		return usage_error("verify", "--compatible is required");
	path = argv[optind];
	progress_set_quiet(v.quiet);

	r = bundle_keyring_open(keyring, &k, &error);
	if (r < 0) {
		log_error_errno(r, "verify: keyring: %s", error ?: strerror(-r));
		return EXIT_FAILURE;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		log_error_errno(errno, "verify: %s: %m", path);
		return EXIT_FAILURE;
	}
	start = progress_now();
	r = bundle_verify(fd, k, &policy, &sink, &res, &e);
	if (r < 0) {
		progress_abort(v.progress);
		if (e.refusal >= 0) {
			log_error("verify: %s: refused (%s): %s", path,
				  bundle_refusal_to_string(e.refusal), strna(e.message));
			return EXIT_REFUSED;
		}
		log_error_errno(r, "verify: %s: %s", path, e.message ?: strerror(-r));
		return EXIT_FAILURE;
	}
	{
		double secs = progress_now() - start;
		char b[FORMAT_BYTES_MAX];

		progress_end(v.progress, "%s read, %.1f MB/s",
			     format_bytes(b, sizeof(b), res.archive_bytes),
			     secs > 0 ? (double)res.archive_bytes / secs / 1e6 : 0.0);
	}
	if (!v.quiet) {
		keys = strv_join(res.manifest->trusted_keys, " ");
		printf("trusts:    %s (the update keys after this update)\n", strna(keys));
		printf("verified:  %s\n", path);
	}
	return EXIT_SUCCESS;
}
