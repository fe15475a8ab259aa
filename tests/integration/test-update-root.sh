#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# airlock-update on "the running system" (no --disk), on the host: a fake root (--root)
# holds what the appliance would show: /run/airlock/slot, /proc/self/mountinfo with /
# on a dm-verity device, sysfs with that device's two partitions (their numbers and
# starts as the installed disk image's GPT has them), dev/vda (the disk image), the
# image's os-release and update keys. Checks: the boot disk and booted slot found from
# them; the version, product and keys taken from the running image, never from the
# caller; an import into the other slot; mark-good of a booted slot; refusals when
# the ESP is mounted, when the slot file and / disagree, of import and rollback on the
# installer medium (no slot b; status and mark-good work there), when airlock-init did
# not boot the system; import --tries; boot-failed's decision for a boot that did not
# complete (try again, fall back, stay up); and status explaining a fallback after a
# slot's tries were spent. A ledger daemon records the run.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-install.sh"
source "$(dirname "$0")/lib-update.sh"
source "$(dirname "$0")/lib-ledger.sh"
need veritysetup

install_medium
install_keys
A=$(update_key a)
B=$(update_key b)
DISK=$T/disk.img
R=$T/root

small_build() { # DIR VERSION MIN KEY-FPR: a 1 MiB TEST-ONLY root with a real verity tree
	local dir=$1 version=$2 min=$3 key=$4 hash
	mkdir -p "$dir"
	fake_bytes "root-$version" 1048576 >"$dir/root.squashfs"
	hash=$(veritysetup format "$dir/root.squashfs" "$dir/root.verity" \
		--salt "$(printf '11%.0s' {1..32})" | awk '/^Root hash:/ {print $3}')
	fake_bytes "uki-$version" 54321 >"$dir/uki.efi"
	printf '{"spdxVersion": "SPDX-2.3", "name": "TEST-ONLY %s"}\n' "$version" >"$dir/sbom.spdx.json"
	jq -n --arg v "$version" --arg m "$min" --arg h "$hash" --arg k "$key" \
		--argjson arts "$(for n in root.squashfs root.verity uki.efi sbom.spdx.json; do
			jq -n --arg n "$n" --argjson s "$(stat -c %s "$dir/$n")" \
				--arg h "$(sha256sum "$dir/$n" | cut -d' ' -f1)" '{name: $n, size: $s, sha256: $h}'
		done | jq -s .)" \
		'{format: 1, name: "airlock", version: $v, min_version: $m, compatible: "airlock/x86-64",
		  architecture: "amd64", source_date_epoch: 1747699200, kernel: "6.1.0-test",
		  content_sha256: ("00" * 32),
		  verity: {root_hash: $h, hash_algorithm: "sha256", format: 1, salt: ("11" * 32),
			   uuid: "00000000-0000-4000-8000-000000000001", data_block_size: 4096,
			   hash_block_size: 4096, data_blocks: 256},
		  disk: {esp_size: 67108864, root_size: 33554432, verity_size: 8388608,
			 data_min_size: 67108864},
		  artifacts: $arts, trusted_keys: [$k], packages: []}' >"$dir/manifest.json"
}

# The fake running system: booted from SLOT of DISKFILE, os-release VERSION.
fake_root() { # SLOT VERSION DISKFILE [ROOT-PART VERITY-PART]
	local slot=$1 version=$2 disk=$3 rp=${4:-} vp=${5:-} n dev=$R/sys/devices/platform/virtio/block/vda
	[ -n "$rp" ] || case $slot in a) rp=2 vp=3 ;; b) rp=4 vp=5 ;; esac
	rm -rf "$R"
	mkdir -p "$R/run/airlock" "$R/proc/self" "$R/sys/dev/block" "$R/sys/class/block" "$R/dev" \
		"$R/usr/lib" "$R/usr/share/airlock/update-keys" "$R/sys/devices/virtual/block/dm-0/dm" \
		"$R/sys/devices/virtual/block/dm-0/slaves"
	echo "$slot" >"$R/run/airlock/slot"
	printf '%s\n' "22 1 254:0 / / ro,relatime shared:1 - squashfs /dev/mapper/root ro" \
		"23 22 0:21 / /run rw,nosuid shared:2 - tmpfs tmpfs rw" >"$R/proc/self/mountinfo"
	ln -s ../../devices/virtual/block/dm-0 "$R/sys/dev/block/254:0"
	echo root >"$R/sys/devices/virtual/block/dm-0/dm/name"
	echo CRYPT-VERITY-00000000000040008000000000000001-root >"$R/sys/devices/virtual/block/dm-0/dm/uuid"
	ln -s ../../devices/platform/virtio/block/vda "$R/sys/class/block/vda"
	for n in $(seq 1 "$(sfdisk -J "$disk" | jq '.partitiontable.partitions | length')"); do
		mkdir -p "$dev/vda$n"
		echo "$n" >"$dev/vda$n/partition"
		part "$disk" "$n" start >"$dev/vda$n/start"
		echo "253:$n" >"$dev/vda$n/dev"
	done
	for n in $rp $vp; do
		ln -s "../../../../platform/virtio/block/vda/vda$n" "$R/sys/devices/virtual/block/dm-0/slaves/vda$n"
	done
	ln -s "$disk" "$R/dev/vda"
	printf 'ID=debian\nIMAGE_ID=airlock\nIMAGE_VERSION=%s\nAIRLOCK_COMPATIBLE=airlock/x86-64\n' \
		"$version" >"$R/usr/lib/os-release"
	cp "$T/keys/a/signing-key.pub.asc" "$R/usr/share/airlock/update-keys/a.asc"
}

upd() { airlock-update "$@"; }
esp_ls() { MTOOLS_SKIP_CHECK=1 mdir -i "$DISK@@$(($(part "$DISK" 1 start) * 512))" -b ::/EFI/Linux/ 2>/dev/null | sed 's|.*/||' | sort | tr '\n' ' '; }
esp_ren() { MTOOLS_SKIP_CHECK=1 mren -i "$DISK@@$(($(part "$DISK" 1 start) * 512))" "::/EFI/Linux/$1" "::/EFI/Linux/$2"; }

step "a disk laid out by airlock-install, booted (in this fake root) from slot a"
install_no_tpm "$DISK" 256M
fake_root a 1.0.0 "$DISK"
out=$(expect_ok upd status --root "$R")
printf '%s\n' "$out"
grep -qx "disk:    $R/dev/vda" <<<"$out" || fail "status: not the boot disk"
grep -q '^booted:  a (1.0.0)' <<<"$out" || fail "status: slot a is not the booted slot"
grep -q '^slot a:  airlock 1.0.0, trying, 3 tries left, booted, next' <<<"$out" || fail "status: slot a"
grep -q "root hash $ROOTHASH" <<<"$out" || fail "status: slot a's root hash"

step "usage: the running system's keys, version and product are its own"
expect_fail "go with --disk only" upd import "$T/none.tar" --root "$R" --keyring "$T/keys/b/signing-key.pub.asc"
expect_fail "go with --disk only" upd import "$T/none.tar" --root "$R" --running-version 0.1
expect_fail "go with --disk only" upd import "$T/none.tar" --root "$R" --compatible other/x
expect_fail "goes with --disk only" upd status --root "$R" --running-version 0.1
expect_fail "goes without --disk only" upd status --root "$R" --disk "$DISK" --running-version 1.0.0

step "refusals on the running system, recorded in the ledger"
ledger_policy "allow uid=$(id -u)"
ledger_start
small_build "$T/v2" 1.0.1 1.0.0 "$A"
v2=$(release "$T/v2" a)
small_build "$T/v2b" 1.0.1 1.0.0 "$B"
v2b=$(release "$T/v2b" b)
small_build "$T/v0" 0.9.0 0.1 "$A"
v0=$(release "$T/v0" a)
before=$(esp_ls)
rc=0
out=$(upd import "$v2b" --root "$R" --ledger-socket "$SOCK" 2>&1) || rc=$?
printf '%s\n' "$out"
[ $rc -eq 3 ] || fail "a bundle signed by a key the running image does not trust: exit $rc"
jq -e '.payload.reason == "unknown-key" or .payload.reason == "bad-signature"' \
	<<<"$(last_record update.refused)" >/dev/null || fail "the refusal is not recorded with its reason"
rc=0
out=$(upd import "$v0" --root "$R" --ledger-socket "$SOCK" 2>&1) || rc=$?
printf '%s\n' "$out"
[ $rc -eq 3 ] && grep -q 'refused (downgrade)' <<<"$out" || fail "a downgrade below the running 1.0.0: exit $rc"
jq -e '.payload.reason == "downgrade" and .payload.running_version == "1.0.0"' \
	<<<"$(last_record update.refused)" >/dev/null || fail "the downgrade is not recorded"
[ "$(esp_ls)" = "$before" ] || fail "a refusal changed the ESP: $(esp_ls)"

step "import into slot b"
out=$(expect_ok upd import "$v2" --root "$R" --ledger-socket "$SOCK" 2>&1)
printf '%s\n' "$out"
grep -q "into:      slot b (root-b, verity-b) of $R/dev/vda; slot a keeps running" <<<"$out" ||
	fail "not into slot b of the boot disk"
grep -q 'installed: airlock 1.0.1 in slot b' <<<"$out" || fail "no success line"
jq -e '.payload.slot == "b" and .payload.running_version == "1.0.0"' \
	<<<"$(last_record update.imported)" >/dev/null || fail "update.imported is not recorded"
last_record update.switched >/dev/null || fail "update.switched is not recorded"
out=$(expect_ok upd status --root "$R")
grep -q '^next:    b' <<<"$out" || fail "status: b is not next"

step "a mounted ESP: nothing is written"
printf '%s\n' "30 22 253:1 / /efi rw,relatime - vfat /dev/vda1 rw" >>"$R/proc/self/mountinfo"
before=$(esp_ls)
expect_fail "ESP \(partition 1 of .*\) is mounted on /efi" upd rollback --root "$R" --ledger-socket "$SOCK"
[ "$(esp_ls)" = "$before" ] || fail "the ESP changed"

step "booted into slot b: mark-good"
fake_root b 1.0.1 "$DISK"
out=$(expect_ok upd mark-good --root "$R" --ledger-socket "$SOCK" 2>&1)
printf '%s\n' "$out"
grep -q 'marked good: slot b' <<<"$out" || fail "mark-good did not say so"
grep -q 'airlock-1.0.1-b.efi' <<<"$(esp_ls)" || fail "the entry was not renamed: $(esp_ls)"
jq -e '.payload.slot == "b" and .payload.to == "airlock-1.0.1-b.efi"' \
	<<<"$(last_record update.marked-good)" >/dev/null || fail "update.marked-good is not recorded"
ledger_stop

step "the slot file and / disagree"
fake_root a 1.0.1 "$DISK" 4 5
expect_fail "says slot a was booted, but / is verified from vda4 and vda5, not from its partition 'root-a'" \
	upd status --root "$R"

step "booted slot b, which has no boot entry: nothing to mark good"
cp --sparse=always "$DISK" "$T/disk2.img"
MTOOLS_SKIP_CHECK=1 mdel -i "$T/disk2.img@@$(($(part "$T/disk2.img" 1 start) * 512))" \
	"::/EFI/Linux/$(esp_ls | tr ' ' '\n' | grep -- '-b' | head -n1)"
fake_root b 1.0.1 "$T/disk2.img"
expect_fail "slot b, the booted one, has no boot entry on $R/dev/vda" upd mark-good --root "$R"

step "not booted by airlock-init"
fake_root b 1.0.1 "$DISK"
rm "$R/run/airlock/slot"
expect_fail "run/airlock/slot does not exist: this system was not booted by airlock-init" \
	upd status --root "$R"

step "the installer medium (slot a only): status and mark-good, no import, no rollback"
cp --sparse=always "$MEDIUM" "$T/medium.img"
fake_root a 1.0.0 "$T/medium.img"
out=$(expect_ok upd status --root "$R")
printf '%s\n' "$out"
grep -q '^slot b:  none: the disk has no root-b (the installer medium)' <<<"$out" || fail "status: slot b"
expect_fail "which has no slot b: the installer medium" upd import "$v2" --root "$R"
expect_fail "which has no slot b: the installer medium" upd rollback --root "$R"
expect_ok upd mark-good --root "$R" | grep -q 'marked good: slot a' || fail "mark-good on the medium"

step "import --tries: 1 to 9"
small_build "$T/v3" 1.0.2 1.0.0 "$A"
v3=$(release "$T/v3" a)
fake_root b 1.0.1 "$DISK"
expect_fail "--tries needs a number from 1 to 9, not '0'" upd import "$v3" --root "$R" --tries 0
expect_fail "--tries needs a number from 1 to 9, not '10'" upd import "$v3" --root "$R" --tries 10
expect_ok upd import "$v3" --root "$R" -q --tries 2
grep -q 'airlock-1.0.2-a+2.efi' <<<"$(esp_ls)" || fail "not a +2 entry: $(esp_ls)"

step "boot-failed: what a boot of slot a that did not complete does (as systemd-boot counts)"
ledger_start
# systemd-boot took the first try off before booting it
esp_ren airlock-1.0.2-a+2.efi airlock-1.0.2-a+1-1.efi
fake_root a 1.0.2 "$DISK"
out=$(expect_ok upd boot-failed --root "$R" --ledger-socket "$SOCK")
printf '%s\n' "$out"
grep -q '^this boot of slot a (airlock 1.0.2, entry airlock-1.0.2-a+1-1.efi) did not complete: 1 try left, a reboot would try it again$' \
	<<<"$out" || fail "boot-failed with a try left"
jq -e '.payload.slot == "a" and .payload.action == "retry" and .payload.from == "airlock-1.0.2-a+1-1.efi"' \
	<<<"$(last_record update.boot-failed)" >/dev/null || fail "update.boot-failed (retry) is not recorded"
esp_ren airlock-1.0.2-a+1-1.efi airlock-1.0.2-a+0-2.efi
out=$(expect_ok upd boot-failed --root "$R" --ledger-socket "$SOCK")
printf '%s\n' "$out"
grep -q 'did not complete: no tries left, a reboot would boot slot b (airlock 1.0.1)$' <<<"$out" ||
	fail "boot-failed with the tries spent"
jq -e '.payload.action == "fall-back" and .payload.next == "b"' \
	<<<"$(last_record update.boot-failed)" >/dev/null || fail "update.boot-failed (fall-back) is not recorded"
# the good slot b failing: a reboot would fail the same way
fake_root b 1.0.1 "$DISK"
out=$(expect_ok upd boot-failed --root "$R" --ledger-socket "$SOCK")
printf '%s\n' "$out"
grep -q 'did not complete: the slot is good (it completed a boot before) and a reboot would boot it again: staying up' \
	<<<"$out" || fail "boot-failed of a good slot"
jq -e '.payload.action == "stay-good"' <<<"$(last_record update.boot-failed)" >/dev/null ||
	fail "update.boot-failed (stay-good) is not recorded"
ledger_stop

step "slot a's tries spent, back on slot b: status says why"
out=$(expect_ok upd status --root "$R")
printf '%s\n' "$out"
grep -q '^slot a:  airlock 1.0.2, bad (2 boots did not complete, or rolled back)' <<<"$out" ||
	fail "status: slot a is not bad"
grep -q '^why:     slot a (airlock 1.0.2) did not complete a boot in its 2 tries: systemd-boot fell back to slot b (1.0.1)' \
	<<<"$out" || fail "status does not say why slot b runs"
# a rollback after one try is not a fallback
esp_ren airlock-1.0.2-a+0-2.efi airlock-1.0.2-a+0-1.efi
out=$(expect_ok upd status --root "$R")
grep -q '^why:     slot a (airlock 1.0.2) was marked bad (a rollback, after 1 tries): slot b (1.0.1) boots' \
	<<<"$out" || fail "status: a rollback is not told apart from spent tries: $out"
echo ok
