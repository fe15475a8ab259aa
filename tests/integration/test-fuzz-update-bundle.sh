#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The update bundle's parsers of untrusted input under libFuzzer (ASan + UBSan), a few
# seconds each: manifest.json (fuzz-bundle-manifest) and the tar member checks on
# arbitrary bytes (fuzz-bundle-tar). Each starts from its committed seeds
# (tests/fuzz/corpus/<target>/); what it finds new stays in the test's temporary
# directory. FUZZ_SECONDS overrides the time per target; for a longer run by hand:
#   make fuzz && build-fuzz/fuzz-bundle-tar -max_total_time=3600 CORPUS tests/fuzz/corpus/fuzz-bundle-tar
source "$(dirname "$0")/../lib.sh"
need clang make xxd

targets=(fuzz-bundle-manifest fuzz-bundle-tar)
seconds=${FUZZ_SECONDS:-6}
fuzz_build=$AIRLOCK_SRC/build-fuzz

step "building ${targets[*]}"
make -C "$AIRLOCK_SRC" --no-print-directory -j2 FUZZ_BUILD="$fuzz_build" \
	"${targets[@]/#/$fuzz_build/}" >"$T/build.log" 2>&1 || { cat "$T/build.log"; fail "build"; }

for t in "${targets[@]}"; do
	step "$t for ${seconds}s"
	seeds=$AIRLOCK_SRC/tests/fuzz/corpus/$t
	[ -n "$(ls -A "$seeds")" ] || fail "$t has no seeds in $seeds"
	mkdir -p "$T/corpus/$t" "$T/artifacts/$t"
	rc=0
	(cd "$T/artifacts/$t" && "$fuzz_build/$t" -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb=2048 -max_len=70000 -print_final_stats=1 \
		"$T/corpus/$t" "$seeds") >"$T/$t.log" 2>&1 || rc=$?
	if [ $rc -ne 0 ] || ls "$T/artifacts/$t" | grep -q .; then
		tail -n 60 "$T/$t.log"
		for a in "$T/artifacts/$t"/*; do
			[ -e "$a" ] && { echo "--- $a:"; head -c 2000 "$a" | xxd | head -n 40; }
		done
		fail "$t found a problem (exit $rc)"
	fi
	runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$T/$t.log")
	cov=$(grep -oE 'cov: [0-9]+' "$T/$t.log" | tail -n 1)
	echo "$t: $runs runs, $cov"
	[ "${runs:-0}" -gt 100 ] || { tail -n 20 "$T/$t.log"; fail "$t hardly ran"; }
done
