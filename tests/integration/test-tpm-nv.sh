#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# NV counters through lib/ext/tpm-nv.c on swtpm, the primitive under the version floor
# and the ledger's high-water mark: define (once), no value before the first increment,
# increments need the index's auth (a wrong one is refused and changes nothing), reads
# need none; an index that is not ours is told apart; and undefining and defining the
# counter again never lowers it (the TPM starts it at the highest value it ever held).
# tpm2-tools reads the same values (cross-check).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/swtpm.sh"

need tpm2_nvread tpm2_nvdefine xxd
TOOL=$AIRLOCK_BUILD/tests/integration/tpmtool
[ -x "$TOOL" ] || fail "$TOOL is missing: run make all"
cd "$T"
swtpm_start "$T/tpm"
tool() { "$TOOL" --tcti "$SWTPM_TCTI" "$@"; }
IDX=0x01a1a700
head -c 32 /dev/urandom >auth
head -c 32 /dev/urandom >wrong

step "not defined: read and increment say so"
expect_fail 'ENOENT' tool nv read $IDX
expect_fail 'ENOENT' tool nv increment $IDX --secret-file auth

step "define; no value until the first increment; defining twice is refused"
tool nv define $IDX --secret-file auth
tool nv public $IDX | tee public.txt
grep -q 'counter 1 written 0 ours 1' public.txt || fail "attributes: $(cat public.txt)"
expect_fail 'ENODATA' tool nv read $IDX
expect_fail 'EEXIST' tool nv define $IDX --secret-file auth

step "increments need the auth; reads do not"
v1=$(tool nv increment $IDX --secret-file auth)
expect_fail 'EACCES' tool nv increment $IDX --secret-file wrong
[ "$(tool nv read $IDX)" = "$v1" ] || fail "a refused increment changed the counter"
for _ in 1 2 3; do tool nv increment $IDX --secret-file auth >/dev/null; done
v4=$(tool nv read $IDX)
[ "$v4" = $((v1 + 3)) ] || fail "three increments from $v1 gave $v4"
# tpm2-tools reads the same 8 big-endian bytes
[ "$((16#$(TPM2TOOLS_TCTI=$SWTPM_TCTI tpm2_nvread $IDX -C o 2>/dev/null | xxd -p)))" = "$v4" ] ||
	fail "tpm2_nvread disagrees"

step "undefine and define again: the counter does not go back"
tool nv undefine $IDX
expect_fail 'ENOENT' tool nv read $IDX
tool nv define $IDX --secret-file auth
v5=$(tool nv increment $IDX --secret-file auth)
[ "$v5" -gt "$v4" ] || fail "a redefined counter restarted at $v5 (was $v4)"

step "an index that is not a counter is told apart"
tool nv undefine $IDX
TPM2TOOLS_TCTI=$SWTPM_TCTI tpm2_nvdefine $IDX -C o -s 8 -a "ownerread|ownerwrite" >/dev/null
tool nv public $IDX | grep -q 'counter 0 written 0 ours 0' || fail "a lookalike looks like ours"
expect_fail 'EMEDIUMTYPE' tool nv read $IDX
expect_fail 'EMEDIUMTYPE' tool nv increment $IDX --secret-file auth
echo OK
