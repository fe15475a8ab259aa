#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The console's TPM screen (tmux, 80x24) on swtpm and a LUKS2 image file whose token is
# sealed to PCR 7:
#   1. after a firmware change (PCR 7 extended) the screen shows what airlock-tpm status
#      says: PCR 7 changed, the token would not unseal;
#   2. a wrong recovery key typed at the console (never shown) is refused by airlock-tpm
#      reseal, its reason on the screen, the volume's header unchanged;
#   3. the right key re-seals: the TPM opens the volume again, the screen says so, and
#      the ledger holds console.reseal and tpm.resealed and no key.
# Screens are kept as text under build/test-logs/console-tpm/.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/swtpm.sh"
source "$(dirname "$0")/lib-ledger.sh"
need tmux cryptsetup openssl jq airlock-console airlock-tpm
TOOL=$AIRLOCK_BUILD/tests/integration/tpmtool
[ -x "$TOOL" ] || fail "$TOOL is missing: run make all"
cd "$T"
tmux_shots console-tpm
swtpm_start "$T/tpm"
tool() { "$TOOL" --tcti "$SWTPM_TCTI" "$@"; }
opens_with_tpm() { tool unlock data.img --pcrsig v1.pcrsig >/dev/null 2>&1; }
count() { L show --ledger "$LEDGER" --type "$1" --json | grep -c . || true; }

step "a volume sealed to PCR 7, then a firmware change moves PCR 7"
ledger_policy "allow uid=0"
ledger_start
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out vendor.key 2>/dev/null
openssl pkey -in vendor.key -pubout -out vendor.pem
make_uki v1
boot_measure v1
tool sign --key vendor.key "$(predict v1)" >v1.pcrsig
truncate -s 32M data.img
tool recovery-generate --out recovery.key
tool luks-format data.img --passphrase-file recovery.key --pbkdf pbkdf2:1000
tool enroll data.img --unlock-file recovery.key --pubkey vendor.pem --pubkey-pcrs 11 \
	--hash-pcrs 7 >/dev/null
opens_with_tpm || fail "the TPM does not open a freshly enrolled volume"
tool pcr-extend 7 "$(printf 'secure boot state: db cert B added' | sha256sum | cut -c1-64)"
opens_with_tpm && fail "the TPM still opens the volume after PCR 7 moved"
KEY=$(cat recovery.key)
OTHER=$(head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n' | tr '0-9a-f' 'cbdefghijklnrtuv' |
	sed 's/.\{8\}/&-/g; s/-$//')
printf '%s\n' "correct horse battery" | airlock-console hash-passphrase >hash

WIN=tpm
tmux new-session -d -s "$WIN" -x 80 -y 24 -e TERM=vt220 \
	"$(printf '%q ' airlock-console run --hash-file "$T/hash" --attempts-file "$T/attempts" \
		--ledger-socket "$SOCK" --idle-timeout 0 --tpm-arg=--tcti="$SWTPM_TCTI" \
		--tpm-arg=--device="$T/data.img" --tpm-arg=--pcrsig="$T/v1.pcrsig" \
		--tpm-arg=--pcrpkey="$T/vendor.pem" --tpm-arg=--ledger-socket="$SOCK" tty9) \
		2>$T/console.stderr; sleep 600"
flat() { tr -s ' \n' '  ' <"$1"; }
shot lock "Operator passphrase:"
type_text "correct horse battery"
keys Enter
shot dashboard "Slots (airlock-update status)" 20

step "the TPM screen: what airlock-tpm status says, PCR 7 changed"
keys t
shot tpm "The TPM and the data volume's tokens (airlock-tpm status)" 20
: >pages.txt
for _ in 1 2 3; do
	screen >>pages.txt
	keys Space
	sleep 0.3
done
cp pages.txt "$SHOTS/tpm-pages.txt"
airlock-tpm status --tcti "$SWTPM_TCTI" --device data.img --pcrsig v1.pcrsig --pcrpkey vendor.pem \
	>status.txt 2>&1 || true
grep -q 'PCR 7 changed since it was sealed' status.txt || fail "airlock-tpm status: $(cat status.txt)"
for want in "$(grep -m1 'PCR 7 changed since it was sealed' status.txt)" \
	"$(grep -m1 'would unseal at the next boot of this image' status.txt)"; do
	flat pages.txt | grep -qF -- "$(tr -s ' ' <<<"${want:0:60}" | sed 's/^ //')" ||
		fail "the TPM screen does not show '$want'"
done

step "a wrong recovery key: refused with its reason, the header unchanged"
header_before=$(cryptsetup luksDump --dump-json-metadata data.img | sha256sum)
keys S
shot confirm "Seal the data volume's key to this machine's PCR 7 again?"
keys y
shot key "Recovery key (not shown):"
type_text "$OTHER"
keys Enter
shot refused "Re-seal REFUSED or failed:" 60
grep -qF "${OTHER:0:8}" "$SHOTS"/*.txt && fail "the typed key was shown"
flat "$SHOTS/refused.txt" | grep -q "recovery key" || fail "the refusal does not say why"
[ "$(cryptsetup luksDump --dump-json-metadata data.img | sha256sum)" = "$header_before" ] ||
	fail "a refused re-seal changed the header"
opens_with_tpm && fail "a refused re-seal let the TPM open the volume"

step "the right key: sealed again, the TPM opens the volume"
keys S
shot confirm2 "Seal the data volume's key to this machine's PCR 7 again?"
keys y
shot key2 "Recovery key (not shown):"
type_text "$KEY"
keys Enter
shot resealed "Sealed again: the TPM opens the data volume at the next boot." 120
flat "$SHOTS/resealed.txt" | grep -q "re-sealed" || fail "the screen does not show what airlock-tpm reseal said"
opens_with_tpm || fail "the TPM does not open the volume after the re-seal"
[ "$(count console.reseal)" = 2 ] || fail "console.reseal: $(count console.reseal) records, not 2"
[ "$(count tpm.resealed)" = 1 ] || fail "tpm.resealed is not in the ledger"
grep -qF "$KEY" "$LEDGER"/* "$T/console.stderr" && fail "the recovery key reached the ledger or a log"
grep -qF "${KEY:0:17}" "$SHOTS"/*.txt && fail "the recovery key was shown"
tmux kill-session -t "$WIN"
echo PASS
