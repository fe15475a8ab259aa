/* SPDX-License-Identifier: Apache-2.0 */
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/fd.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/parse.h"
#include "ledger-peer.h"
#include "ledger.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

static const char *const method_names[_LEDGER_PEER_METHOD_MAX] = {
	[LEDGER_PEER_PIDFD] = "pidfd",
	[LEDGER_PEER_STARTTIME] = "starttime",
};

const char *ledger_peer_method_to_string(enum ledger_peer_method m)
{
	return m >= 0 && m < _LEDGER_PEER_METHOD_MAX ? method_names[m] : NULL;
}

int ledger_proc_stat_starttime(const char *stat, uint64_t *ret)
{
	/* "PID (COMM) STATE PPID ...": comm may hold anything, even ") ", so the fields
	 * start after its last ')'; starttime is field 22, the 20th after comm */
	const char *p = stat ? strrchr(stat, ')') : NULL;
	char field[32];
	size_t n;

	if (!p)
		return -EBADMSG;
	p++;
	for (unsigned i = 0; i < 20; i++) {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			return -EBADMSG;
		if (i == 19)
			break;
		p += strcspn(p, " \n");
	}
	n = strcspn(p, " \n");
	if (n == 0 || n >= sizeof(field))
		return -EBADMSG;
	memcpy(field, p, n);
	field[n] = '\0';
	return safe_atou64(field, ret) < 0 ? -EBADMSG : 0;
}

uint64_t ledger_boottime_ticks(void)
{
	struct timespec ts;
	long hz = sysconf(_SC_CLK_TCK);

	if (hz <= 0)
		hz = 100;
	if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
		return UINT64_MAX;
	return (uint64_t)ts.tv_sec * (uint64_t)hz +
	       (uint64_t)ts.tv_nsec / (1000000000ULL / (uint64_t)hz);
}

static int pid_starttime(pid_t pid, uint64_t *ret)
{
	_cleanup_free_ char *text = NULL;
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	r = read_full_file(path, 4096, &text, NULL);
	if (r < 0)
		return r;
	return ledger_proc_stat_starttime(text, ret);
}

static int access_proc(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return access(path, F_OK) < 0 ? -errno : 0;
}

static bool pid_has_uid(pid_t pid, uid_t uid)
{
	_cleanup_free_ char *status = NULL;
	char path[64];
	const char *u;
	unsigned v;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_full_file(path, 64 * 1024, &status, NULL) < 0)
		return false;
	u = strstr(status, "\nUid:\t");
	return u && sscanf(u + 6, "%u", &v) == 1 && v == (unsigned)uid;
}

int ledger_peer_unit(int fd, const struct ucred *cred, uint64_t accepted_ticks,
		     enum ledger_peer_method force_method, char **ret_unit,
		     enum ledger_peer_method *ret_method)
{
	_cleanup_close_ int pidfd = -EBADF;
	_cleanup_free_ char *unit = NULL;
	enum ledger_peer_method m = force_method;
	socklen_t l = sizeof(pidfd);
	uint64_t before = 0, after = 0;
	int r;

	*ret_unit = NULL;
	if (m != LEDGER_PEER_STARTTIME &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &l) == 0 && pidfd >= 0)
		m = LEDGER_PEER_PIDFD;
	else {
		pidfd = -EBADF;
		m = LEDGER_PEER_STARTTIME;
	}
	if (ret_method)
		*ret_method = m;
	if (cred->pid <= 0)
		return -ESRCH;

	if (m == LEDGER_PEER_STARTTIME && pid_starttime(cred->pid, &before) < 0)
		return -ESRCH;
	r = ledger_unit_of_pid(cred->pid, &unit);
	if (r == -ENOMEM)
		return r;
	if (r < 0 && access_proc(cred->pid) < 0)
		return -ESRCH;
	if (m == LEDGER_PEER_PIDFD) {
		/* alive now: the pid was its own all along (EPERM says alive too: the peer
		 * may be another uid's process) */
		if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0 && errno == ESRCH) {
			log_debug_errno(errno, "peer pid %d: gone before its unit was read: %m",
					(int)cred->pid);
			return -ESRCH;
		}
	} else if (pid_starttime(cred->pid, &after) < 0 || after != before ||
		   before > accepted_ticks || !pid_has_uid(cred->pid, cred->uid)) {
		log_debug("peer pid %d: started after the connection (%" PRIu64 " > %" PRIu64
			  " ticks) or changed: a reused pid, no unit",
			  (int)cred->pid, before, accepted_ticks);
		return -ESRCH;
	}
	if (r < 0)
		return 0; /* alive and its own, in no unit */
	*ret_unit = TAKE_PTR(unit);
	return 0;
}
