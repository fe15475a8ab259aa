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

check_verb_docs airlock-ledger "$M8"
expect_fail "unknown command 'frobnicate'" airlock-ledger frobnicate
commands=$(airlock-ledger --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 { print $1 }')
[ "$(wc -w <<<"$commands")" -ge 8 ] || fail "commands: $commands"
for c in $commands; do
	grep -q "^\.SS $c\$" "$M8" || fail "airlock-ledger(8) has no section for '$c'"
done
echo PASS
