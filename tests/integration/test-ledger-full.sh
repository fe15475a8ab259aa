#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Writes that fail (a file size limit, as a full disk would): every record a client was
# told is durable is in the ledger, no record a client was told failed is, no partial
# record is left, and the daemon carries on. Once as a plain failed write, once while
# closing a full file (the batch already built is dropped with it).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-ledger.sh"
need prlimit

ledger_policy "allow uid=$(id -u)"
LIMIT=$((48 * 1024))

# 4 clients x 300 records; prints how many records the clients were told are durable.
load() { # type
	local c acked=0 n
	for c in 1 2 3 4; do
		seq 1 300 | sed "s/.*/{\"c\":$c,\"i\":&,\"pad\":\"a record of some size to fill the file\"}/" |
			airlock-ledger append --socket "$SOCK" "$1" - >"$T/c.$c" 2>&1 &
		pids[c]=$!
	done
	for c in 1 2 3 4; do
		wait "${pids[c]}" || true
		n=$(sed -nE 's/^appended ([0-9]+) records.*/\1/p' "$T/c.$c")
		[ -n "$n" ] || { cat "$T/c.$c" >&2; fail "client $c said nothing of what it appended"; }
		acked=$((acked + n))
	done
	echo $acked
}

check() { # type phase
	local acked present
	acked=$(load "$1")
	present=$(L show --ledger "$LEDGER" --json --type "$1" | wc -l)
	echo "$2: $acked records acknowledged, $present in the ledger"
	[ "$present" = "$acked" ] || fail "$present records in the ledger, $acked acknowledged"
	# (grep reads the files itself: `cat | grep -q` fails under pipefail when grep stops early)
	grep -q "could not be written (File too large); nothing was recorded" "$T"/c.* || {
		tail -n 3 "$T"/c.*
		fail "no client was refused: the limit was not reached"
	}
	[ "$acked" -lt 1200 ] || fail "every record was acknowledged beyond the limit"
	kill -0 "$LEDGER_PID" || fail "the daemon died of a failed write"
	grep -q "cut back to record" "$LEDGER_LOG" || fail "the failure was not logged"
	for f in "$LEDGER"/ledger-*.jsonl; do
		[ "$(stat -c %s "$f")" -le $LIMIT ] || fail "$f grew past the limit"
		[ "$(tail -c 1 "$f" | xxd -p)" = 0a ] || fail "$f ends in a partial record"
	done
	# The shutdown checkpoint may not fit either: the daemon says so and exits 1.
	kill -TERM "$LEDGER_PID"
	wait "$LEDGER_PID" || grep -q "writing a checkpoint (shutdown): File too large" "$LEDGER_LOG" ||
		fail "the daemon failed at shutdown for another reason"
	LEDGER_PID=
	expect_ok L verify --ledger "$LEDGER" --pubkey "$PUB"
}

step "a write beyond the limit fails and is undone"
LEDGER_WRAP="prlimit --fsize=$LIMIT"
ledger_start --max-file-size 1M --checkpoint-interval 0
check test.full "plain write"

step "without the limit, the same ledger takes records again"
LEDGER_WRAP=
ledger_start
L append --socket "$SOCK" -q test.after '{}'
ledger_stop
expect_ok L verify --ledger "$LEDGER" --pubkey "$PUB" >/dev/null

step "closing a full file fails: the batch built so far is dropped, and said so"
rm -rf "$LEDGER"
LEDGER_WRAP="prlimit --fsize=$LIMIT"
ledger_start --max-file-size $LIMIT --checkpoint-interval 0
check test.rotate "rotation"
[ "$(ls "$LEDGER"/ledger-*.jsonl | wc -l)" = 1 ] || fail "a new file was begun"
echo PASS
