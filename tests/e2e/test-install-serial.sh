#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The interactive installer on the serial console of a real USB boot: QEMU runs in an
# 80x24 tmux pane (its serial port is the pane), the e2e image boots from the stick,
# airlock-install@ttyS0 waits for Enter; then the welcome screen, the disk list (the
# stick shown and refused), the 8 GiB target chosen, its name typed to confirm, the
# recovery key shown once and typed back, the operator passphrase given twice, the
# install done. The installed disk then holds the six partitions and a LUKS2 header the
# shown key opens. Every screen is kept as text under build/test-logs/install-serial/.
# (Before its fix the install failed here: the installer copied the medium's boot entry
# by the name it had when the installer started, and airlock-update-mark-good had
# renamed it since.)
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
need qemu-system-x86_64 swtpm tmux cryptsetup sfdisk jq

e2e_image signed
cd "$T"
tmux_shots install-serial

truncate -s 8G target.img
mkdir tpm
tmux new-session -d -s install -x 80 -y 24 -e TERM=vt220 \
	"$(printf '%q ' "$AIRLOCK_SRC/qemu/run" "$E2E_IMAGE" --snapshot --tpm "$T/tpm" \
		--disk "$T/target.img") 2>$T/qemu.stderr; echo \$? >$T/rc; sleep 600"

screen() { tmux capture-pane -p -t install; }
keys() { tmux send-keys -t install "$@"; }
type_text() { tmux send-keys -t install -l "$1"; }
# shot NAME TEXT [SECONDS]: wait until TEXT is on the screen, keep the screen as NAME
shot() {
	local i
	for i in $(seq $((${3:-60} * 2))); do
		screen >screen.txt
		if grep -qF -- "$2" screen.txt; then
			# Once the screens are up: Ctrl-L, a full repaint, so that a console line
			# written over the screen (systemd, the kernel) is not in the shot.
			if [ "$1" != 0-enter ]; then
				keys C-l
				sleep 1
				screen >screen.txt
				grep -qF -- "$2" screen.txt || continue
			fi
			cp screen.txt "$SHOTS/$1.txt"
			return 0
		fi
		[ ! -s rc ] || break
		sleep 0.5
	done
	screen >"$SHOTS/$1.txt"
	cat "$SHOTS/$1.txt" "$T/qemu.stderr"
	fail "'$2' did not appear on the serial console (kept as $SHOTS/$1.txt)"
}

step "the USB boot: the installer waits for Enter on ttyS0"
shot 0-enter "press Enter to install from this console (ttyS0)" 600
keys Enter
shot 1-welcome "Nothing is written to any disk until you type" 120
grep -q "TPM        found" "$SHOTS/1-welcome.txt" || fail "welcome: the TPM is not found"
keys Enter
shot 2-disks "Choose the disk to erase"
grep -qE 'vda .*REFUSED' "$SHOTS/2-disks.txt" || fail "the stick is not shown refused"
keys Down Enter
shot 3-summary "Type the device name  vdb"
grep -q "6 data " "$SHOTS/3-summary.txt" || fail "summary: the layout"
type_text "vdb"
keys Enter
shot 5-key "RECOVERY KEY - shown once" 900
KEY=$(sed -n 's/^ *[1-8]  \([a-z]\{8\}\)   [1-8]  \([a-z]\{8\}\)   [1-8]  \([a-z]\{8\}\)   [1-8]  \([a-z]\{8\}\)$/\1-\2-\3-\4/p' \
	"$SHOTS/5-key.txt" | paste -sd-)
[[ $KEY =~ ^([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}$ ]] || fail "no key on the screen"
keys Enter
shot 5-key-confirm "Type the recovery key back"
type_text "$KEY"
keys Enter
shot 5-passphrase "Operator passphrase (not shown as typed):" 60
type_text "correct horse battery"
keys Enter
shot 5-passphrase-again "The same passphrase again:"
type_text "correct horse battery"
keys Enter
shot 6-done "Installed: airlock 1.0.0 is on" 300
keys Enter
for _ in $(seq 240); do
	[ -s rc ] && break
	sleep 0.5
done
[ -s rc ] || fail "the guest did not reboot (QEMU runs with -no-reboot) after the install"

step "the target: six partitions, and the key shown opens the data volume"
sfdisk -J target.img | jq -r '.partitiontable.partitions[].name' | paste -sd' ' >names
[ "$(cat names)" = "esp root-a verity-a root-b verity-b data" ] || fail "partitions: $(cat names)"
start=$(sfdisk -J target.img | jq -er '.partitiontable.partitions[] | select(.name == "data") | .start')
dd if=target.img of=data.hdr bs=512 skip="$start" count=32768 status=none
printf '%s' "$KEY" | cryptsetup open --test-passphrase --key-file - data.hdr ||
	fail "the key shown does not open the volume"
cryptsetup luksDump data.hdr >dump.txt || fail "luksDump of the data volume's header failed"
grep -qE '^\s+[0-9]+: systemd-tpm2$' dump.txt || {
	cat dump.txt
	fail "no TPM token"
}
echo "screens kept in $SHOTS:"
ls "$SHOTS"
echo "ok"
