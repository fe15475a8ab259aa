#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The parsers airlock-init and the initramfs stage use, under libFuzzer (ASan +
# UBSan) for a few seconds each (FUZZ_SECONDS): the kernel command line, modules.dep
# and the module list, and ELF headers (seeded with real programs of this host).
source "$(dirname "$0")/../lib.sh"
need clang make xxd
seconds=${FUZZ_SECONDS:-5}
fuzz_build=$AIRLOCK_SRC/build-fuzz
for t in fuzz-cmdline fuzz-kmod fuzz-elfinfo; do
	make -C "$AIRLOCK_SRC" --no-print-directory -j2 FUZZ_BUILD="$fuzz_build" "$fuzz_build/$t" \
		>"$T/build.log" 2>&1 || { cat "$T/build.log"; fail "build $t"; }
	rm -rf "$T/corpus" "$T/artifacts"
	mkdir -p "$T/corpus" "$T/artifacts"
	cp "$AIRLOCK_SRC/tests/fuzz/corpus/$t"/* "$T/corpus/"
	if [ $t = fuzz-elfinfo ]; then
		cp /usr/bin/true "$T/corpus/true"
		[ -x "$AIRLOCK_BUILD/airlock-init" ] && cp "$AIRLOCK_BUILD/airlock-init" "$T/corpus/init"
	fi
	rc=0
	(cd "$T/artifacts" && "$fuzz_build/$t" -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 "$T/corpus") \
		>"$T/$t.log" 2>&1 || rc=$?
	if [ $rc -ne 0 ] || ls "$T/artifacts" | grep -q .; then
		tail -n 60 "$T/$t.log"
		for a in "$T/artifacts"/*; do
			[ -e "$a" ] && { echo "--- $a:"; head -c 2000 "$a" | xxd | head -n 40; }
		done
		fail "$t found a problem (exit $rc)"
	fi
	runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$T/$t.log")
	echo "$t: $runs runs, $(grep -oE 'cov: [0-9]+' "$T/$t.log" | tail -n 1)"
	[ "${runs:-0}" -gt 100 ] || { tail -n 20 "$T/$t.log"; fail "$t hardly ran"; }
done
