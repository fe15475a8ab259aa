#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# airlock-init refuses to boot, with one line naming what failed, when the root hash
# does not match the verity partition and when the verity partition is missing.
# airlock.on_failure=reboot ends QEMU (-no-reboot); halt stops the machine.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/direct-boot.sh"

step "kernel, initramfs (uncompressed, to save build time), test root and disks"
direct_boot_setup --compression none
make_root_image "$T/root.sqfs"
make_disk "$T/disk.img" "$T/root.sqfs"
make_disk "$T/noverity.img" "$T/root.sqfs" a --no-verity
rh=$(cat "$T/disk.img.roothash")
wrong=$(echo "$rh" | tr '0-9a-f' '1-9a-f0')

step "wrong airlock.roothash, on_failure=reboot: refused, QEMU ends"
msg="airlock-init: FATAL: verity-a (/dev/vda3) does not match airlock.roothash=$wrong; refusing to boot (rebooting as airlock.on_failure=reboot says)"
boot "$T/wrong.log" 60 "airlock.slot=a airlock.on_failure=reboot airlock.roothash=$wrong" \
	"$T/disk.img" -- "$msg" "reboot: Restarting system"
grep -q TESTINIT "$T/wrong.log" && fail "the root was used despite the wrong root hash"

step "missing verity partition: refused, halted"
boot "$T/noverity.log" 60 "airlock.slot=a airlock.roothash=$rh" "$T/noverity.img" -- \
	"airlock-init: FATAL: verity-a (type 2c7357ed-ebd2-46d9-aec1-23d437ec2bf5) is missing on /dev/vda, next to root-a (/dev/vda2); refusing to boot (halting as airlock.on_failure=halt says)"
grep -q TESTINIT "$T/noverity.log" && fail "booted without a verity partition"

echo "refused as expected"
