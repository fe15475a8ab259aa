# SPDX-License-Identifier: Apache-2.0
#
# Sourced by every e2e test (after tests/lib.sh). Boots disk images under QEMU
# (qemu/run: OVMF + swtpm) and judges them by their serial console.
#
#   boot_image NAME IMAGE TIMEOUT [--expect STR]... [--refuse STR]... [--settle S]
#              [-- qemu/run ARGS]
#       Boots IMAGE (snapshot: never changed) and reads its console until every
#       --expect string has appeared (then QEMU is stopped, or after --settle S more
#       seconds without a failure string, unless QEMU exits first), a failure string
#       appears, QEMU exits, or TIMEOUT seconds pass. Failure strings: Kernel panic,
#       Access Denied, Security Violation, No bootable option, Timed out waiting
#       for device, plus every --refuse STR; a string given with --expect is not a
#       failure. Returns 0 when all were seen; prints each marker's time since QEMU
#       started (firmware start) and sets BOOT_SECONDS (time of the last one) and
#       BOOT_LOG. The console log, each line stamped with seconds since start, is
#       kept in build/test-logs/e2e-console/NAME.log.
#   boot_fact KEY      value of "AIRLOCK-TEST KEY=value" in BOOT_LOG
#   e2e_lock NAME CMD...   run CMD holding build/test-cache/e2e/NAME.lock
#   e2e_image VARIANT  build (once, cached) a test disk image; sets E2E_IMAGE,
#                      E2E_ROOTHASH, E2E_DIR (see the VARIANTs below)
#   e2e_snakeoil DIR   decrypted snakeoil key + cert in DIR (key.pem, cert.pem)
#
# Only one guest at a time per test; tests/run-tests runs tests one after another.

# Cached under build/test-cache/e2e: the kernel package once; fixtures (stand-in
# initramfs, test root) per version of this harness; images per harness version and
# airlock-build binary, so a changed builder never boots a stale image.
E2E_CACHE=${E2E_CACHE:-$AIRLOCK_BUILD/test-cache/e2e}
E2E_FIXTURES_KEY=$(cat "$AIRLOCK_SRC/tests/e2e/lib.sh" "$AIRLOCK_SRC"/tests/e2e/standin/* | sha256sum | cut -c1-12)
E2E_LOGS=${AIRLOCK_TEST_LOGS:-$AIRLOCK_SRC/build/test-logs}/e2e-console
# The marker airlock-boot-complete.service prints (and the TEST-ONLY stand-in init).
AIRLOCK_BOOT_MARKER=${AIRLOCK_BOOT_MARKER:-AIRLOCK-BOOT-COMPLETE}
# What the kernel prints when the init halts, powers off or reboots after a failure.
KERNEL_STOPPED="] reboot: "
E2E_FAILURES=("Kernel panic" "Access Denied" "Security Violation" "No bootable option"
	"Timed out waiting for device")
mkdir -p "$E2E_CACHE" "$E2E_LOGS"

e2e_lock() {
	local name=$1
	shift
	(
		flock 9
		"$@"
	) 9>"$E2E_CACHE/$name.lock"
}

boot_image() {
	local name=$1 image=$2 timeout=$3
	shift 3
	local expect=() refuse=() qargs=() settle=0 settle_until=
	while [ $# -gt 0 ]; do
		case $1 in
		--expect) expect+=("$2") && shift 2 ;;
		--refuse) refuse+=("$2") && shift 2 ;;
		--settle) settle=$2 && shift 2 ;;
		--) shift && qargs=("$@") && break ;;
		*) fail "boot_image: unknown argument $1" ;;
		esac
	done
	local failures=() f e
	for f in "${E2E_FAILURES[@]}" "${refuse[@]}"; do
		local wanted=0
		for e in "${expect[@]}"; do [ "$e" = "$f" ] && wanted=1; done
		[ $wanted = 1 ] || failures+=("$f")
	done

	BOOT_LOG=$E2E_LOGS/$name.log
	BOOT_SECONDS=
	local seen=() start now t line verdict= rc=0
	: >"$BOOT_LOG"
	start=${EPOCHREALTIME/./}
	local fifo qpid qfd
	fifo=$(mktemp -u "${TMPDIR:-/tmp}/airlock-console.XXXXXX")
	mkfifo "$fifo"
	"$AIRLOCK_SRC/qemu/run" "$image" --snapshot "${qargs[@]}" >"$fifo" 2>&1 </dev/null &
	qpid=$!
	exec {qfd}<"$fifo"
	rm -f "$fifo"
	while :; do
		now=${EPOCHREALTIME/./}
		local left=$((timeout * 1000000 - (now - start)))
		if [ -n "$settle_until" ]; then
			left=$((settle_until - now))
			if [ $left -le 0 ]; then
				verdict=ok
				break
			fi
		elif [ $left -le 0 ]; then
			verdict=timeout
			break
		fi
		line=
		if IFS= read -r -t "$((left / 1000000)).$(printf %06d $((left % 1000000)))" line <&"$qfd"; then
			:
		else
			rc=$?
			if [ $rc -gt 128 ]; then
				continue # timed out: checked at the top
			fi
			if [ -z "$line" ]; then
				[ -n "$settle_until" ] && verdict=ok || verdict=exited
				break
			fi
		fi
		line=${line//$'\r'/}
		now=${EPOCHREALTIME/./}
		t=$(((now - start) / 1000))
		t=$((t / 1000)).$(printf %03d $((t % 1000)))
		printf '[%8s] %s\n' "$t" "$line" >>"$BOOT_LOG"
		for f in "${failures[@]}"; do
			if [[ $line == *"$f"* ]]; then
				echo "boot $name: FAILURE '$f' at $t s: $line"
				verdict=failure
			fi
		done
		[ -z "$verdict" ] || break
		for e in "${expect[@]}"; do
			if [[ $line == *"$e"* ]] && ! [[ " ${seen[*]-} " == *" <$e> "* ]]; then
				seen+=("<$e>")
				echo "boot $name: '$e' at $t s"
				BOOT_SECONDS=$t
			fi
		done
		if [ ${#seen[@]} -eq ${#expect[@]} ] && [ -z "$settle_until" ]; then
			if [ "$settle" -gt 0 ]; then
				settle_until=$((${EPOCHREALTIME/./} + settle * 1000000))
			else
				verdict=ok
				break
			fi
		fi
	done
	kill -TERM "$qpid" 2>/dev/null || true
	wait "$qpid" 2>/dev/null || true
	exec {qfd}<&-
	case $verdict in
	ok)
		echo "boot $name: all ${#expect[@]} markers in ${BOOT_SECONDS} s (console log $BOOT_LOG)"
		return 0
		;;
	timeout) echo "boot $name: TIMEOUT after $timeout s (console log $BOOT_LOG)" ;;
	exited) echo "boot $name: QEMU exited before every marker appeared (console log $BOOT_LOG)" ;;
	failure) echo "boot $name: stopped on a failure string (console log $BOOT_LOG)" ;;
	esac
	for e in "${expect[@]}"; do
		[[ " ${seen[*]-} " == *" <$e> "* ]] || echo "boot $name: missing '$e'"
	done
	echo "--- last console lines:"
	tail -n 25 "$BOOT_LOG"
	return 1
}

boot_fact() {
	sed -n "s/^\[[ 0-9.]*\] AIRLOCK-TEST $1=//p" "$BOOT_LOG" | tail -n1
}

e2e_snakeoil() {
	local dir=$1
	need openssl
	[ -f /usr/share/ovmf/PkKek-1-snakeoil.key ] || skip "ovmf's snakeoil key is missing (make deps)"
	openssl rsa -in /usr/share/ovmf/PkKek-1-snakeoil.key -passin pass:snakeoil \
		-out "$dir/key.pem" 2>/dev/null
	cp /usr/share/ovmf/PkKek-1-snakeoil.pem "$dir/cert.pem"
}

# ---- the kernel: the locked linux-image package, fetched once --------------------------------
e2e_kernel() {
	need apt-get dpkg-deb depmod
	local dir=$E2E_CACHE/kernel
	if ! [ -f "$dir/ok" ]; then
		e2e_lock kernel _e2e_fetch_kernel "$dir" || fail "cannot fetch a kernel package"
	fi
	E2E_KROOT=$dir/root
	E2E_KVER=$(cat "$dir/ok")
	E2E_VMLINUZ=$E2E_KROOT/boot/vmlinuz-$E2E_KVER
}
_e2e_fetch_kernel() {
	local dir=$1 pkg
	[ -f "$dir/ok" ] && return 0
	rm -rf "$dir" && mkdir -p "$dir"
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)/\1/p' | head -n1)
	[ -n "$pkg" ] || {
		echo "no linux-image-amd64 in apt's lists (apt-get update)"
		return 1
	}
	(cd "$dir" && apt-get download -q "$pkg" >"$dir/download.log" 2>&1) || { cat "$dir/download.log"; return 1; }
	dpkg-deb -x "$dir"/*.deb "$dir/root"
	ls "$dir/root/boot" | sed -n 's/^vmlinuz-//p' | head -n1 >"$dir/ok"
	[ -s "$dir/ok" ]
}

# ---- the TEST-ONLY stand-in initramfs (busybox + veritysetup + modules) ---------------------
E2E_MODULES="virtio_pci virtio_blk virtio_rng dm_mod dm_verity squashfs sha256_ssse3"
e2e_standin_initrd() {
	e2e_kernel
	need busybox veritysetup zstd
	E2E_INITRD=$E2E_CACHE/fixtures-$E2E_FIXTURES_KEY/standin-initrd.cpio.zst
	[ -f "$E2E_INITRD" ] || e2e_lock initrd _e2e_build_initrd || fail "building the stand-in initramfs failed"
}
_e2e_build_initrd() {
	[ -f "$E2E_INITRD" ] && return 0
	local w=$E2E_CACHE/initrd.work m k lib
	mkdir -p "$(dirname "$E2E_INITRD")"
	rm -rf "$w" && mkdir -p "$w"/{bin,dev,proc,sys,etc,tmp,run,lib/modules}
	cp /usr/bin/busybox "$w/bin/busybox"
	for a in sh cat grep sed sleep mount modprobe insmod poweroff mkdir echo; do
		ln -s busybox "$w/bin/$a"
	done
	cp "$AIRLOCK_SRC/tests/e2e/standin/init" "$w/init"
	cp "$(command -v veritysetup)" "$w/bin/veritysetup"
	for lib in $(ldd "$(command -v veritysetup)" | grep -o '/[^ ]*'); do
		mkdir -p "$w$(dirname "$lib")"
		cp -L "$lib" "$w$lib"
	done
	# Module closure with modprobe on a depmod'ed copy (the package has no modules.dep).
	local kr=$E2E_CACHE/kmods
	rm -rf "$kr" && mkdir -p "$kr/lib/modules"
	cp -a "$E2E_KROOT/lib/modules/$E2E_KVER" "$kr/lib/modules/"
	depmod -b "$kr" "$E2E_KVER"
	echo "$E2E_MODULES" | tr ' ' '\n' >"$w/etc/modules"
	for m in $E2E_MODULES; do
		modprobe -d "$kr" -S "$E2E_KVER" --show-depends "$m" 2>/dev/null | sed -n 's/^insmod \([^ ]*\).*/\1/p'
	done | sort -u | while read -r k; do
		local rel=${k#"$kr"}
		mkdir -p "$w$(dirname "$rel")"
		cp "$k" "$w$rel"
	done
	cp "$kr/lib/modules/$E2E_KVER"/modules.{order,builtin,builtin.modinfo} "$w/lib/modules/$E2E_KVER/" 2>/dev/null || true
	depmod -b "$w" "$E2E_KVER"
	find "$w" -exec touch -h -d @0 {} +
	(cd "$w" && find . | LC_ALL=C sort | busybox cpio -o -H newc 2>/dev/null) |
		zstd -q -10 >"$E2E_INITRD.tmp"
	mv "$E2E_INITRD.tmp" "$E2E_INITRD"
	rm -rf "$w" "$kr"
}

# 256 KiB of deterministic pseudo-random bytes (AES-CTR of zeros under a fixed key):
# incompressible, so squashfs stores its blocks as they are and the tamper test can
# find a file's data in root-a by its content. The real image's test overlay ships it
# as usr/lib/airlock-test/target.bin too.
e2e_target_bin() {
	head -c 262144 /dev/zero | openssl enc -aes-256-ctr -nosalt \
		-K 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \
		-iv 00000000000000000000000000000000
}

# ---- a handmade root: squashfs + verity (fixed salt and UUID, so the hash is stable) ---------
e2e_standin_root() {
	need mksquashfs veritysetup
	local dir=$E2E_CACHE/fixtures-$E2E_FIXTURES_KEY
	E2E_ROOT=$dir/root.squashfs
	E2E_VERITY=$dir/root.verity
	[ -f "$dir/roothash" ] || e2e_lock root _e2e_build_root "$dir" || fail "building the test root failed"
	E2E_ROOTHASH=$(cat "$dir/roothash")
}
_e2e_build_root() {
	local dir=$1
	[ -f "$dir/roothash" ] && return 0
	mkdir -p "$dir"
	local w=$E2E_CACHE/root.work
	rm -rf "$w" && mkdir -p "$w/usr/lib/airlock-test" "$w/etc"
	printf 'ID=airlock\nNAME=Airlock\nIMAGE_ID=airlock\nIMAGE_VERSION=1.0.0\n' >"$w/usr/lib/os-release"
	e2e_target_bin >"$w/usr/lib/airlock-test/target.bin"
	mksquashfs "$w" "$E2E_ROOT" -noappend -all-root -mkfs-time 0 -all-time 0 -comp zstd \
		-quiet >/dev/null
	truncate -s %4096 "$E2E_ROOT"
	veritysetup format "$E2E_ROOT" "$E2E_VERITY" \
		--salt=0000000000000000000000000000000000000000000000000000000000000001 \
		--uuid=00000000-0000-4000-8000-000000000001 |
		sed -n 's/^Root hash:[[:space:]]*//p' >"$dir/roothash.tmp"
	mv "$dir/roothash.tmp" "$dir/roothash"
	rm -rf "$w"
}

# ---- disk images ----------------------------------------------------------------------------
# VARIANTs: signed (snakeoil), unsigned, otherkey (signed by a throwaway TEST-ONLY key),
# cmdline2 (signed, another command line: another PCR 11), wronghash (signed, with a
# command line root hash that does not match root-a).
#
# LEAD WIRING: these images use the TEST-ONLY stand-in init and a handmade root. When
# `airlock-build build` produces the real root, initramfs and tree, build the images
# with it (the default manifest, a test overlay with tests/e2e/overlay/ for the facts
# unit) and keep the variant names: the tests only use E2E_IMAGE/E2E_ROOTHASH.
e2e_image() {
	local variant=$1 key
	key=$(cat "$AIRLOCK_BUILD/airlock-build" | sha256sum | cut -c1-8)
	E2E_DIR=$E2E_CACHE/img-$E2E_FIXTURES_KEY-$key-$variant
	if ! [ -f "$E2E_DIR/ok" ]; then
		e2e_kernel
		e2e_standin_initrd
		e2e_standin_root
		e2e_lock "img-$variant" _e2e_build_image "$variant" || fail "building image $variant failed"
		# Images of older builders or harnesses for this variant are of no more use.
		find "$E2E_CACHE" -maxdepth 1 -name "img-*-$variant" ! -path "$E2E_DIR" -exec rm -rf {} +
	fi
	E2E_ROOTHASH=$(cat "$E2E_DIR/roothash")
	E2E_IMAGE=$E2E_DIR/airlock.img
}
_e2e_build_image() {
	local variant=$1 keys=$E2E_DIR/keys hash
	[ -f "$E2E_DIR/ok" ] && return 0
	rm -rf "$E2E_DIR" && mkdir -p "$E2E_DIR" "$keys"
	local sign=(--key "$keys/key.pem" --cert "$keys/cert.pem") extra="console=ttyS0,115200 panic=-1"
	hash=$E2E_ROOTHASH
	case $variant in
	signed) e2e_snakeoil "$keys" ;;
	unsigned) sign=(--unsigned) ;;
	otherkey)
		openssl req -new -x509 -newkey rsa:2048 -nodes -days 36500 -subj "/CN=Airlock TEST-ONLY other key/" \
			-keyout "$keys/key.pem" -out "$keys/cert.pem" 2>/dev/null
		;;
	cmdline2) e2e_snakeoil "$keys" && extra="$extra airlock.test=2" ;;
	wronghash)
		e2e_snakeoil "$keys"
		hash=$(printf '%s' "$E2E_ROOTHASH" | sed 's/^./f/;s/^ff/0f/')
		[ "$hash" != "$E2E_ROOTHASH" ] || hash=0$(printf '%s' "$E2E_ROOTHASH" | cut -c2-)
		;;
	*) fail "e2e_image: unknown variant $variant" ;;
	esac
	printf '%s\n' "$hash" >"$E2E_DIR/roothash"
	airlock-build disk --name airlock --version 1.0.0 --kernel-cmdline "$extra" \
		--stub /usr/lib/systemd/boot/efi/linuxx64.efi.stub \
		--systemd-boot /usr/lib/systemd/boot/efi/systemd-bootx64.efi \
		--os-release "$AIRLOCK_SRC/tests/e2e/standin/os-release" \
		--kernel "$E2E_VMLINUZ" --initrd "$E2E_INITRD" \
		--root "$E2E_ROOT" --verity "$E2E_VERITY" --roothash "$hash" \
		"${sign[@]}" --source-date-epoch 1747699200 --out "$E2E_DIR" || return 1
	touch "$E2E_DIR/ok"
}
