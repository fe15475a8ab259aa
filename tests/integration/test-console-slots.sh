#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The console's Slots screen (tmux, 80x24) on a disk image: installed (1.0.0 in slot a),
# 1.0.1 imported into slot b and marked good, 1.0.2 imported into slot a and booted.
#   1. the screen shows what airlock-update status says (both slots, the next boot);
#   2. a declined rollback does nothing and records nothing;
#   3. with slot b damaged, a confirmed rollback is recorded (console.rollback), refused
#      by airlock-update with its reason shown in full, and the disk is unchanged;
#   4. slot b restored, a rollback makes it the next boot (slot a's entry marked bad), the
#      tool's words are on the screen, and a reboot is offered (declined here).
# Screens are kept as text under build/test-logs/console-slots/.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-install.sh"
source "$(dirname "$0")/lib-update.sh"
source "$(dirname "$0")/lib-ledger.sh"
need tmux airlock-console veritysetup mdir

install_medium
install_keys
A=$(update_key a)
ka=$T/keys/a/signing-key.pub.asc
DISK=$T/disk.img
cd "$T"
tmux_shots console-slots
ledger_policy "allow uid=$(id -u)"
ledger_start
count() { L show --ledger "$LEDGER" --type "$1" --json | grep -c . || true; }
esp_ls() { MTOOLS_SKIP_CHECK=1 mdir -i "$DISK@@$(($(part "$DISK" 1 start) * 512))" -b "::/$1" 2>/dev/null || true; }

step "a disk: 1.0.0 installed, 1.0.1 in slot b (good), 1.0.2 in slot a (booted)"
install_no_tpm "$DISK" 256M
real_build "$T/v2" 1.0.1 1.0.0 "$A" >/dev/null
real_build "$T/v3" 1.0.2 1.0.0 "$A" >/dev/null
airlock-update import "$(release "$T/v2" a)" --disk "$DISK" --keyring "$ka" --running-version 1.0.0 \
	>"$T/import2.log" 2>&1 || { cat "$T/import2.log"; fail "import 1.0.1"; }
airlock-update mark-good --disk "$DISK" --running-version 1.0.1 >/dev/null 2>&1 || fail "mark-good"
airlock-update import "$(release "$T/v3" a)" --disk "$DISK" --keyring "$ka" --running-version 1.0.1 \
	>"$T/import3.log" 2>&1 || { cat "$T/import3.log"; fail "import 1.0.2"; }
printf '%s\n' "correct horse battery" | airlock-console hash-passphrase >"$T/hash"

WIN=slots
tmux new-session -d -s "$WIN" -x 80 -y 24 -e TERM=vt220 \
	"$(printf '%q ' airlock-console run --hash-file "$T/hash" --attempts-file "$T/attempts" \
		--ledger-socket "$SOCK" --idle-timeout 0 --update-disk "$DISK" \
		--running-version 1.0.2 tty9) 2>$T/console.stderr; sleep 600"
shot lock "Operator passphrase:"
type_text "correct horse battery"
keys Enter
shot dashboard "Slots (airlock-update status)"

step "the Slots screen: what airlock-update status says"
keys s
shot slots "slot b:  airlock 1.0.1, good"
status=$(airlock-update status --disk "$DISK" --running-version 1.0.2)
for l in "$(grep '^slot a:' <<<"$status")" "$(grep '^slot b:' <<<"$status")" "$(grep '^next:' <<<"$status")"; do
	grep -qF -- "${l:0:70}" "$SHOTS/slots.txt" || fail "the screen does not show '$l'"
done
grep -q '^next:    a' <<<"$status" || fail "slot a is not the next boot: $status"

step "a declined rollback: nothing done, nothing recorded"
keys B
shot confirm "Roll back: make the other slot (above) the next boot?"
keys n
sleep 1
[ "$(count console.rollback)" = 0 ] || fail "a declined rollback was recorded"
esp_ls EFI/Linux/ | grep -q 'airlock-1.0.2-a+0' && fail "a declined rollback changed the ESP"

step "slot b damaged: the rollback is refused, its reason shown, the disk unchanged"
b_start=$(part "$DISK" 4 start)
dd if="$DISK" of="$T/b-head" bs=512 skip="$b_start" count=8 status=none
dd if=/dev/zero of="$DISK" bs=512 seek="$b_start" count=8 conv=notrunc status=none
before=$(esp_ls EFI/Linux/ | sort | sha256sum)
keys B
shot confirm2 "Roll back: make the other slot (above) the next boot?"
keys y
shot refused "Rollback REFUSED or failed:" 60
tr -s ' \n' '  ' <"$SHOTS/refused.txt" | grep -qF "slot b (airlock-1.0.1-b.efi) does not match its root hash" ||
	fail "the screen does not give airlock-update's reason in full"
[ "$(count console.rollback)" = 1 ] || fail "the confirmed rollback is not recorded before it ran"
[ "$(esp_ls EFI/Linux/ | sort | sha256sum)" = "$before" ] || fail "the refused rollback changed the ESP"

step "slot b restored: the rollback makes it the next boot, a reboot is offered"
dd if="$T/b-head" of="$DISK" bs=512 seek="$b_start" conv=notrunc status=none
keys B
shot confirm3 "Roll back: make the other slot (above) the next boot?"
keys y
shot reboot-offer "Rolled back. Reboot into it now?" 60
grep -qF "rolled back: slot b (airlock 1.0.1) is the next boot" "$SHOTS/reboot-offer.txt" ||
	fail "the screen does not show what airlock-update rollback said"
keys n
keys r
shot after "next:    b"
esp_ls EFI/Linux/ | grep -q 'airlock-1.0.2-a+0' || fail "slot a's entry was not marked bad"
[ "$(count console.rollback)" = 2 ] || fail "the rollback is not recorded"
[ "$(count console.reboot)" = 0 ] || fail "a declined reboot was recorded"
last_record console.rollback | jq -e '.payload.session.unit == "airlock-console@tty9.service"' >/dev/null ||
	fail "console.rollback: $(last_record console.rollback)"
tmux kill-session -t "$WIN"
echo PASS
