/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fetch verb: bring exactly the .debs a lock pins into the pool, the only step
 * that touches a network. apt's own tools do the downloading (apt-get download, so
 * apt's sources, proxies and its own hash checks apply); every file is then checked
 * against the lock's size and sha256 before it is renamed into the pool.
 *
 * A locked version the archive no longer has (a point release or security update
 * replaced it) is never substituted: fetch names each one, still fetches every
 * other missing package (the pool is the durable copy, and a fresh lock keeps most
 * of them), and exits with EXIT_STALE_LOCK.
 */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "builder.h"
#include "core/fileio.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/parse.h"
#include "core/path.h"
#include "core/progress.h"
#include "core/run.h"
#include "core/strv.h"
#include "lockfile.h"
#include "pool.h"

#define FETCH_TMP_PREFIX ".fetch-"

enum item_state {
	ITEM_PRESENT, /* in the pool and correct */
	ITEM_MISSING, /* to fetch */
	ITEM_STALE, /* the archive no longer has this version */
	ITEM_FETCHED,
	ITEM_FAILED, /* the download failed: worth another try */
	ITEM_REFUSED, /* the archive's file under this version is not the locked one */
};

struct item {
	const struct lock_package *pkg;
	char *pool_name;
	char *spec; /* NAME:ARCH=VERSION for apt */
	enum item_state state;
	bool replaced; /* a corrupt pool file was removed for it */
	char *reason; /* why stale or failed */
};

static void fetch_help(void)
{
	printf("Usage: airlock-build fetch LOCK [OPTIONS]\n"
	       "\n"
	       "Makes sure every .deb that LOCK pins is in the pool with the locked sha256.\n"
	       "Files already present and correct are kept; a corrupt one is reported and\n"
	       "replaced. Downloads with apt-get download from apt's configured sources (the\n"
	       "only networked step). A locked version the archive no longer has is named and\n"
	       "never substituted: the other packages are still fetched, and the exit status\n"
	       "is 3; re-lock (make lock) and review the change.\n"
	       "\n"
	       "  --pool DIR    package pool (default: ~/.cache/airlock/pool or $AIRLOCK_POOL)\n");
}

static void items_free(struct item *items, size_t n)
{
	for (size_t i = 0; items && i < n; i++) {
		free(items[i].pool_name);
		free(items[i].spec);
		free(items[i].reason);
	}
	free(items);
}

/* Takes the pool for ourselves (one fetch at a time; a second one waits) and clears what an
 * interrupted one left. */
static int pool_open_locked(const char *pool, int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF;
	DIR *d;
	struct dirent *de;
	int r;

	r = mkdir_p(pool, 0755);
	if (r < 0)
		return log_error_errno(r, "fetch: cannot create the pool '%s': %m", pool);
	fd = open(pool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return log_error_errno(errno, "fetch: cannot open the pool '%s': %m", pool);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return log_error_errno(errno, "fetch: cannot lock the pool '%s': %m", pool);
		/* Another fetch (a parallel build or test) owns it: it finishes, we check after. */
		log_info("fetch: another fetch is using the pool '%s'; waiting for it to finish",
			 pool);
		if (flock(fd, LOCK_EX) < 0)
			return log_error_errno(errno, "fetch: cannot lock the pool '%s': %m", pool);
	}
	d = opendir(pool);
	if (!d)
		return log_error_errno(errno, "fetch: cannot read the pool '%s': %m", pool);
	while ((de = readdir(d))) {
		_cleanup_free_ char *p = NULL;
		if (!startswith(de->d_name, FETCH_TMP_PREFIX))
			continue;
		p = path_join(pool, de->d_name);
		if (!p) {
			closedir(d);
			return log_oom();
		}
		r = rm_rf(p);
		if (r < 0)
			log_warning_errno(
				r, "fetch: cannot remove the leftover '%s': %m, ignoring.", p);
		else
			log_debug("fetch: removed '%s', left by an interrupted fetch", p);
	}
	closedir(d);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* Checks what the pool already has; a corrupt file is reported and removed. */
static int check_pool(const char *pool, int pool_fd, struct item *items, size_t n,
		      uint64_t total_bytes)
{
	struct progress *pr =
		progress_begin("fetch: checking pool", total_bytes, PROGRESS_BYTES, NULL);
	char b[FORMAT_BYTES_MAX];
	uint64_t done = 0;

	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		struct pool_check c;
		int r = pool_check_package(pool_fd, it->pkg, &c);

		if (r < 0) {
			progress_abort(pr);
			return log_error_errno(r, "fetch: cannot read '%s/%s': %m", pool,
					       it->pool_name);
		}
		switch (c.state) {
		case POOL_FILE_OK:
			it->state = ITEM_PRESENT;
			break;
		case POOL_FILE_MISSING:
			it->state = ITEM_MISSING;
			break;
		default:
			log_warning("fetch: %s/%s (%s %s) %s: it is corrupt; removing it and "
				    "fetching it again.",
				    pool, it->pool_name, it->pkg->name, it->pkg->version,
				    c.problem);
			if (unlinkat(pool_fd, it->pool_name, 0) < 0 && errno != ENOENT) {
				progress_abort(pr);
				return log_error_errno(errno, "fetch: cannot remove '%s/%s': %m",
						       pool, it->pool_name);
			}
			it->state = ITEM_MISSING;
			it->replaced = true;
		}
		done += it->pkg->size;
		progress_update(pr, done);
	}
	progress_end(pr, "%zu packages, %s", n, format_bytes(b, sizeof(b), total_bytes));
	return 0;
}

static const char *apt_sandbox_args[] = { "-o", "APT::Sandbox::User=root" };

/*
 * apt-get with our options and the given package specs. As root, apt would drop to
 * its _apt user for the download and warn that _apt cannot write into our private
 * temporary directory; we download as root instead, say so here, and rely on the
 * sha256 check of every file before it enters the pool.
 */
static int apt_argv(const char *verb, const char *extra, char *const *specs, char ***ret)
{
	_cleanup_strv_free_ char **argv = NULL;
	int r;

	if ((r = strv_extend(&argv, "apt-get")) < 0 || (r = strv_extend(&argv, "-q")) < 0 ||
	    (r = strv_extend(&argv, verb)) < 0)
		return r;
	if (extra && (r = strv_extend(&argv, extra)) < 0)
		return r;
	if (geteuid() == 0)
		for (size_t i = 0; i < ELEMENTSOF(apt_sandbox_args); i++)
			if ((r = strv_extend(&argv, apt_sandbox_args[i])) < 0)
				return r;
	if ((r = strv_extend_strv(&argv, specs)) < 0)
		return r;
	*ret = TAKE_PTR(argv);
	return 0;
}

static struct item *item_by_pool_name(struct item *items, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (streq(items[i].pool_name, name))
			return &items[i];
	return NULL;
}

/* Reports the bytes arriving in a download directory while apt runs. */
struct download_watch {
	int dir_fd;
	struct item *items;
	size_t n_items;
	size_t count;
	struct progress *progress;
};

static uint64_t dir_bytes(int dir_fd, struct item *items, size_t n, size_t *ret_complete)
{
	_cleanup_close_ int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	uint64_t total = 0;
	size_t complete = 0;
	DIR *d;
	struct dirent *de;

	*ret_complete = 0;
	if (fd < 0 || !(d = fdopendir(fd)))
		return 0;
	fd = -EBADF;
	while ((de = readdir(d))) {
		struct stat st;
		struct item *it;

		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		total += (uint64_t)st.st_size;
		it = item_by_pool_name(items, n, de->d_name);
		if (it && (uint64_t)st.st_size == it->pkg->size)
			complete++;
	}
	closedir(d);
	*ret_complete = complete;
	return total;
}

static void download_watch_update(struct download_watch *w)
{
	char note[64];
	size_t complete;
	uint64_t got = dir_bytes(w->dir_fd, w->items, w->n_items, &complete);

	snprintf(note, sizeof(note), "%zu/%zu packages", complete, w->count);
	progress_set_note(w->progress, note);
	progress_update(w->progress, got);
}

/*
 * Runs apt-get to the end. Returns 0 when it ran (whatever its exit status), with
 * its whole stdout (if ret_stdout) and stderr, and in *ret_error the failure
 * message if it exited non-zero; -errno when it could not be run at all.
 */
static int apt_run(char *const *argv, const char *cwd, struct download_watch *watch,
		   char **ret_stdout, char **ret_stderr, char **ret_error)
{
	_cleanup_free_ char *out = NULL, *err = NULL, *error = NULL;
	_cleanup_close_ int out_fd = -EBADF;
	struct run_opts o = { .cwd = cwd };
	struct run_proc proc;
	int r;

	if (ret_stdout) {
		out_fd = memfd_create("apt-stdout", MFD_CLOEXEC);
		if (out_fd < 0)
			return -errno;
		o.stdout_mode = RUN_STDIO_FD;
		o.stdout_fd = out_fd;
	}
	r = run_spawn((const char *const *)argv, &o, &proc);
	if (r < 0)
		return r;
	for (;;) {
		siginfo_t si = {};

		/* WNOWAIT: leave the child for run_proc_wait() to reap and judge */
		if (waitid(P_PID, (id_t)proc.pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 &&
		    errno != EINTR) {
			r = -errno;
			run_proc_kill(&proc);
			return r;
		}
		if (watch)
			download_watch_update(watch);
		if (si.si_pid != 0)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 200 * 1000 * 1000 }, NULL);
	}
	/* the whole of stderr: with many packages apt's reasons outgrow run_proc_wait()'s tail */
	if (lseek(proc.stderr_fd, 0, SEEK_SET) < 0 ||
	    read_full_fd(proc.stderr_fd, 16U * 1024U * 1024U, &err, NULL) < 0) {
		run_proc_kill(&proc);
		return -EIO;
	}
	r = run_proc_wait(&proc, NULL, &error);
	if (r < 0 && r != -EPROTO)
		return r;
	if (ret_stdout) {
		if (lseek(out_fd, 0, SEEK_SET) < 0)
			return -errno;
		r = read_full_fd(out_fd, 64U * 1024U * 1024U, &out, NULL);
		if (r < 0)
			return r;
		*ret_stdout = TAKE_PTR(out);
	}
	*ret_stderr = TAKE_PTR(err);
	*ret_error = TAKE_PTR(error);
	return 0;
}

/*
 * Parses "'URI' FILE SIZE SHA256:HEX" lines and marks every wanted item apt can
 * fetch as available; one whose archive size or hash differs from the lock is
 * refused (ITEM_FAILED), never fetched.
 */
static int match_uris(const char *text, struct item *items, size_t n, bool *found)
{
	_cleanup_strv_free_ char **lines = NULL;
	int r;

	r = strv_split(text, "\n", &lines);
	if (r < 0)
		return r;
	STRV_FOREACH(l, lines) {
		_cleanup_strv_free_ char **w = NULL;
		struct item *it;
		const char *hash;
		uint64_t size;

		r = strv_split(*l, " ", &w);
		if (r < 0)
			return r;
		if (strv_length(w) != 4)
			continue;
		it = item_by_pool_name(items, n, w[1]);
		if (!it || it->state != ITEM_MISSING)
			continue;
		hash = startswith(w[3], "SHA256:");
		if (safe_atou64(w[2], &size) < 0 || size != it->pkg->size || !hash ||
		    !streq(hash, it->pkg->sha256)) {
			log_error("fetch: the archive's %s %s is not the one the lock pins: apt "
				  "offers %s bytes, %s; the lock pins %" PRIu64
				  " bytes, sha256 %s. "
				  "Not fetching it.",
				  it->pkg->name, it->pkg->version, w[2], w[3], it->pkg->size,
				  it->pkg->sha256);
			it->state = ITEM_REFUSED;
			continue;
		}
		found[it - items] = true;
	}
	return 0;
}

/*
 * apt's own line saying why it cannot get an item, e.g.
 *   E: Version '252.38-1~deb12u1' for 'systemd' was not found
 *   E: Can't find a source to download version '1:2.66-4' of 'libcap2:amd64'
 *   E: Unable to locate package nosuch
 */
static char *apt_reason_for(const char *apt_stderr, const struct item *it)
{
	_cleanup_strv_free_ char **lines = NULL;
	_cleanup_free_ char *v = NULL, *n = NULL, *na = NULL, *u1 = NULL, *u2 = NULL;

	if (strv_split(strempty(apt_stderr), "\n", &lines) < 0 ||
	    asprintf(&v, "'%s'", it->pkg->version) < 0 || asprintf(&n, "'%s'", it->pkg->name) < 0 ||
	    asprintf(&na, "'%s:%s'", it->pkg->name, it->pkg->architecture) < 0 ||
	    asprintf(&u1, "Unable to locate package %s", it->pkg->name) < 0 ||
	    asprintf(&u2, "Unable to locate package %s:%s", it->pkg->name, it->pkg->architecture) <
		    0)
		return NULL;
	STRV_FOREACH(l, lines) {
		bool gone = strstr(*l, "was not found") || strstr(*l, "Can't find a source");
		if ((gone && strstr(*l, v) && (strstr(*l, n) || strstr(*l, na))) ||
		    endswith(*l, u1) || endswith(*l, u2))
			return strdup(*l);
	}
	return NULL;
}

/*
 * Sorts the missing items into available and stale by asking apt once. A package
 * apt leaves out must come with apt's reason that the version is gone; anything
 * else means apt itself is in trouble, which is not a stale lock.
 */
static int classify(struct item *items, size_t n)
{
	_cleanup_strv_free_ char **specs = NULL, **argv = NULL;
	_cleanup_free_ char *out = NULL, *err = NULL, *error = NULL;
	_cleanup_free_ bool *found = new0(bool, n);
	int r;

	if (!found)
		return log_oom();
	for (size_t i = 0; i < n; i++)
		if (items[i].state == ITEM_MISSING && (r = strv_extend(&specs, items[i].spec)) < 0)
			return log_oom();
	if (!specs)
		return 0;
	r = apt_argv("download", "--print-uris", specs, &argv);
	if (r < 0)
		return log_oom();
	r = apt_run(argv, NULL, NULL, &out, &err, &error);
	if (r < 0)
		return log_error_errno(r, "fetch: cannot run apt-get: %m");
	r = match_uris(out, items, n, found);
	if (r < 0)
		return log_oom();

	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];

		if (it->state != ITEM_MISSING || found[i])
			continue;
		it->reason = apt_reason_for(err, it);
		if (!it->reason)
			return log_error_errno(EPROTO, "fetch: apt cannot tell where to get %s: %s",
					       it->spec, error ?: "it printed nothing for it");
		it->state = ITEM_STALE;
	}
	return 0;
}

/* Checks each downloaded file against the lock and renames the good ones into the pool. */
/*
 * Why apt did not deliver an item: its "E: Failed to fetch URL ..." line for the
 * item's file (the URL names it as .../NAME_...), else a pointer to apt's errors.
 */
static char *apt_failure_for(const char *apt_stderr, const struct item *it)
{
	_cleanup_strv_free_ char **lines = NULL;
	_cleanup_free_ char *needle = NULL;

	if (strv_split(strempty(apt_stderr), "\n", &lines) < 0 ||
	    asprintf(&needle, "/%s_", it->pkg->name) < 0)
		return NULL;
	STRV_FOREACH(l, lines)
		if (startswith(*l, "E: ") && strstr(*l, needle))
			return strdup(*l);
	return strdup(isempty(apt_stderr) ?
			      "apt-get download did not deliver it" :
			      "apt-get download did not deliver it (see apt's error above)");
}

static int move_into_pool(const char *pool, int pool_fd, const char *tmp_dir, int tmp_fd,
			  struct item *items, size_t n, const char *apt_stderr)
{
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		_cleanup_close_ int fd = -EBADF;
		struct pool_check c;
		int r;

		if (it->state != ITEM_MISSING)
			continue;
		r = pool_check_package(tmp_fd, it->pkg, &c);
		if (r < 0)
			return log_error_errno(r, "fetch: cannot read '%s/%s': %m", tmp_dir,
					       it->pool_name);
		if (c.state == POOL_FILE_MISSING) {
			it->state = ITEM_FAILED;
			it->reason = apt_failure_for(apt_stderr, it);
			if (!it->reason)
				return log_oom();
			continue;
		}
		if (c.state == POOL_FILE_CORRUPT) {
			log_error("fetch: the download of %s %s %s; discarding it.", it->pkg->name,
				  it->pkg->version, c.problem);
			it->state = ITEM_REFUSED;
			continue;
		}
		fd = openat(tmp_fd, it->pool_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fchmod(fd, 0644) < 0 || fsync(fd) < 0 ||
		    renameat(tmp_fd, it->pool_name, pool_fd, it->pool_name) < 0)
			return log_error_errno(errno,
					       "fetch: cannot move %s into the pool '%s': %m",
					       it->pool_name, pool);
		it->state = ITEM_FETCHED;
	}
	if (fsync(pool_fd) < 0)
		ret = log_error_errno(errno, "fetch: cannot sync the pool '%s': %m", pool);
	return ret;
}

/* The first "E: " line of apt's stderr (apt's own summary of what failed), or all of it. */
static char *apt_first_error(const char *apt_stderr)
{
	const char *e = strstr(strempty(apt_stderr), "E: ");

	if (!e)
		return strdup(isempty(apt_stderr) ? "apt-get download failed" : apt_stderr);
	return strndup(e, strcspn(e, "\n"));
}

static int download(const char *pool, int pool_fd, struct item *items, size_t n)
{
	_cleanup_strv_free_ char **specs = NULL, **argv = NULL;
	_cleanup_free_ char *tmp = NULL, *err = NULL, *error = NULL, *first = NULL;
	_cleanup_close_ int tmp_fd = -EBADF;
	struct download_watch w = { .items = items, .n_items = n };
	char b[FORMAT_BYTES_MAX];
	uint64_t bytes = 0;
	int r, k;

	for (size_t i = 0; i < n; i++)
		if (items[i].state == ITEM_MISSING) {
			if (strv_extend(&specs, items[i].spec) < 0)
				return log_oom();
			bytes += items[i].pkg->size;
			w.count++;
		}
	if (w.count == 0)
		return 0;
	r = apt_argv("download", NULL, specs, &argv);
	if (r < 0)
		return log_oom();

	r = mkdtemp_in(pool, FETCH_TMP_PREFIX, &tmp);
	if (r < 0)
		return log_error_errno(r, "fetch: cannot create a directory in the pool '%s': %m",
				       pool);
	tmp_fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tmp_fd < 0) {
		r = log_error_errno(errno, "fetch: cannot open '%s': %m", tmp);
		goto out;
	}
	w.dir_fd = tmp_fd;
	w.progress = progress_begin("fetch: downloading", bytes, PROGRESS_BYTES, NULL);
	r = apt_run(argv, tmp, &w, NULL, &err, &error);
	if (r < 0) {
		progress_abort(w.progress);
		log_error_errno(r, "fetch: cannot run apt-get download: %m");
		goto out;
	}
	progress_end(w.progress, "%zu package(s), %s", w.count, format_bytes(b, sizeof(b), bytes));
	if (error) {
		first = apt_first_error(err);
		if (!first) {
			r = log_oom();
			goto out;
		}
		log_error("fetch: apt-get download failed: %s", first);
	}
	/* keep whatever arrived complete and correct, even when apt failed for others */
	r = move_into_pool(pool, pool_fd, tmp, tmp_fd, items, n, err);
out:
	k = rm_rf(tmp);
	if (k < 0)
		log_warning_errno(k, "fetch: cannot remove '%s': %m, ignoring.", tmp);
	return r;
}

int verb_fetch(int argc, char *argv[])
{
	enum { ARG_POOL = 0x100 };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "pool", required_argument, NULL, ARG_POOL },
		{},
	};
	_cleanup_(lockfile_freep) struct lockfile *lf = NULL;
	_cleanup_free_ char *error = NULL, *default_pool = NULL;
	_cleanup_close_ int pool_fd = -EBADF;
	struct item *items = NULL;
	const char *pool = NULL, *lock_path;
	size_t n_present = 0, n_fetched = 0, n_stale = 0, n_failed = 0, n_refused = 0,
	       n_replaced = 0;
	uint64_t total = 0, fetched_bytes = 0;
	char b1[FORMAT_BYTES_MAX], b2[FORMAT_BYTES_MAX], replaced[64] = "";
	int c, r, ret = 1;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			fetch_help();
			return 0;
		case ARG_POOL:
			pool = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc) {
		log_error("fetch: expected exactly one LOCK; see 'airlock-build fetch --help'");
		return 2;
	}
	lock_path = argv[optind];
	if (!pool) {
		r = default_pool_dir(&default_pool);
		if (r < 0)
			return log_error_errno(r, "fetch: no pool directory ($HOME unset): give "
						  "--pool DIR"),
			       1;
		pool = default_pool;
	}

	r = lockfile_load(lock_path, &lf, &error);
	if (r < 0)
		return log_error("%s", error ?: strerror(-r)), 1;

	items = new0(struct item, lf->n_packages);
	if (!items)
		return log_oom(), 1;
	for (size_t i = 0; i < lf->n_packages; i++) {
		const struct lock_package *p = &lf->packages[i];
		items[i].pkg = p;
		total += p->size;
		if (lock_package_pool_name(p, &items[i].pool_name) < 0 ||
		    asprintf(&items[i].spec, "%s:%s=%s", p->name, p->architecture, p->version) <
			    0) {
			log_oom();
			goto out;
		}
	}

	if (pool_open_locked(pool, &pool_fd) < 0)
		goto out;
	if (check_pool(pool, pool_fd, items, lf->n_packages, total) < 0)
		goto out;
	for (size_t i = 0; i < lf->n_packages; i++) {
		n_present += items[i].state == ITEM_PRESENT;
		n_replaced += items[i].replaced;
	}
	if (n_present == lf->n_packages) {
		progress_line("fetch: all %zu packages of %s are in %s and match the lock (%s); "
			      "nothing to fetch",
			      lf->n_packages, lock_path, pool, format_bytes(b1, sizeof(b1), total));
		ret = 0;
		goto out;
	}
	progress_line("fetch: %zu of %zu packages are in %s; %zu to fetch", n_present,
		      lf->n_packages, pool, lf->n_packages - n_present);

	if (classify(items, lf->n_packages) < 0)
		goto out;
	if (download(pool, pool_fd, items, lf->n_packages) < 0)
		goto out;

	for (size_t i = 0; i < lf->n_packages; i++) {
		struct item *it = &items[i];
		switch (it->state) {
		case ITEM_FETCHED:
			n_fetched++;
			fetched_bytes += it->pkg->size;
			break;
		case ITEM_STALE:
			n_stale++;
			log_error("fetch: %s %s (%s:%u) is no longer in the archive: %s",
				  it->pkg->name, it->pkg->version, lock_path, it->pkg->line,
				  strna(it->reason));
			break;
		case ITEM_FAILED:
			n_failed++;
			log_error("fetch: %s %s was not fetched: %s", it->pkg->name,
				  it->pkg->version, strna(it->reason));
			break;
		case ITEM_REFUSED:
			n_refused++;
			break;
		default:
			break;
		}
	}
	if (n_replaced > 0)
		snprintf(replaced, sizeof(replaced), " (%zu replacing corrupt files)", n_replaced);
	progress_line("fetch: fetched %zu package(s), %s%s; %zu of %zu now in %s (%s)", n_fetched,
		      format_bytes(b1, sizeof(b1), fetched_bytes), replaced, n_present + n_fetched,
		      lf->n_packages, pool, format_bytes(b2, sizeof(b2), total));
	if (n_refused > 0)
		log_error("fetch: %zu package(s) in the archive differ from what %s pins under the "
			  "same version (see above): the lock or the archive was altered. Nothing "
			  "was fetched for them; find out which before you re-lock.",
			  n_refused, lock_path);
	if (n_failed > 0)
		log_error("fetch: %zu package(s) could not be fetched; run fetch again", n_failed);
	if (n_refused > 0 || n_failed > 0)
		goto out;
	if (n_stale > 0) {
		log_error(
			"fetch: %s is stale: %zu locked version(s) are gone from the archive (a "
			"point release or a security update replaced them). Nothing was "
			"substituted; every other package was fetched. Re-lock with 'make lock' "
			"(airlock-build lock MANIFEST), review the new versions, and fetch again.",
			lock_path, n_stale);
		ret = EXIT_STALE_LOCK;
		goto out;
	}
	ret = 0;
out:
	items_free(items, lf ? lf->n_packages : 0);
	return ret;
}
