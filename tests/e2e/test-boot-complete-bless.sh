#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The default image (as `make image` builds it: Secure Boot signed, systemd-boot with
# the slot-a UKI as a counted entry EFI/Linux/NAME-VERSION-a+3.efi), booted under OVMF
# with Secure Boot enforced and a TPM, reaches multi-user.target, prints
# AIRLOCK-BOOT-COMPLETE with its slot and root hash, shows the banner on ttyS0 without
# any login prompt, and airlock-update-mark-good.service (`airlock-update mark-good`,
# which replaces the masked systemd-bless-boot) marks the entry good: on the ESP it
# becomes NAME-VERSION-a.efi. A full systemd boot under TCG: minutes on a loaded machine.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
need qemu-system-x86_64 swtpm mdir sfdisk jq

test_image default
img=$TEST_IMAGE_DIR
rh=$(jq -r .verity.root_hash "$img/manifest.json")
name=$(jq -r .name "$img/manifest.json")
version=$(jq -r .version "$img/manifest.json")
disk=$T/disk.img
cp --sparse=always "$(readlink -f "$img/$name.img")" "$disk"

esp_entries() { # the UKIs in the disk's ESP
	local start
	start=$(sfdisk -J "$disk" | jq '.partitiontable.partitions[] | select(.name == "esp") | .start')
	mdir -b -i "$disk@@$((start * 512))" ::/EFI/Linux 2>/dev/null | sed 's|.*/||' | sort
}
before=$(esp_entries)
[ "$before" = "$name-$version-a+3.efi" ] || fail "the fresh image's ESP holds '$before', not one counted entry"

step "boot the default image, keeping its writes (the ESP must change)"
# (systemd cuts unit names short on the console: match the end of the description)
boot_image bless "$disk" 600 --writable --settle 45 \
	--expect "$AIRLOCK_BOOT_MARKER slot=a roothash=$rh" \
	--expect "This console offers no login." --expect "data       none: /var is in memory (installer medium)" \
	--expect "marked good: slot a, EFI/Linux/$name-$version-a.efi" \
	--refuse "login:" --refuse "Password:" ||
	fail "the default image did not boot to the marker, the banner and mark-good"
echo "BOOT TIME (firmware start to the last marker): $BOOT_SECONDS s"
grep -q "Failed to start.*mark the booted slot good" "$BOOT_LOG" && fail "airlock-update-mark-good failed"
grep -q "Boot Loader Entry as Good" "$BOOT_LOG" && fail "systemd-bless-boot ran: it is masked in the image"

after=$(esp_entries)
[ "$after" = "$name-$version-a.efi" ] || fail "the boot entry is '$after', not blessed as $name-$version-a.efi"
echo "blessed: EFI/Linux/$after"
