#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The initramfs stage (airlock-build initramfs): two builds are byte-identical; the
# archive holds /init, its libraries (from the image tree), the modules with their
# dependencies and the load order; what is missing from the tree is refused by name.
source "$(dirname "$0")/../lib.sh"
need airlock-build airlock-init cpio zstd
init=$AIRLOCK_BUILD/airlock-init
manifest=$AIRLOCK_SRC/manifests/airlock.manifest

step "image tree stand-in (kernel modules + libraries)"
test_initramfs_tree "$init" "$T/tree"
kver=$TEST_KVER
build() { # OUT [extra args]
	local out=$1
	shift
	airlock-build initramfs --tree "$T/tree" --kernel-version "$kver" --init "$init" \
		--epoch 1700000000 --out "$out" "$@"
}

step "two builds, different umask, TZ, locale and working directory"
expect_ok build "$T/a.zst" --manifest "$manifest"
(cd / && umask 077 && TZ=Asia/Tokyo LC_ALL=C.UTF-8 \
	airlock-build initramfs --tree "$T/tree" --kernel-version "$kver" --init "$init" \
	--epoch 1700000000 --out "$T/b.zst" --manifest "$manifest") || fail "second build failed"
cmp "$T/a.zst" "$T/b.zst" || fail "two builds differ"
echo "identical: $(sha256sum <"$T/a.zst" | cut -c1-16) ($(stat -c %s "$T/a.zst") bytes)"
expect_ok build "$T/raw.cpio" --manifest "$manifest" --compression none
zstd -q -d -c "$T/a.zst" | cmp - "$T/raw.cpio" || fail "zstd archive does not unpack to the raw one"
[ "$(head -c 6 "$T/raw.cpio")" = 070701 ] || fail "not a cpio newc archive"

step "contents"
cpio -itv --quiet <"$T/raw.cpio" >"$T/list" || fail "cpio cannot list the archive"
cpio -it --quiet <"$T/raw.cpio" >"$T/names"
has() { grep -qxF -- "$1" "$T/names" || fail "$1 is not in the initramfs"; }
has init
has dev/console
has etc/airlock/modules
# libtss2-tcti-device: the TCTI loader dlopen()s it by name for "device:/dev/tpmrm0"
for lib in libc.so.6 libcryptsetup.so.12 libblkid.so.1 libcrypto.so.3 libdevmapper.so.1.02.1 \
	libgcc_s.so.1 ld-linux-x86-64.so.2 libtss2-tctildr.so.0 libtss2-tcti-device.so.0; do
	has usr/lib/x86_64-linux-gnu/$lib
done
has usr/lib64/ld-linux-x86-64.so.2
has lib64
m=usr/lib/modules/$kver/kernel
for mod in drivers/md/dm-mod.ko drivers/md/dm-verity.ko drivers/md/dm-bufio.ko \
	drivers/block/virtio_blk.ko drivers/virtio/virtio_pci.ko fs/squashfs/squashfs.ko \
	fs/overlayfs/overlay.ko drivers/usb/storage/usb-storage.ko drivers/nvme/host/nvme.ko; do
	has $m/$mod
done
# the TPM drivers: built into Debian's kernel, else in the initramfs
for mod in drivers/char/tpm/tpm_tis.ko drivers/char/tpm/tpm_crb.ko; do
	grep -qxF "kernel/$mod" "$T/tree/usr/lib/modules/$kver/modules.builtin" || has $m/$mod
done
grep -qE '^-rwxr-xr-x +1 root +root .* init$' "$T/list" || fail "/init is not 0755 root:root"
grep -vE ' root +root ' "$T/list" && fail "entries not owned by root:root"
# one mtime for every entry (cpio -tv shows it as a date; 2023-11-14 is 1700000000)
grep -vE ' Nov 14  2023 ' "$T/list" && fail "entries do not all carry the epoch as mtime"
# sorted
cmp <(LC_ALL=C sort "$T/names") "$T/names" || fail "entries are not sorted"
# the library and module lists come from the tree, not from the host
grep -q x86_64-linux-gnu/libcmocka "$T/names" && fail "a host library that airlock-init does not need"

step "load order: every module after its dependencies"
mkdir "$T/x"
(cd "$T/x" && cpio -id --quiet etc/airlock/modules <"$T/raw.cpio")
order=$T/x/etc/airlock/modules
before() {
	local a b
	a=$(grep -n "/$1\$" "$order" | cut -d: -f1)
	b=$(grep -n "/$2\$" "$order" | cut -d: -f1)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] || fail "$1 is not loaded before $2"
}
before dm-mod.ko dm-bufio.ko
before dm-bufio.ko dm-verity.ko
before virtio.ko virtio_blk.ko
before usb-storage.ko uas.ko
before scsi_mod.ko sd_mod.ko
grep -v '^#' "$order" | while read -r p; do
	has "${p#/}"
done
[ "$(grep -vc '^#' "$order")" = "$(grep -c '\.ko$' "$T/names")" ] ||
	fail "the load list and the archive's modules differ"

step "refusals"
expect_fail "module nosuchmodule is neither in .*modules.dep nor built into kernel" \
	build "$T/c" --module nosuchmodule --module dm_verity
# (libraries are resolved before modules: this tree needs no modules)
mkdir -p "$T/nolibgcc/usr/lib"
cp -a "$T/tree/usr/lib/x86_64-linux-gnu" "$T/tree/usr/lib64" "$T/nolibgcc/usr/lib/"
mv "$T/nolibgcc/usr/lib/lib64" "$T/nolibgcc/usr/lib64"
rm "$T/nolibgcc/usr/lib/x86_64-linux-gnu/libgcc_s.so.1"
expect_fail "library libgcc_s.so.1 .* is not in the image tree $T/nolibgcc" \
	airlock-build initramfs --tree "$T/nolibgcc" --kernel-version "$kver" --init "$init" \
	--epoch 1 --out "$T/c" --module dm_verity
expect_fail "cannot read .*/usr/lib/modules/0.0-none/modules.dep" \
	build "$T/c" --module dm_verity --kernel-version 0.0-none
expect_fail "refusing to stamp the archive with an arbitrary time" \
	env -u SOURCE_DATE_EPOCH airlock-build initramfs --tree "$T/tree" --kernel-version "$kver" \
	--init "$init" --out "$T/c" --module dm_verity
expect_fail "is not an x86-64 ELF program" \
	build "$T/c" --module dm_verity --init "$order"
[ ! -e "$T/c" ] || fail "a failed build left $T/c behind"
echo "all checks passed"
