/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/ledger-peer: /proc/PID/stat's start time, and the rule that a pid whose process
 * started after the connection was accepted (a reused pid) vouches for no unit, on a
 * real connection from a child process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ledger-peer.h"

static void test_stat_starttime(void **state)
{
	uint64_t t = 0;
	(void)state;

	assert_int_equal(
		ledger_proc_stat_starttime("1234 (cat) S 1 1234 1234 0 -1 4194304 99 0 0 0 "
					   "0 0 0 0 20 0 1 0 987654 5431296 200 "
					   "18446744073709551615\n",
					   &t),
		0);
	assert_int_equal(t, 987654);
	/* a comm that tries to shift the fields: only the last ')' counts */
	assert_int_equal(
		ledger_proc_stat_starttime("1234 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 "
					   "16 17 18 19 20) S 1 1234 1234 0 -1 4194304 "
					   "99 0 0 0 0 0 0 0 20 0 1 0 42 5431296 200\n",
					   &t),
		0);
	assert_int_equal(t, 42);
	assert_int_equal(ledger_proc_stat_starttime("1234 (cat) S 1 2 3", &t), -EBADMSG);
	assert_int_equal(ledger_proc_stat_starttime("no parenthesis at all", &t), -EBADMSG);
	assert_int_equal(ledger_proc_stat_starttime(NULL, &t), -EBADMSG);
	assert_int_equal(ledger_proc_stat_starttime("1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
						    "12x 1 1\n",
						    &t),
			 -EBADMSG);
}

/* A child connects to a listening socket and waits; returns the accepted fd. */
static int child_connection(pid_t *ret_pid, int *ret_release)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l, fd, p[2];
	pid_t pid;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/airlock-test-peer-%d", (int)getpid());
	unlink(sa.sun_path);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		char b;

		if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(1);
		close(p[1]);
		(void)!read(p[0], &b, 1); /* until the parent is done */
		_exit(0);
	}
	close(p[0]);
	fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	close(l);
	unlink(sa.sun_path);
	*ret_pid = pid;
	*ret_release = p[1];
	return fd;
}

static void test_reused_pid(void **state)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	enum ledger_peer_method m;
	char *unit = NULL;
	uint64_t before = ledger_boottime_ticks();
	int fd, release, status;
	pid_t pid;
	(void)state;

	usleep(50 * 1000); /* the child starts ticks after 'before' */
	fd = child_connection(&pid, &release);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl), 0);
	assert_int_equal(cred.pid, pid);

	/* accepted now: its own pid, whatever unit (if any) it is in */
	assert_int_equal(ledger_peer_unit(fd, &cred, ledger_boottime_ticks(), LEDGER_PEER_STARTTIME,
					  &unit, &m),
			 0);
	assert_int_equal(m, LEDGER_PEER_STARTTIME);
	free(unit);
	unit = NULL;
	/* as if accepted before that process existed: the pid was reused, no unit */
	assert_int_equal(ledger_peer_unit(fd, &cred, before, LEDGER_PEER_STARTTIME, &unit, &m),
			 -ESRCH);
	assert_null(unit);
	/* another uid than the peer's on the same pid: refused too */
	cred.uid += 1;
	assert_int_equal(ledger_peer_unit(fd, &cred, ledger_boottime_ticks(), LEDGER_PEER_STARTTIME,
					  &unit, &m),
			 -ESRCH);
	cred.uid -= 1;

	/* the peer gone: nothing to vouch for, by either method */
	close(release);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(ledger_peer_unit(fd, &cred, ledger_boottime_ticks(), LEDGER_PEER_STARTTIME,
					  &unit, &m),
			 -ESRCH);
	assert_int_equal(ledger_peer_unit(fd, &cred, ledger_boottime_ticks(),
					  _LEDGER_PEER_METHOD_INVALID, &unit, &m),
			 -ESRCH);
	assert_null(unit);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_starttime),
		cmocka_unit_test(test_reused_pid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
