#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# verify against a ledger someone changed: one byte of a middle record, a deleted
# record, two swapped records, a truncated file, a replaced checkpoint signature, a
# deleted or renamed file, another key. Each is caught, naming the record. And an
# auditor can check a record's hash and a checkpoint's signature with standard tools,
# as airlock-ledger(5) says.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-ledger.sh"
need sha256sum openssl base64 sed

ledger_policy "allow uid=$(id -u)"
L keygen --key "$KEY" >/dev/null
ledger_start --checkpoint-every 10 --max-file-size 16K
seq 1 150 | sed 's/.*/{"i":&,"note":"record number &"}/' | L append --socket "$SOCK" -q test.t -
ledger_stop
cp -a "$LEDGER" "$T/pristine"
F=$(cd "$LEDGER" && ls ledger-*.jsonl | head -n 1)
nfiles=$(ls "$LEDGER"/ledger-*.jsonl | wc -l)
[ "$nfiles" -ge 3 ] || fail "expected several files, got $nfiles"
expect_ok L verify --ledger "$LEDGER" --pubkey "$PUB"

restore() {
	rm -rf "$LEDGER"
	cp -a "$T/pristine" "$LEDGER"
}
# The damaged ledger must fail verify with status 3, naming the record.
caught() { # regex [no-line | verify options...]
	local rc=0 out re=$1 mode=
	shift
	[ "${1:-}" = no-line ] && { mode=no-line; shift; }
	out=$(L verify --ledger "$LEDGER" --pubkey "$PUB" "$@" 2>&1) || rc=$?
	printf '%s\n' "$out"
	[ $rc -eq 3 ] || fail "verify exited $rc, not 3 (damaged)"
	grep -qE -- "$re" <<<"$out" || fail "verify did not say /$re/"
	[ "$mode" = no-line ] || grep -q "first bad record" <<<"$out" ||
		fail "verify did not print the bad record"
}
seq_of_line() { # line number in $F
	sed -n "${1}p" "$LEDGER/$F" | jq -r .seq
}

step "one byte of a middle record changed"
restore
n=$(seq_of_line 20)
sed -i '20s/record number/recorX number/' "$LEDGER/$F"
caught "$F:20: record $n: hash mismatch"

step "a changed byte in the stored hash itself"
restore
sed -i -E '21s/"hash":"(.)/"hash":"\1\1/; 21s/"hash":"(.{64})./"hash":"\1/' "$LEDGER/$F"
caught "$F:21: record $(seq_of_line 21): hash mismatch"

step "verify --from: a record changed before it is not checked, one after it is"
restore
n=$(seq_of_line 20)
sed -i '20s/record number/recorX number/' "$LEDGER/$F"
out=$(expect_ok L verify --ledger "$LEDGER" --pubkey "$PUB" --from $((n + 1)))
grep -q "records $((n + 1)) to" <<<"$out" || fail "verify --from: $out"
grep -q "records before it were not checked" <<<"$out" || fail "verify --from must say so: $out"
caught "record $n: hash mismatch" --from "$((n - 3))"

step "a record deleted"
restore
n=$(seq_of_line 30)
sed -i '30d' "$LEDGER/$F"
caught "$F:30: record $((n + 1)): sequence gap: expected record $n"

step "two records swapped"
restore
n=$(seq_of_line 40)
sed -i '40{h;d};41{G}' "$LEDGER/$F"
caught "$F:40: record $((n + 1)): sequence gap: expected record $n"

step "a record duplicated"
restore
n=$(seq_of_line 12)
sed -i '12p' "$LEDGER/$F"
caught "$F:13: record $n: out of order: expected record $((n + 1))"

step "the last file truncated in the middle of a record"
restore
last=$(cd "$LEDGER" && ls ledger-*.jsonl | tail -n 1)
size=$(stat -c %s "$LEDGER/$last")
truncate -s $((size / 2)) "$LEDGER/$last"
caught "$last:[0-9]+: record [0-9]+: incomplete final record .*torn write or truncation"

step "a file truncated in the middle, not the last one"
restore
truncate -s 5000 "$LEDGER/$F"
caught "$F:[0-9]+: record [0-9]+: incomplete record .* before the end of the file"

step "a checkpoint's signature replaced by another checkpoint's"
restore
cps=$(grep -m 2 -n '"sig":"' "$LEDGER/$F" | cut -d: -f1 | tr '\n' ' ')
read -r a b <<<"$cps"
sig_a=$(sed -n "${a}p" "$LEDGER/$F" | jq -r .sig)
sed -i -E "${b}s|\"sig\":\"[^\"]*\"|\"sig\":\"$sig_a\"|" "$LEDGER/$F"
caught "$F:$b: record $(seq_of_line "$b"): checkpoint signature does not verify"

step "a checkpoint's signature replaced by random bytes"
restore
rnd=$(head -c 64 /dev/urandom | base64 -w0)
sed -i -E "${a}s|\"sig\":\"[^\"]*\"|\"sig\":\"$rnd\"|" "$LEDGER/$F"
caught "$F:$a: record $(seq_of_line "$a"): checkpoint signature does not verify"

step "a middle file deleted"
restore
mid=$(cd "$LEDGER" && ls ledger-*.jsonl | sed -n 2p)
next=$(cd "$LEDGER" && ls ledger-*.jsonl | sed -n 3p)
first_of_next=$((10#$(sed -E 's/ledger-0*([0-9]+)\.jsonl/\1/' <<<"$next")))
rm "$LEDGER/$mid"
caught "$next:1: record $first_of_next: sequence gap"

step "a file renamed"
restore
mv "$LEDGER/$mid" "$LEDGER/ledger-0000000000000999.jsonl"
caught "record [0-9]+: sequence gap|file's name says"

step "the first file deleted"
restore
rm "$LEDGER/$F"
caught "ledger: the first file is ledger-[0-9]+.jsonl: records 1 to [0-9]+ are missing" no-line

step "checked against another public key"
restore
L keygen --key "$T/other/other.key" >/dev/null
rc=0
out=$(L verify --ledger "$LEDGER" --pubkey "$T/other/other.pub" 2>&1) || rc=$?
[ $rc -eq 3 ] || fail "verify with another key exited $rc"
grep -q "record 1: the ledger was created with key .*, not with the given key" <<<"$out" ||
	fail "verify: $out"

step "a whole ledger forged with another key: only a trusted public key tells"
airlock-ledger serve --socket "$T/forge.sock" --ledger "$T/forged" --policy "$POLICY" \
	--key "$T/other/other.key" >"$T/forge.log" 2>&1 &
forger=$!
for i in $(seq 50); do [ -S "$T/forge.sock" ] && break; sleep 0.1; done
L append --socket "$T/forge.sock" test.t '{"i":1}' >/dev/null
kill -TERM $forger
wait $forger
out=$(expect_ok L verify --ledger "$T/forged")
grep -q "give --pubkey" <<<"$out" || fail "verify without --pubkey must say what it checked against"
rc=0
out=$(L verify --ledger "$T/forged" --pubkey "$PUB" 2>&1) || rc=$?
[ $rc -eq 3 ] || fail "a forged ledger passed verify --pubkey: $out"
grep -q "record 1: the ledger was created with key" <<<"$out" || fail "verify: $out"

step "an auditor recomputes a record's hash with sed and sha256sum"
restore
line=$(sed -n 25p "$LEDGER/$F")
body=$(sed -E 's/(.*),"hash":"[0-9a-f]{64}".*/\1/' <<<"$line")
want=$(jq -r .hash <<<"$line")
got=$(printf '%s' "$body" | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "sha256 of the body is $got, the record says $want"
prev_line=$(sed -n 24p "$LEDGER/$F")
[ "$(jq -r .prev <<<"$line")" = "$(jq -r .hash <<<"$prev_line")" ] || fail "prev is not the hash before"

step "an auditor checks a checkpoint signature with openssl"
cp_line=$(grep -m 1 '"sig":"' "$LEDGER/$F")
printf 'airlock-ledger-checkpoint-v1:%s' "$(jq -r .hash <<<"$cp_line")" >"$T/msg"
jq -r .sig <<<"$cp_line" | base64 -d >"$T/sig"
expect_ok openssl pkeyutl -verify -pubin -inkey "$PUB" -rawin -in "$T/msg" -sigfile "$T/sig"
printf 'airlock-ledger-checkpoint-v1:%s' "$(jq -r .prev <<<"$cp_line")" >"$T/msg"
expect_fail "Signature Verification Failure" \
	openssl pkeyutl -verify -pubin -inkey "$PUB" -rawin -in "$T/msg" -sigfile "$T/sig"
echo PASS
