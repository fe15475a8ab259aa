#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# An unattended install into a disk image file, with swtpm and the ledger daemon, then
# checked with standard tools: the GPT (sfdisk), the ESP (mtools, sbverify), slot A
# (veritysetup against the root hash), the data volume's LUKS2 header (cryptsetup: two
# keyslots, argon2id for the recovery key, the systemd-tpm2 token; the escrowed
# recovery key opens it), the TPM path as airlock-init will take it (lib/tpm2luks through
# tpmtool: a signed PCR 11 opens, a changed PCR 7 refuses), the ledger's records (and no
# secret in them), a second install over the first, and the answer file found on the
# medium's ESP.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-install.sh"
source "$(dirname "$0")/swtpm.sh"
source "$(dirname "$0")/lib-ledger.sh"
need sbverify

TOOL=$AIRLOCK_BUILD/tests/integration/tpmtool
[ -x "$TOOL" ] || fail "$TOOL is missing: run make all"
tool() { "$TOOL" --tcti "$SWTPM_TCTI" "$@"; }

install_medium
install_keys
cd "$T"

step "a TPM with a measured boot (PCR 7: Secure Boot state, PCR 11: the UKI), a ledger daemon"
swtpm_start "$T/tpm"
make_uki v1
boot_measure v1
ledger_policy "allow uid=$(id -u)"
ledger_start

step "unattended install (argon2id pinned for the test, the recovery key escrowed to a file and
written to a second (FAT) disk)"
new_target "$T/target.img" 256M
new_target "$T/keydisk.img" 8M
MTOOLS_SKIP_CHECK=1 mformat -i "$T/keydisk.img" -v KEYS ::
answers "$T/answers.conf" "# TEST-ONLY answer file" \
	"disk = $T/target.img" \
	"confirm = yes" \
	"recovery-key = file disk" \
	"recovery-key-file = $T/escrow/recovery.key" \
	"recovery-key-disk = $T/keydisk.img" \
	"tpm = required" \
	"tcti = $SWTPM_TCTI" \
	"pbkdf = argon2id" "pbkdf-memory = 64M" "pbkdf-time-cost = 4" "pbkdf-parallel = 1"
mkdir -m 0700 "$T/escrow"
start=$(date +%s%N)
install_run --answers "$T/answers.conf" --disk "$T/target.img" --ledger-socket "$SOCK" \
	>"$T/out.log" 2>"$T/err.log" || {
	cat "$T/out.log" "$T/err.log"
	fail "the install failed"
}
echo "install took $(((($(date +%s%N) - start) / 1000000))) ms"
cat "$T/out.log" "$T/err.log"
grep -q "installed: airlock 1.0.0 on $T/target.img (TPM-sealed data volume)" "$T/out.log" ||
	fail "no success line"
KEY=$(head -n1 "$T/escrow/recovery.key")
[[ $KEY =~ ^([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}$ ]] || fail "escrowed key format"
[ "$(stat -c %a "$T/escrow/recovery.key")" = 600 ] || fail "the escrowed key is not mode 0600"
if grep -rqF "$KEY" "$T/out.log" "$T/err.log"; then fail "the recovery key was printed or logged"; fi
MTOOLS_SKIP_CHECK=1 mtype -i "$T/keydisk.img" ::/airlock-recovery-target.img.txt >"$T/keydisk.txt" ||
	fail "no key file on the key disk"
[ "$(head -n1 "$T/keydisk.txt" | tr -d '\r')" = "$KEY" ] || fail "the key disk holds another key"

step "GPT: six partitions, UAPI types, names, read-only slots, 1 MiB alignment, sizes"
sfdisk -d "$T/target.img"
declare -A type=([1]=C12A7328-F81F-11D2-BA4B-00A0C93EC93B [2]=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709
	[3]=2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5 [4]=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709
	[5]=2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5 [6]=4D21B016-B534-45C2-A9FB-5C16E091FD2D)
declare -A name=([1]=esp [2]=root-a [3]=verity-a [4]=root-b [5]=verity-b [6]=data)
declare -A mib=([1]=64 [2]=32 [3]=8 [4]=32 [5]=8)
[ "$(sfdisk -J "$T/target.img" | jq '.partitiontable.partitions | length')" = 6 ] || fail "not six partitions"
for i in 1 2 3 4 5 6; do
	[ "$(part "$T/target.img" $i type)" = "${type[$i]}" ] || fail "partition $i type"
	[ "$(part "$T/target.img" $i name)" = "${name[$i]}" ] || fail "partition $i name"
	[ $(($(part "$T/target.img" $i start) % 2048)) = 0 ] || fail "partition $i start not MiB-aligned"
	[ $(($(part "$T/target.img" $i size) % 2048)) = 0 ] || fail "partition $i size not MiB-aligned"
	[ -z "${mib[$i]:-}" ] || [ "$(part "$T/target.img" $i size)" = $((mib[$i] * 2048)) ] ||
		fail "partition $i is not ${mib[$i]} MiB"
done
[ "$(part "$T/target.img" 1 start)" = 2048 ] || fail "esp does not start at 1 MiB"
for i in 2 3 4 5; do
	[ "$(part "$T/target.img" $i attrs)" = GUID:60 ] || fail "partition $i is not read-only"
done
end=$(($(part "$T/target.img" 6 start) + $(part "$T/target.img" 6 size)))
[ $end = $((256 * 2048 - 2048)) ] || fail "data does not take the rest of the disk ($end)"
h=$ROOTHASH
dps() { echo "${1:0:8}-${1:8:4}-${1:12:4}-${1:16:4}-${1:20:12}" | tr a-f A-F; }
[ "$(part "$T/target.img" 2 uuid)" = "$(dps "${h:0:32}")" ] || fail "root-a GUID is not the root hash's first half"
[ "$(part "$T/target.img" 3 uuid)" = "$(dps "${h:32:32}")" ] || fail "verity-a GUID is not the root hash's second half"
[ "$(part "$T/target.img" 1 uuid)" != "$(part "$MEDIUM" 1 uuid)" ] || fail "the ESP has the medium's GUID"
DISK_GUID=$(sfdisk -J "$T/target.img" | jq -r .partitiontable.id)
DATA_GUID=$(part "$T/target.img" 6 uuid)

step "ESP: signed systemd-boot, loader.conf, the slot-A UKI with boot counting +3, nothing else"
esp="$T/target.img@@$(($(part "$T/target.img" 1 start) * 512))"
mesp="$MEDIUM@@$(($(part "$MEDIUM" 1 start) * 512))"
export MTOOLS_SKIP_CHECK=1
mdir -i "$esp" -/ -b :: | grep -v '/$' | sort >"$T/esp.files"
cat "$T/esp.files"
printf '%s\n' ::/EFI/BOOT/BOOTX64.EFI ::/EFI/Linux/airlock-1.0.0-a+3.efi \
	::/EFI/systemd/systemd-bootx64.efi ::/loader/loader.conf | sort | diff - "$T/esp.files" ||
	fail "the ESP's files are not exactly these"
for f in EFI/BOOT/BOOTX64.EFI EFI/systemd/systemd-bootx64.efi loader/loader.conf; do
	mcopy -n -i "$esp" "::/$f" "$T/a" && mcopy -n -i "$mesp" "::/$f" "$T/b"
	cmp "$T/a" "$T/b" || fail "$f differs from the medium's"
done
mcopy -n -i "$esp" ::/EFI/BOOT/BOOTX64.EFI "$T/boot.efi"
sbverify --cert "$MEDIUM_DIR/keys/cert.pem" "$T/boot.efi" || fail "systemd-boot is not signed"
mcopy -n -i "$esp" "::/EFI/Linux/airlock-1.0.0-a+3.efi" "$T/uki.efi"
cmp "$T/uki.efi" "$MEDIUM_DIR/uki.efi" || fail "the UKI is not the medium's"

step "slot A verifies against the root hash (veritysetup)"
part_copy "$T/target.img" 2 "$T/root-a"
part_copy "$T/target.img" 3 "$T/verity-a"
veritysetup verify "$T/root-a" "$T/verity-a" "$ROOTHASH" || fail "veritysetup verify failed"
# and a different root hash does not
if veritysetup verify "$T/root-a" "$T/verity-a" "$(printf '%064d' 0)" 2>/dev/null; then
	fail "veritysetup accepted another root hash"
fi

step "LUKS2: two keyslots (argon2id recovery, pbkdf2 TPM), a systemd-tpm2 token"
data_header "$T/target.img" "$T/data.hdr"
cryptsetup luksDump "$T/data.hdr" | tee "$T/dump.txt"
cryptsetup luksDump --dump-json-metadata "$T/data.hdr" >"$T/meta.json"
[ "$(jq -c '.keyslots | keys' "$T/meta.json")" = '["0","1"]' ] || fail "not two keyslots"
[ "$(jq -r '.keyslots["0"].kdf.type' "$T/meta.json")" = argon2id ] || fail "recovery keyslot is not argon2id"
[ "$(jq -r '.keyslots["0"].kdf.memory' "$T/meta.json")" = 65536 ] || fail "argon2id memory not as pinned"
[ "$(jq -r '.keyslots["1"].kdf.type' "$T/meta.json")" = pbkdf2 ] || fail "TPM keyslot is not pbkdf2"
[ "$(jq -r '.segments["0"].offset' "$T/meta.json")" = 16777216 ] || fail "data does not start at 16 MiB"
grep -qE '^Label:\s+airlock-data$' "$T/dump.txt" || fail "label"
jq '.tokens["0"]' "$T/meta.json" >"$T/token.json"
jq -e '.type == "systemd-tpm2" and .keyslots == ["1"] and ."tpm2-pcrs" == [7]
	and .tpm2_pubkey_pcrs == [11] and ."tpm2-pcr-bank" == "sha256"
	and ."tpm2-primary-alg" == "ecc" and ."tpm2-pin" == false' "$T/token.json" >/dev/null ||
	fail "token fields: $(cat "$T/token.json")"
jq -r .tpm2_pubkey "$T/token.json" | base64 -d | cmp - "$T/vendor.pem" || fail "token key is not the PCR key"
printf '%s' "$KEY" | cryptsetup open --test-passphrase --key-slot 0 --key-file - "$T/data.hdr" ||
	fail "the escrowed recovery key does not open the volume"
if printf 'cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv-cbdefghi-jklnrtuv' |
	cryptsetup open --test-passphrase --key-file - "$T/data.hdr" 2>/dev/null; then
	fail "another key opened the volume"
fi

step "the TPM path, as airlock-init takes it: a signed PCR 11 opens, a changed PCR 7 refuses"
tool sign --key "$T/vendor.key" "$(predict v1)" >"$T/v1.pcrsig"
expect_ok tool unlock "$T/data.hdr" --pcrsig "$T/v1.pcrsig" | grep 'opened with keyslot 1'
expect_fail 'REFUSED \(not-signed\)' tool unlock "$T/data.hdr"
tool pcr-extend 7 "$(printf 'another db certificate' | sha256sum | cut -c1-64)"
expect_fail 'REFUSED \(pcr-changed\)' tool unlock "$T/data.hdr" --pcrsig "$T/v1.pcrsig"

step "the ledger: started, disk-written, tpm-enrolled (policy hash), complete; no secret"
L show --ledger "$LEDGER" --json | jq -c 'select(.type | startswith("install.")) | .type' >"$T/types"
cat "$T/types"
printf '"%s"\n' install.started install.disk-written install.tpm-enrolled install.complete |
	diff - "$T/types" || fail "ledger records"
last_record install.started | jq -e --arg d "$T/target.img" --arg h "$ROOTHASH" \
	'.payload.disk.device == $d and .payload.image.version == "1.0.0"
	 and .payload.image.root_hash == $h and (.payload.partitions | length) == 6' >/dev/null ||
	fail "install.started payload"
last_record install.tpm-enrolled | jq -e --arg p "$(jq -r '."tpm2-policy-hash"' "$T/token.json")" \
	'.payload.pcrs == [7] and .payload.signed_pcrs == [11] and .payload.policy_hash == $p
	 and .payload.pcr7_measured == true' >/dev/null || fail "install.tpm-enrolled payload"
last_record install.complete | jq -e --arg u "$(cryptsetup luksUUID "$T/data.hdr")" \
	'.payload.tpm == true and .payload.recovery_keyslot == 0 and .payload.luks_uuid == $u' \
	>/dev/null || fail "install.complete"
if grep -rqF "$KEY" "$LEDGER"; then fail "the recovery key is in the ledger"; fi
if grep -rqiF "$(printf '%s' "$KEY" | tr -d -)" "$LEDGER"; then fail "the recovery key is in the ledger"; fi

step "a second install over the first: new disk and data GUIDs, new volume, old key refused"
old_uuid=$(cryptsetup luksUUID "$T/data.hdr")
sed -i -e "s|$T/escrow/recovery.key|$T/escrow/recovery2.key|" -e '/recovery-key-disk/d' \
	-e 's/^recovery-key = file disk$/recovery-key = file/' "$T/answers.conf"
expect_ok install_run --answers "$T/answers.conf" --disk "$T/target.img" --ledger-socket "$SOCK" >/dev/null
data_header "$T/target.img" "$T/data2.hdr"
[ "$(cryptsetup luksUUID "$T/data2.hdr")" != "$old_uuid" ] || fail "the same LUKS UUID twice"
[ "$(sfdisk -J "$T/target.img" | jq -r .partitiontable.id)" != "$DISK_GUID" ] || fail "the same disk GUID twice"
[ "$(part "$T/target.img" 6 uuid)" != "$DATA_GUID" ] || fail "the same data GUID twice"
head -n1 "$T/escrow/recovery2.key" | tr -d '\n' | cryptsetup open --test-passphrase --key-file - "$T/data2.hdr" ||
	fail "the new key does not open the new volume"
if printf '%s' "$KEY" | cryptsetup open --test-passphrase --key-file - "$T/data2.hdr" 2>/dev/null; then
	fail "the first install's key opens the second's volume"
fi
expect_fail 'recovery-key-file .*File exists' install_run --answers "$T/answers.conf" \
	--disk "$T/target.img" --ledger-socket "$SOCK"

step "the answer file on the medium's ESP (airlock-install.conf), no TPM allowed, key on the console"
cp --sparse=always "$MEDIUM" "$T/medium.img"
answers "$T/airlock-install.conf" "disk-size = 256M" "confirm = yes" "recovery-key = console" \
	"tpm = allow-missing" "tcti = swtpm:host=127.0.0.1,port=1" "pbkdf = pbkdf2" "pbkdf-time-cost = 1000"
mcopy -i "$T/medium.img@@$(($(part "$T/medium.img" 1 start) * 512))" "$T/airlock-install.conf" ::/airlock-install.conf
new_target "$T/target2.img" 256M
# On a terminal (script(1) gives it one): the key is never printed to a file or a pipe.
cmd=$(printf '%q ' airlock-install --source "$T/medium.img" --root-hash "$ROOTHASH" \
	--pcr-public-key "$T/vendor.pem" --no-filesystem --disk "$T/target2.img" \
	--disk "$T/medium.img" --ledger-socket "$SOCK")
script -qfec "$cmd 2>$(printf %q "$T/err2.log")" /dev/null >"$T/out2.log" || {
	cat "$T/out2.log" "$T/err2.log"
	fail "the install from the ESP's answer file failed"
}
cat "$T/err2.log"
grep -q "answer file: $T/medium.img (ESP) airlock-install.conf" "$T/err2.log" || fail "the ESP answer file was not used"
grep -q 'recovery key only' "$T/out2.log" || fail "not a recovery-key-only install"
tr -d '\r' <"$T/out2.log" >"$T/out2.txt"
KEY2=$(sed -n 's/^  1: \([a-z]*\)  2: \([a-z]*\)  3: \([a-z]*\)  4: \([a-z]*\)$/\1-\2-\3-\4/p;s/^  5: \([a-z]*\)  6: \([a-z]*\)  7: \([a-z]*\)  8: \([a-z]*\)$/\1-\2-\3-\4/p' "$T/out2.txt" | paste -sd-)
[[ $KEY2 =~ ^([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}$ ]] || fail "no key shown on the console"
data_header "$T/target2.img" "$T/data3.hdr"
if grep -qF "$KEY2" "$T/err2.log"; then fail "the key is in the log"; fi
printf '%s' "$KEY2" | cryptsetup open --test-passphrase --key-file - "$T/data3.hdr" ||
	fail "the key shown does not open the volume"
[ "$(cryptsetup luksDump --dump-json-metadata "$T/data3.hdr" | jq -c '[.keyslots | keys, (.tokens | length)]')" = '[["0"],0]' ] ||
	fail "a recovery-key-only volume has more than the recovery keyslot"
last_record install.tpm-skipped | jq -e '.payload.reason | test("no TPM answered")' >/dev/null ||
	fail "install.tpm-skipped does not say why"
step "a block device as the target (a loop device): the same install, the kernel re-reads the table"
new_target "$T/blk.img" 256M
LOOP=$(losetup -f --show --partscan "$T/blk.img")
on_exit "losetup -d $LOOP 2>/dev/null"
answers "$T/blk.conf" "disk = $LOOP" "confirm = yes" "recovery-key = file" \
	"recovery-key-file = $T/escrow/blk.key" "tpm = allow-missing" \
	"tcti = swtpm:host=127.0.0.1,port=1" "pbkdf = pbkdf2" "pbkdf-time-cost = 1000"
expect_ok install_run --answers "$T/blk.conf" --disk "$LOOP" --ledger-socket "$SOCK" >/dev/null
[ "$(cat "/sys/class/block/${LOOP#/dev/}/size")" = $((256 * 2048)) ] || fail "loop device size"
losetup -d "$LOOP"
is_installed "$T/blk.img" || fail "no header on the block device"
data_header "$T/blk.img" "$T/blk.hdr"
head -n1 "$T/escrow/blk.key" | tr -d '\n' | cryptsetup open --test-passphrase --key-file - "$T/blk.hdr" ||
	fail "the key does not open the block device's volume"
ledger_stop
echo "ok"
