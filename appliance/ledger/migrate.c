/* SPDX-License-Identifier: Apache-2.0 */
/*
 * airlock-ledger migrate: copies a ledger and its key to a new place, e.g. from
 * /run/airlock/ledger on the installer to the data volume of the installed system.
 * The source is locked (the daemon must be stopped), checked, copied file by file
 * (each written under a temporary name and renamed when complete), the copy checked
 * against the source, and the copy then records the move and a signed checkpoint.
 */
#include <dirent.h>
#include <getopt.h>
#include <sys/stat.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/path.h"
#include "ledger-tool.h"
#include "ledger.h"

static void help(void)
{
	printf("Usage: airlock-ledger migrate --from DIR --to DIR [OPTIONS]\n"
	       "\n"
	       "Copy the ledger in --from, with its key, to --to, which must not hold a\n"
	       "ledger yet; check the copy; record the move in it. Ownership and modes are\n"
	       "kept. Stop the daemon first: the source must not change meanwhile.\n"
	       "\n"
	       "  --from DIR       the ledger to copy (e.g. " LEDGER_DIR_RUNTIME ")\n"
	       "  --to DIR         where to (e.g. /mnt/target" LEDGER_DIR_DEFAULT ")\n"
	       "  --key FILE       the source's key (default: FROM/../ledger-key/ledger.key)\n"
	       "  --to-key FILE    where the key goes (default: TO/../ledger-key/ledger.key)\n"
	       "  -h, --help       show this help\n");
}

/* Gives path the owner of ref, when we are allowed to (as root). */
static int chown_like(const char *path, const struct stat *ref)
{
	if (geteuid() != 0)
		return 0;
	if (lchown(path, ref->st_uid, ref->st_gid) < 0)
		return log_error_errno(errno, "'%s': %m", path);
	return 0;
}

static int copy_ledger_files(const char *from, const char *to, const struct stat *dir_st,
			     unsigned *ret_n)
{
	DIR *d = opendir(from);
	struct dirent *de;
	unsigned n = 0;
	int r = 0;

	if (!d)
		return log_error_errno(errno, "'%s': %m", from);
	while ((de = readdir(d))) {
		_cleanup_free_ char *src = NULL, *dst = NULL;
		struct stat st;

		/* The ledger files and any torn tails kept beside them (evidence too). */
		if (!startswith(de->d_name, "ledger-"))
			continue;
		src = path_join(from, de->d_name);
		dst = path_join(to, de->d_name);
		if (!src || !dst) {
			r = log_oom();
			break;
		}
		if (lstat(src, &st) < 0) {
			r = log_error_errno(errno, "'%s': %m", src);
			break;
		}
		if (!S_ISREG(st.st_mode)) {
			r = log_error_errno(EBADFD, "'%s' is not a regular file", src);
			break;
		}
		r = copy_file_atomic(src, dst, st.st_mode & 07777);
		if (r < 0) {
			log_error_errno(r, "copying '%s' to '%s': %m", src, dst);
			break;
		}
		r = chown_like(dst, dir_st);
		if (r < 0)
			break;
		n++;
	}
	closedir(d);
	*ret_n = n;
	return r;
}

static int copy_key(struct ed25519_key *key, const char *from_key, const char *to_key)
{
	_cleanup_(ed25519_key_freep) struct ed25519_key *existing = NULL;
	_cleanup_free_ char *pub = NULL, *parent = NULL, *from_parent = NULL;
	char fp[LEDGER_HASH_HEX_SIZE], fp2[LEDGER_HASH_HEX_SIZE];
	struct stat st;
	int r = ledger_key_fingerprint(key, fp);

	if (r < 0)
		return log_error_errno(r, "fingerprint: %m");
	r = ed25519_key_load_private(to_key, &existing);
	if (r >= 0) {
		r = ledger_key_fingerprint(existing, fp2);
		if (r < 0)
			return log_error_errno(r, "fingerprint: %m");
		if (!streq(fp, fp2))
			return log_error_errno(EEXIST,
					       "'%s' is another key (%s), not this ledger's "
					       "(%s); refusing to replace it",
					       to_key, fp2, fp);
		return 0;
	}
	if (r != -ENOENT)
		return log_error_errno(r, "'%s': %m", to_key);

	if (path_parent(to_key, &parent) < 0 || path_parent(from_key, &from_parent) < 0)
		return log_oom();
	if (stat(isempty(from_parent) ? "." : from_parent, &st) < 0)
		return log_error_errno(errno, "'%s': %m", from_parent);
	if (!isempty(parent) && mkdir(parent, st.st_mode & 07777) < 0) {
		if (errno != EEXIST)
			return log_error_errno(errno, "'%s': %m", parent);
	} else if (!isempty(parent) && chown_like(parent, &st) < 0)
		return -EPERM;
	r = ledger_pubkey_path(to_key, &pub);
	if (r < 0)
		return log_oom();
	r = ed25519_key_save_private(key, to_key);
	if (r < 0)
		return log_error_errno(r, "'%s': %m", to_key);
	if (access(pub, F_OK) != 0) {
		r = ed25519_key_save_public(key, pub);
		if (r < 0)
			return log_error_errno(r, "'%s': %m", pub);
	}
	if (chown_like(to_key, &st) < 0 || chown_like(pub, &st) < 0)
		return -EPERM;
	return 0;
}

static int verify_quiet(const char *dir, struct ed25519_key *key, uint64_t *ret_last)
{
	_cleanup_(ledger_verify_result_done) struct ledger_verify_result res = {};
	struct ledger_verify_opts o = { .pubkey = key };
	int r = ledger_verify(dir, &o, &res);

	if (r < 0)
		return log_error_errno(r, "ledger '%s' does not verify: %s", dir, strna(res.error));
	*ret_last = res.last_seq;
	return 0;
}

static int chown_tree(const char *dir, const struct stat *ref)
{
	DIR *d;
	struct dirent *de;
	int r = chown_like(dir, ref);

	if (r < 0 || geteuid() != 0)
		return r;
	d = opendir(dir);
	if (!d)
		return log_error_errno(errno, "'%s': %m", dir);
	while ((de = readdir(d))) {
		_cleanup_free_ char *p = NULL;
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		p = path_join(dir, de->d_name);
		if (!p) {
			r = log_oom();
			break;
		}
		r = chown_like(p, ref);
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}

static int remove_partial(const char *to, bool created)
{
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (created)
		return rm_rf(to);
	d = opendir(to);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!startswith(de->d_name, "ledger-") && !streq(de->d_name, ".lock"))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && r == 0)
			r = -errno;
	}
	closedir(d);
	return r;
}

int verb_migrate(int argc, char **argv)
{
	enum { ARG_FROM = 0x100, ARG_TO, ARG_KEY, ARG_TO_KEY };
	static const struct option options[] = { { "help", no_argument, NULL, 'h' },
						 { "from", required_argument, NULL, ARG_FROM },
						 { "to", required_argument, NULL, ARG_TO },
						 { "key", required_argument, NULL, ARG_KEY },
						 { "to-key", required_argument, NULL, ARG_TO_KEY },
						 {} };
	_cleanup_(ed25519_key_freep) struct ed25519_key *key = NULL;
	_cleanup_(ledger_writer_freep) struct ledger_writer *src = NULL, *dst = NULL;
	_cleanup_(ledger_open_info_done) struct ledger_open_info info = {};
	_cleanup_free_ char *def_key = NULL, *def_to_key = NULL, *err = NULL;
	_cleanup_json_ struct json_object *p = NULL;
	struct ledger_actor self = {};
	const char *from = NULL, *to = NULL, *key_path = NULL, *to_key = NULL;
	struct ledger_file *files = NULL;
	size_t n_files = 0;
	uint64_t last = 0, copied_last = 0;
	unsigned n_copied = 0;
	struct stat dir_st;
	bool created_to = false, copying = false;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return EXIT_SUCCESS;
		case ARG_FROM:
			from = optarg;
			break;
		case ARG_TO:
			to = optarg;
			break;
		case ARG_KEY:
			key_path = optarg;
			break;
		case ARG_TO_KEY:
			to_key = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("migrate", "unexpected argument '%s'", argv[optind]);
	if (!from || !to)
		return usage_error("migrate", "--from and --to are required");
	if (!key_path) {
		if (ledger_key_path_default(from, &def_key) < 0) {
			log_oom();
			return EXIT_FAILURE;
		}
		key_path = def_key;
	}
	if (!to_key) {
		if (ledger_key_path_default(to, &def_to_key) < 0) {
			log_oom();
			return EXIT_FAILURE;
		}
		to_key = def_to_key;
	}
	if (stat(from, &dir_st) < 0) {
		log_error_errno(errno, "--from '%s': %m", from);
		return EXIT_FAILURE;
	}
	if (!S_ISDIR(dir_st.st_mode)) {
		log_error_errno(ENOTDIR, "--from '%s': %m", from);
		return EXIT_FAILURE;
	}

	r = ed25519_key_load_private(key_path, &key);
	if (r < 0) {
		log_error_errno(r, "key '%s': %m", key_path);
		goto fail;
	}
	r = ledger_actor_self(&self);
	if (r < 0) {
		log_oom();
		goto fail;
	}

	/* The destination must not hold a ledger already. */
	r = ledger_dir_list(to, &files, &n_files);
	ledger_files_free(files, n_files);
	if (r >= 0 && n_files > 0) {
		r = log_error_errno(EEXIST, "'%s' already holds a ledger; refusing to overwrite it",
				    to);
		goto fail;
	}
	if (r < 0 && r != -ENOENT) {
		log_error_errno(r, "--to '%s': %m", to);
		goto fail;
	}

	/* Lock the source as its writer: no daemon may append while it is copied. */
	r = ledger_writer_open(from, key, NULL, &self, &src, &info, &err);
	if (r == -EBUSY) {
		log_error("'%s' is in use by the ledger daemon: stop airlock-ledger.socket and "
			  "airlock-ledger.service first",
			  from);
		goto fail;
	}
	if (r < 0) {
		log_error_errno(r, "ledger '%s': %s", from, err ?: strerror(-r));
		goto fail;
	}
	if (info.repaired)
		log_warning("ledger '%s': dropped an incomplete final record first (%" PRIu64
			    " bytes, kept in %s; recorded)",
			    from, info.repair_bytes, info.repair_saved);
	r = verify_quiet(from, key, &last);
	if (r < 0)
		goto fail;

	if (mkdir(to, dir_st.st_mode & 07777) >= 0)
		created_to = true;
	else if (errno != EEXIST) {
		r = log_error_errno(errno, "--to '%s': %m", to);
		goto fail;
	}
	copying = true;
	r = chown_like(to, &dir_st);
	if (r < 0)
		goto fail;
	r = copy_ledger_files(from, to, &dir_st, &n_copied);
	if (r < 0)
		goto fail;
	r = copy_key(key, key_path, to_key);
	if (r < 0)
		goto fail;
	src = ledger_writer_free(src);

	/* The copy must be the source, record for record. */
	r = verify_quiet(to, key, &copied_last);
	if (r < 0)
		goto fail;
	if (copied_last != last) {
		r = log_error_errno(EIO, "'%s' ends at record %" PRIu64 ", the source at %" PRIu64,
				    to, copied_last, last);
		goto fail;
	}

	free(err);
	err = NULL;
	r = ledger_writer_open(to, key, NULL, &self, &dst, NULL, &err);
	if (r < 0) {
		log_error_errno(r, "ledger '%s': %s", to, err ?: strerror(-r));
		goto fail;
	}
	p = json_object_new_object();
	if (!p || json_add_string(p, "from", from) < 0 || json_add_string(p, "to", to) < 0 ||
	    json_add_int(p, "records", (int64_t)last) < 0) {
		r = log_oom();
		goto fail;
	}
	r = ledger_writer_add(dst, LEDGER_TYPE_MIGRATE, &self, p, NULL, NULL);
	if (r >= 0)
		r = ledger_writer_checkpoint(dst, "migrate");
	if (r >= 0)
		r = ledger_writer_commit(dst);
	if (r < 0) {
		log_error_errno(r, "ledger '%s': recording the migration: %m", to);
		goto fail;
	}
	dst = ledger_writer_free(dst);
	r = chown_tree(to, &dir_st);
	if (r < 0)
		goto fail;
	r = verify_quiet(to, key, &copied_last);
	if (r < 0)
		goto fail;
	copying = false;

	printf("migrated '%s' (records 1 to %" PRIu64 ", %u files) to '%s', key '%s' to '%s';\n"
	       "'%s' ends at record %" PRIu64 " with a signed checkpoint\n",
	       from, last, n_copied, to, key_path, to_key, to, copied_last);
	ledger_actor_done(&self);
	return EXIT_SUCCESS;
fail:
	dst = ledger_writer_free(dst);
	if (copying) {
		/* Leave no partial copy behind: the source is untouched and still whole. */
		int k = remove_partial(to, created_to);
		if (k < 0)
			log_error_errno(k, "removing the partial copy in '%s': %m", to);
		else
			log_error("nothing was migrated; '%s' is as it was", from);
	}
	ledger_actor_done(&self);
	return EXIT_FAILURE;
}
