#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# airlock-init under UEFI: OVMF -> systemd-boot -> a test UKI (systemd-stub, made here
# with objcopy) holding the kernel, the initramfs and the command line. Two disks carry
# slot a (the installer's USB stick next to an installed disk); the one we booted from
# is second. airlock-init must read LoaderDevicePartUUID from efivarfs and take the
# boot disk's partitions: the other disk's root has another root hash, so taking it
# would be refused.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/direct-boot.sh"
need objcopy objdump mkfs.vfat mmd mcopy
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
sdboot=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
for f in "$OVMF_CODE" /usr/share/OVMF/OVMF_VARS_4M.fd "$stub" "$sdboot"; do
	[ -r "$f" ] || skip "$f is missing (ovmf, systemd-boot-efi)"
done

step "kernel, initramfs (uncompressed), two roots and disks"
direct_boot_setup --compression none
make_root_image "$T/root.sqfs" boot-disk
make_root_image "$T/other.sqfs" other-disk
make_disk "$T/other.img" "$T/other.sqfs"
rh_other=$(cat "$T/other.img.roothash")

# The boot disk first (its ESP is filled in below, once the UKI carries the root hash)
esp_mb=$((($(stat -c %s "$KERNEL") + $(stat -c %s "$INITRD")) / 1048576 + 16))
[ $esp_mb -lt 40 ] && esp_mb=40
ESP_MB=$esp_mb make_disk "$T/boot.img" "$T/root.sqfs"
rh=$(cat "$T/boot.img.roothash")
[ "$rh" != "$rh_other" ] || fail "the two roots have the same root hash"

step "UKI (systemd-stub + objcopy) and ESP (systemd-boot, mtools)"
printf 'ID=airlock\nIMAGE_ID=airlock-test\nIMAGE_VERSION=0\n' >"$T/osrel"
printf 'console=ttyS0 quiet panic=-1 airlock.slot=a airlock.roothash=%s' "$rh" >"$T/cmdline"
align=$((16#$(objdump -p "$stub" | awk '/SectionAlignment/ { print $2 }')))
[ $align -lt 4096 ] && align=4096
end=0
while read -r _ _ size vma _; do
	e=$((16#$vma + 16#$size))
	[ $e -gt $end ] && end=$e
done < <(objdump -h "$stub" | awk '$1 ~ /^[0-9]+$/')
up() { echo $((($1 + align - 1) / align * align)); }
osrel=$(up $end)
cmdline=$(up $((osrel + $(stat -c %s "$T/osrel"))))
initrd=$(up $((cmdline + $(stat -c %s "$T/cmdline"))))
linux=$(up $((initrd + $(stat -c %s "$INITRD"))))
objcopy --add-section .osrel="$T/osrel" --change-section-vma .osrel=$(printf 0x%x $osrel) \
	--add-section .cmdline="$T/cmdline" --change-section-vma .cmdline=$(printf 0x%x $cmdline) \
	--add-section .initrd="$INITRD" --change-section-vma .initrd=$(printf 0x%x $initrd) \
	--add-section .linux="$KERNEL" --change-section-vma .linux=$(printf 0x%x $linux) \
	"$stub" "$T/uki.efi" || fail "objcopy failed"
truncate -s ${esp_mb}M "$T/esp.img"
mkfs.vfat -F 32 -n ESP "$T/esp.img" >/dev/null || fail "mkfs.vfat failed"
mmd -i "$T/esp.img" ::/EFI ::/EFI/BOOT ::/EFI/Linux ::/loader
mcopy -i "$T/esp.img" "$sdboot" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$T/esp.img" "$T/uki.efi" ::/EFI/Linux/airlock-test.efi
printf 'timeout 0\n' >"$T/loader.conf"
mcopy -i "$T/esp.img" "$T/loader.conf" ::/loader/loader.conf
dd if="$T/esp.img" of="$T/boot.img" bs=1M seek=1 conv=notrunc status=none

step "boot from the second disk: airlock-init must pick it by LoaderDevicePartUUID"
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$T/vars.fd"
UEFI_VARS=$T/vars.fd boot "$T/uefi.log" 120 "" "$T/other.img" "$T/boot.img:boot" -- \
	"TESTINIT-DONE"
grep -qF "airlock-init: root-a (/dev/vdb2) verified by verity-a (/dev/vdb3)" "$T/uefi.log" ||
	{ cat "$T/uefi.log"; fail "airlock-init did not take the boot disk /dev/vdb"; }
grep -q "FATAL" "$T/uefi.log" && fail "unexpected FATAL"
grep -F "TESTINIT-READ-OK" "$T/uefi.log"
echo "firmware start to TESTINIT-DONE: ${BOOT_SECONDS}s"
