#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Build benchmark: a warm build of the default image (pool present) and its
# root.squashfs size, next to baselines measured in the same run on the same data:
#   - mksquashfs of the same unpacked tree, with the same compression;
#   - veritysetup format of the same root.squashfs, next to our verity stage.
# Targets: warm build under 60 s on 2 cores; verity within 1.1x of veritysetup;
# root.squashfs under 150 MiB.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${AIRLOCK_BUILD:-$top/build}
T=$(mktemp -d "${TMPDIR:-/tmp}/airlock-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | xargs printf '%.1f'; }
mib() { echo "$(stat -c %s "$1") / 1048576" | bc -l | xargs printf '%.1f'; }

lock=$("$top/scripts/image" --prepare --out "$T/lock" 2>/dev/null)
echo "cores: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"

# Warm: one build to fill the page cache, then the measured one.
"$build/airlock-build" -q build "$top/manifests/airlock.manifest" --lock "$lock" --out "$T/warmup"
rm -rf "$T/warmup"
t0=$(now)
"$build/airlock-build" build "$top/manifests/airlock.manifest" --lock "$lock" --out "$T/out" \
	--keep-staging >"$T/log" 2>&1
t1=$(now)
staging=$(sed -n 's/.*staging directory kept: //p' "$T/log")
ours_verity=$(sed -n 's/^verity: .*(\([0-9.]*\) s)$/\1/p' "$T/log")

t2=$(now)
mksquashfs "$staging/root" "$T/baseline.squashfs" -comp zstd -Xcompression-level 9 -noappend \
	-quiet -no-progress >/dev/null
t3=$(now)
veritysetup format "$T/out/root.squashfs" "$T/baseline.verity" >/dev/null
t4=$(now)

printf '%-44s %8s s  %s\n' "airlock-build build (warm, whole pipeline)" "$(secs "$t0" "$t1")" \
	"target < 60 s"
printf '%-44s %8s MiB  %s\n' "root.squashfs" "$(mib "$T/out/root.squashfs")" "target < 150 MiB"
printf '%-44s %8s s\n' "  of which our squashfs stage" \
	"$(sed -n 's/^squashfs: .*(\([0-9.]*\) s)$/\1/p' "$T/log")"
printf '%-44s %8s s  (%s MiB)\n' "mksquashfs of the same tree, same compression" \
	"$(secs "$t2" "$t3")" "$(mib "$T/baseline.squashfs")"
printf '%-44s %8s s\n' "our verity stage" "$ours_verity"
printf '%-44s %8s s\n' "veritysetup format of the same image" "$(secs "$t3" "$t4")"
ratio=$(echo "$ours_verity / ($t4 - $t3)" | bc -l | xargs printf '%.2f')
printf '%-44s %8s x  %s\n' "verity: ours / veritysetup" "$ratio" "target <= 1.1"
rm -rf "$staging"
