#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Update import verification on this machine, in one run: airlock-update verify of a
# bundle the size of the default image's (out/root.squashfs when a build is there, else
# BUNDLE_MIB, default 256 MiB, of incompressible bytes, as squashfs is), in MB/s and
# peak RSS, next to `sha256sum FILE > /dev/null` and `dd` of the same file to /dev/null.
# Every figure reads the bundle from the page cache (warmed first; best of RUNS runs).
# The peak RSS of a 16 MiB bundle is shown too: it must not grow with the image.
# Targets: verify at least 0.8x the slower of sha256sum and dd; peak RSS under 64 MiB.
# Then airlock-update import of the same bundle into slot b of a disk image laid out as
# airlock-install does (sfdisk, mformat), root needed for its loop devices, next to
# `dd` of the same bundle into the same partition with fdatasync (import's figure
# includes its fdatasyncs, the verity check of the written slot and the ESP writes).
# The files live in BENCH_DIR (default /var/tmp).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${AIRLOCK_BUILD:-$top/build}
RUNS=${RUNS:-3}
for p in airlock-build airlock-update; do
	[ -x "$build/$p" ] || { echo "bench/update.sh: $build/$p missing: run 'make all' first" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench/update.sh: needs GNU time (/usr/bin/time)" >&2; exit 1; }

dir=$(mktemp -d "${BENCH_DIR:-/var/tmp}/airlock-bench-update.XXXXXX")
trap 'rm -rf "$dir"' EXIT

if [ -f "$top/out/root.squashfs" ]; then
	root_bytes=$(stat -c %s "$top/out/root.squashfs")
	what="the size of out/root.squashfs"
else
	root_bytes=$((${BUNDLE_MIB:-256} * 1048576))
	what="no out/root.squashfs (make image): ${BUNDLE_MIB:-256} MiB"
fi

"$build/airlock-build" -q keygen --dir "$dir/key" --name "Airlock TEST-ONLY bench key" >"$dir/fpr"
fpr=$(cat "$dir/fpr")

make_bundle() { # DIR ROOT-BYTES -> bundle path
	local d=$1 n=$2
	mkdir -p "$d"
	head -c "$n" /dev/zero | openssl enc -aes-256-ctr -nosalt -pass pass:airlock-bench \
		-pbkdf2 2>/dev/null >"$d/root.squashfs"
	veritysetup format "$d/root.squashfs" "$d/root.verity" | sed -n 's/^Root hash:[[:space:]]*//p' \
		>"$d/roothash"
	head -c 50000000 /dev/urandom >"$d/uki.efi"
	head -c 200000 /dev/urandom >"$d/sbom.spdx.json"
	python3 - "$d" "$fpr" "$(cat "$d/roothash")" <<'PY'
import hashlib, json, os, sys
d, fpr, rh = sys.argv[1], sys.argv[2], sys.argv[3]
def art(n):
    h, size = hashlib.sha256(), 0
    with open(os.path.join(d, n), "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b); size += len(b)
    return {"name": n, "size": size, "sha256": h.hexdigest()}
arts = [art(n) for n in ("root.squashfs", "root.verity", "uki.efi", "sbom.spdx.json")]
m = {"format": 1, "name": "airlock", "version": "1.0.1", "min_version": "1.0.0",
     "compatible": "airlock/x86-64", "architecture": "amd64", "source_date_epoch": 1747699200,
     "verity": {"root_hash": rh, "hash_algorithm": "sha256", "data_block_size": 4096,
                "hash_block_size": 4096, "data_blocks": arts[0]["size"] // 4096},
     "disk": {"root_size": 1 << 40, "verity_size": 1 << 36},
     "artifacts": arts, "trusted_keys": [fpr]}
open(os.path.join(d, "manifest.json"), "w").write(json.dumps(m, indent=2) + "\n")
PY
	"$build/airlock-build" -q release "$d" --key "$dir/key"
}

echo "cores: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg); bundle: $what"
bundle=$(make_bundle "$dir/big" "$root_bytes")
small=$(make_bundle "$dir/small" $((16 * 1048576)))
bytes=$(stat -c %s "$bundle")
cat "$bundle" >/dev/null # warm the page cache

best() { # CMD...: best wall time of RUNS runs in seconds; the largest peak RSS (KiB) in $dir/rss
	local t b= rss=0
	for _ in $(seq "$RUNS"); do
		/usr/bin/time -f '%e %M' -o "$dir/time" "$@" >/dev/null 2>"$dir/err" ||
			{ cat "$dir/err" "$dir/time" >&2; exit 1; }
		t=$(cut -d' ' -f1 "$dir/time")
		rss=$(awk -v a="$(cut -d' ' -f2 "$dir/time")" -v b="$rss" 'BEGIN { print (a > b ? a : b) }')
		b=$(awk -v a="$t" -v b="${b:-$t}" 'BEGIN { print (a < b ? a : b) }')
	done
	echo "$rss" >"$dir/rss"
	echo "$b"
}
mbps() { awk -v n="$bytes" -v s="$1" 'BEGIN { printf "%.0f", (s > 0 ? n / s / 1e6 : 0) }'; }

verify=("$build/airlock-update" verify -q --keyring "$dir/key/signing-key.pub.asc"
	--running-version 1.0.0 --compatible airlock/x86-64)
t_ours=$(best "${verify[@]}" "$bundle")
rss_ours=$(cat "$dir/rss")
t_sha=$(best sha256sum "$bundle")
t_dd=$(best dd if="$bundle" of=/dev/null bs=1M)
best "${verify[@]}" "$small" >/dev/null
rss_small=$(cat "$dir/rss")

printf '%-46s %8s %10s %10s\n' "$(awk -v n="$bytes" 'BEGIN { printf "%.1f MiB bundle", n / 1048576 }')" seconds MB/s "peak RSS"
printf '%-46s %8s %10s %9s\n' "airlock-update verify" "$t_ours" "$(mbps "$t_ours")" "$((rss_ours / 1024)) MiB"
printf '%-46s %8s %10s\n' "sha256sum FILE > /dev/null" "$t_sha" "$(mbps "$t_sha")"
printf '%-46s %8s %10s\n' "dd if=FILE of=/dev/null bs=1M" "$t_dd" "$(mbps "$t_dd")"
printf '%-46s %8s %10s %9s\n' "airlock-update verify, 16 MiB bundle" "" "" "$((rss_small / 1024)) MiB"

slower=$(awk -v a="$t_sha" -v b="$t_dd" 'BEGIN { print (a > b ? a : b) }')
ratio=$(awk -v s="$slower" -v o="$t_ours" 'BEGIN { printf "%.2f", (o > 0 ? s / o : 0) }')
ok=1
echo "verify throughput: ${ratio}x the slower of sha256sum and dd (target >= 0.8x)"
awk -v r="$ratio" 'BEGIN { exit !(r >= 0.8) }' || { echo "  MISSED"; ok=0; }
echo "verify peak RSS: $((rss_ours / 1024)) MiB (target < 64 MiB)"
[ "$rss_ours" -lt $((64 * 1024)) ] || { echo "  MISSED"; ok=0; }

if [ "$(id -u)" -ne 0 ] || ! command -v sfdisk mformat >/dev/null; then
	echo "import: not measured (needs root for loop devices, sfdisk and mtools)"
	[ $ok = 1 ]
	exit
fi
# A disk as airlock-install lays it out, slot a holding "1.0.0" (an entry only).
mib=$((root_bytes / 1048576 + 2))
vmib=$((root_bytes / 1048576 / 64 + 2))
disk=$dir/disk.img
truncate -s $((1 + 64 + 2 * (mib + vmib) + 64 + 1))M "$disk"
sfdisk -q "$disk" <<EOF_
label: gpt
size=64MiB, type=c12a7328-f81f-11d2-ba4b-00a0c93ec93b, name=esp
size=${mib}MiB, type=4f68bce3-e8cd-4db1-96e7-fbcaf984b709, name=root-a
size=${vmib}MiB, type=2c7357ed-ebd2-46d9-aec1-23d437ec2bf5, name=verity-a
size=${mib}MiB, type=4f68bce3-e8cd-4db1-96e7-fbcaf984b709, name=root-b
size=${vmib}MiB, type=2c7357ed-ebd2-46d9-aec1-23d437ec2bf5, name=verity-b
type=4d21b016-b534-45c2-a9fb-5c16e091fd2d, name=data
EOF_
esp="$disk@@1048576"
export MTOOLS_SKIP_CHECK=1
mformat -i "$esp" -F -T 131072 -h 64 -s 32 :: && mmd -i "$esp" ::/EFI ::/EFI/Linux
echo TEST-ONLY >"$dir/entry" && mcopy -i "$esp" "$dir/entry" ::/EFI/Linux/airlock-1.0.0-a+3.efi
root_b=$(sfdisk -J "$disk" | python3 -c 'import json, sys
print(json.load(sys.stdin)["partitiontable"]["partitions"][3]["start"] * 512)')
import=("$build/airlock-update" import -q --disk "$disk" --keyring "$dir/key/signing-key.pub.asc"
	--running-version 1.0.0)
t_imp=$(best "${import[@]}" "$bundle")
rss_imp=$(cat "$dir/rss")
t_ddw=$(best dd if="$bundle" of="$disk" bs=1M oflag=seek_bytes seek="$root_b" conv=notrunc,fdatasync)
best "${import[@]}" "$small" >/dev/null
rss_imp_small=$(cat "$dir/rss")
printf '%-46s %8s %10s %9s\n' "airlock-update import (into slot b, verified)" "$t_imp" "$(mbps "$t_imp")" "$((rss_imp / 1024)) MiB"
printf '%-46s %8s %10s\n' "dd of=root-b bs=1M conv=fdatasync" "$t_ddw" "$(mbps "$t_ddw")"
printf '%-46s %8s %10s %9s\n' "airlock-update import, 16 MiB bundle" "" "" "$((rss_imp_small / 1024)) MiB"
slower=$(awk -v a="$t_sha" -v b="$t_ddw" 'BEGIN { print (a > b ? a : b) }')
ratio=$(awk -v s="$slower" -v o="$t_imp" 'BEGIN { printf "%.2f", (o > 0 ? s / o : 0) }')
echo "import throughput: ${ratio}x the slower of sha256sum and dd to the partition (target >= 0.8x)"
awk -v r="$ratio" 'BEGIN { exit !(r >= 0.8) }' || { echo "  MISSED"; ok=0; }
echo "import peak RSS: $((rss_imp / 1024)) MiB (target < 64 MiB)"
[ "$rss_imp" -lt $((64 * 1024)) ] || { echo "  MISSED"; ok=0; }
[ $ok = 1 ]
