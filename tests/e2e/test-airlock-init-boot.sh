#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# airlock-init boots for real (QEMU, direct kernel boot, TCG): with the product's
# initramfs (zstd, the manifest's modules) it finds root-a/verity-a on a GPT disk,
# activates dm-verity, mounts the squashfs read-only, sets up /etc, /var, /tmp and
# /run, frees the initramfs and execs /usr/lib/systemd/systemd (here a static test
# program that reports and powers off). Then one byte flipped inside a file's data
# makes reading that file fail with EIO.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/direct-boot.sh"

step "kernel, initramfs, test root and disk"
direct_boot_setup
make_root_image "$T/root.sqfs"
make_disk "$T/disk.img" "$T/root.sqfs"
rh=$(cat "$T/disk.img.roothash")
echo "initramfs: $(stat -c %s "$INITRD") bytes; root hash $rh"

step "boot to the test init through verity and switch_root"
boot "$T/good.log" 60 "airlock.slot=a airlock.roothash=$rh" "$T/disk.img" -- \
	"TESTINIT-DONE" "reboot: Power down"
for m in "airlock-init: slot a, root hash $rh" \
	"airlock-init: root-a (/dev/vda2) verified by verity-a (/dev/vda3), mounted read-only" \
	"TESTINIT-STARTED pid=1" "TESTINIT-ROOT read-only" "TESTINIT-WRITABLE /etc" \
	"TESTINIT-WRITABLE /var" "TESTINIT-WRITABLE /tmp" "TESTINIT-WRITABLE /run" \
	"TESTINIT-INITRAMFS-FREED yes" "TESTINIT-READ-OK" "airlock.roothash=$rh"; do
	grep -qF -- "$m" "$T/good.log" || { cat "$T/good.log"; fail "missing on the console: $m"; }
done
grep -q "FATAL\|warning" "$T/good.log" && { cat "$T/good.log"; fail "unexpected warning"; }
echo "boot to TESTINIT-DONE: ${BOOT_SECONDS}s (SeaBIOS + bzImage + initramfs + verity)"

step "one byte flipped in /data.bin's data: the read fails with EIO"
cp "$T/disk.img" "$T/corrupt.img"
off=$(grep -obUa -m1 "AIRLOCK-DATA-0000020000|" "$T/corrupt.img" | head -1 | cut -d: -f1)
[ -n "$off" ] || fail "pattern not found in the disk image"
[ "$off" -gt $((3 * 1024 * 1024)) ] || fail "pattern found outside root-a"
printf 'Z' | dd of="$T/corrupt.img" bs=1 seek=$((off + 5)) conv=notrunc status=none
boot "$T/corrupt.log" 60 "airlock.slot=a airlock.roothash=$rh" "$T/corrupt.img" -- \
	"TESTINIT-DONE"
grep -q "TESTINIT-READ-EIO" "$T/corrupt.log" || { cat "$T/corrupt.log"; fail "no EIO on the flipped block"; }
grep -q "TESTINIT-READ-OK" "$T/corrupt.log" && fail "the corrupted file was read completely"
grep -F "TESTINIT-READ-EIO" "$T/corrupt.log"
