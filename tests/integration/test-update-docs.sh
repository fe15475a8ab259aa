#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The update documentation matches the programs: airlock-update(8) and airlock-build(1)
# render without warnings; every airlock-update command has --help and is documented
# with each of its options; every refusal reason lib/bundle.c can give is explained in
# airlock-update(8); keygen's and release's options are in airlock-build(1).
source "$(dirname "$0")/../lib.sh"
need airlock-update airlock-build groff

M8=$AIRLOCK_SRC/man/airlock-update.8
M1=$AIRLOCK_SRC/man/airlock-build.1
for m in "$M8" "$M1"; do
	out=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$m" 2>&1)
	[ -z "$out" ] || fail "$m: groff says: $out"
done
render() { LC_ALL=C.UTF-8 MANWIDTH=200 groff -man -Tutf8 -P-c -P-b -P-u "$1" 2>/dev/null; }
plain8=$(render "$M8")
plain1=$(render "$M1")

check_verb_docs airlock-update "$M8"
expect_fail "unknown command 'import-all'" airlock-update import-all

reasons=$(sed -n 's/^\t\[BUNDLE_REFUSAL_[A-Z_]*\] = "\([a-z-]*\)",$/\1/p' "$AIRLOCK_SRC/lib/bundle.c")
[ "$(wc -w <<<"$reasons")" -ge 19 ] || fail "cannot read the refusal reasons from lib/bundle.c: $reasons"
for r in $reasons; do
	grep -qE "^ +([a-z-]+, )*$r(,|$| )" <<<"$plain8" || fail "refusal '$r' is not explained in airlock-update(8)"
done

for v in keygen release; do
	grep -q "^$v " <(airlock-build --help | awk '{print $1 " "}') || fail "airlock-build --help lacks $v"
	expect_ok airlock-build "$v" --help >"$T/help.$v"
	for o in $(grep -oE -- '--[a-z][a-z-]+' "$T/help.$v" | sort -u); do
		grep -qF -- "$o" <<<"$plain1" || fail "'$v $o' is in --help but not in airlock-build(1)"
	done
done
grep -qF -- "--update-keys" <<<"$plain1" || fail "build --update-keys is not in airlock-build(1)"
echo PASS
