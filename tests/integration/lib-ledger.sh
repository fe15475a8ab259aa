# SPDX-License-Identifier: Apache-2.0
#
# Sourced by the tests/integration/test-ledger-*.sh scripts, after ../lib.sh. Runs the
# ledger daemon on a temporary socket, unprivileged unless a test asks otherwise.
#
#   ledger_policy TEXT         write $T/policy
#   ledger_start [ARGS...]     start the daemon (as $LEDGER_USER if set, under the command
#                              $LEDGER_WRAP if set), wait for its socket
#   ledger_stop                SIGTERM it and check it exited 0
#   ledger_kill                SIGKILL it (a crash)
#   L ARGS...                  airlock-ledger
#   last_record [TYPE]         the last record (of TYPE) as JSON, from show --json; fails
#                              when there is none

need airlock-ledger jq

LEDGER=$T/ledger
SOCK=$T/ledger.sock
KEY=$T/ledger-key/ledger.key
PUB=$T/ledger-key/ledger.pub
POLICY=$T/policy
LEDGER_LOG=$T/daemon.log
LEDGER_PID=
LEDGER_USER=${LEDGER_USER:-}

L() {
	airlock-ledger "$@"
}

ledger_policy() {
	printf '%s\n' "$1" >"$POLICY"
}

ledger_start() {
	local i as=() before
	before=$(grep -c "serving at record" "$LEDGER_LOG" 2>/dev/null || true)
	if [ -n "$LEDGER_USER" ]; then
		as=(setpriv --reuid="$LEDGER_USER" --regid="$LEDGER_USER" --clear-groups)
	fi
	rm -f "$SOCK"
	# shellcheck disable=SC2086 # LEDGER_WRAP is words, e.g. "prlimit --fsize=65536"
	"${as[@]}" ${LEDGER_WRAP:-} airlock-ledger serve --socket "$SOCK" --ledger "$LEDGER" --policy "$POLICY" \
		--key "$KEY" "$@" >>"$LEDGER_LOG" 2>&1 &
	LEDGER_PID=$!
	for i in $(seq 100); do
		[ -S "$SOCK" ] && [ "$(grep -c "serving at record" "$LEDGER_LOG")" -gt "${before:-0}" ] &&
			return 0
		if ! kill -0 "$LEDGER_PID" 2>/dev/null; then
			cat "$LEDGER_LOG" >&2
			fail "the daemon exited at start"
		fi
		sleep 0.1
	done
	cat "$LEDGER_LOG" >&2
	fail "the daemon did not start within 10 s"
}

ledger_stop() {
	local rc=0
	kill -TERM "$LEDGER_PID"
	wait "$LEDGER_PID" || rc=$?
	LEDGER_PID=
	[ $rc -eq 0 ] || { cat "$LEDGER_LOG" >&2; fail "the daemon exited with $rc on SIGTERM"; }
}

ledger_kill() {
	kill -KILL "$LEDGER_PID"
	wait "$LEDGER_PID" 2>/dev/null || true
	LEDGER_PID=
}

_ledger_cleanup() {
	if [ -n "$LEDGER_PID" ]; then
		kill -KILL "$LEDGER_PID" 2>/dev/null || true
		wait "$LEDGER_PID" 2>/dev/null || true
	fi
}
on_exit _ledger_cleanup

last_record() {
	local rec
	if [ $# -gt 0 ]; then
		rec=$(L show --ledger "$LEDGER" --json --type "$1" | tail -n 1)
	else
		rec=$(L show --ledger "$LEDGER" --json | tail -n 1)
	fi
	# (jq -e passes on empty input: no record must not look like a matching one)
	[ -n "$rec" ] || {
		echo "last_record: no ${1:-} record in $LEDGER" >&2
		return 1
	}
	printf '%s\n' "$rec"
}
