#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The daemon on a temporary socket, run as its own unprivileged user: clients with
# different uids, the kernel's word for who they are (not theirs), refusals that say
# why, 8 concurrent clients x 1000 records in one chain with none lost, checkpoints
# at shutdown, clean and unclean restarts, and socket activation.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-ledger.sh"
need_root
need setpriv systemd-socket-activate

DAEMON=61000 ALICE=61001 MALLORY=61002
as() { # uid cmd...
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --clear-groups "$@"
}
count() {
	L show --ledger "$LEDGER" --json | wc -l
}

chmod 0755 "$T"
mkdir -m 0750 "$LEDGER" "$T/ledger-key"
mkdir -m 0755 "$T/run"
chown "$DAEMON:$DAEMON" "$LEDGER" "$T/ledger-key" "$T/run"
SOCK=$T/run/ledger.sock
ledger_policy "# test policy
allow uid=0
allow uid=$ALICE type=test.*"
LEDGER_USER=$DAEMON

step "the daemon creates the ledger and its key, as its own user"
ledger_start --checkpoint-every 500
[ "$(stat -c %u:%a "$KEY")" = "$DAEMON:600" ] || fail "key: $(stat -c %u:%a "$KEY")"
[ "$(stat -c %u "$LEDGER/ledger-0000000000000001.jsonl")" = $DAEMON ] || fail "ledger file owner"
grep -q "created the ledger key" "$LEDGER_LOG" || fail "key creation not logged"
[ "$(last_record | jq -r .type)" = ledger.start ] || fail "no ledger.start record"
[ "$(last_record | jq -r .payload.previous)" = none ] || fail "a new ledger's start record"

step "root appends; the record carries the kernel's uid and pid"
sh -c 'echo $$ >"$1"; exec airlock-ledger append --socket "$2" test.root "{\"n\":1}"' \
	sh "$T/pid" "$SOCK" >"$T/out"
grep -q '^appended record 3$' "$T/out" || fail "append said: $(cat "$T/out")"
rec=$(last_record test.root)
[ "$(jq -r .actor.uid <<<"$rec")" = 0 ] || fail "uid: $rec"
[ "$(jq -r .actor.pid <<<"$rec")" = "$(cat "$T/pid")" ] || fail "pid: $rec, expected $(cat "$T/pid")"
[ "$(jq -c .payload <<<"$rec")" = '{"n":1}' ] || fail "payload: $rec"

step "another uid appends; what it claims in its payload is not who it is"
as $ALICE airlock-ledger append --socket "$SOCK" test.alice \
	'{"uid":0,"unit":"airlock-install.service","actor":{"uid":0}}' >/dev/null
rec=$(last_record test.alice)
[ "$(jq -r .actor.uid <<<"$rec")" = $ALICE ] || fail "alice's uid: $rec"
[ "$(jq -r .actor.gid <<<"$rec")" = $ALICE ] || fail "alice's gid: $rec"
[ "$(jq -r .actor.unit <<<"$rec")" != airlock-install.service ] || fail "claimed unit recorded"

before=$(count)
step "a client not in the policy is refused, and told why"
expect_fail "uid $MALLORY \(pid [0-9]+, unit .*\) may not append 'test.x': no rule in $POLICY" \
	as $MALLORY airlock-ledger append --socket "$SOCK" test.x '{}'
grep -q "refused: uid $MALLORY" "$LEDGER_LOG" || fail "the refusal is not in the daemon's log"
step "an allowed client is refused a type its rule does not allow"
expect_fail "uid $ALICE .* may not append 'install.disk'" \
	as $ALICE airlock-ledger append --socket "$SOCK" install.disk '{}'
step "nobody may append the ledger's own types"
expect_fail "type 'ledger.checkpoint' is reserved" \
	airlock-ledger append --socket "$SOCK" ledger.checkpoint '{}'
step "a payload that is not a JSON object never reaches the ledger"
expect_fail "not valid JSON" airlock-ledger append --socket "$SOCK" test.x '{"a":'
expect_fail "floating-point" airlock-ledger append --socket "$SOCK" test.x '{"a":1.5}'
[ "$(count)" = "$before" ] || fail "a refused request left a record"

step "8 concurrent clients x 1000 records (4 as root, 4 as uid $ALICE)"
for c in 0 1 2 3 4 5 6 7; do
	u=0
	[ $c -ge 4 ] && u=$ALICE
	seq 1 1000 | sed "s/.*/{\"client\":$c,\"i\":&}/" >"$T/in.$c"
	as $u airlock-ledger append --socket "$SOCK" --quiet test.load - <"$T/in.$c" \
		>"$T/client.$c" 2>&1 &
	pids[c]=$!
done
for c in 0 1 2 3 4 5 6 7; do
	wait "${pids[c]}" || { cat "$T/client.$c"; fail "client $c failed"; }
done
step "all 8000 landed, once each, in one chain, each client's in its own order"
L show --ledger "$LEDGER" --json --type test.load >"$T/load.jsonl"
[ "$(wc -l <"$T/load.jsonl")" = 8000 ] || fail "$(wc -l <"$T/load.jsonl") test.load records, not 8000"
# --last N: the newest N that match, in order (what the console's ledger screen shows)
L show --ledger "$LEDGER" --json --type test.load --last 5 | cmp -s - <(tail -n 5 "$T/load.jsonl") ||
	fail "show --last 5 is not the last 5 records"
expect_fail "go together" L show --ledger "$LEDGER" --last 5 --follow
[ "$(jq -r '"\(.payload.client) \(.payload.i)"' "$T/load.jsonl" | sort -u | wc -l)" = 8000 ] ||
	fail "duplicate or missing (client, i) pairs"
for c in 0 1 2 3 4 5 6 7; do
	jq -r "select(.payload.client == $c) | .payload.i" "$T/load.jsonl" >"$T/order.$c"
	seq 1 1000 | cmp -s - "$T/order.$c" || fail "client $c's records are not in its order"
	u=0
	[ $c -ge 4 ] && u=$ALICE
	[ "$(jq -r "select(.payload.client == $c) | .actor.uid" "$T/load.jsonl" | sort -u)" = $u ] ||
		fail "client $c's records do not all carry uid $u"
done
# Concurrent means interleaved: no client's 1000 records all in a row.
jq -r .payload.client "$T/load.jsonl" | uniq | wc -l | awk '$1 < 16 { exit 1 }' ||
	fail "the clients' records did not interleave: they did not run concurrently"
step "verify passes while the daemon runs"
out=$(expect_ok L verify --ledger "$LEDGER" --pubkey "$PUB")
grep -q "intact" <<<"$out" || fail "verify: $out"
grep -q "checkpoints signed" <<<"$out" || fail "no interval checkpoints: $out"

step "a clean stop ends the ledger with a signed shutdown checkpoint"
ledger_stop
rec=$(last_record)
[ "$(jq -r .type <<<"$rec")" = ledger.checkpoint ] || fail "last record: $rec"
[ "$(jq -r .payload.reason <<<"$rec")" = shutdown ] || fail "last record: $rec"
[ "$(jq -r .actor.uid <<<"$rec")" = $DAEMON ] || fail "the daemon's own records carry its uid"
out=$(L verify --ledger "$LEDGER" --pubkey "$PUB")
grep -q "after the last checkpoint" <<<"$out" && fail "records left unsigned: $out"
[ ! -e "$SOCK" ] || fail "the daemon left its socket behind"

step "a restart continues the chain and records that the last run ended cleanly"
last=$(jq -r .seq <<<"$rec")
ledger_start
rec=$(last_record ledger.start)
[ "$(jq -r .seq <<<"$rec")" = $((last + 1)) ] || fail "start record: $rec, after $last"
[ "$(jq -r .payload.previous <<<"$rec")" = clean ] || fail "start record: $rec"
step "after a crash, the next start says the last run did not end cleanly"
airlock-ledger append --socket "$SOCK" test.before-crash '{}' >/dev/null
ledger_kill
ledger_start
[ "$(last_record ledger.start | jq -r .payload.previous)" = unclean ] || fail "unclean start not recorded"
grep -q "did not end cleanly" "$LEDGER_LOG" || fail "unclean start not logged"
expect_fail "in use by another writer" airlock-ledger serve --socket "$T/other.sock" \
	--ledger "$LEDGER" --policy "$POLICY" --key "$KEY"
ledger_stop
expect_ok L verify --ledger "$LEDGER" --pubkey "$PUB" >/dev/null

step "socket activation: the daemon takes the socket systemd (here systemd-socket-activate) passes"
rm -f "$T/sa.sock"
systemd-socket-activate --seqpacket -l "$T/sa.sock" \
	airlock-ledger serve --ledger "$LEDGER" --policy "$POLICY" --key "$KEY" \
	>"$T/sa.log" 2>&1 &
sa=$!
on_exit "kill -KILL $sa 2>/dev/null || true"
for i in $(seq 50); do [ -S "$T/sa.sock" ] && break; sleep 0.1; done
airlock-ledger append --socket "$T/sa.sock" test.activated '{"via":"socket activation"}' >/dev/null
kill -TERM $sa
wait $sa || { cat "$T/sa.log"; fail "the socket-activated daemon failed"; }
[ "$(last_record test.activated | jq -r .payload.via)" = "socket activation" ] || fail "no record"
expect_ok L verify --ledger "$LEDGER" --pubkey "$PUB" >/dev/null
echo "PASS"
