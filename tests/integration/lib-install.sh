# SPDX-License-Identifier: Apache-2.0
#
# Sourced by tests/integration/test-install-*.sh after ../lib.sh. The installer on the
# host: the target is a disk image file, the TPM swtpm, the ledger a daemon on a
# temporary socket; device-mapper is absent, so every install runs with
# --no-filesystem (the data volume's ext4 is made in the QEMU e2e tests).
#
#   install_medium      the installer medium (built once per airlock-build and fixtures):
#                       the e2e stand-in kernel, initramfs and root, signed with OVMF's
#                       snakeoil key, with a small manifest.json on its ESP (esp 64M, root
#                       32M, verity 8M, data-min 64M). Sets MEDIUM, ROOTHASH, MEDIUM_DIR.
#   install_keys        a TEST-ONLY PCR-signing RSA key in $T (vendor.key, vendor.pem)
#   new_target FILE SIZE   a fresh sparse image file
#   install_run ARGS... airlock-install --source $MEDIUM --root-hash $ROOTHASH
#                       --pcr-public-key $T/vendor.pem --no-filesystem ARGS...
#   answers FILE LINES...  write an answer file
#   part FILE N FIELD   start/size (sectors), name, type, uuid, attrs of partition N (1-based)
#   data_header FILE OUT   copy the data partition's 16 MiB header area to OUT
#   is_installed FILE   exit 0 if the data partition holds a LUKS2 header libcryptsetup
#                       accepts (the install-complete marker)

source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

need sfdisk jq mdir mtype mcopy cryptsetup veritysetup openssl
# The installer reaches partitions inside an image file through loop devices.
need_root
[ -e /dev/loop-control ] || skip "no /dev/loop-control: loop devices are needed"

INSTALL_CACHE=$AIRLOCK_BUILD/test-cache/install

install_medium() {
	local key
	e2e_kernel
	e2e_standin_initrd
	e2e_standin_root
	key=$(cat "$AIRLOCK_BUILD/airlock-build" "$AIRLOCK_SRC/tests/integration/lib-install.sh" |
		sha256sum | cut -c1-12)
	MEDIUM_DIR=$INSTALL_CACHE/medium-$E2E_FIXTURES_KEY-$key
	ROOTHASH=$E2E_ROOTHASH
	if ! [ -f "$MEDIUM_DIR/ok" ]; then
		mkdir -p "$INSTALL_CACHE"
		e2e_lock install-medium _install_build_medium || fail "building the installer medium failed"
		find "$INSTALL_CACHE" -maxdepth 1 -name 'medium-*' ! -path "$MEDIUM_DIR" -exec rm -rf {} +
	fi
	MEDIUM=$MEDIUM_DIR/airlock-1.0.0.img
}

_install_build_medium() {
	[ -f "$MEDIUM_DIR/ok" ] && return 0
	rm -rf "$MEDIUM_DIR" && mkdir -p "$MEDIUM_DIR/keys"
	e2e_snakeoil "$MEDIUM_DIR/keys"
	jq -n --arg h "$E2E_ROOTHASH" '{format: 1, name: "airlock", version: "1.0.0",
		verity: {root_hash: $h},
		disk: {esp_size: 67108864, root_size: 33554432, verity_size: 8388608,
		       data_min_size: 67108864}}' >"$MEDIUM_DIR/manifest.json"
	airlock-build -q disk --name airlock --version 1.0.0 --kernel-cmdline "console=ttyS0,115200" \
		--stub /usr/lib/systemd/boot/efi/linuxx64.efi.stub \
		--systemd-boot /usr/lib/systemd/boot/efi/systemd-bootx64.efi \
		--os-release "$AIRLOCK_SRC/tests/e2e/standin/os-release" \
		--kernel "$E2E_VMLINUZ" --initrd "$E2E_INITRD" \
		--root "$E2E_ROOT" --verity "$E2E_VERITY" --roothash "$E2E_ROOTHASH" \
		--key "$MEDIUM_DIR/keys/key.pem" --cert "$MEDIUM_DIR/keys/cert.pem" \
		--manifest-json "$MEDIUM_DIR/manifest.json" \
		--source-date-epoch 1747699200 --out "$MEDIUM_DIR" || return 1
	touch "$MEDIUM_DIR/ok"
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

answers() {
	local f=$1
	shift
	printf '%s\n' "$@" >"$f"
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
