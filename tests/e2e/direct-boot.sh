# SPDX-License-Identifier: Apache-2.0
#
# Sourced by the e2e tests of airlock-init (after tests/lib.sh): a test root and disk,
# and a direct kernel boot (-kernel/-initrd, no firmware) judged by console markers.
#
#   direct_boot_setup            kernel, initramfs (from the manifest), test init; sets
#                                KERNEL INITRD TESTINIT
#   make_root_image OUT [NAME]   squashfs root with the test init and /data.bin (NAME in
#                                /etc/hostname makes roots that differ)
#   make_disk OUT ROOT [SLOT] [--no-verity]
#                                GPT disk: esp (ESP_MB, default 2, unformatted), root-SLOT,
#                                verity-SLOT; writes OUT.roothash
#   boot LOG TIMEOUT APPEND DISK[:boot]... -- MARKER...
#                                boots (with UEFI_VARS=FILE: under OVMF from the disk marked
#                                :boot, APPEND unused; otherwise -kernel/-initrd), waits
#                                until every marker was printed (then
#                                stops QEMU) or QEMU ends; fails on a missing marker,
#                                a timeout or "Kernel panic" (printing the console log,
#                                which the test log under build/test-logs keeps).

need qemu-system-x86_64 mksquashfs veritysetup sfdisk cc
[ -r /usr/lib/x86_64-linux-gnu/libc.a ] || skip "no static libc (libc6-dev)"

direct_boot_setup() { # [--compression none]
	local tree=$T/tree
	[ -x "$AIRLOCK_BUILD/airlock-init" ] || fail "build airlock-init first (make all)"
	test_initramfs_tree "$AIRLOCK_BUILD/airlock-init" "$tree"
	KERNEL=$TEST_KDIR/boot/vmlinuz-$TEST_KVER
	[ -f "$KERNEL" ] || fail "no kernel at $KERNEL"
	INITRD=$T/initrd
	SOURCE_DATE_EPOCH=1700000000 "$AIRLOCK_BUILD/airlock-build" initramfs --tree "$tree" \
		--kernel-version "$TEST_KVER" --init "$AIRLOCK_BUILD/airlock-init" \
		--manifest "$AIRLOCK_SRC/manifests/airlock.manifest" --out "$INITRD" "$@" ||
		fail "airlock-build initramfs failed"
	TESTINIT=$T/testinit
	cc -static -O2 -o "$TESTINIT" "$AIRLOCK_SRC/tests/e2e/testinit.c" || fail "cc -static failed"
}

make_root_image() {
	local out=$1 r=$T/rootdir
	rm -rf "$r"
	mkdir -p "$r"/{dev,proc,sys,run,tmp,var,etc,usr/lib/systemd}
	cp "$TESTINIT" "$r/usr/lib/systemd/systemd"
	echo "${2:-airlock-test}" >"$r/etc/hostname"
	# 1 MiB of a recognisable pattern, stored uncompressed so a test can find it
	python3 -c 'import sys; sys.stdout.write("".join("AIRLOCK-DATA-%010d|" % i for i in range(1048576 // 24)))' >"$r/data.bin"
	mksquashfs "$r" "$out" -noappend -all-root -noD -mkfs-time 0 -quiet >/dev/null ||
		fail "mksquashfs failed"
	truncate -s %4096 "$out"
}

make_disk() { # OUT ROOTIMG [SLOT] [--no-verity]
	local out=$1 root=$2 slot=${3:-a} verity=1 rmb hmb total esp=${ESP_MB:-2}
	[ "${4:-}" = --no-verity ] && verity=0
	veritysetup format "$root" "$T/hash.$$" >"$T/vf.$$" || fail "veritysetup format failed"
	awk '/^Root hash:/ { print $3 }' "$T/vf.$$" >"$out.roothash"
	rmb=$((($(stat -c %s "$root") + 1048575) / 1048576))
	hmb=$((($(stat -c %s "$T/hash.$$") + 1048575) / 1048576))
	total=$((1 + esp + rmb + hmb + 1))
	rm -f "$out"
	truncate -s ${total}M "$out"
	{
		echo "label: gpt"
		echo "start=1MiB, size=${esp}MiB, type=c12a7328-f81f-11d2-ba4b-00a0c93ec93b, name=esp"
		echo "start=$((1 + esp))MiB, size=${rmb}MiB, type=4f68bce3-e8cd-4db1-96e7-fbcaf984b709, name=root-$slot"
		if [ $verity = 1 ]; then
			echo "start=$((1 + esp + rmb))MiB, size=${hmb}MiB, type=2c7357ed-ebd2-46d9-aec1-23d437ec2bf5, name=verity-$slot"
		fi
	} | sfdisk -q "$out" >/dev/null || fail "sfdisk failed"
	dd if="$root" of="$out" bs=1M seek=$((1 + esp)) conv=notrunc status=none
	if [ $verity = 1 ]; then
		dd if="$T/hash.$$" of="$out" bs=1M seek=$((1 + esp + rmb)) conv=notrunc status=none
	fi
	rm -f "$T/hash.$$" "$T/vf.$$"
}

boot() { # LOG TIMEOUT APPEND DISK... -- MARKER...
	local log=$1 timeout=$2 append=$3 drives=() markers=() firmware=() i=0 pid start now m
	local missing
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		local file=${1%:boot} bootindex=
		[ "$file" != "$1" ] && bootindex=,bootindex=0
		drives+=(-drive "file=$file,if=none,id=d$i,format=raw,snapshot=on"
			-device "virtio-blk-pci,drive=d$i,serial=disk$i$bootindex")
		i=$((i + 1))
		shift
	done
	shift
	markers=("$@")
	if [ -n "${UEFI_VARS:-}" ]; then
		firmware=(-drive "if=pflash,format=raw,unit=0,file=$OVMF_CODE,readonly=on"
			-drive "if=pflash,format=raw,unit=1,file=$UEFI_VARS")
	else
		firmware=(-kernel "$KERNEL" -initrd "$INITRD"
			-append "console=ttyS0 quiet panic=-1 $append")
	fi
	: >"$log"
	start=$(date +%s%N)
	qemu-system-x86_64 -accel tcg -machine q35 -cpu max -smp 1 -m 1024 -nographic \
		-no-reboot -nic none "${firmware[@]}" "${drives[@]}" \
		</dev/null >"$log" 2>&1 &
	pid=$!
	on_exit "kill $pid 2>/dev/null"
	while :; do
		missing=
		for m in "${markers[@]}"; do
			grep -qF -- "$m" "$log" || missing=$m
		done
		[ -z "$missing" ] && break
		if grep -qE "Kernel panic|Access Denied|Security Violation|No bootable option" "$log"; then
			kill $pid 2>/dev/null
			sed 's/^/    console| /' "$log"
			fail "$(grep -m1 -oE "Kernel panic|Access Denied|Security Violation|No bootable option" "$log") while waiting for '$missing'"
		fi
		if ! kill -0 $pid 2>/dev/null; then
			# It may have printed the last markers between the check above and its exit:
			# its log is whole now, look once more.
			missing=
			for m in "${markers[@]}"; do
				grep -qF -- "$m" "$log" || missing=$m
			done
			[ -z "$missing" ] && break
			sed 's/^/    console| /' "$log"
			fail "QEMU ended before '$missing' appeared"
		fi
		now=$(date +%s%N)
		if [ $(((now - start) / 1000000000)) -ge "$timeout" ]; then
			kill $pid 2>/dev/null
			sed 's/^/    console| /' "$log"
			fail "timeout (${timeout}s) waiting for '$missing'"
		fi
		sleep 0.2
	done
	now=$((($(date +%s%N) - start) / 100000000))
	BOOT_SECONDS=$((now / 10)).$((now % 10))
	# a halted guest never exits by itself
	sleep 0.5
	kill $pid 2>/dev/null || true
	wait $pid 2>/dev/null || true
	echo "markers seen after ${BOOT_SECONDS}s: ${markers[*]}"
}
