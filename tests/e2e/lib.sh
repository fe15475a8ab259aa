# SPDX-License-Identifier: Apache-2.0
#
# Sourced by every e2e test (after tests/lib.sh). Boots disk images under QEMU
# (qemu/run: OVMF + swtpm) and judges them by their serial console.
#
#   boot_image NAME IMAGE TIMEOUT [--expect STR]... [--refuse STR]... [--settle S]
#              [--writable] [--type WHEN TEXT]... [-- qemu/run ARGS]
#       Boots IMAGE (snapshot: never changed, unless --writable) and reads its console until every
#       --expect string has appeared (then QEMU is stopped, or after --settle S more
#       seconds without a failure string, unless QEMU exits first), a failure string
#       appears, QEMU exits, or TIMEOUT seconds pass. Failure strings: Kernel panic,
#       Access Denied, Security Violation, No bootable option, Timed out waiting
#       for device, plus every --refuse STR; a string given with --expect is not a
#       failure. Returns 0 when all were seen; prints each marker's time since QEMU
#       started (firmware start) and sets BOOT_SECONDS (time of the last one) and
#       BOOT_LOG. The console log, each line stamped with seconds since start, is
#       kept in build/test-logs/e2e-console/NAME.log. --type: the first console line
#       holding WHEN makes TEXT and Enter typed on the serial console (QEMU's stdin),
#       once per --type, in the order given (each TEXT only after the one before).
#   boot_fact KEY      value of "AIRLOCK-TEST KEY=value" in BOOT_LOG
#   e2e_lock NAME CMD...   run CMD holding build/test-cache/e2e/NAME.lock
#   e2e_image VARIANT  build (once, cached) a test disk image; sets E2E_IMAGE,
#                      E2E_ROOTHASH, E2E_DIR (see the VARIANTs below)
#
# Only one guest at a time per test; tests/run-tests runs tests one after another.

# The e2e image is a test_image (tests/lib.sh: built once per run of the same inputs
# under build/test-cache); its variants and small fixtures live under
# build/test-cache/e2e.
E2E_CACHE=${E2E_CACHE:-$AIRLOCK_BUILD/test-cache/e2e}
E2E_LOGS=${AIRLOCK_TEST_LOGS:-$AIRLOCK_SRC/build/test-logs}/e2e-console
# The marker airlock-boot-complete.service prints.
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
	local expect=() refuse=() qargs=() settle=0 settle_until= snapshot=--snapshot
	local type_when=() type_text=() typed=0
	while [ $# -gt 0 ]; do
		case $1 in
		--expect) expect+=("$2") && shift 2 ;;
		--type) type_when+=("$2") && type_text+=("$3") && shift 3 ;;
		--refuse) refuse+=("$2") && shift 2 ;;
		--settle) settle=$2 && shift 2 ;;
		--writable) snapshot= && shift ;;
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
	local fifo qpid qfd qin=
	fifo=$(mktemp -u "${TMPDIR:-/tmp}/airlock-console.XXXXXX")
	mkfifo "$fifo"
	if [ ${#type_when[@]} -gt 0 ]; then
		# QEMU's stdin (the serial console's input): a FIFO we keep open read-write,
		# so that QEMU sees no end of input while nothing is typed.
		local infifo
		infifo=$(mktemp -u "${TMPDIR:-/tmp}/airlock-keys.XXXXXX")
		mkfifo "$infifo"
		exec {qin}<>"$infifo"
		rm -f "$infifo"
		"$AIRLOCK_SRC/qemu/run" "$image" $snapshot "${qargs[@]}" >"$fifo" 2>&1 <&"$qin" &
	else
		"$AIRLOCK_SRC/qemu/run" "$image" $snapshot "${qargs[@]}" >"$fifo" 2>&1 </dev/null &
	fi
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
		if [ "$typed" -lt ${#type_when[@]} ] && [[ $line == *"${type_when[$typed]}"* ]]; then
			printf '%s\r' "${type_text[$typed]}" >&"$qin"
			echo "boot $name: typed on the serial console at $t s (after '${type_when[$typed]}')"
			typed=$((typed + 1))
		fi
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
	[ -z "$qin" ] || exec {qin}>&-
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

# 256 KiB of deterministic pseudo-random bytes (AES-CTR of zeros under a fixed key):
# incompressible, so squashfs stores its blocks as they are and the tamper test can
# find a file's data in root-a by its content. The real image's test overlay ships it
# as usr/lib/airlock-test/target.bin too.
e2e_target_bin() {
	head -c 262144 /dev/zero | openssl enc -aes-256-ctr -nosalt \
		-K 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \
		-iv 00000000000000000000000000000000
}

# The e2e images are the default manifest built with two TEST-ONLY extra overlays:
# tests/e2e/overlay (the facts unit) and a directory holding
# /usr/lib/airlock-test/target.bin (the file whose data the tamper test corrupts) and
# /usr/libexec/airlock-test/vtkeys (types on tty1 for the console test).
# VARIANT signed is that image as built; the others are assembled from its published
# artifacts (kernel and stub out of its UKI and root, its initramfs, root and hash
# tree) with `airlock-build disk`, changing one thing each.
e2e_image() {
	local variant=$1 base
	mkdir -p "$E2E_CACHE/target"
	[ -f "$E2E_CACHE/target/usr/lib/airlock-test/target.bin" ] || {
		mkdir -p "$E2E_CACHE/target/usr/lib/airlock-test"
		e2e_target_bin >"$E2E_CACHE/target/usr/lib/airlock-test/target.bin"
	}
	# The key typist for the console on tty1 (tests/e2e/vtkeys.c, built by make all).
	[ -x "$AIRLOCK_BUILD/tests/e2e/vtkeys" ] || fail "$AIRLOCK_BUILD/tests/e2e/vtkeys is missing: run make all"
	mkdir -p "$E2E_CACHE/target/usr/libexec/airlock-test"
	cmp -s "$AIRLOCK_BUILD/tests/e2e/vtkeys" "$E2E_CACHE/target/usr/libexec/airlock-test/vtkeys" ||
		cp "$AIRLOCK_BUILD/tests/e2e/vtkeys" "$E2E_CACHE/target/usr/libexec/airlock-test/vtkeys"
	test_image e2e --extra-overlay "$AIRLOCK_SRC/tests/e2e/overlay" \
		--extra-overlay "$E2E_CACHE/target"
	base=$TEST_IMAGE_DIR
	E2E_ROOTHASH=$(jq -r .verity.root_hash "$base/manifest.json")
	if [ "$variant" = signed ]; then
		E2E_DIR=$base
		E2E_IMAGE=$base/airlock.img
		return
	fi
	E2E_DIR=$base/variant-$variant
	e2e_lock "img-variant" _e2e_build_variant "$variant" "$base" ||
		fail "building image variant $variant failed"
	E2E_ROOTHASH=$(cat "$E2E_DIR/roothash")
	E2E_IMAGE=$E2E_DIR/airlock.img
}
_e2e_build_variant() {
	local variant=$1 base=$2 keys=$E2E_DIR/keys hash extra parts=$E2E_DIR/parts name version
	[ -f "$E2E_DIR/ok" ] && return 0
	rm -rf "$E2E_DIR" && mkdir -p "$E2E_DIR" "$keys" "$parts"
	local sign=(--key "$base/keys/snakeoil.key" --cert /usr/share/ovmf/PkKek-1-snakeoil.pem)
	# Every variant's PCR 11 is signed by the image's PCR key, but cmdline2's: that one is
	# the foreign UKI the TPM must not unseal the data volume for.
	local pcr=(--pcr-key "$base/keys/pcr-signing.key")
	name=$(jq -r .name "$base/manifest.json")
	version=$(jq -r .version "$base/manifest.json")
	extra=$(sed -n 's/^kernel-cmdline = //p' "$AIRLOCK_SRC/manifests/airlock.manifest")
	hash=$E2E_ROOTHASH
	case $variant in
	unsigned) sign=(--unsigned) ;;
	otherkey)
		openssl req -new -x509 -newkey rsa:2048 -nodes -days 36500 -subj "/CN=Airlock TEST-ONLY other key/" \
			-keyout "$keys/key.pem" -out "$keys/cert.pem" 2>/dev/null
		sign=(--key "$keys/key.pem" --cert "$keys/cert.pem")
		;;
	cmdline2) extra="$extra airlock_test=2" && pcr=() ;; # airlock-init refuses unknown airlock.* keys
	wronghash)
		hash=$(printf '%s' "$E2E_ROOTHASH" | sed 's/^./f/;s/^ff/0f/')
		[ "$hash" != "$E2E_ROOTHASH" ] || hash=0$(printf '%s' "$E2E_ROOTHASH" | cut -c2-)
		;;
	*) fail "e2e_image: unknown variant $variant" ;;
	esac
	printf '%s\n' "$hash" >"$E2E_DIR/roothash"
	test_image_parts "$base" "$parts" || return 1
	airlock-build disk --name "$name" --version "$version" --kernel-cmdline "$extra" \
		--stub "$parts/stub" --systemd-boot "$parts/sd-boot" --os-release "$parts/os-release" \
		--kernel "$parts/vmlinuz" --initrd "$base/initramfs.img" \
		--root "$base/root.squashfs" --verity "$base/root.verity" --roothash "$hash" \
		"${sign[@]}" "${pcr[@]}" --source-date-epoch "$(jq -r .source_date_epoch "$base/manifest.json")" \
		--out "$E2E_DIR" || return 1
	touch "$E2E_DIR/ok"
}

# e2e_installed
#   The e2e image installed as an operator would, in a guest, unattended: the USB image
#   (e2e_image signed) with airlock-install.conf on its ESP boots with a blank 8 GiB
#   virtio target disk (serial disk1), a FAT USB stick (removable, /dev/sda in the guest)
#   that receives the recovery key, and an swtpm whose state is kept. The installer
#   (airlock-install@.service) installs and reboots, which ends QEMU (-no-reboot).
#   Built once per image and cached; sets E2E_INSTALLED, a directory holding
#   target.img, tpm/ (the swtpm state the key is sealed in), recovery.key (the escrowed
#   key, one line) and install.log (the install's console). Tests boot copies:
#   e2e_installed_copy DIR puts DIR/target.img and DIR/tpm there.
E2E_INSTALL_ANSWERS='# TEST-ONLY answers of the e2e install (tests/e2e/lib.sh)
disk-serial = disk1
confirm = yes
recovery-key = disk
recovery-key-disk = /dev/sda
# fixed and small: TCG is slow, and the recovery prompt derives it again
pbkdf = argon2id
pbkdf-memory = 64M
pbkdf-time-cost = 4
pbkdf-parallel = 1
reboot = yes
# the console'"'"'s passphrase: "correct horse battery" (airlock-console hash-passphrase)
operator-passphrase-hash = $y$j9T$JkjLNAc0qxC/V2x7xsqP6/$gQx9/hQqfkfJEnfL6V5W/yzk8iiaDFwAi/zZ7RvZ6cB
'
e2e_installed() {
	e2e_image signed
	E2E_INSTALLED=$E2E_CACHE/installed-$(printf '%s\n%s' "$E2E_ROOTHASH" "$E2E_INSTALL_ANSWERS" |
		sha256sum | cut -c1-16)
	e2e_lock installed _e2e_install "$E2E_INSTALLED" || fail "the e2e install failed"
}
_e2e_install() {
	local dir=$1 w=$1.tmp esp
	[ -f "$dir/ok" ] && return 0
	find "$E2E_CACHE" -maxdepth 1 -name 'installed-*' ! -path "$dir" -exec rm -rf {} +
	rm -rf "$w" && mkdir -p "$w/tpm"
	cp --sparse=always "$E2E_IMAGE" "$w/medium.img"
	esp=$(sfdisk -J "$w/medium.img" | jq -er '.partitiontable.partitions[] | select(.name == "esp") | .start')
	printf '%s' "$E2E_INSTALL_ANSWERS" >"$w/airlock-install.conf"
	mcopy -i "$w/medium.img@@$((esp * 512))" "$w/airlock-install.conf" ::airlock-install.conf ||
		return 1
	truncate -s 8G "$w/target.img"
	truncate -s 32M "$w/key.img" && mkfs.vfat -n AIRLOCKKEY "$w/key.img" >/dev/null || return 1
	echo "--- installing the e2e image unattended onto an 8 GiB disk (in a guest)" >&2
	# The unattended install runs on whichever console's airlock-install@ instance starts
	# first (tty1 or ttyS0); on the serial console either its own "installed: " line or,
	# when tty1 won, the ttyS0 instance's report of its result. Then the reboot it asks
	# for on success, and the disk checked on the host.
	boot_image e2e-install "$w/medium.img" 1500 --expect "reboot: Restarting system" -- \
		--tpm "$w/tpm" --disk "$w/target.img" -- \
		-device qemu-xhci,id=xhci -drive "file=$w/key.img,if=none,id=key,format=raw" \
		-device usb-storage,bus=xhci.0,drive=key,removable=on,serial=AIRLOCKKEY >&2 || return 1
	cp "$BOOT_LOG" "$w/install.log"
	# (boot_image prefixes each console line with the host's "[ SECONDS] ").
	grep -Eq "^(\[ *[0-9.]+\] )?installed: |the installer on tty1 ended: installed; the machine reboots now" \
		"$w/install.log" || {
		echo "the serial console shows no result of the unattended install" >&2
		return 1
	}
	local f
	f=$(mdir -b -i "$w/key.img" :: | grep -o 'airlock-recovery-[^/]*\.txt$' | head -1)
	[ -n "$f" ] || {
		echo "the key disk holds no airlock-recovery-*.txt" >&2
		return 1
	}
	mtype -i "$w/key.img" "::$f" | head -1 >"$w/recovery.key"
	grep -Eq '^[a-z]{8}(-[a-z]{8}){7}$' "$w/recovery.key" || {
		echo "the escrowed recovery key has an unexpected form" >&2
		return 1
	}
	local data
	data=$(sfdisk -J "$w/target.img" | jq -er '.partitiontable.partitions[] | select(.name == "data") | .start') || {
		echo "the installed disk has no data partition" >&2
		return 1
	}
	dd if="$w/target.img" of="$w/data.hdr" bs=512 skip="$data" count=32768 status=none
	tr -d '\n' <"$w/recovery.key" | cryptsetup open --test-passphrase --key-file - "$w/data.hdr" || {
		echo "the escrowed recovery key does not open the installed data volume" >&2
		return 1
	}
	rm -f "$w/medium.img" "$w/key.img" "$w/data.hdr"
	touch "$w/ok"
	mv "$w" "$dir"
}
e2e_installed_copy() {
	local to=$1
	mkdir -p "$to"
	cp --sparse=always "$E2E_INSTALLED/target.img" "$to/target.img" &&
		rm -rf "$to/tpm" && cp -a "$E2E_INSTALLED/tpm" "$to/tpm"
}
