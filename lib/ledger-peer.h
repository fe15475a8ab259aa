/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Who a ledger client is, beyond SO_PEERCRED: the systemd unit it runs in, read from
 * /proc/PID/cgroup, without a recycled pid ever lending its unit to another process.
 *
 * SO_PEERCRED gives the pid the peer had when it connected; by the time the daemon reads
 * /proc/PID/cgroup that process may have exited and its pid been given to another. Two
 * ways to rule that out, whichever the kernel allows:
 *   - SO_PEERPIDFD (Linux 6.5+): a pidfd of the peer itself. The cgroup is read by pid,
 *     then the pidfd must still refer to a live process: if it does, the pid was not
 *     reused in between (a pid is not reused while a pidfd refers to a live process).
 *   - otherwise (Debian 12's 6.1): the process's start time (field 22 of /proc/PID/stat,
 *     clock ticks since boot) is read before and after the cgroup; both must agree, be
 *     no later than the moment the connection was accepted (CLOCK_BOOTTIME, in the same
 *     ticks: the peer existed when it connected), and the uid of /proc/PID/status must be
 *     the peer's. A process that took the pid after the connection started later.
 * A client whose unit cannot be established so has none: policy rules that name a unit
 * do not match it (rules by uid or group still do).
 */

#include <stdint.h>
#include <sys/socket.h>

#include "core/macro.h"

enum ledger_peer_method {
	LEDGER_PEER_PIDFD,
	LEDGER_PEER_STARTTIME,
	_LEDGER_PEER_METHOD_MAX,
	_LEDGER_PEER_METHOD_INVALID = -EINVAL,
};

/* The start time (field 22) of a /proc/PID/stat line; -EBADMSG if it is not one. */
int ledger_proc_stat_starttime(const char *stat, uint64_t *ret);

/* Now, in the clock ticks of /proc/PID/stat's start time (CLOCK_BOOTTIME). */
uint64_t ledger_boottime_ticks(void);

/*
 * The unit of the peer of the connected socket fd, whose SO_PEERCRED is cred, accepted
 * at accepted_ticks (ledger_boottime_ticks()). force_method (or _INVALID: the best the
 * kernel has) is for tests. 0 and the unit, or NULL in *ret_unit for a peer in no unit;
 * -ESRCH (and NULL) when the process is gone or its pid is no longer its own, so that no
 * unit can be vouched for; -ENOMEM. *ret_method says how it was checked.
 */
int ledger_peer_unit(int fd, const struct ucred *cred, uint64_t accepted_ticks,
		     enum ledger_peer_method force_method, char **ret_unit,
		     enum ledger_peer_method *ret_method);
const char *ledger_peer_method_to_string(enum ledger_peer_method m);
