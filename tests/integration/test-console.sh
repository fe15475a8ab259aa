#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The operator console on an 80x24 terminal (tmux: send-keys, capture-pane), with the
# ledger daemon on a test socket and the banner's facts from a test root:
#   1. hash-passphrase: a yescrypt hash from a pipe; a short passphrase refused;
#   2. no passphrase set: the lock screen says so and offers to set one with the data
#      volume's recovery key (a LUKS2 file here); a malformed key and another key are
#      refused and counted; the right one (typed in capitals, with spaces) sets it,
#      recorded (console.passphrase-set), and unlocks;
#   3. the lock screen shows the banner's facts (what airlock-banner prints) and nothing
#      of the menu; a wrong passphrase is refused, counted in the attempts file, recorded,
#      and the next attempt waits; the right one opens the dashboard, whose slots, TPM and
#      ledger sections are what airlock-update, airlock-tpm and airlock-ledger print;
#   4. the ledger screen: newest first, a type filter (a bad one refused), a record
#      whole, verify; 'x' locks, and an idle timeout locks, each recorded with the
#      session id;
#   5. the passphrase screen: a wrong current passphrase refused and recorded, a change
#      made and recorded, the old passphrase refused afterwards;
#   6. lockout: the tenth failure in a row locks out; the right passphrase is not taken,
#      even by a console started again;
#   7. power: a declined reboot does nothing; with the ledger down a confirmed reboot is
#      not recorded and not done; recorded, systemctl is asked (a stand-in systemctl
#      that writes its arguments down: the host is not rebooted).
# Every screen is kept as text under build/test-logs/console/.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-ledger.sh"
need tmux airlock-console airlock-banner cryptsetup od

cd "$T"
tmux_shots console
ledger_policy "allow uid=$(id -u)"
ledger_start

PASS1='correct horse battery'
PASS2='staple the horse again'
HASH=$T/console/operator.hash
ATTEMPTS=$T/console/attempts
R=$T/root
mkdir -p "$R/usr/lib" "$R/proc" "$R/run/airlock"
printf 'IMAGE_ID=airlock\nIMAGE_VERSION=4.5.6\n' >"$R/usr/lib/os-release"
ROOTHASH=0011223344556677889900112233445566778899001122334455667788990011
echo "airlock.slot=a airlock.roothash=$ROOTHASH quiet" >"$R/proc/cmdline"
echo b >"$R/run/airlock/slot"
echo tpm >"$R/run/airlock/data"

WIN=
start() { # NAME [ENV...]: the console in a fresh 80x24 session
	local name=$1 old=$WIN
	shift
	WIN=$name
	tmux new-session -d -s "$WIN" -x 80 -y 24 -e TERM=vt220 "$@" \
		"$(printf '%q ' airlock-console run --root "$R" --hash-file "$HASH" \
			--attempts-file "$ATTEMPTS" --ledger-socket "$SOCK" --idle-timeout 6 \
			--data-device "$T/data.img" --ledger "$LEDGER" \
			tty9) 2>$T/$name.stderr; echo \$? >$T/$name.rc; sleep 600"
	[ -z "$old" ] || tmux kill-session -t "$old"
}
count() { L show --ledger "$LEDGER" --type "$1" --json | grep -c . || true; }

step "hash-passphrase: a yescrypt hash from a pipe; a short one refused"
h=$(printf '%s\n' "$PASS1" | airlock-console hash-passphrase) || fail "hash-passphrase failed"
[[ $h == '$y$'* ]] || fail "hash-passphrase printed '$h', not a yescrypt hash"
expect_fail "too short" airlock-console hash-passphrase <<<"short"

step "no passphrase set: the recovery key of the data volume sets one"
# A recovery key as lib/recovery makes them: 64 modhex letters in groups of 8.
modhex() { head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n' | tr '0-9a-f' 'cbdefghijklnrtuv' |
	sed 's/.\{8\}/&-/g; s/-$//'; }
RKEY=$(modhex)
OTHER=$(modhex)
truncate -s 32M "$T/data.img"
printf '%s' "$RKEY" >"$T/rkey"
cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	"$T/data.img" "$T/rkey"
start nohash
shot no-hash "Recovery key:"
grep -q "No operator passphrase is set" "$SHOTS/no-hash.txt" || fail "the lock screen does not say none is set"
grep -q "Dashboard" "$SHOTS/no-hash.txt" && fail "the menu is shown while locked"
type_text "not a key"
keys Enter
shot rkey-malformed "that is not a recovery key"
[ "$(count console.recovery-key-refused)" = 1 ] || fail "the malformed key is not recorded"
wait_attempt() { shot "$1" "$2" 40; }
wait_attempt rkey-wait1 "Recovery key:"
type_text "$OTHER"
keys Enter
shot rkey-other "that is not the recovery key of the data volume"
grep -q "^2 " "$ATTEMPTS" || fail "the attempts file says '$(cat "$ATTEMPTS")', not 2 failures"
[ ! -e "$HASH" ] || fail "a refused key set a passphrase"
wait_attempt rkey-wait2 "Recovery key:"
type_text "$(tr 'a-z-' 'A-Z ' <<<"$RKEY")"
keys Enter
shot rkey-new1 "New passphrase:" 20
type_text "$PASS1"
keys Enter
shot rkey-new2 "New passphrase again:"
type_text "$PASS1"
keys Enter
shot rkey-set "The operator passphrase was set." 20
last_record console.passphrase-set | jq -e '.payload.by == "recovery-key" and .payload.keyslot == 0' >/dev/null ||
	fail "console.passphrase-set: $(last_record console.passphrase-set)"
[ "$(stat -c %a "$HASH")" = 600 ] || fail "the hash file is $(stat -c %a "$HASH"), not 600"
operator_hash=$(cat "$HASH")
[[ $operator_hash == '$y$'* ]] || fail "the hash file holds '$operator_hash'"
grep -qF "$RKEY" "$LEDGER"/* "$T"/*.stderr && fail "the recovery key reached the ledger or a log"
keys x
shot rkey-locked "Operator passphrase:"
[ "$(count console.unlocked)" = 1 ] || fail "console.unlocked is not in the ledger"

step "the lock screen: the banner's facts, nothing else"
h=$operator_hash
start locked
shot lock "Operator passphrase:"
airlock-banner --root "$R" /dev/stdout >"$T/banner.txt"
for f in "airlock 4.5.6" "slot       b" "root hash  $ROOTHASH" \
	"data       /var on the data volume, opened by the TPM"; do
	grep -qF "$f" "$T/banner.txt" || fail "airlock-banner does not say '$f'"
	grep -qF "$f" "$SHOTS/lock.txt" || fail "the lock screen does not say '$f'"
done
grep -q "Dashboard\|Slots" "$SHOTS/lock.txt" && fail "the lock screen shows more than the banner"

step "a wrong passphrase: refused, counted, recorded; the next attempt waits"
type_text "wrong passphrase"
keys Enter
shot wrong "Wrong passphrase."
grep -q "^1 " "$ATTEMPTS" || fail "the attempts file says '$(cat "$ATTEMPTS")', not 1 failure"
[ "$(count console.unlock-failed)" = 1 ] || fail "the failure is not in the ledger"
last_record console.unlock-failed | jq -e '.payload.failures == 1 and .payload.session.tty == "tty9"' >/dev/null ||
	fail "console.unlock-failed: $(last_record console.unlock-failed)"
grep -qF "$PASS1" "$LEDGER"/* && fail "a passphrase is in the ledger"
grep -q "wrong passphrase" "$LEDGER"/* "$T"/*.stderr && fail "the typed text reached a record or log"

# What the dashboard must show: the first line each tool prints here (taken now, not
# while the console waits, so that its idle timeout does not run out meanwhile).
TOOLS=("airlock-update status" "airlock-tpm status" "airlock-ledger verify --ledger $LEDGER")
TOOL_FIRST=()
for tool in "${TOOLS[@]}"; do
	# shellcheck disable=SC2086 # the tool and its verb
	first=$({ $tool 2>&1 || true; } | grep -v '^$' | head -n 1 | tr -s ' ' | cut -c1-60)
	[ -n "$first" ] || fail "$tool printed nothing"
	TOOL_FIRST+=("$first")
done

step "the right passphrase opens the dashboard: the tools' own words"
wait_attempt wait1 "Operator passphrase:"
type_text "$PASS1"
keys Enter
shot dashboard "Slots (airlock-update status)"
grep -qF "image      airlock 4.5.6" "$SHOTS/dashboard.txt" || fail "the dashboard does not name the image"
[ "$(count console.unlocked)" = 2 ] || fail "console.unlocked is not in the ledger"
last_record console.unlocked | jq -e '.payload.failures_before == 1 and
	(.payload.session.id | startswith("tty9-")) and
	.payload.session.unit == "airlock-console@tty9.service"' >/dev/null ||
	fail "console.unlocked: $(last_record console.unlocked)"
SESSION=$(last_record console.unlocked | jq -r .payload.session.id)
grep -q "^0 " "$ATTEMPTS" || fail "a success did not clear the attempts: $(cat "$ATTEMPTS")"
# The whole page, scrolled: it must hold the first line each tool prints.
: >"$T/page.txt"
for i in $(seq 8); do
	screen >>"$T/page.txt"
	keys Space
	sleep 0.3
done
cp "$T/page.txt" "$SHOTS/dashboard-pages.txt"
# Lines are wrapped on spaces: compared with the white space squeezed.
tr -s ' \n' '  ' <"$T/page.txt" >"$T/page-flat.txt"
for i in 0 1 2; do
	grep -qF -- "${TOOL_FIRST[i]}" "$T/page-flat.txt" ||
		fail "the dashboard does not show what '${TOOLS[i]}' says ('${TOOL_FIRST[i]}'); see $SHOTS/dashboard-pages.txt"
done
grep -qF "Services" "$T/page.txt" || fail "the dashboard has no services section"
grep -qF "Network" "$T/page.txt" || fail "the dashboard has no network section"

step "the ledger screen: newest first, a type filter, a record whole, verify"
keys l
shot ledger "Ledger, newest first"
newest=$(L show --ledger "$LEDGER" --json --last 1 | jq -r .seq)
sed -n 5p "$SHOTS/ledger.txt" | grep -qE "^ +$newest " ||
	fail "the first row is not the newest record ($newest): $(sed -n 5p "$SHOTS/ledger.txt")"
keys f
shot filter-prompt "Type (e.g. update.* or console.*"
type_text "bad;filter"
keys Enter
shot filter-bad "Not a type filter"
keys f
shot filter-prompt2 "Type (e.g. update.* or console.*"
type_text "console.unlock*"
keys Enter
shot filtered "type console.unlock*"
rows=$(sed -n '5,20p' "$SHOTS/filtered.txt" | grep -cE '^ +[0-9]+ ' || true)
[ "$rows" = "$(L show --ledger "$LEDGER" --type 'console.unlock*' --json | grep -c .)" ] ||
	fail "the filtered list has $rows rows, the ledger $(L show --ledger "$LEDGER" --type 'console.unlock*' --json | grep -c .) such records"
sed -n '5,20p' "$SHOTS/filtered.txt" | grep -E '^ +[0-9]+ ' | grep -v 'console.unlock' &&
	fail "the filter let other records through"
keys Enter
shot record '"session"'
grep -qF "Record $(L show --ledger "$LEDGER" --type 'console.unlock*' --json --last 1 | jq -r .seq)" \
	"$SHOTS/record.txt" || fail "Enter did not show the selected (newest) record"
keys Escape
shot list-again "type console.unlock*"
keys v
shot verify "Verify (airlock-ledger verify)" 20
shot verify-intact "intact" 20
keys Escape
keys d
shot dashboard-again "Slots (airlock-update status)"

step "'x' locks; the idle timeout locks; each recorded with the session"
keys x
shot locked-x "This console is locked."
last_record console.locked | jq -e --arg s "$SESSION" '.payload.reason == "by the operator" and
	.payload.session.id == $s' >/dev/null || fail "console.locked: $(last_record console.locked)"
type_text "$PASS1"
keys Enter
shot unlocked2 "Slots (airlock-update status)"
shot idle "This console is locked." 20
last_record console.locked | jq -e '.payload.reason == "idle timeout"' >/dev/null ||
	fail "console.locked: $(last_record console.locked)"

step "the passphrase screen: a wrong current one refused, a change made"
type_text "$PASS1"
keys Enter
shot unlocked3 "Slots (airlock-update status)"
keys c
shot passphrase "Enter: change it."
keys Enter
shot current "Current passphrase:"
type_text "not the passphrase"
keys Enter
shot refused "the current passphrase is wrong"
last_record console.passphrase-refused | jq -e '.payload.reason == "the current passphrase is wrong"' >/dev/null ||
	fail "console.passphrase-refused: $(last_record console.passphrase-refused)"
cmp -s <(echo "$h") "$HASH" || fail "a refused change changed the hash file"
keys Enter
shot current2 "Current passphrase:"
type_text "$PASS1"
keys Enter
shot new1 "New passphrase:"
type_text "$PASS2"
keys Enter
shot new2 "New passphrase again:"
type_text "${PASS2}x"
keys Enter
shot differ "the two new passphrases differ"
keys Enter
type_text "$PASS1"
keys Enter
shot new1b "New passphrase:"
type_text "$PASS2"
keys Enter
shot new2b "New passphrase again:"
type_text "$PASS2"
keys Enter
shot changed "The operator passphrase was changed." 20
[ "$(count console.passphrase-changed)" = 1 ] || fail "the change is not in the ledger"
cmp -s <(echo "$h") "$HASH" && fail "the hash file did not change"
[ "$(stat -c %a "$HASH")" = 600 ] || fail "the hash file is $(stat -c %a "$HASH"), not 600"
keys x
shot locked-c "This console is locked."
type_text "$PASS1"
keys Enter
shot old-refused "Wrong passphrase."
wait_attempt wait2 "Operator passphrase:"
type_text "$PASS2"
keys Enter
shot new-works "Slots (airlock-update status)"
keys x
shot locked-d "This console is locked."

step "lockout: the tenth failure locks out, even across a restart"
echo "9 $(($(date +%s) - 3600))" >"$ATTEMPTS"
start lockout
shot lockout-before "9 failed attempts since the last unlock."
type_text "wrong again"
keys Enter
shot lockout "LOCKED OUT after 10 failed attempts"
last_record console.unlock-failed | jq -e '.payload.failures == 10 and .payload.locked_out == true' >/dev/null ||
	fail "console.unlock-failed: $(last_record console.unlock-failed)"
type_text "$PASS2"
keys Enter
sleep 2
start lockout2
shot lockout-restart "LOCKED OUT after 10 failed attempts"
type_text "$PASS2"
keys Enter
sleep 2
screen >"$SHOTS/lockout-still.txt"
grep -q "LOCKED OUT" "$SHOTS/lockout-still.txt" || fail "the right passphrase was taken during the lockout"
[ "$(count console.unlocked)" = 5 ] || fail "$(count console.unlocked) unlocks in the ledger, not 5"

step "power: declined does nothing; unrecorded is not done; recorded asks systemctl"
rm -f "$ATTEMPTS"
mkdir -p "$T/tools"
# TEST-ONLY stand-in for systemctl: writes a reboot or power-off down instead of doing it;
# anything else (the dashboard's list-units) it refuses.
printf '#!/bin/sh\ncase "$*" in *reboot*|*poweroff*) echo "$@" >>%q ;; *) echo "stand-in: $*" >&2; exit 1 ;; esac\n' \
	"$T/systemctl.args" >"$T/tools/systemctl"
chmod +x "$T/tools/systemctl"
start power -e AIRLOCK_TOOLS_DIR="$T/tools"
shot power-lock "Operator passphrase:"
type_text "$PASS2"
keys Enter
shot power-dash "Slots (airlock-update status)"
keys p
shot power "R  reboot"
keys R
shot confirm "Reboot the appliance now?"
keys n
sleep 1
[ -e "$T/systemctl.args" ] && fail "a declined reboot ran systemctl"
[ "$(count console.reboot)" = 0 ] || fail "a declined reboot was recorded"
ledger_stop
keys R
shot confirm2 "Reboot the appliance now?"
keys y
shot unrecorded "Not done (reboot): NOT RECORDED in the ledger"
[ -e "$T/systemctl.args" ] && fail "an unrecorded reboot ran systemctl"
ledger_start
keys R
shot confirm3 "Reboot the appliance now?"
keys y
shot rebooting "reboot requested"
[ "$(cat "$T/systemctl.args")" = "--no-block reboot" ] ||
	fail "systemctl was asked '$(cat "$T/systemctl.args")'"
[ "$(count console.reboot)" = 1 ] || fail "the reboot is not in the ledger"
tmux kill-session -t "$WIN"
echo "PASS"
