#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The default image, booted by systemd-boot from a counted entry
# (EFI/Linux/airlock_1.0.0+3.efi; a test UKI made here with objcopy around the
# build's initramfs), reaches multi-user.target, prints AIRLOCK-BOOT-COMPLETE with
# its slot and root hash, shows the banner on ttyS0 without any login prompt, and
# systemd-bless-boot marks the entry good: on the ESP it becomes airlock_1.0.0.efi.
# A full systemd boot under TCG: minutes on a loaded machine.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/direct-boot.sh"
need airlock-build objcopy objdump mkfs.vfat mmd mcopy mdir jq
need_root
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
sdboot=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
for f in "$OVMF_CODE" /usr/share/OVMF/OVMF_VARS_4M.fd "$stub" "$sdboot"; do
	[ -r "$f" ] || skip "$f is missing (ovmf, systemd-boot-efi)"
done

step "the default image (committed lock, or a fresh one if the archive moved)"
lock=$(test_lock)
pool=$(test_pool)
airlock-build -q build "$AIRLOCK_SRC/manifests/airlock.manifest" --lock "$lock" --pool "$pool" \
	--out "$T/out" || fail "airlock-build build failed"
rh=$(jq -r '.verity.root_hash // empty' "$T/out/manifest.json")
[ -n "$rh" ] || rh=$(jq -r '.. | .root_hash? // empty' "$T/out/manifest.json" | head -1)
[ ${#rh} = 64 ] || fail "no root hash in manifest.json"
version=$(jq -r '.version' "$T/out/manifest.json")
KERNEL=$(ls "$(test_kernel_dir)"/boot/vmlinuz-*)

step "test UKI, ESP with a counted entry, disk"
printf 'ID=airlock\n' >"$T/osrel"
# no "quiet": systemd's status lines show bless-boot finishing
printf 'console=ttyS0 airlock.slot=a airlock.roothash=%s' "$rh" >"$T/cmdline"
end=0
while read -r _ _ size vma _; do
	e=$((16#$vma + 16#$size))
	[ $e -gt $end ] && end=$e
done < <(objdump -h "$stub" | awk '$1 ~ /^[0-9]+$/')
up() { echo $((($1 + 4095) / 4096 * 4096)); }
osrel=$(up $end)
cmdline=$(up $((osrel + $(stat -c %s "$T/osrel"))))
initrd=$(up $((cmdline + $(stat -c %s "$T/cmdline"))))
linux=$(up $((initrd + $(stat -c %s "$T/out/initramfs.img"))))
objcopy --add-section .osrel="$T/osrel" --change-section-vma .osrel=$(printf 0x%x $osrel) \
	--add-section .cmdline="$T/cmdline" --change-section-vma .cmdline=$(printf 0x%x $cmdline) \
	--add-section .initrd="$T/out/initramfs.img" --change-section-vma .initrd=$(printf 0x%x $initrd) \
	--add-section .linux="$KERNEL" --change-section-vma .linux=$(printf 0x%x $linux) \
	"$stub" "$T/uki.efi" || fail "objcopy failed"
truncate -s 64M "$T/esp.img"
mkfs.vfat -F 32 -n ESP "$T/esp.img" >/dev/null
mmd -i "$T/esp.img" ::/EFI ::/EFI/BOOT ::/EFI/Linux ::/loader
mcopy -i "$T/esp.img" "$sdboot" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$T/esp.img" "$T/uki.efi" "::/EFI/Linux/airlock_$version+3.efi"
printf 'timeout 0\n' >"$T/loader.conf"
mcopy -i "$T/esp.img" "$T/loader.conf" ::/loader/loader.conf
rmb=$((($(stat -c %s "$T/out/root.squashfs") + 1048575) / 1048576))
hmb=$((($(stat -c %s "$T/out/root.verity") + 1048575) / 1048576))
disk=$T/disk.img
truncate -s $((1 + 64 + rmb + hmb + 1))M "$disk"
{
	echo "label: gpt"
	echo "start=1MiB, size=64MiB, type=c12a7328-f81f-11d2-ba4b-00a0c93ec93b, name=esp"
	echo "start=65MiB, size=${rmb}MiB, type=4f68bce3-e8cd-4db1-96e7-fbcaf984b709, name=root-a"
	echo "start=$((65 + rmb))MiB, size=${hmb}MiB, type=2c7357ed-ebd2-46d9-aec1-23d437ec2bf5, name=verity-a"
} | sfdisk -q "$disk" >/dev/null || fail "sfdisk failed"
dd if="$T/esp.img" of="$disk" bs=1M seek=1 conv=notrunc status=none
dd if="$T/out/root.squashfs" of="$disk" bs=1M seek=65 conv=notrunc status=none
dd if="$T/out/root.verity" of="$disk" bs=1M seek=$((65 + rmb)) conv=notrunc status=none

step "boot (writes to the disk kept: the ESP must change)"
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$T/vars.fd"
log=$T/console.log
start=$(date +%s)
qemu-system-x86_64 -accel tcg -machine q35 -cpu max -smp 2 -m 1024 -nographic -no-reboot \
	-nic none -drive "if=pflash,format=raw,unit=0,file=$OVMF_CODE,readonly=on" \
	-drive "if=pflash,format=raw,unit=1,file=$T/vars.fd" \
	-drive "file=$disk,if=none,id=d0,format=raw" -device virtio-blk-pci,drive=d0,bootindex=0 \
	</dev/null >"$log" 2>&1 &
pid=$!
on_exit "kill $pid 2>/dev/null"
esp_entry() {
	dd if="$disk" of="$T/esp-now.img" bs=1M skip=1 count=64 status=none
	mdir -b -i "$T/esp-now.img" ::/EFI/Linux 2>/dev/null | sed 's|.*/||'
}
want="airlock_$version.efi"
while :; do
	if grep -qE "Kernel panic|FATAL|Access Denied|Security Violation|No bootable option" "$log"; then
		sed 's/^/    console| /' "$log" | tail -60
		fail "the boot failed"
	fi
	# systemd's status lines (colours, names cut short): match the description
	if grep -qE "(Finished|Failed to start).*Current Boot Loader Entry as Good" "$log"; then
		break
	fi
	kill -0 $pid 2>/dev/null || { tail -60 "$log"; fail "QEMU ended"; }
	[ $(($(date +%s) - start)) -lt 420 ] || { tail -60 "$log"; fail "timeout waiting for systemd-bless-boot"; }
	sleep 2
done
echo "boot to systemd-bless-boot: $(($(date +%s) - start)) s"
grep -q "Failed to start.*Current Boot Loader Entry as Good" "$log" && { grep -iE "efi|bless|FAT" "$log" | tail -20; fail "systemd-bless-boot failed"; }
grep -qF "AIRLOCK-BOOT-COMPLETE slot=a roothash=$rh" "$log" || fail "no AIRLOCK-BOOT-COMPLETE marker"
grep -qF "This console offers no login." "$log" || sleep 5
grep -qF "This console offers no login." "$log" || fail "no banner on ttyS0"
grep -qiE "login:|Password:" "$log" && fail "a login prompt appeared"
# The rename reaches the disk when the guest writes its dirty FAT buffers back.
for i in $(seq 30); do
	[ "$(esp_entry)" = "$want" ] && break
	sleep 2
done
kill $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
entry=$(esp_entry)
[ "$entry" = "$want" ] || fail "the boot entry is '$entry', not blessed as $want"
echo "blessed: EFI/Linux/$entry"
