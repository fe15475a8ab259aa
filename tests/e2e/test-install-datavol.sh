#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# airlock-install's device-mapper step, which the host cannot run: in a QEMU guest
# (direct kernel boot, a TEST-ONLY busybox initramfs holding airlock-install, mkfs.ext4,
# mtools, airlock-ledger and cryptsetup), an unattended install onto a blank virtio disk
# from the installer medium on a second one. Then, in the guest: the kernel sees the six
# partitions, the data volume opens with the escrowed recovery key (standard
# cryptsetup), holds ext4 labelled "var" with the ledger moved from /run/airlock into
# lib/airlock, and nothing of the install stays mapped or mounted. The installed disk
# is checked again on the host. (The whole install booted from UEFI with a TPM is the
# boot side's e2e test.)
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../integration/lib-install.sh"
need qemu-system-x86_64 busybox cpio depmod modprobe

install_medium
install_keys
KDIR=$INSTALL_KDIR
KVER=$INSTALL_KVER

W=$T/initramfs
mkdir -p "$W"/{bin,dev,proc,sys,etc,tmp,run,mnt,usr/lib/x86_64-linux-gnu/gconv,lib/modules}
cp "$(command -v busybox)" "$W/bin/busybox"
for a in sh cat grep sed sleep mount umount modprobe poweroff mkdir echo ls head tr wc; do
	ln -s busybox "$W/bin/$a"
done
for b in "$AIRLOCK_BUILD/airlock-install" "$AIRLOCK_BUILD/airlock-ledger" \
	"$(command -v mkfs.ext4)" "$(command -v mtools)" "$(command -v cryptsetup)" \
	"$(command -v blkid)"; do
	cp "$b" "$W/bin/"
	for lib in $(ldd "$b" | grep -o '/[^ ]*'); do
		mkdir -p "$W$(dirname "$lib")"
		cp -L "$lib" "$W$lib"
	done
done
for t in mformat mcopy mdir mmd mtype; do ln -s mtools "$W/bin/$t"; done
# argon2 threads need libgcc_s (glibc loads it to unwind); mtools' codepage 850 needs gconv
cp /usr/lib/x86_64-linux-gnu/libgcc_s.so.1 "$W/usr/lib/x86_64-linux-gnu/"
cp /usr/lib/x86_64-linux-gnu/gconv/IBM850.so /usr/lib/x86_64-linux-gnu/gconv/gconv-modules \
	"$W/usr/lib/x86_64-linux-gnu/gconv/"
cp -r /usr/lib/x86_64-linux-gnu/gconv/gconv-modules.d "$W/usr/lib/x86_64-linux-gnu/gconv/" 2>/dev/null || true
MODULES="virtio_pci virtio_blk dm_mod dm_crypt loop ext4 crc32c_generic xts aesni_intel algif_skcipher"
kr=$KDIR
echo "$MODULES" | tr ' ' '\n' >"$W/etc/modules"
for m in $MODULES; do
	modprobe -d "$kr" -S "$KVER" --show-depends "$m" 2>/dev/null | sed -n 's/^insmod \([^ ]*\).*/\1/p'
done | sort -u | while read -r k; do
	rel=${k#"$kr"}
	case $rel in /usr/lib/*) rel=/lib${rel#/usr/lib} ;; esac # the initramfs: /lib/modules
	mkdir -p "$W$(dirname "$rel")"
	cp "$k" "$W$rel"
done
cp "$kr/usr/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$W/lib/modules/$KVER/"
depmod -b "$W" "$KVER"
cp "$T/vendor.pem" "$W/vendor.pem"
echo "$ROOTHASH" >"$W/roothash"
cat >"$W/init" <<'EOF'
#!/bin/sh
# TEST-ONLY init: install, check, power off. Every result is a "GUEST ..." line.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
for m in $(cat /etc/modules); do modprobe "$m" || echo "GUEST modprobe $m failed"; done
# A ledger in /run, as on the installer before the data volume exists (its daemon stopped).
mkdir -p /run/airlock
printf 'allow uid=0\n' >/run/airlock/policy
airlock-ledger serve --socket /run/airlock/ledger.sock --ledger /run/airlock/ledger \
	--policy /run/airlock/policy --key /run/airlock/ledger-key/ledger.key >/tmp/ledger.log 2>&1 &
daemon=$!
for i in 1 2 3 4 5 6 7 8 9 10; do [ -S /run/airlock/ledger.sock ] && break; sleep 1; done
airlock-ledger append --socket /run/airlock/ledger.sock -q guest.before '{"note":"before install"}'
kill "$daemon"
wait "$daemon"
[ -d /run/airlock/ledger ] || { echo "GUEST no ledger:"; cat /tmp/ledger.log; }
printf '%s\n' "disk = /dev/vda" "confirm = yes" "recovery-key = file" "recovery-key-file = /tmp/key" \
	"tpm = allow-missing" "tcti = swtpm:host=127.0.0.1,port=1" "pbkdf = argon2id" \
	"pbkdf-memory = 64M" "pbkdf-time-cost = 4" "pbkdf-parallel = 1" >/tmp/answers.conf
airlock-install --source /dev/vdb --disk /dev/vda --answers /tmp/answers.conf \
	--root-hash "$(cat /roothash)" --pcr-public-key /vendor.pem \
	--ledger-socket /run/airlock/none.sock --ledger-dir /run/airlock/ledger
echo "GUEST install-exit=$?"
echo "GUEST partitions=$(ls /sys/class/block/vda | grep -c '^vda[0-9]')"
echo "GUEST mapped=$(ls /dev/mapper | grep -vc '^control$')"
echo "GUEST mounted=$(grep -c ' /run/airlock-install-var' /proc/self/mounts)"
head -n1 /tmp/key | tr -d '\n' >/tmp/k
cryptsetup open /dev/vda6 data --key-file /tmp/k && echo "GUEST opened"
echo "GUEST fs=$(blkid -o value -s TYPE /dev/mapper/data) label=$(blkid -o value -s LABEL /dev/mapper/data)"
mount -t ext4 -o ro /dev/mapper/data /mnt && echo "GUEST mounted-data"
ls /mnt/lib/airlock/ledger/ledger-*.jsonl >/dev/null 2>&1 && echo "GUEST ledger-moved"
cat /mnt/lib/airlock/ledger/ledger-*.jsonl | grep -q '"guest.before"' && echo "GUEST ledger-has-record"
[ -f /mnt/lib/airlock/ledger-key/ledger.key ] && echo "GUEST ledger-key-moved"
umount /mnt
cryptsetup close data
echo "GUEST-DONE"
poweroff -f
EOF
chmod +x "$W/init"
(cd "$W" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$T/initrd.cpio"

new_target "$T/target.img" 256M
step "boot the guest: install onto a blank virtio disk, then check inside"
timeout 600 qemu-system-x86_64 -accel tcg -machine q35 -cpu max -m 1024 -smp 1 -nographic \
	-no-reboot -nic none -kernel "$KDIR/boot/vmlinuz-$KVER" -initrd "$T/initrd.cpio" \
	-append "console=ttyS0 panic=-1 quiet" \
	-drive if=none,id=t,format=raw,file="$T/target.img" -device virtio-blk-pci,drive=t \
	-drive if=none,id=m,format=raw,file="$MEDIUM",readonly=on -device virtio-blk-pci,drive=m \
	</dev/null >"$T/console.log" 2>&1 || true
tr -d '\r' <"$T/console.log" >"$T/console.txt"
cat "$T/console.txt"
grep -q '^GUEST-DONE' "$T/console.txt" || fail "the guest did not finish"
for want in "GUEST install-exit=0" "GUEST partitions=6" "GUEST mapped=0" "GUEST mounted=0" \
	"GUEST opened" "GUEST fs=ext4 label=var" "GUEST mounted-data" "GUEST ledger-moved" \
	"GUEST ledger-has-record" "GUEST ledger-key-moved"; do
	grep -qx "$want" "$T/console.txt" || fail "the guest did not say '$want'"
done
if grep -q '^GUEST modprobe' "$T/console.txt"; then fail "a module did not load"; fi

step "on the host: the installed disk has its header, the slot verifies"
is_installed "$T/target.img" || fail "no LUKS2 header on the installed disk"
part_copy "$T/target.img" 2 "$T/root-a"
part_copy "$T/target.img" 3 "$T/verity-a"
veritysetup verify "$T/root-a" "$T/verity-a" "$ROOTHASH" || fail "slot A does not verify"
echo "ok"
