/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Update signing keys: the keygen verb makes one (an Ed25519 OpenPGP key in its own
 * GnuPG home, with gpgme), and build bakes the set of public keys an image trusts
 * into it (usr/share/airlock/update-keys/) and lists their fingerprints in
 * manifest.json (trusted_keys). See "Key rotation" in airlock-update(8).
 */
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "builder.h"
#include "bundle.h"
#include "core/fileio.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/path.h"
#include "core/progress.h"
#include "core/strv.h"
#include "ext/sig.h"
#include "tree.h"

#define DEFAULT_KEY_NAME "Airlock update signing key"

static void keygen_help(void)
{
	printf("Usage: airlock-build keygen --dir DIR [--name NAME]\n"
	       "\n"
	       "Creates an Ed25519 OpenPGP key for signing update bundles in DIR, which must\n"
	       "not exist or be empty: DIR/gnupg is its private GnuPG home (mode 0700, no\n"
	       "passphrase: keep DIR offline), DIR/" KEYS_PUBLIC_KEY_FILE " its public key.\n"
	       "Never touches ~/.gnupg.\n"
	       "\n"
	       "  --dir DIR     where to create the key\n"
	       "  --name NAME   the key's user id (default: \"" DEFAULT_KEY_NAME "\")\n");
}

/* Makes the key in a fresh directory next to dir, then renames it into place. */
static int keygen_run(const char *dir, const char *name)
{
	_cleanup_(sig_signer_freep) struct sig_signer *s = NULL;
	_cleanup_free_ char *parent = NULL, *tmp = NULL, *home = NULL, *pub_path = NULL,
			    *fpr = NULL, *error = NULL, *pub = NULL, *final_home = NULL;
	size_t pub_size;
	int r;

	r = path_parent(dir, &parent);
	if (r < 0)
		return log_oom();
	if (!isempty(parent)) {
		r = mkdir_p(parent, 0755);
		if (r < 0)
			return log_error_errno(r, "keygen: cannot create '%s': %m", parent);
	}
	r = mkdtemp_in(isempty(parent) ? "." : parent, ".keygen-", &tmp);
	if (r < 0)
		return log_error_errno(r, "keygen: cannot create a directory next to '%s': %m",
				       dir);
	home = path_join(tmp, "gnupg");
	pub_path = path_join(tmp, KEYS_PUBLIC_KEY_FILE);
	if (!home || !pub_path) {
		r = log_oom();
		goto fail;
	}
	r = sig_key_generate(home, name, &fpr, &error);
	if (r >= 0)
		r = sig_signer_open(home, &s, &error);
	if (r >= 0)
		r = sig_signer_export_public(s, &pub, &pub_size, &error);
	if (r < 0) {
		log_error_errno(r, "keygen: %s", error ?: strerror(-r));
		goto fail;
	}
	s = sig_signer_free(s); /* stops gpg-agent before the home moves */
	r = write_file_atomic(pub_path, pub, pub_size, 0644);
	if (r < 0) {
		log_error_errno(r, "keygen: cannot write '%s': %m", pub_path);
		goto fail;
	}
	/* rename(2) replaces an empty directory and refuses a non-empty one. */
	if (rename(tmp, dir) < 0) {
		r = -errno;
		if (r == -ENOTEMPTY || r == -EEXIST)
			log_error("keygen: '%s' exists and is not empty; refusing to replace a key",
				  dir);
		else
			log_error_errno(r, "keygen: cannot move the key to '%s': %m", dir);
		goto fail;
	}
	r = fsync_directory_of(dir);
	if (r < 0)
		return log_error_errno(r, "keygen: '%s': %m", dir);
	final_home = path_join(dir, "gnupg");
	progress_line("keygen: Ed25519 update signing key %s in %s", fpr, dir);
	progress_line("keygen: public key %s/%s: put it in the --update-keys directory of every "
		      "image that must accept updates signed with this key",
		      dir, KEYS_PUBLIC_KEY_FILE);
	progress_line("keygen: revocation certificate %s/openpgp-revocs.d/%s.rev: keep a copy "
		      "offline, apart from the key",
		      strna(final_home), fpr);
	printf("%s\n", fpr);
	return 0;
fail:
	(void)rm_rf(tmp);
	return r;
}

int verb_keygen(int argc, char *argv[])
{
	enum { ARG_DIR = 0x100, ARG_NAME };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "dir", required_argument, NULL, ARG_DIR },
		{ "name", required_argument, NULL, ARG_NAME },
		{},
	};
	const char *name = DEFAULT_KEY_NAME;
	_cleanup_free_ char *dir = NULL;
	struct stat st;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			keygen_help();
			return 0;
		case ARG_DIR:
			free(dir);
			dir = strdup(optarg);
			if (!dir)
				return log_oom(), 1;
			path_simplify(dir); /* "keys/a/" is "keys/a" */
			break;
		case ARG_NAME:
			name = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind != argc || isempty(dir)) {
		log_error("keygen: expected --dir DIR and no arguments; see 'airlock-build keygen "
			  "--help'");
		return 2;
	}
	if (isempty(name) || strlen(name) > 256) {
		log_error("keygen: --name must be 1 to 256 characters");
		return 2;
	}
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		log_error("keygen: '%s' exists and is not a directory", dir);
		return 1;
	}
	/* Everything gpg writes for us is private to us, whatever the caller's umask. */
	umask(077);
	r = keygen_run(dir, name);
	return r < 0 ? 1 : 0;
}

int keys_add_to_tree(struct tree *t, const char *dir, char ***ret_fingerprints)
{
	_cleanup_(sig_keyring_freep) struct sig_keyring *k = NULL;
	_cleanup_strv_free_ char **files = NULL, **fprs = NULL;
	_cleanup_free_ char *error = NULL;
	int r;

	r = bundle_key_files(dir, &files, &error);
	if (r < 0)
		return log_error_errno(r, "update keys: %s", error ?: strerror(-r));
	r = sig_keyring_open_many(files, SIG_KEYRING_IGNORE_TIME, &k, &error);
	if (r < 0)
		return log_error_errno(r, "update keys: %s", error ?: strerror(-r));
	r = sig_keyring_fingerprints(k, &fprs);
	if (r < 0)
		return log_error_errno(r, "update keys: cannot list the keys of '%s': %m", dir);
	if (strv_length(fprs) > BUNDLE_TRUSTED_KEYS_MAX)
		return log_error_errno(E2BIG,
				       "update keys: '%s' holds %zu keys, at most %u are "
				       "allowed",
				       dir, strv_length(fprs), BUNDLE_TRUSTED_KEYS_MAX);

	STRV_FOREACH(f, files) {
		_cleanup_free_ char *path = path_join(BUNDLE_KEYS_DIR, path_last(*f)), *why = NULL;
		struct tree_node *n;
		struct stat st;

		if (!path)
			return log_oom();
		if (stat(*f, &st) < 0)
			return log_error_errno(errno, "update keys: '%s': %m", *f);
		n = tree_node_new(path, TREE_REG, 0644, "update-keys");
		if (!n || !(n->source = strdup(*f))) {
			tree_node_free(n);
			return log_oom();
		}
		n->size = (uint64_t)st.st_size;
		r = tree_add(t, n, 0, &why);
		if (r < 0)
			return log_error_errno(r, "update keys: %s: %s", *f, why ?: strerror(-r));
	}
	STRV_FOREACH(f, fprs)
		progress_line("update keys: the image trusts %s", *f);
	*ret_fingerprints = TAKE_PTR(fprs);
	return 0;
}
