#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The interactive installer on an 80x24 terminal (tmux: send-keys, capture-pane),
# against disk image files:
#   1. no TPM: welcome, the disk list (the medium shown and refused), the summary (what
#      is erased), the second confirmation for a recovery-key-only volume; then back
#      out with Esc and leave with Ctrl-C: exit 4 and nothing written;
#   2. with swtpm: a wrong device name is refused, the right one starts the install,
#      the recovery key is shown once, a wrong key typed back is refused, the right one
#      is followed by the operator passphrase (a short one refused, two that differ
#      refused, never shown), which finishes it; the key opens the volume and the TPM
#      token is there. While the welcome screen is up, the medium's boot entry is
#      renamed as airlock-update mark-good renames it on the real USB boot: the
#      installer copies it by its new name, with a fresh counter on the target;
#   3. the terminal hangs up at the recovery key: the installer leaves (it does not spin
#      on a dead terminal) and the disk does not claim to be installed.
# Every screen is kept as text under build/test-logs/install-interactive/.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-install.sh"
source "$(dirname "$0")/swtpm.sh"
need tmux
TOOL=$AIRLOCK_BUILD/tests/integration/tpmtool
[ -x "$TOOL" ] || fail "$TOOL is missing: run make all"

install_medium
install_keys
cd "$T"
tmux_shots install-interactive
START_ENV=()
# The session the installer runs in: a new one per start, so that the server never
# runs out of sessions between two (killing the last one makes it exit, and a client
# that reaches it meanwhile fails with "server exited unexpectedly").
WIN=

# start NAME ARGS...: the installer in a fresh 80x24 tmux session
start() {
	local name=$1
	shift
	local old=$WIN
	rm -f "$T/rc"
	WIN=$name
	tmux new-session -d -s "$WIN" -x 80 -y 24 -e TERM=vt220 "${START_ENV[@]}" \
		"$(printf '%q ' airlock-install --source "$MEDIUM" --root-hash "$ROOTHASH" \
			--pcr-public-key "$T/vendor.pem" --no-filesystem --pbkdf pbkdf2 \
			--pbkdf-time-cost 1000 "$@") 2>$T/$name.stderr; echo \$? >$T/rc; sleep 600"
	[ -z "$old" ] || tmux kill-session -t "$old"
}

exit_status() {
	local i
	for i in $(seq 100); do
		[ -s "$T/rc" ] && {
			cat "$T/rc"
			return 0
		}
		sleep 0.1
	done
	fail "the installer did not exit"
}

new_target "$T/target.img" 256M
printf 'old data' | dd of="$T/target.img" bs=1 seek=$((5 << 20)) conv=notrunc status=none
before=$(stat -c '%y' "$T/target.img")

step "1. no TPM: every screen up to the second confirmation, then back out and leave"
start cancel --disk "$MEDIUM" --disk "$T/target.img" --tcti swtpm:host=127.0.0.1,port=1
shot 1-welcome "Nothing is written to any disk until you type"
grep -q "Root hash  $ROOTHASH" "$SHOTS/1-welcome.txt" || fail "welcome: no root hash"
grep -q "NOT USABLE: no TPM answered" "$SHOTS/1-welcome.txt" || fail "welcome: TPM state"
keys Enter
shot 2-disks "Choose the disk to erase"
grep -qE '^ > airlock-1.0.0\. .*REFUSED' "$SHOTS/2-disks.txt" || fail "the medium is not shown refused"
grep -q "Cannot be the target: it is the installer medium" "$SHOTS/2-disks.txt" || fail "no reason shown"
keys Enter
shot 2-disks-refused "That disk cannot be the target"
keys Down
shot 2-disks-target "holds no partition table or file system recognized"
keys Enter
shot 3-summary "Type the device name  target.img"
grep -q "6 data " "$SHOTS/3-summary.txt" || fail "summary: the layout"
type_text "target.img"
keys Enter
shot 3-no-tpm "Type  recovery-only  and press Enter"
type_text "yes"
keys Enter
shot 3-no-tpm-wrong "Not the phrase. Nothing was changed."
keys Escape
shot 3-summary-again "Type the device name  target.img"
type_text "targ"
keys C-c
shot 3-cancelled "cancelled; nothing was changed on any disk"
[ "$(exit_status)" = 4 ] || fail "Ctrl-C before the confirmation: exit $(cat "$T/rc"), not 4"
[ "$(stat -c '%y' "$T/target.img")" = "$before" ] || fail "a cancelled install wrote to the disk"

step "2. with a TPM: confirm, install, the recovery key shown once and typed back"
swtpm_start "$T/tpm"
make_uki v1
boot_measure v1
# A slow mcopy first in the tools path, so that the progress screen can be caught.
mkdir -p "$T/tools"
printf '#!/bin/sh\n# TEST-ONLY: slow\nsleep 0.2\nexec %q "$@"\n' "$(command -v mcopy)" >"$T/tools/mcopy"
chmod +x "$T/tools/mcopy"
START_ENV=(-e "AIRLOCK_TOOLS_DIR=$T/tools")
# A copy of the medium (same name) whose ESP this step changes.
mkdir "$T/medium"
cp --sparse=always "$MEDIUM" "$T/medium/airlock-1.0.0.img"
MEDIUM=$T/medium/airlock-1.0.0.img
start install --disk "$MEDIUM" --disk "$T/target.img" --tcti "$SWTPM_TCTI"
shot 4-welcome "TPM        found"
esp=$MEDIUM@@$(($(part "$MEDIUM" 1 start) * 512))
mren -i "$esp" ::/EFI/Linux/airlock-1.0.0-a+3.efi ::/EFI/Linux/airlock-1.0.0-a.efi ||
	fail "renaming the medium's boot entry"
keys Enter
shot 4-disks "Choose the disk"
keys Down Enter
shot 4-summary "Type the device name  target.img"
type_text "airlock-1.0.0.img"
keys Enter
shot 4-summary-wrong "That is not the name of the chosen disk. Nothing was changed."
[ "$(stat -c '%y' "$T/target.img")" = "$before" ] || fail "a wrong name wrote to the disk"
type_text "target.img"
keys Enter
shot 4-progress "done  Partition table (GPT)"
grep -qE '^  done  Partition table \(GPT\) +\[#{16}\]' "$SHOTS/4-progress.txt" ||
	fail "the progress screen does not show the table done"
shot 5-key "RECOVERY KEY - shown once"
grep -qE '^  done  root-a: system image +\[#{16}\] +1\.0 MiB' "$SHOTS/5-key.txt" &&
	fail "the progress screen is still under the key"
KEY=$(sed -n 's/^ *[1-8]  \([a-z]\{8\}\)   [1-8]  \([a-z]\{8\}\)   [1-8]  \([a-z]\{8\}\)   [1-8]  \([a-z]\{8\}\)$/\1-\2-\3-\4/p' \
	"$SHOTS/5-key.txt" | paste -sd-)
[[ $KEY =~ ^([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}$ ]] || fail "no key on the screen"
is_installed "$T/target.img" && fail "the disk claims to be installed before the key was typed back"
keys Enter
shot 5-key-confirm "Type the recovery key back"
grep -qF "${KEY:0:8}" "$SHOTS/5-key-confirm.txt" && fail "the key is still on the screen while it is typed back"
last=${KEY: -1}
[ "$last" = b ] && other=c || other=b
type_text "${KEY:0:70}$other"
keys Enter
shot 5-key-wrong "That is not the key: group 8 differs"
type_text "$(tr a-z A-Z <<<"$KEY" | tr -d -)"
keys Enter
shot 5-passphrase "Operator passphrase (not shown as typed):"
type_text "short"
keys Enter
shot 5-passphrase-short "That passphrase is refused: too short"
type_text "correct horse battery"
keys Enter
shot 5-passphrase-again "The same passphrase again:"
type_text "correct horse batterx"
keys Enter
shot 5-passphrase-differ "The two passphrases differ"
type_text "correct horse battery"
keys Enter
shot 5-passphrase-again2 "The same passphrase again:"
grep -q "correct horse" "$SHOTS"/5-passphrase*.txt && fail "the passphrase was shown as typed"
type_text "correct horse battery"
keys Enter
shot 6-done "Installed: airlock 1.0.0 is on"
keys q
[ "$(exit_status)" = 0 ] || fail "the install exited $(cat "$T/rc")"
screen >"$SHOTS/7-after.txt"
grep -qF "${KEY:0:8}" "$SHOTS/7-after.txt" && fail "the key is on the terminal after the installer left"
cat "$T/install.stderr"
if grep -qF "$KEY" "$T/install.stderr"; then fail "the key was logged"; fi
grep -q "correct horse" "$T/install.stderr" && fail "the passphrase was logged"

is_installed "$T/target.img" || fail "no LUKS2 header after the install"
data_header "$T/target.img" "$T/data.hdr"
printf '%s' "$KEY" | cryptsetup open --test-passphrase --key-slot 0 --key-file - "$T/data.hdr" ||
	fail "the key shown does not open the volume"
cryptsetup luksDump "$T/data.hdr" >"$T/dump.txt"
grep -qE '^\s+0: systemd-tpm2$' "$T/dump.txt" || fail "no TPM token"
grep -qF "the medium's boot entry EFI/Linux/airlock-1.0.0-a+3.efi is now EFI/Linux/airlock-1.0.0-a.efi" \
	"$T/install.stderr" || fail "the installer did not say the medium's entry was renamed"
entries=$(mdir -b -i "$T/target.img@@$(($(part "$T/target.img" 1 start) * 512))" ::/EFI/Linux | sed 's|.*/||')
[ "$entries" = "airlock-1.0.0-a+3.efi" ] || fail "the target's boot entries: '$entries'"
step "3. the terminal hangs up at the recovery key (written, not complete): the installer leaves"
new_target "$T/target.img" 256M
START_ENV=()
start hangup --disk "$MEDIUM" --disk "$T/target.img" --tcti "$SWTPM_TCTI"
shot 8-welcome "TPM        found"
keys Enter
shot 8-disks "Choose the disk"
keys Down Enter
shot 8-summary "Type the device name  target.img"
type_text "target.img"
keys Enter
shot 8-key "RECOVERY KEY - shown once"
pid=$(pgrep -f "^airlock-install --source $MEDIUM .*--disk $T/target.img") || fail "no installer running"
[[ $pid =~ ^[0-9]+$ ]] || fail "not one installer running: $pid"
tmux kill-session -t "$WIN"
WIN=
for _ in $(seq 100); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$pid" 2>/dev/null && {
	kill -9 "$pid"
	fail "the installer still runs 10 s after its terminal hung up"
}
is_installed "$T/target.img" && fail "a disk whose install was left at the key claims to be installed"
echo "screens kept in $SHOTS:"
ls "$SHOTS"
echo "ok"
