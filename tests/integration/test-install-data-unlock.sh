#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# airlock-init's way of opening the data volume (lib/dataunlock, through tpmtool
# data-unlock: keys are checked, nothing is mapped, the host has no device-mapper),
# against the data partition of a disk airlock-install made with swtpm:
#   - a boot whose PCR 11 is signed: the TPM opens it, no prompt, and PCR 11 is then
#     capped (sections + "airlock-initrd-done"), so the same boot cannot unseal again:
#     the second attempt falls to the recovery-key prompt;
#   - a UKI whose PCR 11 is not signed, a changed PCR 7, no TPM at all: one line says
#     why, then the prompt; Enter alone costs no try, malformed input and a wrong key
#     are told apart, the third try may succeed, three failures stop;
#   - power cuts after the SRK's use raise the TPM's dictionary-attack counter until it
#     locks out: the recovery key then opens the volume and resets it, and each unseal
#     by the TPM resets it to zero;
#   - the recovery key is never printed.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-install.sh"
source "$(dirname "$0")/swtpm.sh"

TOOL=$AIRLOCK_BUILD/tests/integration/tpmtool
[ -x "$TOOL" ] || fail "$TOOL is missing: run make all"
tool() { "$TOOL" --tcti "$SWTPM_TCTI" "$@"; }

install_medium
install_keys
cd "$T"

step "a TPM with a measured boot of UKI v1, an unattended install with an escrowed recovery key"
swtpm_start "$T/tpm"
make_uki v1
boot_measure v1
new_target "$T/target.img" 256M
mkdir -m 0700 "$T/escrow"
answers "$T/answers.conf" "# TEST-ONLY answer file" \
	"disk = $T/target.img" "confirm = yes" \
	"recovery-key = file" "recovery-key-file = $T/escrow/recovery.key" \
	"tpm = required" "tcti = $SWTPM_TCTI" \
	"pbkdf = argon2id" "pbkdf-memory = 64M" "pbkdf-time-cost = 4" "pbkdf-parallel = 1"
# The dry run lists the NV counters the install would define, and one an earlier install
# left (here made by hand) as defined again.
head -c 32 /dev/urandom >"$T/nv.auth"
tool nv define 0x01a1a701 --secret-file "$T/nv.auth"
install_run --answers "$T/answers.conf" --disk "$T/target.img" --dry-run >"$T/dry.log" 2>&1 || {
	cat "$T/dry.log"
	fail "the dry run failed"
}
grep -F "  TPM NV index 0x01a1a700 (version floor counter): defined" "$T/dry.log" &&
	grep -F "  TPM NV index 0x01a1a701 (ledger high-water counter): defined by an earlier install: undefined and defined again" "$T/dry.log" ||
	fail "the dry run does not list the NV counters: $(cat "$T/dry.log")"
tool nv undefine 0x01a1a701
install_run --answers "$T/answers.conf" --disk "$T/target.img" >"$T/install.log" 2>&1 || {
	cat "$T/install.log"
	fail "the install failed"
}
KEY=$(head -n1 "$T/escrow/recovery.key")
data_header "$T/target.img" "$T/data.hdr"
tool sign --key "$T/vendor.key" "$(predict v1)" >"$T/v1.pcrsig"

# data_unlock OUT [tpmtool args...] < input: runs it, keeps stdout+stderr in OUT
data_unlock() {
	local out=$1 rc=0
	shift
	"$@" >"$out" 2>&1 || rc=$?
	cat "$out"
	if grep -qF "$KEY" "$out" || grep -qiF "${KEY:0:8}" "$out"; then
		fail "the recovery key was printed"
	fi
	return $rc
}
pcr11() { tool pcr-read 11 | awk '{print $2}' | tr A-F a-f; }
capped() { "$TOOL" pcr11 --phase airlock-initrd-done --linux "$1/linux" --osrel "$1/osrel" \
	--cmdline "$1/cmdline" --initrd "$1/initrd"; }

step "signed PCR 11: the TPM opens it with no prompt, then PCR 11 is capped"
[ "$(pcr11)" = "$(predict v1)" ] || fail "PCR 11 is not v1's sections-only value before"
data_unlock "$T/o1" tool data-unlock "$T/data.hdr" --pcrsig "$T/v1.pcrsig" </dev/null ||
	fail "the TPM did not open the volume"
grep -qx 'opened by tpm with keyslot 1, PCR 11 capped' "$T/o1" || fail "not opened by the TPM"
if grep -q '^SAY:' "$T/o1"; then fail "something was said on the console"; fi
[ "$(pcr11)" = "$(capped v1)" ] || fail "PCR 11 is not sections + airlock-initrd-done after"

step "the same boot again: the capped PCR 11 is not signed, so the recovery key is asked for"
printf '%s\n' "$KEY" | data_unlock "$T/o2" tool data-unlock "$T/data.hdr" --pcrsig "$T/v1.pcrsig" ||
	fail "the recovery key did not open the volume"
grep -qx 'opened by recovery with keyslot 0, PCR 11 capped' "$T/o2" || fail "not opened by the key"
grep -qE '^SAY: the TPM did not open the data volume: token 0: .*(no signature|not signed)' "$T/o2" ||
	fail "no line saying the TPM refused for want of a signature"
grep -qx 'SAY: type the recovery key of the data volume and press Enter (try 1 of 3; it is not shown as you type)' \
	"$T/o2" || fail "no prompt"

step "a UKI whose PCR 11 is not signed: Enter, malformed, wrong, then the key typed loosely"
swtpm_reboot
make_uki v2
boot_measure v2
wrong=$(printf '%s' "$KEY" | tr 'cb' 'bc')
loose=$(printf '%s' "$KEY" | tr 'a-z-' 'A-Z ')
printf '\n%s\n%s\n  %s  \n' 'this is not it' "$wrong" "$loose" |
	data_unlock "$T/o3" tool data-unlock "$T/data.hdr" --pcrsig "$T/v1.pcrsig" ||
	fail "the third try did not open the volume"
grep -qx 'opened by recovery with keyslot 0, PCR 11 capped' "$T/o3" || fail "not opened on the third try"
[ "$(grep -c '^SAY: the TPM did not open' "$T/o3")" = 1 ] || fail "not one line saying why the TPM refused"
[ "$(grep -c '(try 1 of 3' "$T/o3")" = 2 ] || fail "Enter alone was counted as a try"
grep -q '^SAY: that is not a recovery key: character 4 is not one of' "$T/o3" || fail "malformed input not told"
grep -q '^SAY: wrong recovery key: it does not open the data volume (1 try left)' "$T/o3" ||
	fail "a wrong key not told"
[ "$(pcr11)" = "$(capped v2)" ] || fail "PCR 11 was not capped after the TPM refused"

step "three failures stop"
if printf '%s\n' "$wrong" "cbdefghi" "$wrong" "$KEY" |
	data_unlock "$T/o4" tool data-unlock "$T/data.hdr" --pcrsig "$T/v1.pcrsig"; then
	fail "opened after three failures"
fi
grep -q '^FAILED: no recovery key opened the data volume .* in 3 tries' "$T/o4" || fail "no final failure"
grep -q '^SAY: wrong recovery key: it does not open the data volume (no tries left)' "$T/o4" ||
	fail "the last failure does not say no tries are left"
[ "$(grep -c '^SAY: wrong recovery key' "$T/o4")" = 2 ] || fail "wrong keys not told twice"
grep -q '^SAY: that is not a recovery key: 8 letters typed; a recovery key has 64' "$T/o4" ||
	fail "too few letters not told"

step "a changed PCR 7 (another Secure Boot db): the TPM refuses, the key opens"
swtpm_reboot
tool pcr-extend 7 "$(printf 'another db certificate' | sha256sum | cut -c1-64)"
boot_measure v1
printf '%s\n' "$KEY" | data_unlock "$T/o5" tool data-unlock "$T/data.hdr" --pcrsig "$T/v1.pcrsig" ||
	fail "the recovery key did not open the volume"
grep -qE '^SAY: the TPM did not open the data volume: token 0: .*PCR' "$T/o5" ||
	fail "no line saying PCR 7 changed"
grep -qx 'opened by recovery with keyslot 0, PCR 11 capped' "$T/o5" || fail "not opened by the key"

step "no TPM at all: one line, the prompt, nothing capped"
printf '%s\n' "$KEY" | data_unlock "$T/o6" "$TOOL" data-unlock "$T/data.hdr" ||
	fail "the recovery key did not open the volume without a TPM"
grep -qx 'SAY: the TPM did not open the data volume: TEST: no --tcti given' "$T/o6" || fail "no TPM line"
grep -qx 'opened by recovery with keyslot 0, PCR 11 not capped' "$T/o6" || fail "not opened by the key"
step "power cuts: the TPM's dictionary-attack lockout, reset by the recovery key, then by each unseal"
need tpm2_getcap tpm2_createprimary tpm2_create tpm2_flushcontext
da_count() { tpm2_getcap -T "$SWTPM_TCTI" properties-variable | awk '/TPM2_PT_LOCKOUT_COUNTER/ {print $2}'; }
# A use of a DA-protected key (as the SRK's on every boot), then a power cut: the TPM
# counts it as a failure (TPM 2.0 part 1, "Non-orderly Shutdown"). 1: the TPM refused
# the use, it is in lockout already.
da_use_and_cut() {
	# (swtpm's TCTI has no resource manager: transient objects a refused unseal left
	# loaded stay until flushed; /dev/tpmrm0 flushes them when the program exits)
	tpm2_flushcontext -T "$SWTPM_TCTI" -t
	tpm2_createprimary -Q -T "$SWTPM_TCTI" -C o -G ecc -c "$T/primary.ctx" 2>"$T/da.err" &&
		tpm2_create -Q -T "$SWTPM_TCTI" -C "$T/primary.ctx" -G ecc -u "$T/k.pub" -r "$T/k.priv" \
			2>>"$T/da.err" || {
		grep -q 'DA lockout mode' "$T/da.err" && return 1
		cat "$T/da.err"
		fail "tpm2-tools could not use a key"
	}
	swtpm_reboot
}
in_lockout() { tpm2_getcap -T "$SWTPM_TCTI" properties-variable | grep -q 'inLockout: *1'; }
# The steps above cut power too (swtpm_reboot): the count may be close already.
swtpm_reboot
cuts=1
while [ $cuts -le 5 ] && da_use_and_cut; do
	cuts=$((cuts + 1))
done
echo "after $cuts power cuts in this step: lockout counter $(da_count)"
in_lockout || fail "swtpm is not in lockout"
boot_measure v1
printf '%s\n' "$KEY" | data_unlock "$T/o7" tool data-unlock "$T/data.hdr" --pcrsig "$T/v1.pcrsig" ||
	fail "the recovery key did not open the volume"
grep -qx 'SAY: the TPM did not open the data volume: token 0: the TPM is in dictionary-attack lockout' \
	"$T/o7" || fail "no line saying the TPM is locked out"
grep -qx 'SAY: the TPM was in dictionary-attack lockout: reset now that the recovery key opened the volume; the next boot asks the TPM again' \
	"$T/o7" || fail "the lockout was not reset after the recovery key"
[ "$(da_count)" = 0x0 ] || fail "the lockout counter is $(da_count) after the reset"
da_use_and_cut || fail "the TPM refused a key after the reset"
da_use_and_cut || fail "the TPM refused a key after one power cut"
[ "$(da_count)" = 0x2 ] || fail "two power cuts: the lockout counter is $(da_count), not 0x2"
boot_measure v1
data_unlock "$T/o8" tool data-unlock "$T/data.hdr" --pcrsig "$T/v1.pcrsig" </dev/null ||
	fail "the TPM did not open the volume after two power cuts"
grep -qx 'opened by tpm with keyslot 1, PCR 11 capped' "$T/o8" || fail "not opened by the TPM"
if grep -q '^SAY:' "$T/o8"; then fail "something was said on the console"; fi
[ "$(da_count)" = 0x0 ] || fail "the unseal did not reset the lockout counter: $(da_count)"
echo "ok"
