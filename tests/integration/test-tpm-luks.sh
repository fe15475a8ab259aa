#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The data volume's TPM unlock (lib/tpm2luks.c, lib/tpm2token.c, lib/ext/luks.c)
# on a LUKS2 image file and swtpm, checked with standard tools: cryptsetup opens it
# (--test-passphrase) with the unsealed key and with the recovery key, luksDump
# explains the token, and systemd 252's own tooling accepts the token
# (systemd-cryptenroll finds the PCR set already enrolled; its token plugin
# validates it on import) and we open a token systemd-cryptenroll wrote.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/swtpm.sh"

need cryptsetup openssl jq xxd systemd-cryptenroll tpm2_getcap
PLUGIN=$(find /usr/lib /lib -name libcryptsetup-token-systemd-tpm2.so 2>/dev/null | head -1 || true)
TOOL=$AIRLOCK_BUILD/tests/integration/tpmtool
[ -x "$TOOL" ] || fail "$TOOL is missing: run make all"
cd "$T"
swtpm_start "$T/tpm"
tool() { "$TOOL" --tcti "$SWTPM_TCTI" "$@"; }
keyslots() { cryptsetup luksDump --dump-json-metadata "$1" | jq -c '.keyslots | keys'; }
tokens() { cryptsetup luksDump --dump-json-metadata "$1" | jq -c '[.tokens[] | .type]'; }

step "the vendor's PCR key (TEST-ONLY), UKI v1 booted and signed, v2 signed"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out vendor.key 2>/dev/null
openssl pkey -in vendor.key -pubout -out vendor.pem
make_uki v1
make_uki v2
boot_measure v1
tool sign --key vendor.key "$(predict v1)" >v1.pcrsig
tool sign --key vendor.key "$(predict v2)" >v2.pcrsig

step "format with a recovery key (pbkdf2, 1000 iterations: fixed for tests)"
truncate -s 64M data.img
tool recovery-generate --out recovery.key
grep -qE '^([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}$' recovery.key || fail "recovery key format"
tool luks-format data.img --passphrase-file recovery.key --pbkdf pbkdf2:1000 --label airlock-data
cryptsetup luksDump data.img | grep -E '^Label:\s+airlock-data$'
cryptsetup open --test-passphrase --key-file recovery.key data.img
echo "  the recovery key opens it with cryptsetup"

step "enrolment fails cleanly: wrong unlocking passphrase, no TPM (nothing added)"
printf 'not the key' >wrong.key
expect_fail 'enrolling: Operation not permitted' tool enroll data.img --unlock-file wrong.key \
	--pubkey vendor.pem --pubkey-pcrs 11 --hash-pcrs 7
expect_fail 'no TPM' "$TOOL" --tcti "swtpm:host=127.0.0.1,port=1" enroll data.img \
	--unlock-file recovery.key --pubkey vendor.pem --pubkey-pcrs 11 --hash-pcrs 7
[ "$(keyslots data.img)" = '["0"]' ] && [ "$(tokens data.img)" = '[]' ] ||
	fail "a failed enrolment left $(keyslots data.img) $(tokens data.img)"

step "enrol the TPM: keyslot 1, token 0"
tool enroll data.img --unlock-file recovery.key --pubkey vendor.pem --pubkey-pcrs 11 \
	--hash-pcrs 7 | tee enroll.out
grep -qx 'keyslot 1' enroll.out && grep -qx 'token 0' enroll.out || fail "unexpected enrolment"
if grep -q '^warning' enroll.out; then fail "a warning about measured PCRs"; fi
POLICY=$(sed -n 's/^policy //p' enroll.out)

step "luksDump explains the token (systemd's token plugin formats it when installed)"
cryptsetup luksDump data.img | sed -n '/^Tokens:/,/^Digests:/p' | tee dump.txt
grep -qE '^\s+0: systemd-tpm2$' dump.txt || fail "no systemd-tpm2 token in luksDump"
if [ -n "$PLUGIN" ]; then
	grep -qE 'tpm2-hash-pcrs:\s+7$' dump.txt && grep -qE 'tpm2-pubkey-pcrs:\s+11$' dump.txt &&
		grep -qE 'tpm2-primary-alg:\s+ecc$' dump.txt || fail "luksDump does not decode the token"
fi
cryptsetup luksDump --dump-json-metadata data.img |
	jq -e '.keyslots["1"].kdf | .type == "pbkdf2" and .hash == "sha512" and .iterations == 1000' ||
	fail "the TPM keyslot is not PBKDF2/SHA-512/1000"

step "the token JSON, field by field, in systemd 252's order"
cryptsetup token export --token-id 0 data.img >token.json
jq -c . token.json | cut -c1-200
[ "$(jq -c keys_unsorted token.json)" = '["type","keyslots","tpm2-blob","tpm2-pcrs","tpm2-pcr-bank","tpm2-primary-alg","tpm2-policy-hash","tpm2-pin","tpm2_pubkey_pcrs","tpm2_pubkey","airlock_sealed_pcrs"]' ] ||
	fail "token fields: $(jq -c keys_unsorted token.json)"
jq -e '.keyslots == ["1"] and ."tpm2-pcrs" == [7] and ."tpm2-pcr-bank" == "sha256" and
	."tpm2-primary-alg" == "ecc" and ."tpm2-pin" == false and .tpm2_pubkey_pcrs == [11]' token.json
[ "$(jq -r '."tpm2-policy-hash"' token.json)" = "$POLICY" ] || fail "policy hash"
[ "$(jq -r '."tpm2-policy-hash"' token.json)" = \
	"$(tool policy --pubkey vendor.pem --pubkey-pcrs 11 --hash-pcrs 7)" ] || fail "policy hash"
jq -r .tpm2_pubkey token.json | base64 -d | cmp - vendor.pem || fail "tpm2_pubkey is not the PEM file"
jq -r '."tpm2-blob"' token.json | base64 -d >blob
[ "$(stat -c %s blob)" = 240 ] || fail "tpm2-blob is not TPM2B_PRIVATE||TPM2B_PUBLIC (240 B)"
[ "$(tool token-roundtrip <token.json)" = "$(cat token.json)" ] || fail "token round trip differs"

step "cryptsetup opens keyslot 1 with the unsealed secret's base64 (not with the raw secret)"
tool unseal --blob blob --policy-hash "$POLICY" --pubkey vendor.pem --pubkey-pcrs 11 --hash-pcrs 7 \
	--pcrsig v1.pcrsig --out secret
[ "$(stat -c %s secret)" = 32 ] || fail "the sealed secret is not 32 bytes"
base64 -w0 secret >tpm.key
[ "$(stat -c %s tpm.key)" = 44 ] || fail "the passphrase is not 44 characters"
cryptsetup open --test-passphrase --key-slot 1 --key-file tpm.key data.img
echo "  base64(secret) opens keyslot 1"
if cryptsetup open --test-passphrase --key-slot 1 --key-file secret data.img 2>/dev/null; then
	fail "the raw secret opened keyslot 1"
fi

step "our unlock path (what airlock-init calls) opens it"
expect_ok tool unlock data.img --pcrsig v1.pcrsig | grep 'opened with keyslot 1'
# the UKI's .pcrpkey is only a fallback: the token's key wins
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.key 2>/dev/null
openssl pkey -in other.key -pubout -out other.pem
expect_ok tool unlock data.img --pcrsig v1.pcrsig --pcrpkey other.pem | grep 'keyslot 1'

step "systemd 252 accepts it: systemd-cryptenroll sees the same PCR set already enrolled"
systemd-cryptenroll data.img --unlock-key-file=recovery.key --tpm2-device="$SWTPM_TCTI" \
	--tpm2-public-key=vendor.pem --tpm2-public-key-pcrs=11 --tpm2-pcrs=7 2>&1 | tee cryptenroll.out
grep -q 'This PCR set is already enrolled' cryptenroll.out || fail "systemd-cryptenroll did not recognise the token"
[ "$(keyslots data.img)" = '["0","1"]' ] || fail "systemd-cryptenroll added a keyslot"

if [ -n "$PLUGIN" ]; then
	step "systemd's token plugin ($PLUGIN) validates on import: ours passes, a broken one not"
	cryptsetup token remove --token-id 0 data.img
	jq -c '."tpm2-pcrs" = "seven"' token.json >broken.json
	if cryptsetup token import --json-file broken.json data.img 2>/dev/null; then
		fail "the plugin accepted a broken token: it is not validating"
	fi
	cryptsetup token import --json-file token.json data.img
	[ "$(tokens data.img)" = '["systemd-tpm2"]' ] || fail "token import"
	expect_ok tool unlock data.img --pcrsig v1.pcrsig | grep 'keyslot 1'
else
	echo "systemd's token plugin is not installed: import validation not checked"
fi

step "a token written by systemd-cryptenroll 252 opens with our unlock path"
truncate -s 64M sd.img
cryptsetup luksFormat --type luks2 --batch-mode --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--key-file recovery.key sd.img
systemd-cryptenroll sd.img --unlock-key-file=recovery.key --tpm2-device="$SWTPM_TCTI" \
	--tpm2-public-key=vendor.pem --tpm2-public-key-pcrs=11 --tpm2-pcrs=7 \
	--tpm2-signature=v1.pcrsig 2>&1
expect_ok tool unlock sd.img --pcrsig v1.pcrsig | grep 'opened with keyslot 1'
cryptsetup token export --token-id 0 sd.img >sd-token.json
[ "$(tool token-roundtrip <sd-token.json)" = "$(cat sd-token.json)" ] || fail "round trip of systemd's token"

step "refusals say why: no .pcrsig, unsigned kernel, PCR 7 changed"
expect_fail 'REFUSED \(not-signed\): token 0: the boot image carries no PCR signature' \
	tool unlock data.img
swtpm_reboot
boot_measure v1
tool sign --key other.key "$(predict v1)" >other.pcrsig
expect_fail 'REFUSED \(other-key\): token 0: .*another key' tool unlock data.img --pcrsig other.pcrsig
swtpm_reboot
boot_measure v2
expect_fail 'REFUSED \(not-signed\): token 0: .*not signed' tool unlock data.img --pcrsig v1.pcrsig
expect_ok tool unlock data.img --pcrsig v2.pcrsig | grep 'keyslot 1'
tool pcr-extend 7 "$(printf 'firmware update' | sha256sum | cut -c1-64)"
expect_fail 'REFUSED \(pcr-changed\): token 0: PCR 7' tool unlock data.img --pcrsig v2.pcrsig
[ -z "$(tpm2_getcap -T "$SWTPM_TCTI" handles-transient)" ] || fail "objects left loaded"

step "recovery, then re-seal to the new PCR 7: old TPM keyslot gone, new one opens"
printf '%s\n' "$(tr 'a-z' 'A-Z' <recovery.key | sed 's/-/ /g')" | tool recovery-normalize --out typed.key
cmp typed.key recovery.key || fail "normalised recovery key differs"
cryptsetup open --test-passphrase --key-file typed.key data.img
printf 'cccccccc' | expect_fail '8 letters typed; a recovery key has 64' tool recovery-normalize --out x.key
tool wipe data.img
[ "$(keyslots data.img)" = '["0"]' ] && [ "$(tokens data.img)" = '[]' ] || fail "wipe left $(keyslots data.img) $(tokens data.img)"
if cryptsetup open --test-passphrase --key-file tpm.key data.img 2>/dev/null; then
	fail "the old TPM passphrase still opens the volume"
fi
tool enroll data.img --unlock-file typed.key --pubkey vendor.pem --pubkey-pcrs 11 --hash-pcrs 7
expect_ok tool unlock data.img --pcrsig v2.pcrsig | grep 'keyslot 1'

step "argon2id keyslots with fixed parameters (64 MiB, 4 iterations, 1 thread)"
truncate -s 64M argon.img
tool luks-format argon.img --passphrase-file recovery.key --pbkdf argon2id:65536:4:1
cryptsetup luksDump --dump-json-metadata argon.img |
	jq -e '.keyslots["0"].kdf | .type == "argon2id" and .memory == 65536 and .time == 4 and .cpus == 1' ||
	fail "argon2id parameters were not applied"
tool test-passphrase argon.img --passphrase-file recovery.key

step "firmware that measured nothing into PCR 7: enrolment says so"
swtpm_reboot
tool enroll argon.img --unlock-file recovery.key --pubkey vendor.pem --pubkey-pcrs 11 \
	--hash-pcrs 7 | tee enroll-unset.out
grep -qx 'warning: PCR mask 0x80 holds no measurements' enroll-unset.out || fail "no warning"
echo "ok"
