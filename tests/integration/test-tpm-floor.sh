#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The version floor on swtpm (lib/tpmfloor.c, the PolicyNV binding in lib/ext/tpm.c and
# the token's airlock_floor in lib/tpm2token.c): defined once, floor 0; a key sealed to
# it opens while the counter exists and whatever the floor, but not with another base
# or without the binding (a token cannot be edited out of it); raises need the auth and
# only go up; undefining the counter closes everything (floor-gone) and a counter
# defined again in its place never gives a lower floor; the software policy equals the
# TPM's trial session; the LUKS2 token carries the binding and an edited base does not
# open the volume.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/swtpm.sh"

need cryptsetup jq
TOOL=$AIRLOCK_BUILD/tests/integration/tpmtool
[ -x "$TOOL" ] || fail "$TOOL is missing: run make all"
cd "$T"
swtpm_start "$T/tpm"
tool() { "$TOOL" --tcti "$SWTPM_TCTI" "$@"; }
head -c 32 /dev/urandom >auth
head -c 32 /dev/urandom >wrong
head -c 32 /dev/urandom >secret

step "define: the floor is 0 at the counter's first value; a second define is refused"
# Another counter first, so that the floor's does not start at 0 (a TPM starts a new
# counter at the highest value any counter held).
tool nv define 0x01a1a7ff --secret-file auth
for _ in 1 2 3 4 5; do tool nv increment 0x01a1a7ff --secret-file auth >/dev/null; done
tool nv undefine 0x01a1a7ff
BIND=$(tool floor define --secret-file auth)
echo "  floor counter and base: $BIND"
[[ $BIND =~ ^0x01a1a700:[0-9]+$ ]] || fail "floor define printed '$BIND'"
BASE=${BIND#*:}
[ "$BASE" -ge 5 ] || fail "the counter started at $BASE, below a deleted counter's 5"
[ "$(tool floor read --floor "$BIND")" = 0 ] || fail "a new floor is not 0"
expect_fail 'EEXIST' tool floor define --secret-file auth

step "seal to PCR 7 and the floor; the software policy is the TPM's trial policy"
sw=$(tool policy --hash-pcrs 7 --floor "$BIND")
trial=$(tool policy --hash-pcrs 7 --floor "$BIND" --trial)
[ "$sw" = "$trial" ] || fail "software policy $sw, trial $trial"
plain=$(tool policy --hash-pcrs 7)
[ "$sw" != "$plain" ] || fail "the floor binding does not change the policy"
POLICY=$(tool seal --secret-file secret --blob blob --hash-pcrs 7 --floor "$BIND")
[ "$POLICY" = "$sw" ] || fail "sealed policy $POLICY, expected $sw"
tool unseal --blob blob --policy-hash "$POLICY" --out out --hash-pcrs 7 --floor "$BIND"
cmp secret out || fail "unsealed something else"

step "another base, or no binding, does not unseal"
expect_fail 'REFUSED' tool unseal --blob blob --policy-hash "$POLICY" --out out \
	--hash-pcrs 7 --floor "0x01a1a700:$((BASE - 1))"
expect_fail 'REFUSED' tool unseal --blob blob --policy-hash "$POLICY" --out out --hash-pcrs 7

step "raise: needs the auth, only goes up, bounded; the key still opens"
expect_fail 'EACCES' tool floor raise 2 --floor "$BIND" --secret-file wrong
[ "$(tool floor read --floor "$BIND")" = 0 ] || fail "a refused raise moved the floor"
[ "$(tool floor raise 2 --floor "$BIND" --secret-file auth)" = 2 ] || fail "raise to 2"
[ "$(tool floor raise 1 --floor "$BIND" --secret-file auth)" = 2 ] || fail "a raise to 1 lowered it"
expect_fail 'E2BIG' tool floor raise 5000 --floor "$BIND" --secret-file auth
[ "$(tool floor read --floor "$BIND")" = 2 ] || fail "a refused raise moved the floor"
tool unseal --blob blob --policy-hash "$POLICY" --out out --hash-pcrs 7 --floor "$BIND"
cmp secret out || fail "the key does not open after a raise"

step "undefined: nothing unseals (floor-gone); defined again, the floor is not lower"
tool nv undefine 0x01a1a700
expect_fail 'ENOENT' tool floor read --floor "$BIND"
expect_fail 'REFUSED \(floor-gone\)' tool unseal --blob blob --policy-hash "$POLICY" --out out \
	--hash-pcrs 7 --floor "$BIND"
tool nv define 0x01a1a700 --secret-file wrong
tool nv increment 0x01a1a700 --secret-file wrong >/dev/null
f=$(tool floor read --floor "$BIND")
[ "$f" -ge 2 ] || fail "a counter defined again gives floor $f, below 2"
echo "  after undefine and define: floor $f (was 2)"
tool nv undefine 0x01a1a700

step "the LUKS2 token: airlock_floor recorded; an edited base does not open the volume"
BIND=$(tool floor define --secret-file auth)
truncate -s 32M data.img
tool recovery-generate --out recovery.key
tool luks-format data.img --passphrase-file recovery.key --pbkdf pbkdf2:1000
tool enroll data.img --unlock-file recovery.key --hash-pcrs 7 --floor "$BIND" >enroll.out
cryptsetup token export --token-id 0 data.img >token.json
[ "$(jq -r '.airlock_floor.index + ":" + .airlock_floor.base' token.json)" = "$BIND" ] ||
	fail "airlock_floor: $(jq -c .airlock_floor token.json)"
tool unlock data.img
st() { airlock-tpm status --tcti "$SWTPM_TCTI" --device data.img "$@"; }
st | tee status.txt
grep -qE "^    version floor: 0 \(counter 0x01a1a700, base ${BIND#*:}\)$" status.txt ||
	fail "status does not show the floor"
tool floor raise 1 --floor "$BIND" --secret-file auth >/dev/null
st --json | jq -e ".volume.tokens[0].floor == {\"index\":\"0x01a1a700\",\"base\":${BIND#*:},\"value\":1}" >/dev/null ||
	fail "status --json: $(st --json | jq -c .volume.tokens[0])"
jq -c ".airlock_floor.base = \"$((${BIND#*:} + 1))\"" token.json >edited.json
cryptsetup token import --token-id 0 --token-replace data.img <edited.json
expect_fail 'token 0' tool unlock data.img
jq -c 'del(.airlock_floor)' token.json >dropped.json
cryptsetup token import --token-id 0 --token-replace data.img <dropped.json
expect_fail 'token 0' tool unlock data.img
cryptsetup token import --token-id 0 --token-replace data.img <token.json
tool unlock data.img

step "at boot (lib/dataunlock, airlock-init's way): a release below the floor is not unsealed"
# The floor is 1 (raised above); releases of security version 0 and 1 boot in turn.
printf '%s\n' "$(cat recovery.key)" >typed
tool data-unlock data.img --security-version 0 <typed >below.out 2>&1 || {
	cat below.out
	fail "the recovery key did not open the volume below the floor"
}
cat below.out
grep -q "SAY: the TPM did not open the data volume: token 0: this release's security version 0 is below the version floor 1 kept in the TPM" below.out ||
	fail "no line says the release is below the floor"
grep -q "^opened by recovery" below.out || fail "below the floor, not opened by the recovery key"
tool data-unlock data.img --security-version 1 </dev/null | tee at.out
grep -q "^opened by tpm" at.out || fail "at the floor, the TPM did not open it"
expect_fail 'REFUSED \(below-floor\)' tool unlock data.img --security-version 0
tool unlock data.img --security-version 7

tool nv undefine 0x01a1a700
st | grep -q "version floor: counter 0x01a1a700 is not defined any more" || fail "status: $(st)"
st | grep -q "would unseal at the next boot of this image: no: the version floor" || fail "status: $(st)"
# reseal (after a firmware change: PCR 7 measured) cannot bring the counter back, and
# says so; the volume is left as it was
tool pcr-extend 7 "$(printf 'db update' | sha256sum | cut -c1-64)"
before=$(cryptsetup luksDump --dump-json-metadata data.img | jq -c '[.keyslots, .tokens]')
expect_fail 'which is not defined any more: a re-seal cannot bring it back' \
	airlock-tpm reseal --tcti "$SWTPM_TCTI" --device data.img --recovery-key-file recovery.key
[ "$(cryptsetup luksDump --dump-json-metadata data.img | jq -c '[.keyslots, .tokens]')" = "$before" ] ||
	fail "a refused reseal changed the volume"
echo OK
