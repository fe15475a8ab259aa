#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# lock the default manifest from the host's apt lists: two runs (from different
# directories, time zones, locales and umasks) give the same bytes; the default
# output is beside the manifest; the committed manifests/airlock.lock is well formed,
# made from the current manifest, and — when the host's lists are the ones it was
# made from — identical to a fresh lock. When the lists moved on (apt-get update on a
# fresh machine), the test says so and still checks all of the rest.
source "$(dirname "$0")/../lib.sh"
need airlock-build

manifest=$AIRLOCK_SRC/manifests/airlock.manifest
committed=$AIRLOCK_SRC/manifests/airlock.lock
ls /var/lib/apt/lists/*_InRelease >/dev/null 2>&1 || skip "no apt lists on this host (apt-get update)"

step "two locks of the same lists are identical"
mkdir "$T/a" "$T/b"
(cd "$T/a" && TZ=Pacific/Kiritimati LANG=C.UTF-8 && umask 077 &&
	expect_ok airlock-build lock "$manifest" --output "$T/a/airlock.lock")
(cd "$T/b" && TZ=America/Anchorage LC_ALL=C && umask 022 &&
	expect_ok airlock-build --quiet lock "$manifest" --output "$T/b/airlock.lock")
cmp "$T/a/airlock.lock" "$T/b/airlock.lock" || fail "two locks of the same lists differ"
n=$(grep -c '^Package:' "$T/a/airlock.lock")
[ "$n" -gt 100 ] || fail "only $n packages in the lock"
for p in linux-image-amd64 systemd udev haproxy qemu-system-x86 wireguard-tools usr-is-merged; do
	grep -q "^Package: $p\$" "$T/a/airlock.lock" || fail "$p is not in the lock"
done
# what the manifest must keep out
for p in usrmerge perl systemd-sysv gnupg dirmngr gpg-agent; do
	! grep -q "^Package: $p\$" "$T/a/airlock.lock" || fail "$p is in the lock"
done
[ "$(grep -c '^Package: linux-image-[0-9]' "$T/a/airlock.lock")" -eq 1 ] || fail "not one kernel"

step "the default output lies beside the manifest"
mkdir "$T/m"
cp "$manifest" "$T/m/other.manifest"
expect_ok airlock-build --quiet lock "$T/m/other.manifest"
[ -f "$T/m/other.lock" ] || fail "no $T/m/other.lock"
cmp "$T/a/airlock.lock" "$T/m/other.lock" || fail "the default output differs"
ls -A "$T/m" | grep -v -e '^other.manifest$' -e '^other.lock$' && fail "stray files left beside the lock"

step "the committed lock is well formed and made from the current manifest"
[ -f "$committed" ] || fail "$committed is not committed"
awk '
	BEGIN { RS = ""; FS = "\n" }
	NR == 1 {
		if ($1 != "Format: airlock-lock 1") { print "bad Format"; bad = 1 }
		next
	}
	{
		n = 0
		delete f
		for (i = 1; i <= NF; i++) {
			split($i, kv, ": ")
			f[kv[1]] = kv[2]; n++
		}
		if (n != 9) { print "paragraph " NR ": " n " fields"; bad = 1 }
		if (length(f["SHA256"]) != 64 || f["SHA256"] !~ /^[0-9a-f]+$/) { print f["Package"] ": bad SHA256"; bad = 1 }
		if (f["Size"] !~ /^[1-9][0-9]*$/) { print f["Package"] ": bad Size"; bad = 1 }
		if (f["Package"] <= last) { print f["Package"] ": out of order"; bad = 1 }
		last = f["Package"]
	}
	END { exit bad }' "$committed" || fail "$committed is malformed"
[ "$(grep '^Manifest-Digest:' "$committed")" = "$(grep '^Manifest-Digest:' "$T/a/airlock.lock")" ] ||
	fail "$committed was made from another package list than $manifest has: run 'make lock'"

step "the committed lock against the host's lists"
suites() { sed -n '/^Suites:/,/^$/p' "$1"; }
if [ "$(suites "$committed")" = "$(suites "$T/a/airlock.lock")" ]; then
	cmp "$committed" "$T/a/airlock.lock" ||
		fail "the same signed lists gave a lock other than the committed one"
	echo "the committed lock equals a fresh lock of the same lists"
else
	moved=$(diff <(grep -E '^(Package|Version):' "$committed" | paste - -) \
		<(grep -E '^(Package|Version):' "$T/a/airlock.lock" | paste - -) | grep -c '^>' || true)
	echo "NOTE: the host's apt lists are not the ones $committed was made from"
	echo "      ($moved package versions differ); 'make lock' refreshes it. Compared two"
	echo "      fresh locks with each other instead."
fi
