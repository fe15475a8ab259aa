#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# airlock-update on the running appliance, in QEMU with OVMF, Secure Boot and swtpm.
#
# The e2e image (v1, installed onto an 8 GiB disk by e2e_installed) and two updates of
# it built with the same keys: v2 (2.0.0) and v3 (3.0.0, whose boot never completes: a
# TEST-ONLY drop-in makes the boot-complete check fail). The sneakernet stick is a
# second virtio disk (serial disk1) holding the bundle as a raw tar, read as a block
# device. The guest runs the TEST-ONLY airlock-test-update.service (tests/e2e/overlay):
# it prints `airlock-update status`, the ledger's update.boot-failed records, the data
# volume and a file kept on it, and imports the stick's bundle (with --tries 2) when one
# is attached.
#
#   1. v1 boots, imports v2 from the stick into slot b;
#   2. reboot: v2 boots from slot b, marks it good; /var is the data volume, unlocked
#      by the TPM, with the file v1 wrote; v2 imports v3 into slot a;
#   3. v3 boots and fails twice (its tries): each time the image's own
#      airlock-update-boot-failed.service reboots, first into v3's last try, then, the
#      tries spent, back into v2; status says why, the ledger has both;
#   (v2 and v3 have security version 1: marking v2 good raises the version floor to 1.)
#   4. imports of v3 cut by killing QEMU at random points (seeded: E2E_SEED, printed;
#      the first in step 3's boot back into v2, which finds the stick holding v3):
#      after each, v2 boots and status is consistent (booted b, next b, slot a not
#      a bootable v3);
#   5. v1's slot written back onto the disk offline, the other entries removed: v1 boots,
#      says it is below the version floor and asks for the recovery key; /var stays shut.
# Each boot is a QEMU run with -no-reboot: a reboot ends it and the next run is the next
# boot of the same disk and TPM state. KILLS (default 5) sets the number of cuts.
# About 15 minutes under TCG (each boot 60-130 s), plus the two update images (built once
# per e2e image and cached).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../e2e/lib.sh"
need qemu-system-x86_64 swtpm jq sfdisk mdir

KILLS=${KILLS:-5}
SEED=${E2E_SEED:-$(date +%s)}
echo "seed: E2E_SEED=$SEED (kill points are drawn from it)"
RANDOM=$SEED

# The installed v1: e2e_installed (installed in a guest, the data volume sealed to the
# kept swtpm state), a copy of its disk and TPM state for this test.
W=$T/vm
e2e_installed
e2e_installed_copy "$W"
V1=$E2E_DIR
step "the updates: v2 and v3 built from the same manifest with v1's keys"
# Built once per v1 image and cached next to it.
e2e_update_image() { # VERSION OUT [EXTRA-OVERLAY...]
	local version=$1 out=$2 m
	shift 2
	[ -f "$out/ok" ] && return 0
	rm -rf "$out" && mkdir -p "$out/src/manifests"
	ln -s "$AIRLOCK_SRC/overlay" "$out/src/overlay"
	ln -s "$AIRLOCK_SRC/units" "$out/src/units"
	m=$out/src/manifests/airlock.manifest
	# security-version 1: marking v2 good raises the version floor above v1 (step 5)
	sed -e "s/^version = .*/version = $version/" \
		-e "s/^min-version = .*/min-version = 1.0.0\nsecurity-version = 1/" \
		"$AIRLOCK_SRC/manifests/airlock.manifest" >"$m"
	cp "$(test_lock)" "$out/src/manifests/airlock.lock"
	local extra=()
	for o in "$AIRLOCK_SRC/tests/e2e/overlay" "$E2E_CACHE/target" "$@"; do
		extra+=(--extra-overlay "$o")
	done
	echo "--- building update image $version into $out" >&2
	AIRLOCK_PCR_KEY=$V1/keys/pcr-signing.key AIRLOCK_UPDATE_KEYS=$V1/keys/update-keys \
		"$AIRLOCK_SRC/scripts/image" --out "$out/build" --manifest "$m" -- "${extra[@]}" >&2 ||
		return 1
	airlock-build -q release "$out/build" --key "$V1/keys/update-signing" >"$out/bundle" ||
		return 1
	touch "$out/ok"
}
e2e_lock update-images e2e_update_image 2.0.0 "$V1/update-2.0.0" || fail "building v2 failed"
e2e_lock update-images e2e_update_image 3.0.0 "$V1/update-3.0.0" \
	"$AIRLOCK_SRC/tests/e2e/overlay-fail-boot" || fail "building v3 failed"
V2=$(cat "$V1/update-2.0.0/bundle")
V3=$(cat "$V1/update-3.0.0/bundle")
name=$(jq -r .name "$V1/manifest.json")
v1=$(jq -r .version "$V1/manifest.json")
rh1=$(jq -r .verity.root_hash "$V1/manifest.json")
rh2=$(jq -r .verity.root_hash "$V1/update-2.0.0/build/manifest.json")
rh3=$(jq -r .verity.root_hash "$V1/update-3.0.0/build/manifest.json")
echo "v1 $v1 $rh1; v2 $V2 ($rh2); v3 $V3 ($rh3)"

DISK=$W/target.img
stick() { # BUNDLE: the stick, the bundle as a raw tar (a whole number of 512-byte sectors)
	cp "$1" "$W/stick.img" && truncate -s %512 "$W/stick.img"
}
boot() { # NAME TIMEOUT [boot_image ARGS]
	local n=$1 t=$2
	shift 2
	boot_image "update-$n" "$DISK" "$t" --writable "$@"
}
esp_entries() {
	local start
	start=$(sfdisk -J "$DISK" | jq '.partitiontable.partitions[] | select(.name == "esp") | .start')
	mdir -b -i "$DISK@@$((start * 512))" ::/EFI/Linux 2>/dev/null | sed 's|.*/||' | sort | tr '\n' ' '
}
facts() { grep -o 'AIRLOCK-TEST status: .*' "$BOOT_LOG" | sed 's/^AIRLOCK-TEST status: //'; }
start_s() { sed -n "s/^\[ *\([0-9.]*\)\] AIRLOCK-TEST $1.*/\1/p" "$BOOT_LOG" | head -n1; }
timings=()

step "1. v1 boots and imports v2 from the stick"
stick "$V2"
boot v1-import-v2 1200 --expect "$AIRLOCK_BOOT_MARKER slot=a roothash=$rh1" \
	--expect "AIRLOCK-TEST update-done" -- --tpm "$W/tpm" --disk "$W/stick.img" ||
	fail "v1 did not boot and run the import"
timings+=("v1 boot + import of v2: ${BOOT_SECONDS}s")
grep -q "AIRLOCK-TEST tpm-status:     version floor: 0 (counter 0x01a1a700, base " "$BOOT_LOG" ||
	fail "the install did not seal the data volume to a version floor (0)"
[ "$(boot_fact import-exit)" = 0 ] || { grep 'AIRLOCK-TEST import' "$BOOT_LOG"; fail "the import of v2 failed"; }
t0=$(start_s import-start) t1=$(start_s import-exit)
echo "import of v2 in the guest: $t0 s -> $t1 s"
grep -q "AIRLOCK-TEST status-after: next:    b" "$BOOT_LOG" || fail "v2 in slot b is not next"
echo "ESP: $(esp_entries)"

step "2. reboot: v2 boots from slot b, marks it good; the data volume and its file; v2 imports v3"
stick "$V3"
boot v2-import-v3 1200 --expect "$AIRLOCK_BOOT_MARKER slot=b roothash=$rh2" \
	--expect "marked good: slot b" --expect "AIRLOCK-TEST update-done" \
	-- --tpm "$W/tpm" --disk "$W/stick.img" || fail "v2 did not boot from slot b and import"
timings+=("v2 boot + import of v3: ${BOOT_SECONDS}s")
grep -q "version floor raised from 0 to 1" "$BOOT_LOG" || fail "marking v2 good did not raise the floor to 1"
grep -q "AIRLOCK-TEST tpm-status:     version floor: 1 (counter 0x01a1a700" "$BOOT_LOG" ||
	fail "status does not show the floor at 1 after v2 was marked good"
facts
[ "$(boot_fact version)" = 2.0.0 ] || fail "not v2 running"
var=$(boot_fact var)
kept=$(boot_fact kept)
echo "/var: $var; kept file: $kept"
[ "$(boot_fact import-exit)" = 0 ] || { grep 'AIRLOCK-TEST import' "$BOOT_LOG"; fail "the import of v3 failed"; }
IMPORT_START=$(start_s import-start) IMPORT_END=$(start_s import-exit)
echo "import of v3 in the guest: $IMPORT_START s -> $IMPORT_END s"
grep -q "AIRLOCK-TEST status-after: next:    a" "$BOOT_LOG" || fail "v3 in slot a is not next"
grep -q "AIRLOCK-TEST status: slot b:  $name 2.0.0, good, booted" "$BOOT_LOG" || fail "v2 is not good and booted"

step "3. v3 never completes a boot: two tries, each rebooted by boot-failed, then back on v2"
failed="this boot of slot a ($name 3.0.0, entry $name-3.0.0-a"
for try in 1 2; do
	case $try in
	1) next="+1-1.efi) did not complete: 1 try left, rebooting to try it again" ;;
	2) next="+0-2.efi) did not complete: no tries left, rebooting into slot b ($name 2.0.0)" ;;
	esac
	boot "v3-try$try" 900 --expect "AIRLOCK-TEST fail-boot=3.0.0" --expect "$failed$next" \
		--expect "${KERNEL_STOPPED}Restarting" -- --tpm "$W/tpm" ||
		fail "v3 try $try: v3 did not boot, fail, say '$failed$next' and reboot"
	timings+=("v3 try $try: ${BOOT_SECONDS}s")
	grep -q "marked good: slot a" "$BOOT_LOG" && fail "v3 try $try: a failed boot was marked good"
	echo "try $try: ESP $(esp_entries)"
done
# Step 3's last boot, back on v2, is also step 4's first cut: the stick holds v3, and the
# status and ledger lines come before the import starts.
dur=${IMPORT_END%.*}
dur=$((dur - ${IMPORT_START%.*}))
[ "$dur" -ge 2 ] || dur=2
stick "$V3"
fallback_checks() {
	facts
	grep -q "AIRLOCK-TEST status: booted:  b (2.0.0)" "$BOOT_LOG" || fail "status: b is not booted"
	grep -q "AIRLOCK-TEST status: slot a:  $name 3.0.0, bad (2 boots did not complete" "$BOOT_LOG" ||
		fail "status: v3 is not bad after its two tries"
	grep -q "AIRLOCK-TEST status: why:     slot a ($name 3.0.0) did not complete a boot in its 2 tries: systemd-boot fell back to slot b (2.0.0)" \
		"$BOOT_LOG" || fail "status does not say why v2 runs"
	grep 'AIRLOCK-TEST ledger-boot-failed:' "$BOOT_LOG"
	[ "$(grep -c 'AIRLOCK-TEST ledger-boot-failed: .*update.boot-failed' "$BOOT_LOG")" = 2 ] &&
		grep -q 'ledger-boot-failed: .*"action":"retry"' "$BOOT_LOG" &&
		grep -q 'ledger-boot-failed: .*"action":"fall-back"' "$BOOT_LOG" ||
		fail "the ledger does not hold v3's two failed boots (retry, fall-back)"
}

step "4. imports of v3 cut at random points (seed $SEED); v2 boots after each (the first: step 3's fallback)"
for k in $(seq 1 "$KILLS"); do
	# Within the first 60% of the import as step 2 measured it: under TCG the same import
	# ran 30 s in one boot and 20 s in another (host load), and a cut after its end is
	# no cut.
	cut=$((1 + RANDOM % (dur * 6 / 10)))
	echo "cut $k: ${cut}s into the import (of ${dur}s)"
	if [ "$k" = 1 ]; then n=v2-fallback-cut1; else n=cut$k; fi
	boot "$n" 900 --expect "$AIRLOCK_BOOT_MARKER slot=b roothash=$rh2" \
		--expect "AIRLOCK-TEST import-start" --settle "$cut" -- --tpm "$W/tpm" --disk "$W/stick.img" ||
		fail "cut $k: v2 did not boot and start the import"
	if [ "$k" = 1 ]; then fallback_checks; fi
	grep -q "AIRLOCK-TEST status: booted:  b (2.0.0)" "$BOOT_LOG" &&
		grep -q "AIRLOCK-TEST status: next:    b" "$BOOT_LOG" &&
		grep -q "AIRLOCK-TEST status-exit=0" "$BOOT_LOG" ||
		fail "cut $k: status before the import is not booted b, next b"
	grep -q "AIRLOCK-TEST import-exit=" "$BOOT_LOG" &&
		fail "cut $k: the import ended before the cut (${cut}s); lower the cut points"
	echo "cut $k: ESP $(esp_entries)"
done
boot after-cuts 900 --expect "$AIRLOCK_BOOT_MARKER slot=b roothash=$rh2" \
	--expect "AIRLOCK-TEST update-done" -- --tpm "$W/tpm" || fail "after the cuts, v2 did not boot"
facts
grep -q "AIRLOCK-TEST status: booted:  b (2.0.0)" "$BOOT_LOG" || fail "status: b is not booted after the cuts"
grep -q "AIRLOCK-TEST status-exit=0" "$BOOT_LOG" || fail "status failed after the cuts"
# Consistent: b boots next; slot a is no v3 that would boot (empty, bad, or not verifying).
grep -q "AIRLOCK-TEST status: next:    b" "$BOOT_LOG" || fail "status: b is not next after the cuts"

step "5. an attacker with the disk writes v1's slot a back: v1 boots below the version floor, /var stays closed"
# v2 (security version 1) was marked good in step 2: the floor is 1. Offline, as someone
# with the disk in hand would: v1's root-a and verity-a from the install, its UKI back on
# the ESP, every other entry removed so that systemd-boot boots it.
part() { # DISK NAME: start and size in sectors
	sfdisk -J "$1" | jq -r --arg n "$2" '.partitiontable.partitions[] | select(.name == $n) | "\(.start) \(.size)"'
}
PRISTINE=$E2E_INSTALLED/target.img
for p in root-a verity-a; do
	read -r from size < <(part "$PRISTINE" "$p")
	read -r to _ < <(part "$DISK" "$p")
	dd if="$PRISTINE" of="$DISK" bs=4M iflag=skip_bytes,count_bytes oflag=seek_bytes \
		skip=$((from * 512)) seek=$((to * 512)) count=$((size * 512)) conv=notrunc status=none
done
read -r pesp _ < <(part "$PRISTINE" esp)
read -r esp _ < <(part "$DISK" esp)
v1_entry=$(mdir -b -i "$PRISTINE@@$((pesp * 512))" ::/EFI/Linux 2>/dev/null | sed 's|.*/||' | grep -- '-a' | head -n1)
[ -n "$v1_entry" ] || fail "no slot a entry on the installed disk's ESP"
mcopy -n -i "$PRISTINE@@$((pesp * 512))" "::/EFI/Linux/$v1_entry" "$T/v1.efi"
for e in $(esp_entries); do mdel -i "$DISK@@$((esp * 512))" "::/EFI/Linux/$e"; done
mcopy -o -i "$DISK@@$((esp * 512))" "$T/v1.efi" "::/EFI/Linux/$v1_entry"
echo "ESP now: $(esp_entries)"
boot v1-written-back 600 --refuse "$AIRLOCK_BOOT_MARKER" --refuse "${KERNEL_STOPPED}" \
	--expect "type the recovery key" \
	-- --tpm "$W/tpm" || fail "v1 did not stop at the recovery-key prompt"
grep -q "security version 0 is below the version floor 1 kept in the TPM" "$BOOT_LOG" ||
	fail "v1 did not say it is below the version floor"
grep -q "type the recovery key" "$BOOT_LOG" || fail "v1 did not ask for the recovery key"
if grep -q "$AIRLOCK_BOOT_MARKER" "$BOOT_LOG"; then fail "v1 booted past the data volume"; fi

echo "timings: ${timings[*]}"
case $var in
*/dev/mapper/*) ;;
*) fail "/var is '$var' under v2, not the data volume" ;;
esac
[ "$kept" = "written-by-$v1" ] || fail "the file v1 wrote on the data volume is '$kept' under v2"
echo ok
