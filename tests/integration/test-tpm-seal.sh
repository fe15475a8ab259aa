#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Sealing and unsealing (lib/ext/tpm.c) on swtpm with the policy
# PolicyPCR(11) -> PolicyAuthorize(vendor key) -> PolicyPCR(7), through the
# TEST-ONLY driver build/tests/integration/tpmtool. Boots are simulated by
# extending PCRs 7 and 11 the way the firmware and systemd-stub 252 do (digests
# computed here with sha256sum, not by our code). Every refusal must say why, and
# no object or session may stay loaded afterwards (swtpm has no resource manager).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/swtpm.sh"

need openssl jq xxd tpm2_createprimary tpm2_loadexternal tpm2_getcap tpm2_flushcontext \
	tpm2_create tpm2_dictionarylockout
TOOL=$AIRLOCK_BUILD/tests/integration/tpmtool
[ -x "$TOOL" ] || fail "$TOOL is missing: run make all"
cd "$T"
swtpm_start "$T/tpm"
export TPM2TOOLS_TCTI=$SWTPM_TCTI
tool() { "$TOOL" --tcti "$SWTPM_TCTI" "$@"; }
sha() { sha256sum "$@" | cut -c1-64; }
hexsha() { xxd -r -p | sha256sum | cut -c1-64; }

assert_clean() {
	local left
	left=$(tpm2_getcap handles-transient; tpm2_getcap handles-loaded-session)
	[ -z "$left" ] || fail "handles left loaded in the TPM: $left"
}

step "SRK templates: tpm2-tools' ecc256:aes128cfb and rsa2048:aes128cfb, byte for byte"
for alg in ecc rsa; do
	G=ecc256:aes128cfb
	[ $alg = rsa ] && G=rsa2048:aes128cfb
	tpm2_createprimary -C o -G "$G" -c srk.ctx --template-data $alg.tmpl >/dev/null
	tpm2_flushcontext -t
	[ "$(tool srk-template $alg)" = "$(xxd -p $alg.tmpl | tr -d '\n')" ] ||
		fail "$alg SRK template differs from tpm2-tools'"
	echo "  $alg: $(tool srk-template $alg)"
done
assert_clean

step "keys (TEST-ONLY): the vendor's PCR key and a foreign one; names as the TPM computes them"
for k in vendor other; do
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $k.key 2>/dev/null
	openssl pkey -in $k.key -pubout -out $k.pem
done
tpm2_loadexternal -C o -G rsa -u vendor.pem -c vk.ctx -n vk.name >/dev/null
tpm2_flushcontext -t
NAME=$(xxd -p vk.name | tr -d '\n')
[ "$(tool key-name --pubkey vendor.pem)" = "$NAME" ] || fail "key name differs from tpm2_loadexternal's"

step "boot 1 (UKI v1): the predicted PCR 11 is what the TPM holds"
make_uki v1
make_uki v2
boot_measure v1
P11_V1=$(predict v1)
P11_V2=$(predict v2)
[ "$(tool pcr-read 11 | cut -d' ' -f2)" = "$P11_V1" ] || fail "PCR 11 is not the predicted value"
tool sign --key vendor.key "$P11_V1" >v1.pcrsig
tool sign --key vendor.key "$P11_V2" >v2.pcrsig

step "the sealing policy: software, TPM trial session and a hand computation agree"
SW=$(tool policy --pubkey vendor.pem --pubkey-pcrs 11 --hash-pcrs 7)
TRIAL=$(tool policy --pubkey vendor.pem --pubkey-pcrs 11 --hash-pcrs 7 --trial)
Z=0000000000000000000000000000000000000000000000000000000000000000
PA=$(printf '%s' "$(printf '%s' "${Z}0000016a$NAME" | hexsha)" | hexsha)
P7=$(tool pcr-read 7 | cut -d' ' -f2)
HAND=$(printf '%s' "${PA}0000017f00000001000b03800000$(printf '%s' "$P7" | hexsha)" | hexsha)
echo "  software $SW"
echo "  trial    $TRIAL"
echo "  by hand  $HAND"
[ "$SW" = "$TRIAL" ] && [ "$SW" = "$HAND" ] || fail "policy digests differ"
assert_clean

step "seal 32 random bytes"
head -c 32 /dev/urandom >secret
POL=$(tool seal --secret-file secret --blob blob --pubkey vendor.pem --pubkey-pcrs 11 \
	--hash-pcrs 7 2>seal.err) || { cat seal.err; fail "seal failed"; }
cat seal.err
[ "$POL" = "$SW" ] || fail "the sealed object's policy is not the computed one"
[ "$(stat -c %s blob)" = 240 ] || fail "blob is $(stat -c %s blob) bytes, systemd's are 240"
assert_clean

# unseal SIGFILE [PUBKEY]: the secret into out
unseal() {
	rm -f out
	tool unseal --blob blob --policy-hash "$POL" --pubkey "${2:-vendor.pem}" --pubkey-pcrs 11 \
		--hash-pcrs 7 --pcrsig "$1" --out out
}

step "(a) PCR 11 signed by the vendor key: unsealed"
expect_ok unseal v1.pcrsig
cmp out secret || fail "unsealed secret differs"
for i in 1 2 3; do unseal v1.pcrsig; done # timings
assert_clean

step "(a') a .pcrsig with several entries (phases): the matching one is used"
tool sign --key vendor.key "$P11_V2" "$(printf x | sha)" "$P11_V1" >multi.pcrsig
expect_ok unseal multi.pcrsig
cmp out secret
assert_clean

step "(c) reboot into an unsigned kernel (UKI v2, only v1 signed): refused, not signed"
swtpm_reboot
boot_measure v2
[ "$(tool pcr-read 11 | cut -d' ' -f2)" = "$P11_V2" ] || fail "PCR 11 is not v2's"
expect_fail 'REFUSED \(not-signed\): .*PCR 11\) is not signed by the enrolled PCR key' unseal v1.pcrsig
[ ! -e out ] || fail "a refused unseal left output"
assert_clean

step "(d) the vendor signs v2: unsealed without re-sealing"
expect_ok unseal v2.pcrsig
cmp out secret
assert_clean

step "capping: once airlock-init has unlocked and extends PCR 11, nothing later can unseal"
tool pcr-extend 11 "$(printf 'leave-initrd' | sha)"
expect_fail 'REFUSED \(not-signed\)' unseal v2.pcrsig
swtpm_reboot
boot_measure v2
assert_clean

step "(e1) v2 signed by a foreign key: refused before the TPM, signed by another key"
tool sign --key other.key "$P11_V2" >other-v2.pcrsig
expect_fail 'REFUSED \(other-key\): .*another key than the one enrolled' unseal other-v2.pcrsig
assert_clean

step "(e1') forged: the vendor's fingerprint, a foreign signature: the TPM refuses it (0x2DB)"
pkfp=$(jq -r '.sha256[0].pkfp' v2.pcrsig)
jq -c --arg fp "$pkfp" '.sha256[0].pkfp = $fp' other-v2.pcrsig >forged.pcrsig
expect_fail 'REFUSED \(bad-signature\): the PCR signature does not verify' unseal forged.pcrsig
assert_clean

step "(e2) the foreign key in place of the vendor's: ticket valid, policy not the sealed one"
expect_fail 'REFUSED \(pcr-changed\): .*the token was changed \(its PCR key' unseal other-v2.pcrsig other.pem
assert_clean

step "(b) PCR 7 changes (firmware, db/dbx update): refused, PCR 7"
tool pcr-extend 7 "$(printf 'dbx update' | sha)"
expect_fail 'REFUSED \(pcr-changed\): PCR 7 \(Secure Boot state' unseal v2.pcrsig
assert_clean

step "dictionary-attack lockout: refused, lockout"
swtpm_reboot
boot_measure v2
tpm2_dictionarylockout -s -n 2 -t 600 -l 600 >/dev/null
tpm2_createprimary -C o -G ecc256:aes128cfb -c srk.ctx >/dev/null
tpm2_flushcontext -t
tpm2_createprimary -C o -G ecc256:aes128cfb -c srk.ctx >/dev/null
for i in 1 2 3; do
	tpm2_create -C srk.ctx -P wrong -u x.pub -r x.priv >/dev/null 2>&1 || true
done
tpm2_flushcontext -t
tpm2_flushcontext -s
expect_fail 'REFUSED \(lockout\): the TPM is in dictionary-attack lockout' unseal v2.pcrsig
assert_clean
tpm2_dictionarylockout -c >/dev/null
expect_ok unseal v2.pcrsig
cmp out secret
assert_clean

step "another TPM (or this one cleared): refused, wrong SRK (0x1DF)"
swtpm_stop
rm -rf "$T/tpm"
swtpm_start "$T/tpm"
export TPM2TOOLS_TCTI=$SWTPM_TCTI
boot_measure v2
expect_fail 'REFUSED \(wrong-srk\): the key was sealed by another TPM, or this TPM has been cleared' \
	unseal v2.pcrsig
assert_clean

step "no TPM at all"
swtpm_stop
expect_fail 'no TPM at swtpm:host=127.0.0.1' unseal v2.pcrsig

step "timings on swtpm (one process each, library calls only)"
grep -h '^TIME' seal.err || true
echo "ok"
