#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Unsealing the data volume's key on swtpm, in one run, the same sealed object and the
# same policy (PolicyPCR(11) -> VerifySignature -> PolicyAuthorize -> PolicyPCR(7)):
#   - in-process through lib/ext/tpm.c (ESAPI): the unseal call alone (SRK, load, policy
#     session, signature, unseal, flushes), and the whole tpmtool process around it;
#   - through tpm2-tools, one process per command, as a shell script would do it (with
#     the flushes a raw TCTI without a resource manager needs).
# Target: in-process unseal <= 30 ms. N runs each (default 20); medians.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${AIRLOCK_BUILD:-$top/build}
TOOL=$build/tests/integration/tpmtool
N=${N:-20}
[ -x "$TOOL" ] || { echo "bench/tpm.sh: $TOOL missing: run 'make all' first" >&2; exit 1; }
for t in swtpm tpm2_unseal openssl jq xxd; do
	command -v "$t" >/dev/null || { echo "bench/tpm.sh: $t missing (make deps)" >&2; exit 1; }
done

dir=$(mktemp -d /tmp/airlock-bench-tpm.XXXXXX)
port=$((30000 + RANDOM % 10000 * 2))
cleanup() {
	[ -s "$dir/swtpm.pid" ] && kill "$(cat "$dir/swtpm.pid")" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir"
swtpm socket --tpm2 --tpmstate dir="$dir" --server type=tcp,port=$port,bindaddr=127.0.0.1 \
	--ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear \
	--daemon --pid file="$dir/swtpm.pid"
export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port" TSS2_LOG=all+none
tool() { "$TOOL" --tcti "$TPM2TOOLS_TCTI" "$@"; }
now() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.1f", m }'; }

# A measured boot, a vendor key, a signature for today's PCR 11, a secret sealed to it.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out vendor.key 2>/dev/null
openssl pkey -in vendor.key -pubout -out vendor.pem
tool pcr-extend 7 "$(printf 'secure boot state' | sha256sum | cut -c1-64)"
tool pcr-extend 11 "$(printf 'a kernel' | sha256sum | cut -c1-64)"
tool sign --key vendor.key "$(tool pcr-read 11 | awk '{ print $2 }')" >pcrsig.json
head -c 32 /dev/urandom >secret
tool seal --secret-file secret --blob blob --pubkey vendor.pem --pubkey-pcrs 11 --hash-pcrs 7 \
	2>/dev/null >seal.out
policy=$(tool policy --pubkey vendor.pem --pubkey-pcrs 11 --hash-pcrs 7)
# The blob is TPM2B_PRIVATE || TPM2B_PUBLIC: split it for tpm2_load.
priv_len=$((0x$(head -c 2 blob | xxd -p) + 2))
head -c "$priv_len" blob >seal.priv
tail -c +$((priv_len + 1)) blob >seal.pub
jq -r '.sha256[0].pol' pcrsig.json | xxd -r -p >approved.bin
jq -r '.sha256[0].sig' pcrsig.json | base64 -d >sig.bin

inproc=() wall=() tools=()
for _ in $(seq "$N"); do
	t0=$(now)
	tool unseal --blob blob --policy-hash "$policy" --out out.bin --pubkey vendor.pem \
		--pubkey-pcrs 11 --pcrsig pcrsig.json --hash-pcrs 7 2>time.txt
	wall+=("$(( ($(now) - t0) / 1000 ))")
	cmp -s out.bin secret || { echo "bench/tpm.sh: in-process unseal gave another secret" >&2; exit 1; }
	inproc+=("$(sed -n 's/^TIME unseal: \([0-9.]*\) ms$/\1/p' time.txt)")

	t0=$(now)
	# (swtpm has no resource manager: the tools' objects are flushed after each, as a
	# script on a raw TCTI must; the next tool loads the saved context again)
	tpm2_createprimary -Q -C o -G ecc256:aes128cfb -c srk.ctx
	tpm2_flushcontext -Q -t
	tpm2_load -Q -C srk.ctx -u seal.pub -r seal.priv -c seal.ctx
	tpm2_flushcontext -Q -t
	tpm2_loadexternal -Q -C o -G rsa -u vendor.pem -c key.ctx -n key.name
	tpm2_flushcontext -Q -t
	tpm2_startauthsession -Q --policy-session -S s.ctx
	tpm2_policypcr -Q -S s.ctx -l sha256:11
	tpm2_verifysignature -Q -c key.ctx -g sha256 -m approved.bin -s sig.bin -f rsassa -t ticket.bin
	tpm2_policyauthorize -Q -S s.ctx -i approved.bin -n key.name -t ticket.bin
	tpm2_policypcr -Q -S s.ctx -l sha256:7
	tpm2_unseal -Q -c seal.ctx -p session:s.ctx -o out2.bin
	tpm2_flushcontext -Q s.ctx
	tpm2_flushcontext -Q -t
	tools+=("$(( ($(now) - t0) / 1000 ))")
	cmp -s out2.bin secret || { echo "bench/tpm.sh: tpm2-tools unseal gave another secret" >&2; exit 1; }
done

in_ms=$(printf '%s\n' "${inproc[@]}" | median)
wall_ms=$(printf '%s\n' "${wall[@]}" | awk '{ print $1 / 1000 }' | median)
tools_ms=$(printf '%s\n' "${tools[@]}" | awk '{ print $1 / 1000 }' | median)
echo "unseal on swtpm, median of $N runs, same object and policy:"
printf '  in-process (lib/ext/tpm.c, ESAPI), the call:   %8s ms   target <= 30 ms: %s\n' "$in_ms" \
	"$(awk -v m="$in_ms" 'BEGIN { print (m <= 30) ? "met" : "NOT MET" }')"
printf '  in-process, the whole tpmtool process:         %8s ms\n' "$wall_ms"
printf '  tpm2-tools, 14 processes (baseline):           %8s ms   (%.1fx the in-process call)\n' \
	"$tools_ms" "$(awk -v a="$tools_ms" -v b="$in_ms" 'BEGIN { print a / b }')"
