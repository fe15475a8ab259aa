#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Local unprivileged users against the ledger daemon (tests/integration/ledger-hostile.py),
# each as an outside review found it, and root's appends through all of it:
#   - a client that writes requests and never reads a reply: the daemon stops reading
#     it once 64 replies wait, closes it when it has read none for the idle timeout, its
#     memory stays put and its warnings are a few rate-limited lines, not one per request;
#   - 1024 idle connections from one uid, then 8 from each of 100 uids: a uid no policy
#     rule names gets 8 at once, such clients 768 in all, root still appends, and the idle
#     ones are closed after the idle timeout;
#   - a field name with a newline, a forged log line and a terminal escape: the daemon's
#     log shows it escaped, on one line.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-ledger.sh"
need_root
need setpriv /usr/bin/python3

NOBODY=65534
chmod 0755 "$T"
hostile() { python3 "$AIRLOCK_SRC/tests/integration/ledger-hostile.py" "$@"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$LEDGER_PID/status"; }
fds() { find "/proc/$LEDGER_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
log_lines() { wc -l <"$LEDGER_LOG"; }
root_appends() { # N: N appends as root, each must be recorded
	local i
	for i in $(seq "$1"); do
		L append --socket "$SOCK" test.root "{\"i\": $i}" >/dev/null ||
			fail "root's append $i failed"
	done
}

ledger_policy "allow uid=0"
ledger_start --idle-timeout 3 --max-clients-per-uid 8

step "a client that never reads its replies"
root_appends 5
rss0=$(rss_kib)
lines0=$(log_lines)
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
	/usr/bin/python3 "$AIRLOCK_SRC/tests/integration/ledger-hostile.py" flood "$SOCK" 8 >"$T/flood.out" &
flood=$!
sleep 1
root_appends 20 # while it floods
wait $flood
cat "$T/flood.out"
rss1=$(rss_kib)
lines1=$(log_lines)
echo "daemon RSS ${rss0} KiB before, ${rss1} KiB after; $((lines1 - lines0)) log lines"
sent=$(awk '{ print $2 }' "$T/flood.out")
[ "$sent" -lt 100000 ] || fail "the daemon took $sent requests from a client that reads no reply"
[ "$rss1" -lt $((rss0 + 8192)) ] || fail "the daemon grew from $rss0 to $rss1 KiB"
[ $((lines1 - lines0)) -le 10 ] || {
	tail -n 20 "$LEDGER_LOG"
	fail "$((lines1 - lines0)) log lines for one hostile client"
}
grep -q "closed by the daemon" "$T/flood.out" || fail "the flooding client was not closed"
grep -q "closed the connection of uid=$NOBODY .*reads none of its replies" "$LEDGER_LOG" ||
	fail "the daemon did not say why it closed the flooding client"
grep -q "client uid=$NOBODY .*may not append 'test.flood'" "$LEDGER_LOG" ||
	fail "the refused requests were not said at all"
grep -q "client uid=$NOBODY .*: [0-9]* more warnings about it were held back" "$LEDGER_LOG" ||
	fail "no summary of the refusals held back"
root_appends 5

step "1024 idle connections from one uid, then 8 from each of 100 uids"
hostile hold "$SOCK" 8 $NOBODY:1024 >"$T/hold.out" &
hold=$!
for _ in $(seq 50); do [ -s "$T/hold.out" ] && break; sleep 0.2; done
cat "$T/hold.out"
grep -q "^accepted 8 refused 1016" "$T/hold.out" || fail "one uid held: $(cat "$T/hold.out")"
root_appends 10
wait $hold
specs=()
for u in $(seq 60100 60199); do specs+=("$u:8"); done
hostile hold "$SOCK" 8 "${specs[@]}" >"$T/hold2.out" &
hold=$!
for _ in $(seq 100); do [ -s "$T/hold2.out" ] && break; sleep 0.2; done
cat "$T/hold2.out"
accepted=$(awk '{ print $2 }' "$T/hold2.out")
[ "$accepted" -le 768 ] && [ "$accepted" -ge 700 ] || fail "100 uids held: $(cat "$T/hold2.out")"
root_appends 10 # root has its reserved slots
n=$(fds)
echo "daemon fds while they are held: $n"
sleep 4 # past the idle timeout: the daemon has closed them, though the clients still hold
n=$(fds)
echo "daemon fds after the idle timeout: $n"
[ "$n" -lt 40 ] || fail "the daemon still holds $n fds after the idle timeout"
grep -q "closed the connection of uid=[0-9]* .*sent nothing" "$LEDGER_LOG" ||
	fail "the daemon did not say it closed idle connections"
grep -q "refused a connection from uid=.*too many connections" "$LEDGER_LOG" ||
	fail "the daemon did not say it refused connections"
wait $hold
root_appends 5

step "a field name with a newline, a forged line and an escape sequence"
hostile inject "$SOCK" | tee "$T/inject.out"
grep -q "FORGED" "$LEDGER_LOG" || fail "the refusal was not logged at all"
if grep -q "^airlock-ledger: FORGED" "$LEDGER_LOG" || grep -q $'\x1b' "$LEDGER_LOG"; then
	fail "a client's field name reached the log unescaped: $(grep -a -B1 FORGED "$LEDGER_LOG")"
fi
grep -F 'x\x0aairlock-ledger: FORGED record accepted\x1b[2J\x0d' "$LEDGER_LOG" >/dev/null ||
	fail "the field name is not shown escaped: $(grep -a FORGED "$LEDGER_LOG")"

ledger_stop
expect_ok L verify --ledger "$LEDGER" --pubkey "$PUB" >/dev/null
n=$(L show --ledger "$LEDGER" --json --type test.root | wc -l)
[ "$n" = 55 ] || fail "$n of root's 55 appends are in the ledger"
echo PASS
