#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The installed appliance boots from its own disk (e2e_installed: an unattended install
# in a guest, swtpm state kept): UEFI + Secure Boot + TPM, the installer medium gone.
#   1. airlock-init opens the data volume with the TPM, no passphrase asked: /var is
#      /dev/mapper/data (ext4, rw, nosuid, nodev), /run/airlock/data says "tpm", the
#      installer does not start, and the ledger on /var holds the install's records.
#   2. A second boot: the same, and what the first wrote on /var is still there; the
#      operator console runs on tty1 and shows its lock screen (/dev/vcs1): the banner's
#      facts and the passphrase prompt (the answer file's operator-passphrase-hash is on
#      the data volume, 0600); the passphrase typed on tty1 (TIOCSTI) opens it, and the
#      dashboard, slots, TPM and ledger screens show their tools' words, run in the
#      console's sandbox; console.unlocked is in the ledger with the console's unit.
#   3. A UKI with another command line, Secure Boot signed but its PCR 11 not signed
#      (e2e_image cmdline2), put on the same disk: the TPM refuses, airlock-init says so
#      in one line and asks for the recovery key; the escrowed key typed on the serial
#      console (never echoed) opens the volume, /var still holds the counter, and
#      /run/airlock/data says "recovery"; airlock-tpm-report says PCR 11 differs.
#   4. The original UKI back, the firmware's Secure Boot switched off (a firmware change:
#      PCR 7 moves): the TPM refuses, the console says the policy no longer matches (PCR
#      7), the recovery key opens the volume, tpm.policy-mismatch is in the ledger, and
#      `airlock-tpm reseal` with the key from a stick seals to the new PCR 7.
#   5. The same firmware: the TPM opens the volume by itself again.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
need qemu-system-x86_64 swtpm jq sfdisk mdir mcopy mdel cryptsetup

e2e_installed
KEY=$(head -n1 "$E2E_INSTALLED/recovery.key")
D=$T/installed
e2e_installed_copy "$D"
PROMPT="type the recovery key of the data volume"

check_facts() { # BOOT DATA BOOTS
	local var
	[ "$(boot_fact data)" = "$2" ] || fail "boot $1: /run/airlock/data is '$(boot_fact data)', not $2"
	[ "$(boot_fact installer-medium)" = no ] || fail "boot $1: the installed disk looks like the installer medium"
	var=$(boot_fact var-mount)
	[[ $var =~ ^/dev/mapper/data\ ext4\ rw, ]] && [[ $var == *nosuid* ]] && [[ $var == *nodev* ]] ||
		fail "boot $1: /var is not the data volume (rw, nosuid, nodev): '$var'"
	[ "$(boot_fact var-boots)" = "$3" ] || fail "boot $1: /var's boot counter is '$(boot_fact var-boots)', not $3"
	[[ ",$(boot_fact ledger-install)," == *,install.started,*,install.complete,* ]] ||
		fail "boot $1: the ledger on /var lacks the install's records: '$(boot_fact ledger-install)'"
	if grep -qF "$KEY" "$BOOT_LOG" || grep -qF "${KEY:0:17}" "$BOOT_LOG"; then
		fail "boot $1: the recovery key appears on the console"
	fi
	# The ledger's high-water mark in the TPM (airlock-ledger.service --tpm-counter): the
	# last mark and the counter agree, each boot marks again, nothing was rolled back.
	local mark counter
	mark=$(boot_fact ledger-mark) counter=$(boot_fact ledger-counter)
	[[ $mark =~ ^[0-9]+$ ]] && [ "$mark" = "$counter" ] && [ "$mark" -gt "$LAST_MARK" ] ||
		fail "boot $1: the ledger's high-water mark is '$mark', the TPM counter '$counter' (last boot's mark $LAST_MARK)"
	[ "$(boot_fact ledger-rollbacks)" = 0 ] || fail "boot $1: the ledger detected a rollback"
	LAST_MARK=$mark
	echo "boot $1: /var = $var, opened by $(boot_fact data), boot $3 on it; ledger: $(boot_fact ledger-install); high-water $mark"
}
LAST_MARK=0

step "boot 1 from the installed disk alone: the TPM opens the data volume, no prompt"
boot_image installed-boot1 "$D/target.img" 600 --writable --expect "$AIRLOCK_BOOT_MARKER" \
	--expect "data       /var on the data volume, opened by the TPM" --refuse "$PROMPT" --refuse "airlock-init: FATAL" -- --tpm "$D/tpm" ||
	fail "the installed disk did not boot with the TPM"
check_facts 1 tpm 1

step "boot 2: the same, and /var kept what boot 1 wrote; the operator console is on tty1"
boot_image installed-boot2 "$D/target.img" 600 --writable --expect "$AIRLOCK_BOOT_MARKER" \
	--expect "AIRLOCK-TEST console-done" \
	--refuse "$PROMPT" --refuse "airlock-init: FATAL" -- --tpm "$D/tpm" ||
	fail "the second boot failed"
check_facts 2 tpm 2
# The answer file's operator-passphrase-hash is on the data volume (root, 0600), and the
# console (in its own sandbox, on the real appliance) shows the lock screen with the
# banner's facts and asks for the passphrase.
console_screen=$(sed -n 's/^\[[ 0-9.]*\] AIRLOCK-TEST console: //p' "$BOOT_LOG")
[ "$(boot_fact console-state)" = active ] ||
	fail "boot 2: airlock-console@tty1 is '$(boot_fact console-state)': $(grep 'console-log:' "$BOOT_LOG" | tail -n 5)"
[ "$(boot_fact operator-hash)" = "600 root" ] ||
	fail "boot 2: the operator passphrase hash is '$(boot_fact operator-hash)', not 600 root"
for want in "This console is locked." "Operator passphrase:" \
	"root hash  $(boot_fact cmdline | sed -n 's/.*airlock.roothash=\([0-9a-f]*\).*/\1/p')" \
	"data       /var on the data volume, opened by the TPM"; do
	grep -qF -- "$want" <<<"$console_screen" ||
		fail "boot 2: tty1 does not show '$want': $console_screen"
done
grep -q "No operator passphrase" <<<"$console_screen" && fail "boot 2: the console says no passphrase is set"
echo "boot 2: the console's lock screen on tty1 asks for the operator passphrase"
# The passphrase typed on tty1 (vtkeys): the dashboard, slots, TPM and ledger screens,
# each showing what its tool says when run inside the console's sandbox.
console_shows() { # NAME TEXT
	sed -n "s/^\[[ 0-9.]*\] AIRLOCK-TEST console-$1: //p" "$BOOT_LOG" | tr -s ' \n' '  ' |
		grep -qF -- "$2" || fail "boot 2: the console's $1 screen does not show '$2': $(grep "console-$1:" "$BOOT_LOG")"
}
console_shows dash "Slots (airlock-update status)"
console_shows dash "booted: a (1.0.0)"
console_shows dash "TPM (airlock-tpm status)"
console_shows slots "slot a: airlock 1.0.0, good, booted, next"
console_shows tpm "would unseal at the next boot of this image: yes"
console_shows ledger "console.unlocked"
for s in dash dash2 slots tpm; do
	grep "AIRLOCK-TEST console-$s:" "$BOOT_LOG" | grep -q "exited with status\|not found" &&
		fail "boot 2: a tool failed in the console's sandbox ($s): $(grep "console-$s:" "$BOOT_LOG")"
done
grep "AIRLOCK-TEST console-record:" "$BOOT_LOG" | grep "console.unlocked" |
	grep -q "unit=airlock-console@tty1.service" ||
	fail "boot 2: console.unlocked is not in the ledger with the console's unit: $(grep 'console-record:' "$BOOT_LOG")"
echo "boot 2: unlocked on tty1: the dashboard, slots, TPM and ledger screens show their tools' words"

step "a Secure Boot signed UKI with another command line (PCR 11 not signed) on the same disk"
e2e_image cmdline2
export MTOOLS_SKIP_CHECK=1
esp="$D/target.img@@$(($(sfdisk -J "$D/target.img" | jq -er '.partitiontable.partitions[0].start') * 512))"
mapfile -t ukis < <(mdir -b -i "$esp" ::/EFI/Linux | grep -i '\.efi$')
[ ${#ukis[@]} = 1 ] || fail "the installed ESP does not hold exactly one UKI: ${ukis[*]}"
mcopy -i "$esp" "${ukis[0]}" "$T/original-uki.efi" || fail "cannot keep the installed UKI"
echo "replacing ${ukis[0]} with $E2E_DIR/uki.efi"
mdel -i "$esp" "${ukis[0]}" && mcopy -i "$esp" "$E2E_DIR/uki.efi" "${ukis[0]}" ||
	fail "cannot put the cmdline2 UKI on the ESP"

step "boot 3: the TPM refuses, the recovery prompt appears, the escrowed key typed on ttyS0 opens it"
boot_image installed-boot3 "$D/target.img" 900 --writable --type "$PROMPT" "$KEY" \
	--expect "$PROMPT" --expect "$AIRLOCK_BOOT_MARKER" \
	--expect "data       /var on the data volume, opened with the RECOVERY KEY" --refuse "wrong recovery key" --refuse "not a recovery key" --refuse "airlock-init: FATAL" \
	-- --tpm "$D/tpm" || fail "the recovery key did not open the data volume"
[[ $(boot_fact cmdline) == *airlock_test=2* ]] || fail "boot 3 did not run the cmdline2 UKI"
grep -q 'airlock-init: the TPM did not open the data volume: ' "$BOOT_LOG" ||
	fail "no console line saying why the TPM refused"
[ "$(grep -c "$PROMPT" "$BOOT_LOG")" = 1 ] || fail "the key was asked for more than once"
check_facts 3 recovery 3
grep -q 'airlock-tpm: this boot needed the recovery key: the TPM.s policy no longer matches (PCR 11 differs' "$BOOT_LOG" ||
	fail "boot 3: airlock-tpm-report did not say PCR 11 differs"

step "boot 4: the original UKI, Secure Boot off (PCR 7 moves): recovery key, then airlock-tpm reseal"
# (boot counting renamed the entry since: whatever single UKI is there now)
mapfile -t ukis < <(mdir -b -i "$esp" ::/EFI/Linux | grep -i '\.efi$')
[ ${#ukis[@]} = 1 ] || fail "the installed ESP does not hold exactly one UKI: ${ukis[*]}"
mdel -i "$esp" "${ukis[0]}" && mcopy -i "$esp" "$T/original-uki.efi" "${ukis[0]}" ||
	fail "cannot put the original UKI back"
{ printf 'AIRLOCK-TEST-RECOVERY-KEY\n%s\n' "$KEY"; head -c 1048576 /dev/zero; } | head -c 1048576 >"$T/key-stick.img"
boot_image installed-boot4 "$D/target.img" 900 --writable --type "$PROMPT" "$KEY" \
	--expect "$PROMPT" --expect "AIRLOCK-TEST update-done" \
	--expect "the TPM's policy no longer matches this machine (PCR 7" \
	--refuse "wrong recovery key" --refuse "airlock-init: FATAL" \
	-- --tpm "$D/tpm" --no-secure-boot --disk "$T/key-stick.img" || fail "boot 4 failed"
check_facts 4 recovery 4
grep -q 'airlock-tpm: this boot needed the recovery key: the TPM.s policy no longer matches (PCR 7 differs' "$BOOT_LOG" ||
	fail "boot 4: airlock-tpm-report did not say PCR 7 differs"
grep -q 'AIRLOCK-TEST tpm-status: .*PCR 7 changed since it was sealed' "$BOOT_LOG" ||
	fail "boot 4: airlock-tpm status does not say PCR 7 changed"
[ "$(boot_fact reseal-exit)" = 0 ] || fail "boot 4: airlock-tpm reseal exited $(boot_fact reseal-exit)"
grep -q 'AIRLOCK-TEST tpm-status-after: .*would unseal at the next boot of this image: yes' "$BOOT_LOG" ||
	fail "boot 4: after the re-seal, status does not say the token would unseal"
grep -q 'AIRLOCK-TEST ledger-tpm: .*tpm.policy-mismatch' "$BOOT_LOG" &&
	grep -q 'AIRLOCK-TEST ledger-tpm: .*tpm.resealed' "$BOOT_LOG" ||
	fail "boot 4: the ledger lacks tpm.policy-mismatch or tpm.resealed"

step "boot 5: the same firmware, the TPM opens the volume by itself"
boot_image installed-boot5 "$D/target.img" 600 --writable --expect "$AIRLOCK_BOOT_MARKER" \
	--expect "data       /var on the data volume, opened by the TPM" --refuse "$PROMPT" \
	--refuse "airlock-init: FATAL" -- --tpm "$D/tpm" --no-secure-boot ||
	fail "boot 5: the TPM did not open the re-sealed volume"
check_facts 5 tpm 5
echo "ok"
