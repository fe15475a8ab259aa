#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# airlock-ledger's documentation matches the program: both man pages render without
# warnings, every command has --help and a section in airlock-ledger(8), and every
# option a --help lists is documented there.
source "$(dirname "$0")/../lib.sh"
need airlock-ledger groff

M8=$AIRLOCK_SRC/man/airlock-ledger.8
M5=$AIRLOCK_SRC/man/airlock-ledger.5
for m in "$M8" "$M5"; do
	out=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$m" 2>&1)
	[ -z "$out" ] || fail "$m: groff says: $out"
done

expect_ok airlock-ledger --help >"$T/help"
expect_fail "unknown command 'frobnicate'" airlock-ledger frobnicate
commands=$(sed -n '/^Commands:/,/^$/p' "$T/help" | awk 'NF > 1 { print $1 }')
[ "$(wc -w <<<"$commands")" -ge 7 ] || fail "commands: $commands"
plain=$(LC_ALL=C.UTF-8 MANWIDTH=200 groff -man -Tutf8 -P-c -P-b -P-u "$M8" 2>/dev/null)
for c in $commands; do
	grep -q "^\.SS $c\$" "$M8" || fail "airlock-ledger(8) has no section for '$c'"
	expect_ok airlock-ledger "$c" --help >"$T/help.$c"
	grep -q "^Usage: airlock-ledger $c" "$T/help.$c" || fail "$c --help: $(cat "$T/help.$c")"
	for o in $(grep -oE -- '--[a-z][a-z-]+' "$T/help.$c" | sort -u); do
		grep -qF -- "$o" <<<"$plain" || fail "'$c $o' is in --help but not in airlock-ledger(8)"
	done
	rc=0
	airlock-ledger "$c" --no-such-option >/dev/null 2>&1 || rc=$?
	[ $rc = 2 ] || fail "'$c --no-such-option' exited $rc, not 2 (usage)"
done
echo PASS
