#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# airlock-install on this machine, in one run:
#   - the time of an unattended install into a disk image file (swtpm as the TPM, the
#     recovery keyslot's argon2id tuned for this machine as on an appliance: its KDF
#     runs twice, at the format and when the written header is opened to check it);
#   - the write throughput of the root copy (root-a, ROOT_MIB of incompressible data,
#     copied and synced) next to dd copying the same bytes from the same medium to the
#     same kind of target (a fresh image file on the same file system, bs=4M,
#     conv=fdatasync), the medium's page cache dropped before each; target: >= 0.8x dd;
#   - the time to unseal the data volume's key with the TPM and open the volume, as
#     airlock-init will (lib/tpm2luks through tests/integration/tpmtool), on swtpm.
# There is no device-mapper here: --no-filesystem, so the ext4 inside the data volume
# (made in QEMU by the e2e tests) is not part of these figures.
#
#   ROOT_MIB=N    size of the root image (default 512)
#   BENCH_RUNS=N  root copies of each kind, alternating (default 3); medians are shown
#   BENCH_DIR     where the images live (default /var/tmp: a disk, not tmpfs)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
TMPDIR=${BENCH_DIR:-/var/tmp}
export TMPDIR
source "$src/tests/lib.sh"
source "$src/tests/integration/lib-install.sh"
source "$src/tests/integration/swtpm.sh"
need airlock-install airlock-build swtpm
ROOT_MIB=${ROOT_MIB:-512}
RUNS=${BENCH_RUNS:-3}
TOOL=$AIRLOCK_BUILD/tests/integration/tpmtool
[ -x "$TOOL" ] || fail "$TOOL is missing: run make all"

now() { date +%s%N; }
ms() { echo $((($2 - $1) / 1000000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
to_mib() { # "243.1 MiB/s" -> 243.1
	awk '{ v = $1; u = $2; sub("/s", "", u); f = 1048576
		if (u == "B") f = 1 / 1048576; if (u == "KiB") f = 1 / 1024; if (u == "MiB") f = 1
		if (u == "GiB") f = 1024; printf "%.1f", v * f }'
}

step "an installer medium with a ${ROOT_MIB} MiB root (incompressible), signed with the snakeoil key"
head -c $((ROOT_MIB << 20)) /dev/zero | openssl enc -aes-128-ctr -nosalt \
	-K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 >"$T/root.img"
verity_mib=$((ROOT_MIB / 64 + 2))
install_kernel
medium_build "$T/medium" "$T/root.img" "{\"esp_size\": 67108864, \"root_size\": $(((ROOT_MIB + 1) << 20)),
	\"verity_size\": $((verity_mib << 20)), \"data_min_size\": 134217728}" >/dev/null ||
	fail "building the medium failed"
MEDIUM=$T/medium/airlock-1.0.0.img
hash=$(cat "$T/medium/roothash")
rm -f "$T/root.img"
disk_mib=$((2 + 64 + 2 * (ROOT_MIB + 1 + verity_mib) + 128 + 64))

step "a TPM with a measured boot, a TEST-ONLY PCR-signing key"
swtpm_start "$T/tpm"
make_uki "$T/v1"
boot_measure "$T/v1"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/vendor.key" 2>/dev/null
openssl pkey -in "$T/vendor.key" -pubout -out "$T/vendor.pem"

drop_cache() { dd if="$1" iflag=nocache count=0 status=none; }

install_once() { # target-file log-file; prints milliseconds
	local t0 t1
	rm -f "$1" "$T/key"
	truncate -s ${disk_mib}M "$1"
	printf '%s\n' "disk = $1" "confirm = yes" "recovery-key = file" "recovery-key-file = $T/key" \
		"tpm = required" "tcti = $SWTPM_TCTI" >"$T/answers.conf"
	drop_cache "$MEDIUM"
	t0=$(now)
	airlock-install --source "$MEDIUM" --root-hash "$hash" --pcr-public-key "$T/vendor.pem" \
		--no-filesystem --answers "$T/answers.conf" --disk "$1" >"$2.out" 2>"$2" ||
		{ cat "$2.out" "$2"; fail "the install failed"; }
	t1=$(now)
	ms "$t0" "$t1"
}

dd_once() { # prints MiB/s
	local start count t0 t1
	start=$(sfdisk -J "$MEDIUM" | jq '.partitiontable.partitions[1].start')
	count=$(sfdisk -J "$MEDIUM" | jq '.partitiontable.partitions[1].size')
	rm -f "$T/dd.img"
	truncate -s ${disk_mib}M "$T/dd.img"
	drop_cache "$MEDIUM"
	t0=$(now)
	dd if="$MEDIUM" of="$T/dd.img" bs=4M iflag=skip_bytes,count_bytes oflag=seek_bytes conv=notrunc,fdatasync \
		skip=$((start * 512)) seek=$(((1 + 64) << 20)) count=$((count * 512)) \
		status=none
	t1=$(now)
	awk -v b=$((count * 512)) -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", b / 1048576 / (ns / 1e9) }'
}

step "installs and dd, alternating ($RUNS each)"
: >"$T/install.ms" && : >"$T/install.rate" && : >"$T/dd.rate"
for i in $(seq "$RUNS"); do
	install_once "$T/target.img" "$T/install.log" >>"$T/install.ms"
	sed -n 's/^root-a: system image: .* copied and synced, \(.*\) (.*$/\1/p' "$T/install.log" |
		to_mib >>"$T/install.rate"
	echo >>"$T/install.rate"
	dd_once >>"$T/dd.rate"
	echo >>"$T/dd.rate"
	printf 'run %d: install %s ms, root copy %s MiB/s, dd %s MiB/s\n' "$i" \
		"$(tail -n1 "$T/install.ms")" "$(tail -n1 "$T/install.rate")" "$(tail -n1 "$T/dd.rate")"
done

step "TPM unseal and open, as at boot (lib/tpm2luks on swtpm)"
start=$(sfdisk -J "$T/target.img" | jq '.partitiontable.partitions[5].start')
dd if="$T/target.img" of="$T/data.hdr" bs=512 skip="$start" count=32768 status=none
"$TOOL" --tcti "$SWTPM_TCTI" sign --key "$T/vendor.key" "$(predict "$T/v1")" >"$T/v1.pcrsig"
: >"$T/unseal.ms"
for i in 1 2 3 4 5; do
	t0=$(now)
	"$TOOL" --tcti "$SWTPM_TCTI" unlock "$T/data.hdr" --pcrsig "$T/v1.pcrsig" >/dev/null
	t1=$(now)
	ms "$t0" "$t1" >>"$T/unseal.ms"
done

install_ms=$(median <"$T/install.ms")
rate=$(grep . "$T/install.rate" | median)
dd=$(grep . "$T/dd.rate" | median)
ratio=$(awk -v a="$rate" -v b="$dd" 'BEGIN { printf "%.2f", a / b }')
echo
echo "== airlock-install (host, $(nproc) CPUs, images in $TMPDIR; medians of $RUNS)"
printf 'install, unattended, %d MiB root, TPM, argon2id tuned: %s ms\n' "$ROOT_MIB" "$install_ms"
printf 'root copy (copied + fdatasync):  %s MiB/s\n' "$rate"
printf 'dd, same bytes, same kind of target (bs=4M, conv=fdatasync): %s MiB/s\n' "$dd"
printf 'ratio: %sx of dd (target >= 0.8)\n' "$ratio"
printf 'TPM unseal + open (tpmtool unlock, swtpm, process start included): %s ms (median of 5)\n' \
	"$(median <"$T/unseal.ms")"
awk -v r="$ratio" 'BEGIN { exit !(r >= 0.8) }' || fail "the root copy is slower than 0.8x dd"
