#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The ledger's systemd units and image files: the units pass systemd-analyze verify,
# the service's exposure is 1.5 or lower, the sysusers.d snippet makes the user, the
# tmpfiles.d snippet gives an existing ledger to it and creates nothing, the shipped
# policy parses and lets root append, the manifest enables the socket, and the socket
# path is the one the clients use.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-ledger.sh"
need systemd-analyze systemd-sysusers systemd-tmpfiles

U=$AIRLOCK_SRC/units
O=$AIRLOCK_SRC/overlay

step "systemd-analyze verify (ExecStart pointed at the built binary)"
mkdir "$T/units"
sed "s|^ExecStart=/usr/bin/airlock-ledger|ExecStart=$AIRLOCK_BUILD/airlock-ledger|" \
	"$U/airlock-ledger.service" >"$T/units/airlock-ledger.service"
cp "$U/airlock-ledger.socket" "$T/units/"
expect_ok systemd-analyze verify --man=no "$T/units/airlock-ledger.socket" \
	"$T/units/airlock-ledger.service"
out=$(systemd-analyze verify --man=no "$T/units/airlock-ledger.socket" \
	"$T/units/airlock-ledger.service" 2>&1)
[ -z "$out" ] || fail "systemd-analyze verify warns: $out"

step "systemd-analyze security: exposure 1.5 or lower"
out=$(systemd-analyze security --offline=true "$U/airlock-ledger.service" 2>&1)
score=$(sed -nE 's/.*Overall exposure level for airlock-ledger.service: ([0-9.]+).*/\1/p' <<<"$out")
echo "exposure: $score"
[ -n "$score" ] || fail "no score: $out"
awk -v s="$score" 'BEGIN { exit !(s <= 1.5) }' || fail "exposure $score is above 1.5: $out"
expect_ok systemd-analyze security --offline=true --threshold=15 "$U/airlock-ledger.service" >/dev/null

step "what the hardening must not take away"
svc=$U/airlock-ledger.service
grep -qx 'PrivateUsers=yes' "$svc" && fail "PrivateUsers= hides every client's uid behind nobody"
grep -qE '^ProtectProc=(invisible|noaccess|ptraceable)' "$svc" && fail "ProtectProc= hides clients' cgroups"
grep -qx 'User=airlock-ledger' "$svc" || fail "the service does not run as its own user"
grep -qx 'CapabilityBoundingSet=' "$svc" || fail "capabilities are not all dropped"
grep -qx 'SystemCallFilter=@system-service' "$svc" || fail "no system call filter"
grep -qx 'PrivateNetwork=yes' "$svc" || fail "no PrivateNetwork="
grep -qx 'ProtectSystem=strict' "$svc" || fail "no ProtectSystem=strict"
grep -qx 'RuntimeDirectory=airlock/ledger airlock/ledger-key' "$svc" || fail "RuntimeDirectory="
grep -qx 'ReadWritePaths=-/var/lib/airlock/ledger -/var/lib/airlock/ledger-key' "$svc" ||
	fail "ReadWritePaths= is not the state directories"
sock=$(sed -n 's/^ListenSequentialPacket=//p' "$U/airlock-ledger.socket")
grep -q "LEDGER_SOCKET_DEFAULT \"$sock\"" "$AIRLOCK_SRC/lib/ledger-client.h" ||
	fail "the socket unit listens on $sock, the clients connect elsewhere"

step "sysusers.d makes the user; tmpfiles.d gives it an existing ledger and creates nothing"
R=$T/root
mkdir -p "$R/etc" "$R/var/lib/airlock/ledger" "$R/var/lib/airlock/ledger-key"
touch "$R/var/lib/airlock/ledger/ledger-0000000000000001.jsonl"
cp -a "$O/." "$R/"
expect_ok systemd-sysusers --root="$R"
uid=$(awk -F: '$1 == "airlock-ledger" { print $3 }' "$R/etc/passwd")
[ -n "$uid" ] || fail "no airlock-ledger user in $(cat "$R/etc/passwd")"
grep -q '^airlock-ledger:x:[0-9]*:[0-9]*:[^:]*:[^:]*:/usr/sbin/nologin$' "$R/etc/passwd" ||
	fail "the user can log in: $(cat "$R/etc/passwd")"
expect_ok systemd-tmpfiles --root="$R" --create "$O/usr/lib/tmpfiles.d/airlock-ledger.conf"
for f in ledger ledger/ledger-0000000000000001.jsonl ledger-key; do
	[ "$(stat -c %u "$R/var/lib/airlock/$f")" = "$uid" ] || fail "$f not given to airlock-ledger"
done
R2=$T/root2
mkdir -p "$R2/etc"
cp -a "$O/." "$R2/"
systemd-sysusers --root="$R2" >/dev/null 2>&1
expect_ok systemd-tmpfiles --root="$R2" --create "$O/usr/lib/tmpfiles.d/airlock-ledger.conf"
[ ! -e "$R2/var/lib/airlock/ledger" ] || fail "tmpfiles created the ledger directory"

step "the high-water mark: the unit passes the TPM counter and its auth, tmpfiles gives the auth to the daemon"
grep -q "ExecStart=.* --tpm-counter $(printf '0x%08x' "$(sed -nE 's/^#define TPMNV_LEDGER (0x[0-9a-f]+)U$/\1/p' "$AIRLOCK_SRC/lib/tpmnv.h")") --tpm-auth $(sed -nE 's/^#define TPMNV_AUTH_DIR "(.*)"$/\1/p' "$AIRLOCK_SRC/lib/tpmnv.h")/ledger.auth" "$svc" ||
	fail "ExecStart= does not pass lib/tpmnv.h's ledger counter and auth: $(grep ^ExecStart= "$svc")"
grep -qx 'DeviceAllow=/dev/tpmrm0 rw' "$svc" && grep -qx 'SupplementaryGroups=airlock-tpm' "$svc" ||
	fail "the service cannot reach /dev/tpmrm0"
grep -q '^airlock-tpm:x:[0-9]*:airlock-ledger$' "$R/etc/group" || fail "airlock-ledger is not in airlock-tpm: $(grep airlock-tpm "$R/etc/group")"
mkdir -m 0700 "$R/var/lib/airlock/tpm"
install -m 0600 /dev/null "$R/var/lib/airlock/tpm/ledger.auth"
install -m 0600 /dev/null "$R/var/lib/airlock/tpm/floor.auth"
expect_ok systemd-tmpfiles --root="$R" --create "$O/usr/lib/tmpfiles.d/airlock-tpm.conf"
gid=$(awk -F: '$1 == "airlock-ledger" { print $3 }' "$R/etc/group")
[ "$(stat -c '%a %u %g' "$R/var/lib/airlock/tpm")" = "710 0 $gid" ] ||
	fail "the auth directory: $(stat -c '%a %u %g' "$R/var/lib/airlock/tpm") (airlock-ledger's group is $gid)"
[ "$(stat -c '%a %u' "$R/var/lib/airlock/tpm/ledger.auth")" = "400 $uid" ] ||
	fail "ledger.auth: $(stat -c '%a %u' "$R/var/lib/airlock/tpm/ledger.auth")"
[ "$(stat -c '%a %u' "$R/var/lib/airlock/tpm/floor.auth")" = "600 0" ] ||
	fail "floor.auth is not root's alone: $(stat -c '%a %u' "$R/var/lib/airlock/tpm/floor.auth")"
grep -q '^KERNEL=="tpmrm\[0-9\]\*",.* GROUP="airlock-tpm", MODE="0660"$' "$O/usr/lib/udev/rules.d/60-airlock-tpm.rules" ||
	fail "no udev rule gives /dev/tpmrm0 to airlock-tpm"

step "the manifest enables the socket"
grep -qE '^enable = .*\bairlock-ledger\.socket\b' "$AIRLOCK_SRC/manifests/airlock.manifest" ||
	fail "manifests/airlock.manifest does not enable airlock-ledger.socket"

step "the shipped policy parses and lets root append"
POLICY=$O/etc/airlock/ledger.policy
ledger_start
[ "$(id -u)" = 0 ] && expect_ok L append --socket "$SOCK" test.policy '{}'
ledger_stop
echo PASS
