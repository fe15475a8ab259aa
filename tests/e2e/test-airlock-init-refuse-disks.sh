#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# airlock-init refuses to boot, with one line naming what failed, when two disks carry
# the slot and nothing says which one we booted from (the installer's USB stick next to
# an installed disk, under a boot loader that sets no LoaderDevicePartUUID), and when
# the command line lacks the root hash (then with the screen as /dev/console: the line
# must reach the serial console too).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/direct-boot.sh"

step "kernel, initramfs (uncompressed, to save build time), test root and disks"
direct_boot_setup --compression none
make_root_image "$T/root.sqfs"
make_disk "$T/disk.img" "$T/root.sqfs"
rh=$(cat "$T/disk.img.roothash")

step "two disks carry slot a, no LoaderDevicePartUUID: refused"
boot "$T/two.log" 60 "airlock.slot=a airlock.roothash=$rh" "$T/disk.img" "$T/disk.img" -- \
	"airlock-init: FATAL: several disks carry slot a (/dev/vda, /dev/vdb) and the boot loader did not say which one we booted from"
grep -q TESTINIT "$T/two.log" && fail "booted from one of two candidate disks"

step "no airlock.roothash on the command line: refused, on every console"
# console=tty1 last makes /dev/console the screen: the line must reach ttyS0 as well
boot "$T/nohash.log" 60 "airlock.slot=a console=tty1" "$T/disk.img" -- \
	"airlock-init: FATAL: airlock.roothash= is missing from the kernel command line; refusing to boot"
grep -q TESTINIT "$T/nohash.log" && fail "booted without a root hash"
echo "refused as expected"
