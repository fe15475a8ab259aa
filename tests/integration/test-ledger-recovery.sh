#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# What a crash leaves, and what the daemon does at its next start: an incomplete
# final record (verify names it; serve drops exactly those bytes, keeps them beside
# the file and records the repair), zeros where a record was being written, a crash
# in the middle of heavy appending; and what it refuses: damage that is no torn
# write, a missing or different key.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-ledger.sh"

ledger_policy "allow uid=$(id -u)"
ledger_start
seq 1 20 | sed 's/.*/{"i":&}/' | L append --socket "$SOCK" -q test.r -
ledger_stop
F=$LEDGER/ledger-0000000000000001.jsonl
last_seq=$(tail -n 1 "$F" | jq -r .seq)
cp -a "$LEDGER" "$T/pristine"
restore() {
	rm -rf "$LEDGER"
	cp -a "$T/pristine" "$LEDGER"
}

step "a final record cut short: verify reports it, naming the record"
size=$(stat -c %s "$F")
last_len=$(tail -n 1 "$F" | wc -c)
cut=$((size - last_len + 37))
truncate -s $cut "$F"
rc=0
out=$(L verify --ledger "$LEDGER" 2>&1) || rc=$?
[ $rc -eq 3 ] || fail "verify exited $rc on a torn tail: $out"
grep -q "record $last_seq: incomplete final record (37 bytes" <<<"$out" || fail "verify: $out"

step "the daemon drops exactly the torn bytes, keeps them, and records that it did"
ledger_start
grep -q "dropped an incomplete final record (37 bytes at offset $((size - last_len))" "$LEDGER_LOG" ||
	fail "the repair was not logged: $(cat "$LEDGER_LOG")"
rep=$(L show --ledger "$LEDGER" --json --type ledger.repair | tail -n 1)
[ "$(jq -r .seq <<<"$rep")" = "$last_seq" ] || fail "the repair record is not next: $rep"
[ "$(jq -r .payload.bytes <<<"$rep")" = 37 ] || fail "repair record: $rep"
[ "$(jq -r .payload.offset <<<"$rep")" = $((size - last_len)) ] || fail "repair record: $rep"
saved=$LEDGER/$(jq -r .payload.saved_as <<<"$rep")
head -c $cut "$T/pristine/ledger-0000000000000001.jsonl" | tail -c 37 | cmp - "$saved" ||
	fail "the saved bytes are not the dropped ones"
[ "$(sha256sum <"$saved" | cut -d' ' -f1)" = "$(jq -r .payload.sha256 <<<"$rep")" ] ||
	fail "the recorded sha256 is not that of the saved bytes"
head -c $((size - last_len)) "$T/pristine/ledger-0000000000000001.jsonl" |
	cmp - <(head -c $((size - last_len)) "$F") || fail "bytes before the torn record changed"
[ "$(last_record ledger.start | jq -r .payload.previous)" = unclean ] || fail "start: not unclean"
ledger_stop
expect_ok L verify --ledger "$LEDGER" --pubkey "$PUB" >/dev/null

step "zeros where the last record should be: dropped too"
restore
size=$(stat -c %s "$F")
dd if=/dev/zero of="$F" bs=1 seek=$((size - 100)) count=60 conv=notrunc status=none
expect_fail "record $last_seq: record contains NUL bytes|record $last_seq: hash mismatch" \
	L verify --ledger "$LEDGER"
ledger_start
[ "$(last_record ledger.repair | jq -r .payload.bytes)" = "$last_len" ] || fail "zeros not dropped whole"
ledger_stop
expect_ok L verify --ledger "$LEDGER" --pubkey "$PUB" >/dev/null

step "whole records removed from the end: verify cannot tell, the next start records it"
restore
head -n -2 "$T/pristine/ledger-0000000000000001.jsonl" >"$F"
expect_ok L verify --ledger "$LEDGER" >/dev/null
ledger_start
rec=$(last_record ledger.start)
[ "$(jq -r .payload.previous <<<"$rec")" = unclean ] || fail "a ledger cut to a record boundary started clean: $rec"
ledger_stop

step "a changed last record is no torn write: the daemon refuses to start, and says why"
restore
sed -i '$s/"reason":"shutdown"/"reason":"shutdowN"/' "$F"
expect_fail "ledger-0000000000000001.jsonl:[0-9]+: hash mismatch; this is not a torn write.*refusing to start" \
	L serve --socket "$SOCK" --ledger "$LEDGER" --policy "$POLICY" --key "$KEY"
[ ! -e "$SOCK" ] || fail "a refused start left its socket"

step "the key missing while the ledger exists: refused"
restore
mv "$KEY" "$T/key.away"
expect_fail "key '$KEY' is missing, but the ledger in '$LEDGER' exists" \
	L serve --socket "$SOCK" --ledger "$LEDGER" --policy "$POLICY" --key "$KEY"
[ ! -e "$KEY" ] || fail "a new key was made for an existing ledger"
mv "$T/key.away" "$KEY"

step "another key: refused"
L keygen --key "$T/other/other.key" >/dev/null
expect_fail "was created with key [0-9a-f]+, not with this key" \
	L serve --socket "$SOCK" --ledger "$LEDGER" --policy "$POLICY" --key "$T/other/other.key"
step "a key file others can read: refused"
chmod 0640 "$T/other/other.key"
expect_fail "readable or writable by others" \
	L serve --socket "$SOCK" --ledger "$LEDGER" --policy "$POLICY" --key "$T/other/other.key"
step "a bad policy: refused, naming file and line"
printf 'allow uid=0\nallow colour=red\n' >"$T/bad.policy"
expect_fail "policy: $T/bad.policy:2: unknown condition 'colour'" \
	L serve --socket "$SOCK" --ledger "$LEDGER" --policy "$T/bad.policy" --key "$KEY"

step "a crash in the middle of heavy appending: the next start leaves a ledger that verifies"
restore
ledger_start --max-batch 64
for c in 1 2 3 4; do
	seq 1 3000 | sed "s/.*/{\"c\":$c,\"i\":&}/" |
		L append --socket "$SOCK" -q test.crash - >/dev/null 2>&1 &
	pids[c]=$!
done
sleep 0.5
ledger_kill
for c in 1 2 3 4; do wait "${pids[c]}" || true; done
n=$(L show --ledger "$LEDGER" --json --type test.crash 2>/dev/null | wc -l || true)
echo "records written before the crash: $n"
[ "$n" -gt 0 ] || fail "nothing was appended before the crash: the test did not test"
ledger_start
ledger_stop
expect_ok L verify --ledger "$LEDGER" --pubkey "$PUB"
echo PASS
