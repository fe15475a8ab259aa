#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# airlock-update import/status/mark-good/rollback against a disk image laid out by
# airlock-install (unattended, no TPM, no data file system): a good import into slot
# b, its boot entry and record on the ESP; then every refusal of the issue's list,
# each leaving the running slot, the GPT and the ESP byte for byte as they were; a
# rollback refused over a slot a refused import overwrote; a second good import into
# slot a; a rollback to slot b; with a ledger daemon, the records in the ledger and a
# refusal recorded with its reason. The payloads are small TEST-ONLY roots (1 MiB of
# bytes with a real dm-verity tree), so that the whole test takes seconds.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-install.sh"
source "$(dirname "$0")/lib-update.sh"
source "$(dirname "$0")/lib-ledger.sh"
need veritysetup sha256sum

install_medium
install_keys
A=$(update_key a)
B=$(update_key b)
ka=$T/keys/a/signing-key.pub.asc
kb=$T/keys/b/signing-key.pub.asc
DISK=$T/disk.img

# The bytes that must not change when an import is refused: the GPT (first and last MiB),
# the ESP, and the running slot's root and verity partitions.
snapshot() { # RUNNING-SLOT [noesp]
	local n esp=1
	case $1 in a) n="2 3" ;; b) n="4 5" ;; esac
	[ "${2:-}" = noesp ] && esp=
	{
		head -c 1048576 "$DISK" | sha256sum
		tail -c 1048576 "$DISK" | sha256sum
		for p in $esp $n; do
			dd if="$DISK" bs=512 skip="$(part "$DISK" "$p" start)" \
				count="$(part "$DISK" "$p" size)" status=none | sha256sum
		done
	} | cut -d' ' -f1 | tr '\n' ' '
}

upd() { airlock-update "$@"; }
import() { # BUNDLE RUNNING [KEYRING]
	upd import "$1" --disk "$DISK" --keyring "${3:-$ka}" --running-version "$2"
}
esp_ls() { MTOOLS_SKIP_CHECK=1 mdir -i "$DISK@@$(($(part "$DISK" 1 start) * 512))" -b "::/$1" 2>/dev/null || true; }
esp_cat() { MTOOLS_SKIP_CHECK=1 mtype -i "$DISK@@$(($(part "$DISK" 1 start) * 512))" "::/$1"; }

step "a disk laid out by airlock-install (unattended, no TPM, recovery key to a file)"
install_no_tpm "$DISK" 256M
out=$(expect_ok upd status --disk "$DISK" --running-version 1.0.0)
printf '%s\n' "$out"
grep -q '^booted:  a (1.0.0)' <<<"$out" || fail "status: slot a is not the booted slot"
grep -q '^next:    a' <<<"$out" || fail "status: slot a is not next"
grep -q '^slot a:  airlock 1.0.0, trying, 3 tries left, booted, next' <<<"$out" || fail "status: slot a"
grep -q "root hash $ROOTHASH" <<<"$out" || fail "status: slot a's root hash (from its UKI)"
grep -q '^slot b:  empty' <<<"$out" || fail "status: slot b is not empty"
loader_before=$(esp_cat loader/loader.conf | sha256sum)

step "a good import into slot b"
H2=$(real_build "$T/v2" 1.0.1 1.0.0 "$A")
v2=$(release "$T/v2" a)
before=$(snapshot a noesp)
out=$(expect_ok import "$v2" 1.0.0 2>&1)
printf '%s\n' "$out"
grep -q 'installed: airlock 1.0.1 in slot b, boot entry EFI/Linux/airlock-1.0.1-b+3.efi' <<<"$out" ||
	fail "no success line"
grep -q "verified:  root-b and verity-b match root hash $H2" <<<"$out" || fail "no verification line"
grep -q 'NOT recorded in an audit ledger' <<<"$out" || fail "the missing ledger is not said"
grep -q 'ledger (not recorded): update.imported' <<<"$out" || fail "update.imported not logged"
grep -q 'ledger (not recorded): update.switched' <<<"$out" || fail "update.switched not logged"
grep -Eq 'MB/s' <<<"$out" || fail "no throughput"
[ "$(snapshot a noesp)" = "$before" ] || fail "the import changed the running slot or the GPT"
esp_ls EFI/Linux/ | grep -q 'airlock-1.0.1-b+3.efi' || fail "no new entry on the ESP"
esp_ls EFI/Linux/ | grep -q '\.tmp' && fail "a temporary entry was left"
cmp <(esp_cat EFI/Linux/airlock-1.0.1-b+3.efi) "$T/v2/uki.efi" || fail "the UKI on the ESP differs"
[ "$(esp_cat loader/loader.conf | sha256sum)" = "$loader_before" ] || fail "loader.conf changed"
cmp <(dd if="$DISK" bs=512 skip="$(part "$DISK" 4 start)" count=2048 status=none) \
	"$T/v2/root.squashfs" || fail "root-b does not hold root.squashfs"
out=$(expect_ok upd status --disk "$DISK" --running-version 1.0.0)
printf '%s\n' "$out"
grep -q '^next:    b' <<<"$out" || fail "status: b is not next"
grep -q '^slot b:  airlock 1.0.1, trying, 3 tries left, next' <<<"$out" || fail "status: slot b"
grep -q "root hash $H2" <<<"$out" || fail "status: slot b's root hash"
grep -q 'verity-b superblock matches' <<<"$out" || fail "status: slot b's superblock"

step "booted into slot b: mark-good"
out=$(expect_ok upd mark-good --disk "$DISK" --running-version 1.0.1 2>&1)
printf '%s\n' "$out"
esp_ls EFI/Linux/ | grep -q 'airlock-1.0.1-b.efi' || fail "mark-good did not rename the entry"
grep -q 'ledger (not recorded): update.marked-good' <<<"$out" || fail "update.marked-good not logged"
expect_ok upd mark-good --disk "$DISK" --running-version 1.0.1 | grep -q 'good already' ||
	fail "a second mark-good"

step "refusals: each leaves the running slot b, the GPT and the ESP byte-identical"
H3=$(real_build "$T/v3" 1.0.2 1.0.0 "$A")
v3=$(release "$T/v3" a)
m=$T/v3/manifest.json s=$T/v3/manifest.json.sig r=$T/v3/root.squashfs v=$T/v3/root.verity
u=$T/v3/uki.efi b=$T/v3/sbom.spdx.json
good=(manifest.json="$m" manifest.json.sig="$s" root.squashfs="$r" root.verity="$v"
	uki.efi="$u" sbom.spdx.json="$b")
SNAP=$(snapshot b)
refused_import() { # REASON BUNDLE [RUNNING] [KEYRING]
	local reason=$1 out rc=0
	out=$(import "$2" "${3:-1.0.1}" "${4:-$ka}" 2>&1) || rc=$?
	if [ $rc -ne 3 ] || ! grep -q -- "refused ($reason)" <<<"$out"; then
		printf '%s\n' "$out" >&2
		fail "import $2: exit $rc, expected 3 and 'refused ($reason)'"
	fi
	grep -q "ledger (not recorded): update.refused .*\"reason\":\"$reason\"" <<<"$out" ||
		fail "$2: the refusal was not recorded"
	[ "$(snapshot b)" = "$SNAP" ] || fail "$2: the refused import changed the running slot, the GPT or the ESP"
	printf 'ok (refused, disk unchanged): %s\n' "$(grep -m1 -- 'refused (' <<<"$out")"
}
tarpy "$T/nosig.tar" manifest.json="$m" root.squashfs="$r" root.verity="$v" uki.efi="$u" \
	sbom.spdx.json="$b"
refused_import no-signature "$T/nosig.tar"
refused_import unknown-key "$v3" 1.0.1 "$kb"
sed 's/"min_version": "1.0.0"/"min_version": "0.0.1"/' "$m" >"$T/altered.json"
tarpy "$T/altered.tar" manifest.json="$T/altered.json" "${good[@]:1}"
refused_import bad-signature "$T/altered.tar"
cp "$v3" "$T/flipped.tar"
off=$(python3 -c 'import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    print([m for m in t.getmembers() if m.name == "root.squashfs"][0].offset_data + 777777)' "$v3")
python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); c = f.read(1); f.seek(int(sys.argv[2]))
f.write(bytes([c[0] ^ 0x01]))' "$T/flipped.tar" "$off"
refused_import digest-mismatch "$T/flipped.tar"
head -c $(($(stat -c %s "$v3") - 30000)) "$v3" >"$T/cut.tar"
refused_import truncated "$T/cut.tar"
printf 'extra' >"$T/extra"
tarpy "$T/extra.tar" "${good[@]}" extra="$T/extra"
refused_import extra-member "$T/extra.tar"
tarpy "$T/renamed.tar" "${good[@]:0:4}" kernel.efi="$u" sbom.spdx.json="$b"
refused_import unexpected-member "$T/renamed.tar"
for spec in "root.squashfs->/dev/sda" "root.squashfs=>manifest.json" "root.squashfs:blk"; do
	tarpy "$T/link.tar" "${good[@]:0:2}" "$spec" "${good[@]:3}"
	refused_import not-a-regular-file "$T/link.tar"
done
for name in ../root.squashfs /root.squashfs slot/root.squashfs; do
	tarpy "$T/path.tar" "${good[@]:0:2}" "$name=$r" "${good[@]:3}"
	refused_import bad-path "$T/path.tar"
done
tarpy "$T/large.tar" "${good[@]:0:2}" "root.squashfs@$((1048576 + 4096))=$r" "${good[@]:3}"
refused_import too-large "$T/large.tar"
refused_import same-version "$v2"
H1=$(real_build "$T/v1" 1.0.0 1.0.0 "$A")
refused_import downgrade "$(release "$T/v1" a)"
real_build "$T/v9" 2.0.0 1.5.0 "$A" >/dev/null
refused_import below-floor "$(release "$T/v9" a)"

step "status after refused imports: slot a was overwritten, rollback to it is refused"
out=$(expect_ok upd status --disk "$DISK" --running-version 1.0.1)
printf '%s\n' "$out"
grep -q 'verity-a superblock MISSING' <<<"$out" || fail "status does not show slot a overwritten"
grep -q '^next:    b' <<<"$out" || fail "status: b is not next"
rc=0
out=$(upd rollback --disk "$DISK" --running-version 1.0.1 2>&1) || rc=$?
printf '%s\n' "$out"
[ $rc -eq 3 ] && grep -q 'does not match its root hash' <<<"$out" ||
	fail "rollback onto an overwritten slot: exit $rc"
[ "$(snapshot b)" = "$SNAP" ] || fail "the refused rollback changed the disk"

step "a second good import, into slot a; then a rollback to slot b"
out=$(expect_ok import "$v3" 1.0.1 2>&1)
printf '%s\n' "$out"
grep -q 'installed: airlock 1.0.2 in slot a, boot entry EFI/Linux/airlock-1.0.2-a+3.efi' <<<"$out" ||
	fail "the second import"
esp_ls EFI/Linux/ | grep -q 'airlock-1.0.0-a' && fail "slot a's old entry is still there"
esp_ls airlock/ | grep -q 'airlock-1.0.2-a.json' || fail "no record of slot a"
out=$(expect_ok upd status --disk "$DISK" --running-version 1.0.2)
printf '%s\n' "$out"
grep -q '^next:    a' <<<"$out" || fail "status: a is not next"
grep -q "root hash $H3" <<<"$out" || fail "status: slot a's root hash"
out=$(expect_ok upd rollback --disk "$DISK" --running-version 1.0.2 2>&1)
printf '%s\n' "$out"
esp_ls EFI/Linux/ | grep -q 'airlock-1.0.2-a+0.efi' || fail "rollback did not mark slot a bad"
grep -q 'ledger (not recorded): update.rollback' <<<"$out" || fail "the rollback was not recorded"
out=$(expect_ok upd status --disk "$DISK" --running-version 1.0.2)
printf '%s\n' "$out"
grep -q '^next:    b' <<<"$out" || fail "status: b is not next after the rollback"
grep -q '^slot a:  airlock 1.0.2, bad' <<<"$out" || fail "status: slot a is not bad"

step "with a ledger daemon: the records are in the ledger"
ledger_policy "allow uid=$(id -u)"
ledger_start
# booted into slot a's 1.0.2 after all (a one-time boot of it), and it completed
out=$(expect_ok upd mark-good --disk "$DISK" --running-version 1.0.2 --ledger-socket "$SOCK" 2>&1)
printf '%s\n' "$out"
grep -q 'NOT recorded' <<<"$out" && fail "the ledger daemon was not used"
rec=$(last_record update.marked-good)
printf '%s\n' "$rec"
[ -n "$rec" ] && jq -e '.payload.slot == "a" and .payload.to == "airlock-1.0.2-a.efi"' <<<"$rec" \
	>/dev/null || fail "update.marked-good is not in the ledger"
rc=0
upd import "$v2" --disk "$DISK" --keyring "$ka" --running-version 1.0.2 --ledger-socket "$SOCK" \
	>/dev/null 2>&1 || rc=$?
[ $rc -eq 3 ] || fail "a downgrade with the ledger: exit $rc"
rec=$(last_record update.refused)
printf '%s\n' "$rec"
[ -n "$rec" ] && jq -e '.payload.reason == "downgrade" and (.payload.message | test("older"))' \
	<<<"$rec" >/dev/null || fail "the refusal is not in the ledger with its reason"
ledger_stop
