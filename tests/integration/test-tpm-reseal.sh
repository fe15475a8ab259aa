#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# airlock-tpm (issue 15, part 1) on swtpm and a LUKS2 image file: a token sealed to
# PCR 7 stops unsealing when PCR 7 changes (a firmware or Secure Boot change);
# `airlock-tpm status` says so without unsealing anything; `reseal` refuses a wrong or
# malformed recovery key and a PCR 7 that holds nothing measured, changes nothing then,
# and with the right key seals again so that the TPM opens the volume; killed at seeded
# random points, the volume always opens with the recovery key, and with the TPM once a
# re-seal completed; every step is in the ledger, no secret is. boot-report records why
# a boot needed the recovery key (tpm.policy-mismatch, with the PCR that differs).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/swtpm.sh"
. "$(dirname "$0")/lib-ledger.sh"

need cryptsetup openssl jq strace airlock-tpm
TOOL=$AIRLOCK_BUILD/tests/integration/tpmtool
[ -x "$TOOL" ] || fail "$TOOL is missing: run make all"
cd "$T"
swtpm_start "$T/tpm"
tool() { "$TOOL" --tcti "$SWTPM_TCTI" "$@"; }
tpmctl() { airlock-tpm "$1" --tcti "$SWTPM_TCTI" --device data.img --pcrsig v1.pcrsig \
	--pcrpkey vendor.pem --ledger-socket "$SOCK" "${@:2}"; }
tokens() { cryptsetup luksDump --dump-json-metadata data.img | jq -c '[.tokens[] | .type]'; }
keyslots() { cryptsetup luksDump --dump-json-metadata data.img | jq -c '.keyslots | keys'; }
opens_with_recovery() { cryptsetup open --test-passphrase --key-file recovery.key data.img; }
opens_with_tpm() { tool unlock data.img --pcrsig v1.pcrsig >/dev/null; }
pcr7() { tool pcr-read 7 | awk '{ print $2 }'; }

step "a ledger, the vendor's PCR key (TEST-ONLY), a UKI booted and signed"
mkdir -m 0700 ledger-key
L keygen --key "$KEY" >/dev/null
ledger_policy "allow uid=0"
ledger_start
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out vendor.key 2>/dev/null
openssl pkey -in vendor.key -pubout -out vendor.pem
make_uki v1
boot_measure v1
tool sign --key vendor.key "$(predict v1)" >v1.pcrsig

step "the data volume: a recovery keyslot and a TPM token sealed to PCR 7"
truncate -s 32M data.img
tool recovery-generate --out recovery.key
tool luks-format data.img --passphrase-file recovery.key --pbkdf pbkdf2:1000
tool enroll data.img --unlock-file recovery.key --pubkey vendor.pem --pubkey-pcrs 11 \
	--hash-pcrs 7 >/dev/null
opens_with_tpm || fail "the TPM does not open a freshly enrolled volume"
SEALED7=$(pcr7)
cryptsetup token export --token-id 0 data.img | jq -e --arg v "$SEALED7" '.airlock_sealed_pcrs == {"7": $v}' >/dev/null ||
	fail "the token does not record the PCR 7 value it was sealed to"

step "status: the TPM's facts, and the token would unseal"
tpmctl status | tee status.txt
grep -q '^TPM: .*manufacturer IBM' status.txt || fail "status does not name the manufacturer"
grep -q 'would unseal at the next boot of this image: yes' status.txt || fail "status: not unsealable"
tpmctl status --json >status.json
jq -e --arg v "$SEALED7" '.tpm.present and .tpm.pcrs["7"] == $v and
	.tpm.dictionary_attack.lockout == false and (.tpm.dictionary_attack.max | . > 0) and
	(.volume.tokens | length) == 1 and .volume.tokens[0].would_unseal_at_boot and
	.volume.tokens[0].signed_now and .volume.tokens[0].sealed["7"] == $v' status.json >/dev/null ||
	fail "status --json: $(cat status.json)"
DA_BEFORE=$(jq .tpm.dictionary_attack.counter status.json)
jq -e '.tpm.ledger_counter == null' status.json >/dev/null || fail "a ledger counter where none is defined"
head -c 32 /dev/urandom >nv.auth
tool nv define 0x01a1a701 --secret-file nv.auth
v=$(tool nv increment 0x01a1a701 --secret-file nv.auth)
[ "$(tpmctl status --json | jq .tpm.ledger_counter)" = "$v" ] || fail "status does not show the ledger counter"
tpmctl status | grep -q "^Ledger high-water: counter 0x01a1a701 = $v\$" || fail "status text: no ledger counter"

step "a firmware change: PCR 7 moves, the TPM refuses, status says which PCR"
tool pcr-extend 7 "$(printf 'secure boot state: db cert B added' | sha256sum | cut -c1-64)"
expect_fail 'REFUSED .pcr-changed.' tool unlock data.img --pcrsig v1.pcrsig
tpmctl status --json >status.json
jq -e '.volume.tokens[0] | (.literal_ok | not) and .changed_pcrs == [7] and
	(.would_unseal_at_boot | not)' status.json >/dev/null || fail "status --json: $(cat status.json)"
tpmctl status | grep -q 'PCR 7 changed since it was sealed' || fail "status does not say PCR 7 changed"
opens_with_recovery

step "boot-report: a boot that needed the recovery key records tpm.policy-mismatch"
printf '{"method":"recovery","refusal":"pcr-changed","reason":"token 0: %s"}' \
	"the PCR 7 value differs" >unlock.json
tpmctl boot-report --report unlock.json | tee report.txt
grep -q 'PCR 7 differs' report.txt || fail "boot-report does not say which PCR differs"
last_record tpm.policy-mismatch | jq -e --arg v "$SEALED7" '.payload | .refusal == "pcr-changed" and
	.differ == [7] and .pcrs_sealed["7"] == $v and .pcrs_now["7"] != $v' >/dev/null ||
	fail "tpm.policy-mismatch: $(last_record tpm.policy-mismatch)"
printf '{"method":"tpm"}' >unlock.json
tpmctl boot-report --report unlock.json
[ "$(L show --ledger "$LEDGER" --json --type tpm.policy-mismatch | wc -l)" = 1 ] ||
	fail "a boot the TPM opened was reported"
printf '{"method":"recovery","refusal":"bogus"}' >unlock.json
expect_fail 'refusal' tpmctl boot-report --report unlock.json

step "reseal refuses a wrong key, a malformed one and a non-recovery keyslot; nothing changes"
BEFORE=$(cryptsetup luksDump --dump-json-metadata data.img | jq -cS '{keyslots: (.keyslots | keys), tokens}')
tool recovery-generate --out wrong.key
rc=0; tpmctl reseal --recovery-key-file wrong.key 2>err.txt || rc=$?
[ $rc = 3 ] && grep -q 'does not open any keyslot' err.txt || fail "wrong key: exit $rc, $(cat err.txt)"
printf 'not-a-key\n' >bad.key
rc=0; tpmctl reseal --recovery-key-file bad.key 2>err.txt || rc=$?
[ $rc = 3 ] && grep -q 'not a recovery key' err.txt || fail "malformed key: exit $rc, $(cat err.txt)"
if grep -q 'not-a-key' err.txt; then fail "the refusal echoes what was typed"; fi
rc=0; printf '%s\n' "$(cat wrong.key)" | tpmctl reseal 2>err.txt || rc=$?
[ $rc = 3 ] || fail "a wrong key typed on stdin: exit $rc"
AFTER=$(cryptsetup luksDump --dump-json-metadata data.img | jq -cS '{keyslots: (.keyslots | keys), tokens}')
[ "$BEFORE" = "$AFTER" ] || fail "a refused re-seal changed the header"
[ "$(L show --ledger "$LEDGER" --json --type tpm.reseal-refused | wc -l)" = 3 ] ||
	fail "the refusals are not all in the ledger"

step "reseal with the right key: the TPM opens the volume again, the ledger has old and new PCR 7"
NEW7=$(pcr7)
tpmctl reseal --recovery-key-file recovery.key | tee reseal.out
grep -q "seals to PCR 7 = $NEW7 (was $SEALED7)" reseal.out || fail "reseal output: $(cat reseal.out)"
opens_with_tpm || fail "the TPM does not open the volume after reseal"
opens_with_recovery
[ "$(tokens)" = '["systemd-tpm2"]' ] || fail "tokens after reseal: $(tokens)"
[ "$(keyslots)" = '["0","1"]' ] || [ "$(keyslots)" = '["0","2"]' ] || fail "keyslots after reseal: $(keyslots)"
last_record tpm.resealed | jq -e --arg o "$SEALED7" --arg n "$NEW7" '.payload |
	.old_pcrs["7"] == $o and .new_pcrs["7"] == $n and .removed_tokens == 1 and .recovery_keyslot == 0' >/dev/null ||
	fail "tpm.resealed: $(last_record tpm.resealed)"
# Nothing secret in the ledger: neither the recovery key nor the keyslot passphrase.
L show --ledger "$LEDGER" --json >all.json
if grep -qF "$(cat recovery.key)" all.json; then fail "the recovery key is in the ledger"; fi
tpmctl status --json | jq -e '.volume.tokens[0].would_unseal_at_boot' >/dev/null || fail "status after reseal"
DA_AFTER=$(tpmctl status --json | jq .tpm.dictionary_attack.counter)
[ "$DA_AFTER" -le "$DA_BEFORE" ] || fail "status or reseal moved the dictionary-attack counter"

step "a token sealed before Airlock kept the PCR values (systemd's own fields only)"
tid=$(cryptsetup luksDump --dump-json-metadata data.img | jq -r '.tokens | keys[0]')
cryptsetup token export --token-id "$tid" data.img | jq -c 'del(.airlock_sealed_pcrs)' >old-token.json
cryptsetup token remove --token-id "$tid" data.img
cryptsetup token import --token-id "$tid" --json-file old-token.json data.img
tool pcr-extend 7 "$(printf 'firmware update, old token' | sha256sum | cut -c1-64)"
tpmctl status --json | jq -e '.volume.tokens[0] | (.sealed == null) and (.literal_ok | not)' >/dev/null ||
	fail "status of a token without sealed values"
tpmctl status | grep -q 'the literal PCRs no longer match the sealed policy' || fail "status text, old token"
tpmctl reseal --recovery-key-file recovery.key >/dev/null
last_record tpm.resealed | jq -e '.payload.old_pcrs == "unknown"' >/dev/null ||
	fail "tpm.resealed of an old token: $(last_record tpm.resealed)"
opens_with_tpm || fail "the TPM does not open it after re-sealing an old token"

step "reseal killed at seeded random points: the recovery key always opens it"
# The points are the writes to the volume's header: strace kills the process at the
# N-th one (N seeded), which leaves the header as a power cut right then would (every
# earlier write done, none after).
SEED=${RESEAL_SEED:-15}
RANDOM=$SEED
tool pcr-extend 7 "$(printf 'firmware update 0' | sha256sum | cut -c1-64)"
WRITES=$(strace -f -qq -P data.img -e trace=write,pwrite64,pwritev,pwritev2 -o writes.txt \
	airlock-tpm reseal --tcti "$SWTPM_TCTI" --device data.img --pcrpkey vendor.pem \
	--ledger-socket "$SOCK" --recovery-key-file recovery.key >/dev/null && grep -c 'write' writes.txt)
[ "$WRITES" -ge 6 ] || fail "a re-seal wrote the header only $WRITES times?"
echo "  seed $SEED (RESEAL_SEED=N to replay); a whole re-seal writes the header $WRITES times"
completed=0 torn=0
for i in 1 2 3 4 5 6 7 8; do
	tool pcr-extend 7 "$(printf 'firmware update %s' "$i" | sha256sum | cut -c1-64)"
	n=$((1 + RANDOM % WRITES))
	rc=0
	(strace -f -qq -o /dev/null -P data.img -e trace=write,pwrite64,pwritev,pwritev2 \
		-e inject=write,pwrite64,pwritev,pwritev2:signal=KILL:when="$n" \
		airlock-tpm reseal --tcti "$SWTPM_TCTI" --device data.img --pcrpkey vendor.pem \
		--ledger-socket "$SOCK" --recovery-key-file recovery.key >/dev/null 2>&1
	exit $?) 2>/dev/null || rc=$?
	[ $rc != 0 ] || fail "kill $i at write $n: the re-seal was not killed"
	opens_with_recovery >/dev/null || fail "kill $i at write $n: the recovery key no longer opens it"
	state="tokens $(tokens), keyslots $(keyslots)"
	if [ "$(tokens | jq length)" = 1 ] && [ "$(keyslots | jq length)" = 2 ]; then
		if opens_with_tpm 2>/dev/null; then completed=$((completed + 1)); fi
	else
		torn=$((torn + 1))
	fi
	# A complete new token opens it: the TPM opens the volume whenever a token for today's
	# PCR 7 is there (the old token is for another PCR 7, and cannot).
	if cryptsetup luksDump --dump-json-metadata data.img |
		jq -e '[.tokens[] | select(.type == "systemd-tpm2")] | length == 2' >/dev/null; then
		opens_with_tpm || fail "kill $i at write $n: the new token is there but does not open it"
	fi
	echo "  kill $i at write $n of $WRITES: $state"
	# Whatever state it was left in, a re-seal run to completion repairs it.
	tpmctl reseal --recovery-key-file recovery.key >/dev/null
	opens_with_tpm || fail "kill $i: the TPM does not open it after a completed re-seal"
	[ "$(tokens)" = '["systemd-tpm2"]' ] && [ "$(keyslots | jq length)" = 2 ] ||
		fail "kill $i: after a completed re-seal: tokens $(tokens), keyslots $(keyslots)"
done
echo "  $torn of 8 kills left a half-done header, $completed a complete one"
[ "$torn" -ge 1 ] || fail "no kill landed between the steps: the test tests nothing"

step "reseal refuses a PCR 7 that holds nothing measured"
swtpm_reboot # PCRs reset: PCR 7 all zeros, as on firmware that measures nothing
BEFORE=$(cryptsetup luksDump --dump-json-metadata data.img | jq -cS '{keyslots: (.keyslots | keys), tokens}')
rc=0; tpmctl reseal --recovery-key-file recovery.key 2>err.txt || rc=$?
[ $rc = 3 ] && grep -q 'PCR 7 holds nothing measured' err.txt || fail "unmeasured PCR 7: exit $rc, $(cat err.txt)"
AFTER=$(cryptsetup luksDump --dump-json-metadata data.img | jq -cS '{keyslots: (.keyslots | keys), tokens}')
[ "$BEFORE" = "$AFTER" ] || fail "a refused re-seal changed the header"

step "no TPM: status says so, reseal refuses"
airlock-tpm status --tcti "swtpm:host=127.0.0.1,port=1" --device data.img --json |
	jq -e '.tpm.present == false' >/dev/null || fail "status without a TPM"
rc=0; airlock-tpm reseal --tcti "swtpm:host=127.0.0.1,port=1" --device data.img \
	--ledger-socket "$SOCK" --recovery-key-file recovery.key 2>err.txt || rc=$?
[ $rc = 3 ] && grep -q 'no TPM' err.txt || fail "reseal without a TPM: exit $rc, $(cat err.txt)"
L verify --ledger "$LEDGER" --pubkey "$PUB" >/dev/null
ledger_stop
echo "OK"
