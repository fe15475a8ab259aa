#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Every refusal of airlock-install says why and changes nothing on any disk: the
# installer medium as the target (also through a loop device over it, or as the file
# behind the loop device it is read from), a disk too small (with the numbers), an answer file
# without confirm=yes, a match of two disks, a missing TPM without tpm=allow-missing,
# answer-file errors naming the line and key, a manifest.json that describes another
# image. --dry-run prints the plan and writes nothing.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-install.sh"

install_medium
install_keys
cd "$T"
NOTPM="swtpm:host=127.0.0.1,port=1"

new_target "$T/a.img" 256M
new_target "$T/b.img" 256M
new_target "$T/small.img" 150M
# Something on the disks, so that "unchanged" means something.
printf 'precious data' | dd of="$T/a.img" bs=1 seek=$((5 << 20)) conv=notrunc status=none
printf 'precious data' | dd of="$T/b.img" bs=1 seek=$((5 << 20)) conv=notrunc status=none
# Any write changes a file's modification time (nanoseconds) and, as the installer
# begins with the partition tables, its first MiB.
sums() {
	stat -c '%n %y %s' "$T/a.img" "$T/b.img" "$T/small.img" "$MEDIUM"
	for f in "$T/a.img" "$T/b.img" "$T/small.img"; do head -c $((6 << 20)) "$f" | sha256sum; done
}
sums >"$T/before"
unchanged() {
	sums | diff - "$T/before" >/dev/null || fail "a refusal changed a disk"
}

# refused REGEX EXIT ARGS...: airlock-install must exit EXIT saying REGEX, and change nothing.
refused() {
	local regex=$1 want=$2 rc=0 out
	shift 2
	out=$(install_run "$@" 2>&1) || rc=$?
	if [ $rc -ne "$want" ] || ! grep -qE -- "$regex" <<<"$out"; then
		printf '%s\n' "$out" >&2
		fail "expected exit $want and /$regex/, got exit $rc"
	fi
	printf 'ok (exit %d): %s\n' "$rc" "$(grep -m1 -E -- "$regex" <<<"$out")"
	unchanged
}

base=("confirm = yes" "recovery-key = file" "recovery-key-file = $T/key" "tpm = allow-missing"
	"tcti = $NOTPM" "pbkdf = pbkdf2" "pbkdf-time-cost = 1000")

step "the installer medium is never the target"
answers "$T/medium.conf" "disk = $MEDIUM" "${base[@]}"
refused "cannot be the target: .*it is the installer medium the image is read from" 3 \
	--answers "$T/medium.conf" --disk "$MEDIUM" --disk "$T/a.img"
answers "$T/size.conf" "disk-max-size = 100M" "${base[@]}"
refused "the disk matching disk-max-size=100.0 MiB cannot be the target.*installer medium" 3 \
	--answers "$T/size.conf" --disk "$MEDIUM" --disk "$T/a.img"

step "a loop device over the medium is never the target, nor the medium behind a loop device"
MLOOP=$(losetup -f --show "$MEDIUM")
on_exit "losetup -d $MLOOP 2>/dev/null"
answers "$T/mloop.conf" "disk = $MLOOP" "${base[@]}"
refused "cannot be the target: .*it is the installer medium the image is read from \(a loop" 3 \
	--answers "$T/mloop.conf" --disk "$MLOOP"
sha_loop=$(head -c $((6 << 20)) "$MEDIUM" | sha256sum)
answers "$T/mfile.conf" "disk = $MEDIUM" "${base[@]}"
rc=0
out=$(airlock-install --source "$MLOOP" --root-hash "$ROOTHASH" --pcr-public-key "$T/vendor.pem" \
	--no-filesystem --answers "$T/mfile.conf" --disk "$MEDIUM" 2>&1) || rc=$?
[ $rc -eq 3 ] && grep -qE "cannot be the target: .*installer medium" <<<"$out" ||
	fail "the medium's file as the target of its own loop device: exit $rc: $out"
[ "$(head -c $((6 << 20)) "$MEDIUM" | sha256sum)" = "$sha_loop" ] || fail "the medium changed"
echo "ok (exit 3): $(grep -m1 -E 'cannot be the target' <<<"$out")"
losetup -d "$MLOOP"
unchanged

step "a disk in use (here: an image attached to a loop device) is never the target"
LOOP=$(losetup -f --show -r "$T/b.img")
on_exit "losetup -d $LOOP 2>/dev/null"
answers "$T/inuse.conf" "disk = $T/b.img" "${base[@]}"
refused "cannot be the target: .*it is in use: attached to $LOOP" 3 --answers "$T/inuse.conf" \
	--disk "$T/b.img"
losetup -d "$LOOP"

step "a disk too small: refused with the numbers"
answers "$T/small.conf" "disk = $T/small.img" "${base[@]}"
refused "it is too small: 150.0 MiB, the image needs at least 210.0 MiB" 3 \
	--answers "$T/small.conf" --disk "$T/small.img"

step "no confirm=yes"
answers "$T/noconfirm.conf" "disk = $T/a.img" "recovery-key = file" "recovery-key-file = $T/key"
refused "no 'confirm = yes'" 3 --answers "$T/noconfirm.conf" --disk "$T/a.img"
answers "$T/confirmno.conf" "disk = $T/a.img" "confirm = no"
refused "confirmno.conf:2: key 'confirm': must be 'yes'" 2 --answers "$T/confirmno.conf" --disk "$T/a.img"

step "a criterion matching two disks chooses none"
answers "$T/ambiguous.conf" "disk-size = 256M" "${base[@]}"
refused "2 disks match disk-size=256.0 MiB: $T/a.img \(256.0 MiB\); $T/b.img \(256.0 MiB\)" 3 \
	--answers "$T/ambiguous.conf" --disk "$T/a.img" --disk "$T/b.img"
answers "$T/nomatch.conf" "disk-size = 8G" "${base[@]}"
refused "no disk matches disk-size=8.0 GiB; disks found: $T/a.img" 3 \
	--answers "$T/nomatch.conf" --disk "$T/a.img" --disk "$T/b.img"

step "no TPM and no tpm=allow-missing"
answers "$T/tpm.conf" "disk = $T/a.img" "confirm = yes" "recovery-key = file" \
	"recovery-key-file = $T/key" "tcti = $NOTPM"
refused "TPM: no TPM answered at '$NOTPM'.*Nothing was changed.*tpm = allow-missing" 3 \
	--answers "$T/tpm.conf" --disk "$T/a.img"
step "no PCR-signing key: the TPM cannot be used either, and says why"
rc=0
out=$(airlock-install --source "$MEDIUM" --root-hash "$ROOTHASH" --no-filesystem \
	--answers "$T/tpm.conf" --disk "$T/a.img" 2>&1) || rc=$?
[ $rc = 3 ] && grep -q "no PCR-signing public key" <<<"$out" || {
	printf '%s\n' "$out"
	fail "a missing PCR key was not refused with its reason"
}
unchanged

step "answer-file errors name the line and the key"
answers "$T/typo.conf" "disk = $T/a.img" "confirm = yes" "" "# the key's name is misspelt" \
	"recovery-kee = console"
refused "typo.conf:5: key 'recovery-kee': unknown key" 2 --answers "$T/typo.conf" --disk "$T/a.img"
answers "$T/twice.conf" "disk = $T/a.img" "disk = $T/b.img"
refused "twice.conf:2: key 'disk': given twice \(first on line 1\)" 2 --answers "$T/twice.conf"
answers "$T/nodest.conf" "disk = $T/a.img" "confirm = yes"
refused "no 'recovery-key' destination" 2 --answers "$T/nodest.conf" --disk "$T/a.img"
refused "option --pbkdf-memory: '1K' is not a memory size" 2 --pbkdf-memory 1K --disk "$T/a.img"
answers "$T/nodisk.conf" "disk = $T/none.img" "${base[@]}"
refused "nodisk.conf:1: key 'disk': '$T/none.img': No such file" 3 --answers "$T/nodisk.conf"

step "a manifest.json of another image, or another root hash, is refused"
refused "describes the image with root hash $ROOTHASH, but the root hash to install \(--root-hash\) is 0{64}" 3 \
	--answers "$T/medium.conf" --disk "$T/a.img" --root-hash "$(printf '%064d' 0)"

step "--dry-run prints the plan, and what it would erase, and writes nothing"
new_target "$T/c.img" 300M
sfdisk -q "$T/c.img" <<<'label: gpt
size=20M, type=L, name=old-home'
sha256sum "$T/c.img" >"$T/c.sum"
answers "$T/dry.conf" "disk = $T/c.img" "${base[@]}"
out=$(expect_ok install_run --answers "$T/dry.conf" --disk "$T/c.img" --dry-run)
printf '%s\n' "$out"
grep -q "erases: the gpt partition table" <<<"$out" || fail "dry run: what is erased"
grep -q "erases: partition 1 'old-home'" <<<"$out" || fail "dry run: the old partition"
grep -qE "6 data .* \(random\)" <<<"$out" || fail "dry run: the plan"
grep -q "dry run: nothing was written" <<<"$out" || fail "dry run"
sha256sum -c --quiet "$T/c.sum" || fail "--dry-run wrote to the disk"
[ ! -e "$T/key" ] || fail "a refused or dry run wrote the recovery key"
echo "ok"
