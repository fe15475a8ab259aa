#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Every systemd unit the image ships (units/, copied into the image as they are) is
# scored by systemd-analyze security --offline and must be at or below its ceiling in
# the README's "Unit exposure" table; a unit without a row, or a row without a unit,
# fails. The exposure column must be the score measured now (so the table stays true),
# and the units the manifest enables must exist.
source "$(dirname "$0")/../lib.sh"
need systemd-analyze awk

U=$AIRLOCK_SRC/units
README=$AIRLOCK_SRC/README.md
table=$(awk '/^### Unit exposure/ { on = 1; next } on && /^## / { exit } on && /^\| `/' "$README")
[ -n "$table" ] || fail "README.md has no Unit exposure table"

step "each unit against its ceiling"
seen=0
for f in "$U"/*.service; do
	name=$(basename "$f")
	row=$(grep -F "| \`$name\` |" <<<"$table") || fail "$name has no row in README.md's Unit exposure table"
	listed=$(awk -F'|' '{ gsub(/ /, "", $3); print $3 }' <<<"$row")
	ceiling=$(awk -F'|' '{ gsub(/ /, "", $4); print $4 }' <<<"$row")
	out=$(systemd-analyze security --offline=yes "$f" 2>&1)
	score=$(sed -nE 's/.*Overall exposure level for [^:]+: ([0-9.]+).*/\1/p' <<<"$out")
	[ -n "$score" ] || fail "$name: no score: $out"
	printf '%-40s %4s (ceiling %s)\n' "$name" "$score" "$ceiling"
	awk -v s="$score" -v c="$ceiling" 'BEGIN { exit !(s <= c) }' ||
		fail "$name: exposure $score is above its ceiling $ceiling: $(grep '✗' <<<"$out")"
	[ "$listed" = "$score" ] || fail "$name: README.md says exposure $listed, it is $score now"
	seen=$((seen + 1))
done
rows=$(grep -c . <<<"$table")
[ "$rows" = "$seen" ] || fail "README.md lists $rows units, units/ has $seen services"

step "the units the manifest enables are ours or Debian's, and ours exist"
for u in $(sed -nE 's/^enable *= *//p' "$AIRLOCK_SRC/manifests/airlock.manifest"); do
	case $u in
	airlock-*@*.service) t=${u%%@*}@.service ;;
	airlock-*) t=$u ;;
	*) continue ;;
	esac
	[ -f "$U/$t" ] || fail "the manifest enables $u, but units/ has no $t"
done
echo PASS
