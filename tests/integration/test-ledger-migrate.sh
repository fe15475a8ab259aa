#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Before install the ledger lives in /run; the installer copies it to the data volume
# with `airlock-ledger migrate`. Here: the copy is refused while the daemon runs; it
# is the source record for record, keeps owners and modes, brings the key, records
# the move with a signed checkpoint; the daemon then adopts it; a second migration
# onto it and a damaged source are refused, leaving nothing half-written.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-ledger.sh"

RUN=$T/run/airlock
TARGET=$T/target/var/lib/airlock
LEDGER=$RUN/ledger
KEY=$RUN/ledger-key/ledger.key
PUB=$RUN/ledger-key/ledger.pub
SOCK=$RUN/ledger.sock
mkdir -p "$RUN" "$TARGET"
ledger_policy "allow uid=0
allow uid=$(id -u)"
owner=$(id -u)
if [ "$(id -u)" = 0 ]; then
	# As in the image: the daemon runs as its own user, and the copy keeps that owner.
	owner=61000
	chmod 0755 "$T" "$T/run" "$RUN"
	mkdir -m 0750 "$LEDGER" "$RUN/ledger-key"
	chown $owner:$owner "$LEDGER" "$RUN/ledger-key" "$RUN"
	LEDGER_USER=$owner
fi

step "a ledger in /run, as on the installer"
ledger_start --max-file-size 8K
seq 1 50 | sed 's/.*/{"step":&}/' | L append --socket "$SOCK" -q install.step -
expect_fail "is in use by the ledger daemon: stop airlock-ledger.socket and airlock-ledger.service" \
	L migrate --from "$LEDGER" --to "$TARGET/ledger"
[ ! -e "$TARGET/ledger" ] || fail "a refused migration created the target"
ledger_stop
cp -a "$LEDGER" "$T/source-before"
n=$(cat "$LEDGER"/ledger-*.jsonl | wc -l)

step "migrate copies it, checks it, records the move"
out=$(expect_ok L migrate --from "$LEDGER" --to "$TARGET/ledger")
printf '%s\n' "$out"
grep -q "records 1 to $n" <<<"$out" || fail "migrate: $out"
diff -r "$LEDGER" "$T/source-before" || fail "the source changed"
cat "$LEDGER"/ledger-*.jsonl >"$T/src.jsonl"
cat "$TARGET"/ledger/ledger-*.jsonl >"$T/dst.jsonl"
head -n "$n" "$T/dst.jsonl" | cmp - "$T/src.jsonl" || fail "the copy differs from the source"
[ "$(wc -l <"$T/dst.jsonl")" = $((n + 2)) ] || fail "expected the source and two records more"
sed -n "$((n + 1))p" "$T/dst.jsonl" | jq -e ".type == \"ledger.migrate\" and .payload.records == $n and
	.payload.from == \"$LEDGER\"" >/dev/null || fail "no migrate record"
tail -n 1 "$T/dst.jsonl" | jq -e '.type == "ledger.checkpoint" and .payload.reason == "migrate"' \
	>/dev/null || fail "no migrate checkpoint"
expect_ok L verify --ledger "$TARGET/ledger" --pubkey "$PUB" >/dev/null
cmp "$KEY" "$TARGET/ledger-key/ledger.key" || fail "the key was not copied"
cmp "$PUB" "$TARGET/ledger-key/ledger.pub" || fail "the public key was not copied"
[ "$(stat -c %a "$TARGET/ledger-key/ledger.key")" = 600 ] || fail "key mode"
for f in "$TARGET/ledger" "$TARGET/ledger"/* "$TARGET/ledger/.lock" "$TARGET/ledger-key" \
	"$TARGET/ledger-key"/*; do
	[ "$(stat -c %u "$f")" = $owner ] || fail "$f is owned by $(stat -c %u "$f"), not $owner"
done
for f in "$LEDGER"/ledger-*.jsonl; do
	[ "$(stat -c %a "$f")" = "$(stat -c %a "$TARGET/ledger/${f##*/}")" ] || fail "mode of ${f##*/}"
done

step "the daemon adopts the migrated ledger: a clean continuation"
LEDGER=$TARGET/ledger KEY=$TARGET/ledger-key/ledger.key SOCK=$TARGET/ledger.sock
[ "$(id -u)" = 0 ] && chown $owner "$TARGET" && chmod 0755 "$T/target" "$T/target/var" "$T/target/var/lib"
ledger_start
[ "$(last_record ledger.start | jq -r .payload.previous)" = clean ] || fail "not a clean start"
L append --socket "$SOCK" -q install.done '{"ok":true}'
ledger_stop
expect_ok L verify --ledger "$TARGET/ledger" --pubkey "$PUB"

step "a second migration onto it is refused"
expect_fail "already holds a ledger; refusing to overwrite it" \
	L migrate --from "$RUN/ledger" --to "$TARGET/ledger"

step "a target whose parent does not exist is refused"
expect_fail "--to '$T/nowhere/ledger': .*No such file or directory" \
	L migrate --from "$RUN/ledger" --to "$T/nowhere/ledger"

step "a damaged source is refused, and nothing is left at the target"
mkdir "$T/elsewhere"
sed -i '5s/"seq":5,/"seq":5,"x":1,/' "$(ls "$RUN"/ledger/ledger-*.jsonl | head -n 1)"
expect_fail "does not verify: .*:5: record 5: " \
	L migrate --from "$RUN/ledger" --to "$T/elsewhere/ledger" --to-key "$T/elsewhere/key/x.key"
[ -z "$(ls -A "$T/elsewhere")" ] || fail "a refused migration left $(ls -R "$T/elsewhere")"
echo PASS
