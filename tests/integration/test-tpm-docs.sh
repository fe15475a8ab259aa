#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# airlock-tpm(8) matches the program: it renders without warnings, and describes every
# command and each of its options; every ledger record airlock-tpm writes is named in it.
source "$(dirname "$0")/../lib.sh"
need airlock-tpm groff
check_verb_docs airlock-tpm "$AIRLOCK_SRC/man/airlock-tpm.8"
plain=$(LC_ALL=C.UTF-8 MANWIDTH=200 groff -man -Tutf8 -P-c -P-b -P-u "$AIRLOCK_SRC/man/airlock-tpm.8" 2>/dev/null)
types=$(grep -ohE '"tpm\.[a-z-]+"' "$AIRLOCK_SRC"/appliance/tpm/*.c | tr -d '"' | sort -u)
[ -n "$types" ] || fail "no record types found in appliance/tpm/"
for t in $types; do
	grep -qF "$t" <<<"$plain" || fail "record $t is not in airlock-tpm(8)"
done
echo PASS
