#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The ledger's high-water mark in a TPM NV counter (airlock-ledger serve --tpm-counter,
# issue 15 part 3) on swtpm: marks are recorded, then the counter incremented, at
# checkpoints and at a clean stop; a copy of the ledger written back after later marks
# (what an attacker with the disk would do) is detected at start: ledger.rollback-detected
# in a fresh file, every append refused with the reason, until root acknowledges it; a
# missing counter is detected too; the ledger verifies throughout.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/swtpm.sh"
. "$(dirname "$0")/lib-ledger.sh"

need_root
need setpriv
TOOL=$AIRLOCK_BUILD/tests/integration/tpmtool
[ -x "$TOOL" ] || fail "$TOOL is missing: run make all"
cd "$T"
swtpm_start "$T/tpm"
IDX=0x01a1a701
head -c 32 /dev/urandom >nv.auth
"$TOOL" --tcti "$SWTPM_TCTI" nv define $IDX --secret-file nv.auth
counter() { "$TOOL" --tcti "$SWTPM_TCTI" nv read $IDX; }
mark_args=(--tpm-counter $IDX --tpm-auth "$T/nv.auth" --tcti "$SWTPM_TCTI" --tpm-interval 0)
marks() { L show --ledger "$LEDGER" --json --type ledger.high-water | jq -r .payload.counter | tail -n1; }
mkdir -m 0700 ledger-key
L keygen --key "$KEY" >/dev/null
ledger_policy "allow uid=0"

step "the first start records a mark and increments the counter to it"
ledger_start "${mark_args[@]}"
[ "$(marks)" = "$(counter)" ] || fail "mark $(marks), counter $(counter)"
for i in 1 2 3; do L append --socket "$SOCK" -q test.record "{\"i\":$i}"; done
ledger_stop
[ "$(marks)" = "$(counter)" ] || fail "after a clean stop: mark $(marks), counter $(counter)"

step "a copy of the ledger now; later records and marks after it"
cp -a "$LEDGER" "$T/copy"
COPY_MARK=$(marks)
ledger_start "${mark_args[@]}"
grep -q "high-water mark $COPY_MARK matches TPM counter $IDX" "$LEDGER_LOG" ||
	fail "the start does not say the mark matches"
# and every start marks again: the copy is found out even if nothing is appended
[ "$(counter)" = $((COPY_MARK + 1)) ] && [ "$(marks)" = "$(counter)" ] ||
	fail "the start did not mark again: mark $(marks), counter $(counter), copy's $COPY_MARK"
for i in 4 5 6; do L append --socket "$SOCK" -q test.record "{\"i\":$i}"; done
ledger_stop
[ "$(counter)" -gt "$COPY_MARK" ] || fail "no mark after the copy"

step "the copy written back: detected, appends refused, a fresh file"
rm -rf "$LEDGER" && cp -a "$T/copy" "$LEDGER"
FILES_BEFORE=$(ls "$LEDGER" | grep -c '^ledger-')
ledger_start "${mark_args[@]}"
grep -q 'ROLLBACK DETECTED: the ledger.s last high-water mark is below the TPM.s counter' "$LEDGER_LOG" ||
	fail "the daemon did not detect the rollback: $(tail -n 5 "$LEDGER_LOG")"
rec=$(last_record ledger.rollback-detected)
jq -e --argjson m "$COPY_MARK" --argjson c "$(counter)" \
	'.payload.ledger_mark == $m and .payload.tpm_counter == $c' <<<"$rec" >/dev/null ||
	fail "ledger.rollback-detected: $rec"
[ "$(ls "$LEDGER" | grep -c '^ledger-')" -gt "$FILES_BEFORE" ] || fail "no fresh ledger file"
first=$(ls "$LEDGER" | grep '^ledger-' | sort | tail -n1)
head -n1 "$LEDGER/$first" | grep -q '"ledger.rollback-detected"' ||
	fail "ledger.rollback-detected does not open the fresh file"
expect_fail 'rolled back' L append --socket "$SOCK" test.record '{"i":7}'
L verify --ledger "$LEDGER" --pubkey "$PUB" >/dev/null

step "root acknowledges: appends are taken again, a fresh mark follows"
chmod 0755 "$T"
rc=0
setpriv --reuid=nobody --regid=nogroup --clear-groups airlock-ledger acknowledge-rollback \
	--socket "$SOCK" 2>err.txt || rc=$?
[ $rc != 0 ] && grep -q 'only root may acknowledge a rollback' err.txt ||
	fail "an unprivileged acknowledgment: exit $rc, $(cat err.txt)"
L acknowledge-rollback --socket "$SOCK" "TEST: the copy was ours" | tee ack.out
grep -q acknowledged ack.out || { tail -n 5 "$LEDGER_LOG"; fail "the acknowledgment was not taken"; }
L append --socket "$SOCK" -q test.record '{"i":8}'
last_record ledger.rollback-acknowledged | jq -e '.payload.reason == "TEST: the copy was ours"' >/dev/null
[ "$(marks)" = "$(counter)" ] || fail "after the acknowledgment: mark $(marks), counter $(counter)"
expect_fail 'nothing to acknowledge' L acknowledge-rollback --socket "$SOCK"
ledger_stop
L verify --ledger "$LEDGER" --pubkey "$PUB" >/dev/null

step "the counter gone (undefined): detected"
"$TOOL" --tcti "$SWTPM_TCTI" nv undefine $IDX
ledger_start "${mark_args[@]}"
grep -q 'ROLLBACK DETECTED: the TPM has no counter at the index' "$LEDGER_LOG" ||
	fail "a missing counter was not detected"
expect_fail 'rolled back' L append --socket "$SOCK" test.record '{"i":9}'
ledger_stop

step "the auth file gone from a ledger that holds marks: detected"
no_auth_args=(--tpm-counter $IDX --tpm-auth "$T/gone.auth" --tcti "$SWTPM_TCTI")
ledger_start "${no_auth_args[@]}"
grep -q 'ROLLBACK DETECTED: the ledger holds high-water marks but the counter.s authorization file is gone' "$LEDGER_LOG" ||
	fail "a missing auth file was not detected: $(tail -n 3 "$LEDGER_LOG")"
expect_fail 'rolled back' L append --socket "$SOCK" test.record '{"i":10}'
ledger_stop

step "no auth file and a ledger without marks (not provisioned): it runs, unguarded, and says so"
rm -rf "$LEDGER"
ledger_start "${no_auth_args[@]}"
grep -q "no high-water mark in the TPM: $T/gone.auth does not exist and the ledger holds no mark" "$LEDGER_LOG" ||
	fail "the daemon does not say it keeps no mark: $(tail -n 3 "$LEDGER_LOG")"
L append --socket "$SOCK" -q test.record '{"i":11}'
ledger_stop
[ -z "$(marks)" ] || fail "a mark was recorded without an auth file: $(marks)"
echo OK
