#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The audit ledger's throughput on this machine, in one run:
#   - durable appends per second with one fdatasync per record (--max-batch 1) and with
#     group commit (the default), 8 concurrent clients through the daemon's socket, next
#     to what the device gives for synced 300-byte writes without any ledger (dd);
#   - verify over a ledger of RECORDS records (default 1,000,000, appended through the
#     daemon), in records per second, next to sha256sum over the same files (and
#     openssl's SHA-256, which uses the CPU's SHA instructions where sha256sum does not).
# The ledger lives in BENCH_DIR (default /var/tmp: a disk, not tmpfs, so that fsync costs
# what it costs). Files are read from the page cache for every reading figure.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${AIRLOCK_BUILD:-$top/build}
L=$build/airlock-ledger
RECORDS=${RECORDS:-1000000}
CLIENTS=8
[ -x "$L" ] || { echo "bench/ledger.sh: $L missing: run 'make all' first" >&2; exit 1; }

dir=$(mktemp -d "${BENCH_DIR:-/var/tmp}/airlock-bench-ledger.XXXXXX")
pid=
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
printf 'allow uid=%s\n' "$(id -u)" >"$dir/policy"

now() { date +%s%N; }
rate() { # count nanoseconds
	awk -v n="$1" -v ns="$2" 'BEGIN { printf "%.0f", n / (ns / 1e9) }'
}
secs() {
	awk -v ns="$1" 'BEGIN { printf "%.2f", ns / 1e9 }'
}

start() { # ledger-dir args...
	local d=$1 i
	shift
	rm -f "$dir/sock"
	"$L" serve --socket "$dir/sock" --ledger "$d" --policy "$dir/policy" \
		--key "$dir/key/ledger.key" --checkpoint-interval 0 "$@" 2>"$dir/daemon.log" &
	pid=$!
	for i in $(seq 100); do [ -S "$dir/sock" ] && return; sleep 0.1; done
	echo "the daemon did not start: $(cat "$dir/daemon.log")" >&2
	exit 1
}
stop() {
	kill -TERM "$pid"
	wait "$pid"
	pid=
}
# Appends n records from each of the clients, concurrently; prints nanoseconds taken.
load() { # n type
	local n=$1 type=$2 c t0 t1 pids=()
	for c in $(seq 1 $CLIENTS); do
		seq 1 "$n" | sed "s/.*/{\"client\":$c,\"i\":&,\"note\":\"a benchmark record\"}/" \
			>"$dir/in.$c"
	done
	t0=$(now)
	for c in $(seq 1 $CLIENTS); do
		"$L" append --socket "$dir/sock" -q "$type" - <"$dir/in.$c" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	t1=$(now)
	rm -f "$dir"/in.*
	echo $((t1 - t0))
}
syncs() {
	sed -nE 's/.*stopped after ([0-9]+) records in ([0-9]+) synced writes.*/\1 \2/p' "$dir/daemon.log"
}
best_of_3() { # command... ; prints the best time in nanoseconds
	local best= t0 t1 i
	for i in 1 2 3; do
		t0=$(now)
		"$@" >/dev/null
		t1=$(now)
		if [ -z "$best" ] || [ $((t1 - t0)) -lt "$best" ]; then best=$((t1 - t0)); fi
	done
	echo "$best"
}

echo "ledger benchmark: $(nproc) CPUs, $(df -PT "$dir" | awk 'NR == 2 { print $2 }') at $dir"

# What the device gives: 300-byte appends, each synced (O_DSYNC), no ledger at all.
t0=$(now)
dd if=/dev/zero of="$dir/dsync" bs=300 count=1000 oflag=dsync,append conv=notrunc status=none
t1=$(now)
rm -f "$dir/dsync"
echo "device, 300-byte O_DSYNC writes: $(rate 1000 $((t1 - t0))) writes/s (dd, the ceiling for one sync per record)"

n=250
start "$dir/sync1" --max-batch 1
ns=$(load $n bench.sync)
stop
read -r recs writes <<<"$(syncs)"
echo "appends, fsync per record:  $(rate $((CLIENTS * n)) "$ns") records/s" \
	"($CLIENTS clients x $n, $writes fdatasyncs for $recs records)"

n=5000
start "$dir/group"
ns=$(load $n bench.group)
stop
read -r recs writes <<<"$(syncs)"
echo "appends, group commit:      $(rate $((CLIENTS * n)) "$ns") records/s" \
	"($CLIENTS clients x $n, $writes fdatasyncs for $recs records)"

n=$(((RECORDS + CLIENTS - 1) / CLIENTS))
start "$dir/big"
ns=$(load $n bench.big)
stop
read -r recs writes <<<"$(syncs)"
total=$("$L" show --ledger "$dir/big" --json | wc -l)
files=("$dir"/big/ledger-*.jsonl)
bytes=$(cat "${files[@]}" | wc -c)
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.0f", b / 1048576 }')
echo "ledger for verify:          $total records, ${#files[@]} files, $mb MiB;" \
	"appended in $(secs "$ns") s ($(rate $((CLIENTS * n)) "$ns") records/s, $writes fdatasyncs)"

cat "${files[@]}" >/dev/null # into the page cache
"$L" verify --ledger "$dir/big" --pubkey "$dir/key/ledger.pub" --quiet ||
	{ echo "verify failed on the benchmark ledger" >&2; exit 1; }
v=$(best_of_3 "$L" verify --ledger "$dir/big" --pubkey "$dir/key/ledger.pub" --quiet)
s=$(best_of_3 sha256sum "${files[@]}")
o=$(best_of_3 openssl dgst -sha256 "${files[@]}")
d=$(best_of_3 "$L" verify --ledger "$dir/big" --pubkey "$dir/key/ledger.pub" --quiet --deep)
mbs() { awk -v b="$bytes" -v ns="$1" 'BEGIN { printf "%.0f", b / 1048576 / (ns / 1e9) }'; }
echo "verify:                     $(rate "$total" "$v") records/s, $(mbs "$v") MiB/s ($(secs "$v") s)"
echo "sha256sum, same files:      $(rate "$total" "$s") records/s, $(mbs "$s") MiB/s ($(secs "$s") s)"
echo "openssl dgst -sha256:       $(rate "$total" "$o") records/s, $(mbs "$o") MiB/s ($(secs "$o") s)"
echo "verify --deep (JSON too):   $(rate "$total" "$d") records/s, $(mbs "$d") MiB/s ($(secs "$d") s)"
awk -v v="$v" -v s="$s" 'BEGIN { printf "verify takes %.2fx the time of sha256sum (target: 2x or less)\n", v / s }'
