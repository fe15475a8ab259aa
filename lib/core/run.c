/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "fd.h"
#include "fileio.h"
#include "log.h"
#include "path.h"
#include "run.h"
#include "strv.h"

extern char **environ;

static char *tools_dirs;
static int64_t source_date_epoch = -1;

void run_set_tools_dirs(const char *dirs)
{
	free(tools_dirs);
	tools_dirs = dirs ? strdup(dirs) : NULL;
}

void run_set_source_date_epoch(int64_t epoch)
{
	source_date_epoch = epoch;
}

static int find_in(const char *dirs, const char *name, char **ret)
{
	_cleanup_strv_free_ char **l = NULL;
	int r;

	if (isempty(dirs))
		return -ENOENT;
	r = strv_split(dirs, ":", &l);
	if (r < 0)
		return r;
	STRV_FOREACH(d, l) {
		_cleanup_free_ char *p = path_join(*d, name);
		if (!p)
			return -ENOMEM;
		if (access(p, X_OK) == 0) {
			*ret = TAKE_PTR(p);
			return 0;
		}
	}
	return -ENOENT;
}

int run_find_tool(const char *name, char **ret_path)
{
	const char *dirs[] = { tools_dirs, getenv("AIRLOCK_TOOLS_DIR"), getenv("PATH"),
			       "/usr/sbin:/sbin:/usr/bin:/bin" };

	if (strchr(name, '/')) {
		char *p;
		if (access(name, X_OK) < 0)
			return -errno;
		p = strdup(name);
		if (!p)
			return -ENOMEM;
		*ret_path = p;
		return 0;
	}
	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		int r = find_in(dirs[i], name, ret_path);
		if (r != -ENOENT)
			return r;
	}
	return -ENOENT;
}

static bool env_overridden(const char *entry, const char *const *extra)
{
	static const char *const forced[] = { "LC_ALL=", "TZ=", "SOURCE_DATE_EPOCH=" };
	size_t l = strcspn(entry, "=");

	for (size_t i = 0; i < ELEMENTSOF(forced); i++)
		if (strncmp(entry, forced[i], l + 1) == 0)
			return true;
	for (const char *const *e = extra; e && *e; e++)
		if (strncmp(entry, *e, l + 1) == 0)
			return true;
	return false;
}

static int build_env(const char *const *extra, char ***ret)
{
	_cleanup_strv_free_ char **env = NULL;
	int r;

	for (char **e = environ; e && *e; e++)
		if (!env_overridden(*e, extra) && (r = strv_extend(&env, *e)) < 0)
			return r;
	if ((r = strv_extend(&env, "LC_ALL=C")) < 0 || (r = strv_extend(&env, "TZ=UTC")) < 0)
		return r;
	if (source_date_epoch >= 0 &&
	    (r = strv_extendf(&env, "SOURCE_DATE_EPOCH=%" PRIi64, source_date_epoch)) < 0)
		return r;
	for (const char *const *e = extra; e && *e; e++)
		if ((r = strv_extend(&env, *e)) < 0)
			return r;
	*ret = TAKE_PTR(env);
	return 0;
}

/* Async-signal-safe: used between fork() and execve(). */
static int write_proc_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static void proc_clear(struct run_proc *p)
{
	p->stdin_fd = safe_close(p->stdin_fd);
	p->stdout_capture_fd = safe_close(p->stdout_capture_fd);
	p->stderr_fd = safe_close(p->stderr_fd);
	p->name = mfree(p->name);
	p->pid = 0;
}

int run_spawn(const char *const argv[], const struct run_opts *opts, struct run_proc *ret)
{
	static const struct run_opts defaults = {};
	_cleanup_free_ char *path = NULL;
	_cleanup_strv_free_ char **env = NULL;
	_cleanup_close_ int err_fd = -EBADF, out_fd = -EBADF, null_fd = -EBADF;
	int pipe_fds[2] = { -EBADF, -EBADF };
	int in_child = -EBADF, out_child = -EBADF;
	char uid_map[64], gid_map[64];
	bool userns = false;
	pid_t pid;
	int r;

	if (!opts)
		opts = &defaults;
	if (opts->userns_root && geteuid() != 0) {
		userns = true;
		snprintf(uid_map, sizeof(uid_map), "0 %u 1\n", (unsigned)geteuid());
		snprintf(gid_map, sizeof(gid_map), "0 %u 1\n", (unsigned)getegid());
	}
	r = run_find_tool(argv[0], &path);
	if (r < 0)
		return r;
	r = build_env(opts->env, &env);
	if (r < 0)
		return r;

	err_fd = memfd_create("stderr", MFD_CLOEXEC);
	if (err_fd < 0)
		return -errno;
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		return -errno;

	switch (opts->stdin_mode) {
	case RUN_STDIO_NULL:
		in_child = null_fd;
		break;
	case RUN_STDIO_INHERIT:
		in_child = STDIN_FILENO;
		break;
	case RUN_STDIO_FD:
		in_child = opts->stdin_fd;
		break;
	case RUN_STDIO_PIPE:
		if (pipe2(pipe_fds, O_CLOEXEC) < 0)
			return -errno;
		in_child = pipe_fds[0];
		break;
	default:
		return -EINVAL;
	}
	switch (opts->stdout_mode) {
	case RUN_STDIO_NULL:
		out_child = null_fd;
		break;
	case RUN_STDIO_INHERIT:
		out_child = STDOUT_FILENO;
		break;
	case RUN_STDIO_FD:
		out_child = opts->stdout_fd;
		break;
	case RUN_STDIO_CAPTURE:
		out_fd = memfd_create("stdout", MFD_CLOEXEC);
		if (out_fd < 0) {
			r = -errno;
			goto fail;
		}
		out_child = out_fd;
		break;
	default:
		r = -EINVAL;
		goto fail;
	}

	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto fail;
	}
	if (pid == 0) {
		/* Child: only async-signal-safe calls from here to execve(). */
		if (dup2(in_child, STDIN_FILENO) < 0 || dup2(out_child, STDOUT_FILENO) < 0 ||
		    dup2(err_fd, STDERR_FILENO) < 0)
			_exit(127);
		if (in_child == STDIN_FILENO)
			(void)fcntl(STDIN_FILENO, F_SETFD, 0);
		if (out_child == STDOUT_FILENO)
			(void)fcntl(STDOUT_FILENO, F_SETFD, 0);
		if (opts->cwd && chdir(opts->cwd) < 0)
			_exit(127);
		if (userns && (unshare(CLONE_NEWUSER) < 0 ||
			       write_proc_file("/proc/self/setgroups", "deny\n") < 0 ||
			       write_proc_file("/proc/self/gid_map", gid_map) < 0 ||
			       write_proc_file("/proc/self/uid_map", uid_map) < 0)) {
			static const char msg[] = "cannot enter a user namespace (are unprivileged "
						  "user namespaces disabled?)\n";
			(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
			_exit(126);
		}
		signal(SIGPIPE, SIG_DFL);
		execve(path, (char *const *)argv, env);
		_exit(127);
	}

	safe_close(pipe_fds[0]);
	*ret = (struct run_proc){
		.pid = pid,
		.stdin_fd = pipe_fds[1],
		.stdout_capture_fd = TAKE_FD(out_fd),
		.stderr_fd = TAKE_FD(err_fd),
		.name = strdup(path_last(argv[0])),
		.timeout_sec = opts->timeout_sec,
	};
	return 0;

fail:
	safe_close(pipe_fds[0]);
	safe_close(pipe_fds[1]);
	return r;
}

static char *read_memfd(int fd, size_t max_tail)
{
	_cleanup_free_ char *buf = NULL;
	off_t size = lseek(fd, 0, SEEK_END);
	off_t start;
	size_t n;

	if (size < 0)
		return NULL;
	start = (size_t)size > max_tail ? size - (off_t)max_tail : 0;
	if (lseek(fd, start, SEEK_SET) < 0)
		return NULL;
	if (read_full_fd(fd, (size_t)(size - start), &buf, &n) < 0)
		return NULL;
	return TAKE_PTR(buf);
}

static int wait_with_timeout(pid_t pid, unsigned timeout_sec, int *ret_status)
{
	int status;

	if (timeout_sec > 0) {
		_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pidfd >= 0) {
			struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
			int k;
			do
				k = poll(&pfd, 1, (int)MIN(timeout_sec, 2000000U) * 1000);
			while (k < 0 && errno == EINTR);
			if (k == 0) {
				kill(pid, SIGKILL);
				(void)waitpid(pid, &status, 0);
				return -ETIMEDOUT;
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	*ret_status = status;
	return 0;
}

int run_proc_wait(struct run_proc *p, char **ret_stdout, char **ret_error)
{
	_cleanup_free_ char *err = NULL;
	int status = 0, r;

	p->stdin_fd = safe_close(p->stdin_fd);
	r = wait_with_timeout(p->pid, p->timeout_sec, &status);
	if (r == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (ret_stdout && p->stdout_capture_fd >= 0) {
			*ret_stdout = read_memfd(p->stdout_capture_fd, SIZE_MAX / 2);
			if (!*ret_stdout)
				r = -ENOMEM;
		}
		proc_clear(p);
		return r;
	}

	err = read_memfd(p->stderr_fd, 2048);
	if (err) {
		size_t l = strlen(err);
		while (l > 0 && (err[l - 1] == '\n' || err[l - 1] == ' '))
			err[--l] = '\0';
	}
	if (ret_error) {
		char *m = NULL;
		int k;
		if (r == -ETIMEDOUT)
			k = asprintf(&m, "'%s' did not finish within %u s and was killed%s%s",
				     p->name, p->timeout_sec, isempty(err) ? "" : ": ",
				     strempty(err));
		else if (r < 0)
			k = asprintf(&m, "waiting for '%s' failed: %s", p->name, strerror(-r));
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && isempty(err))
			k = asprintf(&m, "'%s' could not be executed", p->name);
		else if (WIFEXITED(status))
			k = asprintf(&m, "'%s' exited with status %d%s%s", p->name,
				     WEXITSTATUS(status), isempty(err) ? "" : ": ", strempty(err));
		else
			k = asprintf(&m, "'%s' was killed by signal %s%s%s", p->name,
				     strsignal(WTERMSIG(status)), isempty(err) ? "" : ": ",
				     strempty(err));
		*ret_error = k < 0 ? NULL : m;
	}
	proc_clear(p);
	return r < 0 ? r : -EPROTO;
}

void run_proc_kill(struct run_proc *p)
{
	int status;

	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	proc_clear(p);
}

int run_argv(const char *const argv[], const struct run_opts *opts, char **ret_stdout,
	     char **ret_error)
{
	struct run_proc p;
	int r = run_spawn(argv, opts, &p);

	if (r < 0) {
		if (ret_error) {
			char *m = NULL;
			if (r == -ENOENT)
				r = asprintf(&m, "tool '%s' not found", argv[0]) < 0 ? -ENOMEM :
										       -ENOENT;
			else if (asprintf(&m, "cannot run '%s': %s", argv[0], strerror(-r)) < 0)
				r = -ENOMEM;
			*ret_error = m;
		}
		return r;
	}
	return run_proc_wait(&p, ret_stdout, ret_error);
}
