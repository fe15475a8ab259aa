#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The unit the daemon records for a client is the kernel's: a client moved into a
# cgroup named like a systemd service (.../airlock-test-N.slice/airlock-test-N.service)
# is recorded with that unit, and a policy rule on units lets it, and only it, append;
# with the pid checked through SO_PEERPIDFD (Linux 6.5+) and through the process's start
# time (the appliance's 6.1 kernel has no SO_PEERPIDFD).
# Needs root and a writable cgroup2 hierarchy (to make that cgroup).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-ledger.sh"
need_root
need setpriv

cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cg2" ] && [ -w "$cg2" ] || skip "no writable cgroup2 hierarchy to put a client in a unit"
unit=airlock-test-$$.service
cg=$cg2/airlock-test-$$.slice/$unit
mkdir -p "$cg" || skip "cannot create a cgroup under $cg2"
on_exit "rmdir '$cg' '$cg2/airlock-test-$$.slice' 2>/dev/null || true"

CLIENT=61003 DAEMON=61000
chmod 0755 "$T"
mkdir -m 0755 "$T/run"
mkdir -m 0750 "$LEDGER" "$T/ledger-key"
chown $DAEMON:$DAEMON "$LEDGER" "$T/ledger-key" "$T/run"
SOCK=$T/run/ledger.sock
LEDGER_USER=$DAEMON
ledger_policy "allow uid=0
allow unit=airlock-test-*.service type=unit.*"
in_unit() { # cmd... : runs cmd as $CLIENT inside the test unit's cgroup
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$cg" \
		setpriv --reuid=$CLIENT --regid=$CLIENT --clear-groups "$@"
}

for check in pidfd starttime; do
	ledger_start --peer-check $check
	echo "--- the daemon ties each client's unit to its pid by $check"

	step "a client in $unit: recorded with that unit, allowed by the unit rule"
	in_unit airlock-ledger append --socket "$SOCK" unit.test '{"unit":"claimed.service"}' >/dev/null
	rec=$(last_record unit.test)
	[ "$(jq -r .actor.unit <<<"$rec")" = "$unit" ] || fail "unit: $rec"
	[ "$(jq -r .actor.uid <<<"$rec")" = $CLIENT ] || fail "uid: $rec"
	step "the same uid outside the unit is refused"
	expect_fail "uid $CLIENT \(pid [0-9]+, unit -\) may not append 'unit.test'" \
		setpriv --reuid=$CLIENT --regid=$CLIENT --clear-groups \
		airlock-ledger append --socket "$SOCK" unit.test '{}'
	step "inside the unit, only the types its rule names"
	expect_fail "unit $unit\) may not append 'install.disk'" \
		in_unit airlock-ledger append --socket "$SOCK" install.disk '{}'
	ledger_stop
done
expect_ok L verify --ledger "$LEDGER" --pubkey "$PUB" >/dev/null
echo PASS
