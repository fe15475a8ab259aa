# SPDX-License-Identifier: Apache-2.0
#
# Sourced by the tests/integration/test-fuzz-*.sh scripts, after ../lib.sh: libFuzzer
# targets (tests/fuzz/fuzz.mk, ASan + UBSan) built and run for a few seconds each.
#
#   fuzz_build TARGET...     make the targets in $FUZZ_DIR (build-fuzz)
#   fuzz_run TARGET SECONDS MAX_LEN [SEED_FILE...]
#       runs TARGET from its committed seeds (tests/fuzz/corpus/TARGET/, which must not
#       be empty) plus the SEED_FILEs; what it finds new stays in $T/corpus/TARGET.
#       Fails on a crash, a leak, a timeout or any artifact (shown in hex), or when it
#       hardly ran (100 inputs or fewer); prints the runs and the coverage.
# FUZZ_SECONDS overrides SECONDS. For a longer run by hand:
#   make fuzz && build-fuzz/TARGET -max_total_time=3600 CORPUS tests/fuzz/corpus/TARGET

need clang make xxd
FUZZ_DIR=$AIRLOCK_SRC/build-fuzz

fuzz_build() {
	step "building $*"
	make -C "$AIRLOCK_SRC" --no-print-directory -j2 FUZZ_BUILD="$FUZZ_DIR" "${@/#/$FUZZ_DIR/}" \
		>"$T/build.log" 2>&1 || { cat "$T/build.log"; fail "build"; }
}

fuzz_run() {
	local t=$1 seconds=${FUZZ_SECONDS:-$2} max_len=$3 seeds=$AIRLOCK_SRC/tests/fuzz/corpus/$1
	local rc=0 runs a
	shift 3
	step "$t for ${seconds}s"
	[ -n "$(ls -A "$seeds")" ] || fail "$t has no seeds in $seeds"
	mkdir -p "$T/corpus/$t" "$T/artifacts/$t"
	[ $# -eq 0 ] || cp "$@" "$T/corpus/$t/"
	(cd "$T/artifacts/$t" && "$FUZZ_DIR/$t" -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb=2048 -max_len="$max_len" -print_final_stats=1 \
		"$T/corpus/$t" "$seeds") >"$T/$t.log" 2>&1 || rc=$?
	if [ $rc -ne 0 ] || [ -n "$(ls -A "$T/artifacts/$t")" ]; then
		tail -n 60 "$T/$t.log"
		for a in "$T/artifacts/$t"/*; do
			[ -e "$a" ] && { echo "--- $a:"; head -c 2000 "$a" | xxd | head -n 40; }
		done
		fail "$t found a problem (exit $rc)"
	fi
	runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$T/$t.log")
	echo "$t: $runs runs, $(grep -oE 'cov: [0-9]+' "$T/$t.log" | tail -n 1)"
	[ "${runs:-0}" -gt 100 ] || { tail -n 20 "$T/$t.log"; fail "$t hardly ran"; }
}
