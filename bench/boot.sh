#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Boot time to the boot-complete marker: our disk image (OVMF -> systemd-boot ->
# UKI, Secure Boot when the UKI verifies against the snakeoil certificate, swtpm)
# next to a direct-kernel boot (-kernel/-initrd, SeaBIOS, no UEFI) of the same
# kernel, initramfs and command line taken out of the UKI, booting the same disk,
# in the same run; and the sizes of the disk image, the UKI and the initramfs.
#
#   bench/boot.sh [IMAGE UKI]     default: out/airlock.img and out/uki.efi if they
#                                 exist, else the e2e test image (the default image plus a
#                                 TEST-ONLY overlay)
#   BENCH_RUNS=N                  boots of each kind (default 2), alternating
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
source "$src/tests/lib.sh"
source "$src/tests/e2e/lib.sh"
need qemu-system-x86_64 swtpm objcopy sbverify

image=${1:-} uki=${2:-}
if [ -z "$image" ]; then
	if [ -e "$src/out/airlock.img" ] && [ -e "$src/out/uki.efi" ]; then
		image=$src/out/airlock.img uki=$src/out/uki.efi what="out/airlock.img"
	else
		e2e_image signed
		image=$E2E_IMAGE uki=$E2E_DIR/uki.efi
		what="e2e test image (the default image plus a TEST-ONLY overlay)"
	fi
else
	what=$image
fi
[ -f "$uki" ] || fail "no UKI $uki"

for s in linux initrd cmdline; do
	objcopy -O binary --only-section=".$s" "$uki" "$T/$s" || fail "cannot extract .$s from $uki"
done
sb=(--secure-boot) sbname="Secure Boot on"
if ! sbverify --cert /usr/share/ovmf/PkKek-1-snakeoil.pem "$uki" >/dev/null 2>&1; then
	sb=(--no-secure-boot) sbname="Secure Boot off (UKI not signed by the snakeoil key)"
fi

runs=${BENCH_RUNS:-2}
uefi=() direct=()
for i in $(seq "$runs"); do
	boot_image "bench-uefi-$i" "$image" 300 --expect "$AIRLOCK_BOOT_MARKER" -- "${sb[@]}" >/dev/null ||
		fail "UEFI boot $i did not reach the marker (log $BOOT_LOG)"
	uefi+=("$BOOT_SECONDS")
	boot_image "bench-direct-$i" "$image" 300 --expect "$AIRLOCK_BOOT_MARKER" -- \
		--kernel "$T/linux" --initrd "$T/initrd" --append "$(cat "$T/cmdline")" >/dev/null ||
		fail "direct boot $i did not reach the marker (log $BOOT_LOG)"
	direct+=("$BOOT_SECONDS")
done

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
size() { stat -L -c %s "$1"; }
echo "image: $what"
echo "host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), accel $([ -n "${AIRLOCK_QEMU_ACCEL:-}" ] && echo "$AIRLOCK_QEMU_ACCEL" || echo auto)"
printf '%-58s %s\n' "boot to marker, UEFI + systemd-boot + UKI + swtpm ($sbname):" "${uefi[*]} s (median $(median "${uefi[@]}") s)"
printf '%-58s %s\n' "boot to marker, direct kernel (-kernel/-initrd) + swtpm:" "${direct[*]} s (median $(median "${direct[@]}") s)"
printf '%-58s %s\n' "disk image:" "$(size "$image") bytes"
printf '%-58s %s\n' "UKI:" "$(size "$uki") bytes"
printf '%-58s %s\n' "initramfs (.initrd):" "$(size "$T/initrd") bytes"
printf '%-58s %s\n' "kernel (.linux):" "$(size "$T/linux") bytes"
