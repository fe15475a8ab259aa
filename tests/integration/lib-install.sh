# SPDX-License-Identifier: Apache-2.0
#
# Sourced by tests/integration/test-install-*.sh after ../lib.sh. The installer on the
# host: the target is a disk image file, the TPM swtpm, the ledger a daemon on a
# temporary socket; device-mapper is absent, so every install runs with
# --no-filesystem (the data volume's ext4 is made in the QEMU e2e tests).
#
#   install_medium      the installer medium (built once per airlock-build and this file):
#                       `airlock-build disk` with the test kernel, a small TEST-ONLY root
#                       and initramfs (never booted here), signed with OVMF's snakeoil key,
#                       with a small manifest.json on its ESP (esp 64M, root 32M, verity
#                       8M, data-min 64M). Sets MEDIUM, ROOTHASH, MEDIUM_DIR.
#   install_kernel      the test kernel (test_kernel_dir): INSTALL_KDIR, INSTALL_KVER
#   medium_build DIR ROOT SIZES_JSON
#                       the same from a given root image, after install_kernel
#                       (bench/install.sh); writes DIR/airlock-1.0.0.img, DIR/roothash
#   install_keys        a TEST-ONLY PCR-signing RSA key in $T (vendor.key, vendor.pem)
#   new_target FILE SIZE   a fresh sparse image file
#   install_run ARGS... airlock-install --source $MEDIUM --root-hash $ROOTHASH
#                       --pcr-public-key $T/vendor.pem --no-filesystem ARGS...
#   install_exec ARGS...   install_run by exec: in `( install_exec ... ) &`, $! is the installer
#   answers FILE LINES...  write an answer file
#   part FILE N FIELD   start/size (sectors), name, type, uuid, attrs of partition N (1-based)
#   data_header FILE OUT   copy the data partition's 16 MiB header area to OUT
#   is_installed FILE   exit 0 if the data partition holds a LUKS2 header libcryptsetup
#                       accepts (the install-complete marker)

need sfdisk jq mdir mtype mcopy cryptsetup veritysetup openssl mksquashfs cpio
# The installer reaches partitions inside an image file through loop devices.
need_root
[ -e /dev/loop-control ] || skip "no /dev/loop-control: loop devices are needed"

INSTALL_CACHE=$AIRLOCK_BUILD/test-cache/install

install_medium() {
	local key
	install_kernel
	key=$({
		cat "$AIRLOCK_BUILD/airlock-build" "$AIRLOCK_SRC/tests/integration/lib-install.sh"
		echo "$INSTALL_KDIR"
	} | sha256sum | cut -c1-12)
	MEDIUM_DIR=$INSTALL_CACHE/medium-$key
	mkdir -p "$INSTALL_CACHE"
	(
		flock 9
		[ -f "$MEDIUM_DIR/ok" ] && exit 0
		find "$INSTALL_CACHE" -maxdepth 1 -name 'medium-*' ! -path "$MEDIUM_DIR" -exec rm -rf {} +
		rm -rf "$MEDIUM_DIR" && mkdir -p "$MEDIUM_DIR/tree/usr/lib"
		printf 'ID=airlock\nIMAGE_ID=airlock\nIMAGE_VERSION=1.0.0\n' >"$MEDIUM_DIR/tree/usr/lib/os-release"
		head -c 262144 /dev/urandom >"$MEDIUM_DIR/tree/usr/lib/TEST-ONLY-data"
		mksquashfs "$MEDIUM_DIR/tree" "$MEDIUM_DIR/root.squashfs" -noappend -all-root -quiet \
			>/dev/null || exit 1
		truncate -s %4096 "$MEDIUM_DIR/root.squashfs"
		medium_build "$MEDIUM_DIR" "$MEDIUM_DIR/root.squashfs" \
			'{"esp_size": 67108864, "root_size": 33554432, "verity_size": 8388608,
			  "data_min_size": 67108864}' || exit 1
		touch "$MEDIUM_DIR/ok"
	) 9>"$INSTALL_CACHE/medium.lock" || fail "building the installer medium failed"
	MEDIUM=$MEDIUM_DIR/airlock-1.0.0.img
	ROOTHASH=$(cat "$MEDIUM_DIR/roothash")
}

# The test kernel (test_kernel_dir), looked up outside any subshell so that its skip
# is a skip: sets INSTALL_KDIR and INSTALL_KVER.
install_kernel() {
	INSTALL_KDIR=$(test_kernel_dir) || exit $?
	INSTALL_KVER=$(ls "$INSTALL_KDIR/usr/lib/modules")
}

medium_build() { # DIR ROOT SIZES_JSON (after install_kernel)
	local dir=$1 root=$2 sizes=$3 kdir=${INSTALL_KDIR:?install_kernel first} kver=$INSTALL_KVER
	mkdir -p "$dir/keys" "$dir/initrd"
	openssl rsa -in /usr/share/ovmf/PkKek-1-snakeoil.key -passin pass:snakeoil \
		-out "$dir/keys/key.pem" 2>/dev/null || return 1
	cp /usr/share/ovmf/PkKek-1-snakeoil.pem "$dir/keys/cert.pem"
	echo "TEST-ONLY: this initramfs is never booted" >"$dir/initrd/README"
	printf 'ID=airlock\nIMAGE_ID=airlock\nIMAGE_VERSION=1.0.0\n' >"$dir/os-release"
	(cd "$dir/initrd" && echo README | cpio -o -H newc --quiet) >"$dir/initrd.cpio"
	veritysetup format "$root" "$dir/root.verity" \
		--salt=0000000000000000000000000000000000000000000000000000000000000001 |
		sed -n 's/^Root hash:[[:space:]]*//p' >"$dir/roothash"
	jq -n --arg h "$(cat "$dir/roothash")" --argjson disk "$sizes" \
		'{format: 1, name: "airlock", version: "1.0.0", verity: {root_hash: $h}, disk: $disk}' \
		>"$dir/manifest.json"
	airlock-build -q disk --name airlock --version 1.0.0 --kernel-cmdline "console=ttyS0,115200" \
		--stub /usr/lib/systemd/boot/efi/linuxx64.efi.stub \
		--systemd-boot /usr/lib/systemd/boot/efi/systemd-bootx64.efi \
		--os-release "$dir/os-release" \
		--kernel "$kdir/boot/vmlinuz-$kver" --initrd "$dir/initrd.cpio" \
		--root "$root" --verity "$dir/root.verity" --roothash "$(cat "$dir/roothash")" \
		--key "$dir/keys/key.pem" --cert "$dir/keys/cert.pem" \
		--manifest-json "$dir/manifest.json" --source-date-epoch 1747699200 --out "$dir"
}

install_keys() {
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/vendor.key" 2>/dev/null
	openssl pkey -in "$T/vendor.key" -pubout -out "$T/vendor.pem"
}

new_target() {
	rm -f "$1"
	truncate -s "$2" "$1"
}

install_run() {
	airlock-install --source "$MEDIUM" --root-hash "$ROOTHASH" --pcr-public-key "$T/vendor.pem" \
		--no-filesystem "$@"
}

# As install_run, but the shell becomes airlock-install: run in a background subshell,
# $! is then the installer itself, and a kill reaches it (killing a subshell that runs a
# function leaves the function's child running).
install_exec() {
	exec airlock-install --source "$MEDIUM" --root-hash "$ROOTHASH" --pcr-public-key "$T/vendor.pem" \
		--no-filesystem "$@"
}

answers() {
	local f=$1
	shift
	printf '%s\n' "$@" >"$f"
}

# install_no_tpm DISK SIZE: a fresh DISK of SIZE installed unattended with no TPM (a
# recovery-key-only volume, quick pbkdf2), the key escrowed to $T/recovery.key; fails
# the test, with the installer's output, if it does not install.
install_no_tpm() {
	local disk=$1
	new_target "$disk" "$2"
	answers "$T/answers.conf" "disk = $disk" "confirm = yes" "recovery-key = file" \
		"recovery-key-file = $T/recovery.key" "tpm = allow-missing" \
		"tcti = swtpm:host=127.0.0.1,port=1" "pbkdf = pbkdf2" "pbkdf-time-cost = 1000"
	install_run --answers "$T/answers.conf" --disk "$disk" >"$T/install.log" 2>&1 || {
		cat "$T/install.log"
		fail "the install failed"
	}
}

part() {
	case $3 in
	start | size) sfdisk -J "$1" | jq -r ".partitiontable.partitions[$(($2 - 1))].$3" ;;
	*) sfdisk -J "$1" | jq -r ".partitiontable.partitions[$(($2 - 1))].$3 // empty" ;;
	esac
}

# The partition's bytes (the whole partition) into OUT.
part_copy() {
	dd if="$1" of="$3" bs=512 skip="$(part "$1" "$2" start)" count="$(part "$1" "$2" size)" \
		status=none
}

data_header() {
	dd if="$1" of="$2" bs=512 skip="$(part "$1" 6 start)" count=32768 status=none
}

is_installed() {
	local h
	h=$(mktemp "$T/header.XXXXXX")
	sfdisk -J "$1" >/dev/null 2>&1 || {
		rm -f "$h"
		return 1
	}
	[ "$(part "$1" 6 name)" = data ] || {
		rm -f "$h"
		return 1
	}
	data_header "$1" "$h"
	if cryptsetup isLuks --type luks2 "$h" 2>/dev/null; then
		rm -f "$h"
		return 0
	fi
	rm -f "$h"
	return 1
}
