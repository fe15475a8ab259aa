#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# airlock-console(8) matches the program: it renders without warnings, and describes
# every command and each of its options; every ledger record the console writes is
# named in it.
source "$(dirname "$0")/../lib.sh"
need airlock-console groff
check_verb_docs airlock-console "$AIRLOCK_SRC/man/airlock-console.8"
plain=$(LC_ALL=C.UTF-8 MANWIDTH=200 groff -man -Tutf8 -P-c -P-b -P-u "$AIRLOCK_SRC/man/airlock-console.8" 2>/dev/null)
types=$(grep -ohE '"console\.[a-z-]+"' "$AIRLOCK_SRC"/appliance/console/*.c | tr -d '"' | grep -vx 'console\.h' | sort -u)
[ -n "$types" ] || fail "no record types found in appliance/console/"
for t in $types; do
	grep -qF "$t" <<<"$plain" || fail "record $t is not in airlock-console(8)"
done
echo PASS
