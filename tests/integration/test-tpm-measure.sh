#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# PCR 11 prediction and .pcrsig/.pcrpkey (lib/pcr.c) against systemd 252's own
# systemd-measure: the same PCR 11 values for several section sets and boot
# phases, and a .pcrsig byte-identical to `systemd-measure sign` (which needs a
# TPM for its trial session: swtpm). Inputs are random on every run.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/swtpm.sh"

MEASURE=/usr/lib/systemd/systemd-measure
[ -x "$MEASURE" ] || skip "$MEASURE (systemd 252) is not installed"
need openssl jq swtpm
TOOL=$AIRLOCK_BUILD/tests/integration/tpmtool
[ -x "$TOOL" ] || fail "$TOOL is missing: run make all"
"$MEASURE" --version | head -1
cd "$T"

step "inputs: random sections, an RSA-2048 PCR key (TEST-ONLY)"
head -c 300001 /dev/urandom >linux
printf 'ID=airlock\nVERSION_ID=%s\n' "$RANDOM" >osrel
printf 'console=ttyS0 airlock.slot=a airlock.verity=%s' "$(head -c 32 /dev/urandom | xxd -p -c 64)" >cmdline
head -c 70000 /dev/urandom >initrd
head -c 999 /dev/urandom >splash
head -c 333 /dev/urandom >dtb
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out vendor.key 2>/dev/null
openssl pkey -in vendor.key -pubout -out vendor.pem

step ".pcrpkey is the PEM public key, byte for byte as openssl writes it"
"$TOOL" pcrpkey --key vendor.key >pcrpkey
cmp pcrpkey vendor.pem || fail ".pcrpkey differs from openssl's PEM"

# ours SECTIONS... -> our PCR 11; theirs SECTIONS... -> systemd-measure's (phase "")
ours() {
	local a=() s
	for s in "$@"; do a+=("--$s" "$s"); done
	"$TOOL" pcr11 "${a[@]}" ${PHASE+--phase "$PHASE"}
}
theirs_args() {
	local s
	for s in "$@"; do printf -- '--%s=%s\n' "$s" "$s"; done
}

step "PCR 11, sections only (--phase=), for several section sets"
for set in "linux" "linux osrel cmdline initrd" "linux cmdline pcrpkey" \
	"linux osrel cmdline initrd splash dtb pcrpkey"; do
	# shellcheck disable=SC2086
	mapfile -t margs < <(theirs_args $set)
	theirs=$("$MEASURE" calculate "${margs[@]}" --bank=sha256 --phase= --json=short |
		jq -r '.sha256[0].hash')
	# shellcheck disable=SC2086
	mine=$(ours $set)
	echo "  [$set] systemd-measure $theirs, ours $mine"
	[ "$mine" = "$theirs" ] || fail "PCR 11 of [$set] differs from systemd-measure"
done

step "PCR 11 with systemd 252's default boot phases"
mapfile -t margs < <(theirs_args linux osrel cmdline initrd pcrpkey)
"$MEASURE" calculate "${margs[@]}" --bank=sha256 --json=short >phases.json
n=$(jq '.sha256 | length' phases.json)
[ "$n" -ge 4 ] || fail "systemd-measure printed $n phases"
for i in $(seq 0 $((n - 1))); do
	PHASE=$(jq -r ".sha256[$i].phase" phases.json)
	theirs=$(jq -r ".sha256[$i].hash" phases.json)
	mine=$(ours linux osrel cmdline initrd pcrpkey)
	echo "  [$PHASE] $mine"
	[ "$mine" = "$theirs" ] || fail "PCR 11 for phase $PHASE differs from systemd-measure"
done
unset PHASE
SECTIONS=$(ours linux osrel cmdline initrd pcrpkey)

step ".pcrsig: byte-identical to systemd-measure sign --phase= (swtpm for its trial session)"
swtpm_start "$T/tpm"
"$MEASURE" sign "${margs[@]}" --bank=sha256 --phase= --private-key=vendor.key \
	--public-key=pcrpkey --tpm2-device="$SWTPM_TCTI" >theirs.pcrsig
"$TOOL" sign --key vendor.key "$SECTIONS" >ours.pcrsig
cat ours.pcrsig
cmp ours.pcrsig theirs.pcrsig || fail ".pcrsig differs from systemd-measure sign"

step ".pcrsig with the four default phases: byte-identical too"
"$MEASURE" sign "${margs[@]}" --bank=sha256 --private-key=vendor.key --public-key=pcrpkey \
	--tpm2-device="$SWTPM_TCTI" >theirs4.pcrsig
mapfile -t values < <(jq -r '.sha256[].hash' phases.json)
"$TOOL" sign --key vendor.key "${values[@]}" >ours4.pcrsig
cmp ours4.pcrsig theirs4.pcrsig || fail "4-phase .pcrsig differs from systemd-measure sign"

step "each field checked independently of our code"
pkfp=$(openssl rsa -pubin -in vendor.pem -RSAPublicKey_out -outform DER 2>/dev/null | sha256sum | cut -c1-64)
[ "$(jq -r '.sha256[0].pkfp' ours.pcrsig)" = "$pkfp" ] || fail "pkfp is not SHA-256 of the PKCS#1 DER"
[ "$("$TOOL" fingerprint --pubkey vendor.pem)" = "$pkfp" ] || fail "fingerprint differs"
# PolicyPCR(sha256:11 = SECTIONS) from a zero digest, by hand (TPM 2.0 Part 3)
Z=0000000000000000000000000000000000000000000000000000000000000000
pcrhash=$(printf '%s' "$SECTIONS" | xxd -r -p | sha256sum | cut -c1-64)
pol=$(printf '%s' "${Z}0000017f00000001000b03000800${pcrhash}" | xxd -r -p | sha256sum | cut -c1-64)
[ "$(jq -r '.sha256[0].pol' ours.pcrsig)" = "$pol" ] || fail "pol is not PolicyPCR(11)"
[ "$("$TOOL" policy-pcr 11 "$SECTIONS")" = "$pol" ] || fail "policy-pcr differs"
jq -r '.sha256[0].pol' ours.pcrsig | xxd -r -p >pol.bin
jq -r '.sha256[0].sig' ours.pcrsig | base64 -d >sig.bin
[ "$(stat -c %s sig.bin)" = 256 ] || fail "signature is not 256 bytes"
openssl dgst -sha256 -verify vendor.pem -signature sig.bin pol.bin

step "an encrypted private key is refused, never prompted for"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes256 -pass pass:test-only \
	-out encrypted.key 2>/dev/null
expect_fail "encrypted.key: Required key not available" "$TOOL" sign --key encrypted.key "$SECTIONS"

step "a key that is not RSA is refused"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key 2>/dev/null
expect_fail "Key was rejected" "$TOOL" sign --key ec.key "$SECTIONS"
echo "ok"
