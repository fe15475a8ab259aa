# SPDX-License-Identifier: Apache-2.0
#
# Sourced by every integration and e2e test (bash). Provides:
#   skip REASON            exit 77 (a failure under CI=true, see tests/run-tests)
#   fail MESSAGE           exit 1
#   need TOOL...           skip unless every tool is on PATH
#   need_root              skip unless running as root
#   T                      a fresh temporary directory, removed on exit
#   on_exit CMD...         run CMD when the test exits (last registered runs first)
#   expect_fail REGEX CMD  CMD must exit non-zero and print something matching REGEX
#   expect_ok CMD          CMD must exit 0 (its output is shown on failure)
#   step MESSAGE           a progress line in the test log
set -euo pipefail

AIRLOCK_SRC=${AIRLOCK_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
AIRLOCK_BUILD=${AIRLOCK_BUILD:-$AIRLOCK_SRC/build}
export AIRLOCK_SRC AIRLOCK_BUILD
export PATH=$AIRLOCK_BUILD:$PATH

skip() {
	echo "SKIP: $*"
	exit 77
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

step() {
	echo "--- $*"
}

need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "$t is not installed (make deps)"
	done
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
}

_on_exit=()
on_exit() {
	_on_exit=("$*" "${_on_exit[@]}")
}
_run_on_exit() {
	local rc=$? c
	for c in "${_on_exit[@]}"; do
		eval "$c" || true
	done
	exit $rc
}
trap _run_on_exit EXIT

T=$(mktemp -d "${TMPDIR:-/tmp}/airlock-test.XXXXXX")
on_exit "rm -rf '$T'"

expect_fail() {
	local regex=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ $rc -eq 0 ]; then
		printf '%s\n' "$out" >&2
		fail "expected failure but succeeded: $*"
	fi
	if ! grep -qE -- "$regex" <<<"$out"; then
		printf '%s\n' "$out" >&2
		fail "output of '$*' does not match /$regex/"
	fi
	printf 'ok (refused as expected): %s\n' "$(grep -m1 -E -- "$regex" <<<"$out")"
}

expect_ok() {
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	if [ $rc -ne 0 ]; then
		printf '%s\n' "$out" >&2
		fail "exit $rc: $*"
	fi
	printf '%s\n' "$out"
}

# The lock a test build uses: the committed one when the archive still has its
# packages (fetched into the pool as needed), else a fresh one (scripts/image says
# loudly why). Prints its path.
test_lock() {
	"$AIRLOCK_SRC/scripts/image" --prepare --out "$AIRLOCK_BUILD/test-lock"
}

# The pool test builds read from.
test_pool() {
	echo "${AIRLOCK_POOL:-$HOME/.cache/airlock/pool}"
}
