#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# fetch a few small packages of a fresh lock into a temporary pool (the whole pool
# is fetched by the image build): the first run downloads and checks them, the
# second fetches nothing, a corrupt pool file is reported and replaced, a version
# the archive no longer has makes fetch name it, substitute nothing, still fetch
# the rest and exit 3, an archive file other than the locked one is refused, and
# without a network every package is named and nothing is left half-written.
source "$(dirname "$0")/../lib.sh"
need airlock-build apt-get sha256sum
ls /var/lib/apt/lists/*_InRelease >/dev/null 2>&1 || skip "no apt lists on this host (apt-get update)"

step "a lock of three small packages"
expect_ok airlock-build --quiet lock "$AIRLOCK_SRC/manifests/airlock.manifest" --output "$T/full.lock"
# the header, then the three smallest packages (in name order, as a lock keeps them)
keep=$(awk 'BEGIN { RS = "" } NR > 1 {
	n = split($0, l, "\n"); for (i = 1; i <= n; i++) if (l[i] ~ /^Size: /) print substr(l[i], 7), NR }' \
	"$T/full.lock" | sort -n | head -n3 | cut -d' ' -f2 | tr '\n' ' ')
awk -v keep=" $keep" 'BEGIN { RS = ""; ORS = "\n\n" } NR == 1 || index(keep, " " NR " ")' \
	"$T/full.lock" | sed '$d' >"$T/sub.lock"
names=$(awk '/^Package:/ { print $2 }' "$T/sub.lock")
[ "$(echo "$names" | wc -l)" -eq 3 ] || fail "expected three packages in the sub-lock"
echo "packages: $(echo $names)"

pool_name() { # NAME VERSION ARCH -> the pool file name (':' as %3a)
	echo "${1}_${2//:/%3a}_${3}.deb"
}
check_pool() { # LOCK POOL: every locked file is there with its sha256
	awk 'BEGIN { RS = "" } NR > 1 {
		for (i = 1; i <= split($0, l, "\n"); i++) { split(l[i], kv, ": "); f[kv[1]] = kv[2] }
		print f["Package"], f["Version"], f["Architecture"], f["SHA256"] }' "$1" |
		while read -r n v a s; do
			f=$2/$(pool_name "$n" "$v" "$a")
			[ -f "$f" ] && [ ! -L "$f" ] || fail "$f is missing"
			[ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$s" ] || fail "$f has the wrong sha256"
		done
}

step "the first fetch downloads them"
pool=$T/pool
expect_ok airlock-build fetch "$T/sub.lock" --pool "$pool"
check_pool "$T/sub.lock" "$pool"
[ "$(ls -A "$pool" | wc -l)" -eq 3 ] || fail "the pool holds other files: $(ls -A "$pool")"

step "the second fetches nothing"
first=$(echo "$names" | head -n1)
f1=$(ls "$pool"/"${first}"_*.deb)
before=$(stat -c '%i %Y' "$f1")
mkdir "$pool/.fetch-left-over"
out=$(expect_ok airlock-build fetch "$T/sub.lock" --pool "$pool")
echo "$out"
grep -q "nothing to fetch" <<<"$out" || fail "the second fetch did something"
[ "$(stat -c '%i %Y' "$f1")" = "$before" ] || fail "$f1 was replaced"
[ ! -e "$pool/.fetch-left-over" ] || fail "a left-over download directory stayed"
out=$(expect_ok airlock-build --quiet fetch "$T/sub.lock" --pool "$pool")
[ -z "$out" ] || fail "--quiet printed: $out"

step "a corrupt pool file is reported and replaced"
printf 'X' | dd of="$f1" bs=1 seek=200 conv=notrunc status=none
out=$(expect_ok airlock-build fetch "$T/sub.lock" --pool "$pool")
echo "$out"
grep -q "$(basename "$f1") .*has sha256 .*the lock pins .*corrupt" <<<"$out" ||
	fail "the corrupt file was not reported"
check_pool "$T/sub.lock" "$pool"
# a symlink in its place is not followed, and replaced too
mv "$f1" "$T/real.deb"
ln -s "$T/real.deb" "$f1"
expect_ok airlock-build fetch "$T/sub.lock" --pool "$pool" | grep "symbolic link" ||
	fail "the symlink was not reported"
check_pool "$T/sub.lock" "$pool"

step "a version the archive does not have: named, nothing substituted, the rest fetched"
second=$(echo "$names" | sed -n 2p)
sed "/^Package: $second\$/,/^\$/ s/^Version: .*/&~airlock.gone1/" "$T/sub.lock" >"$T/stale.lock"
gone=$(awk -v p="$second" '$0 == "Package: " p { getline; print $2 }' "$T/stale.lock")
pool2=$T/pool2
rc=0
out=$(airlock-build fetch "$T/stale.lock" --pool "$pool2" 2>&1) || rc=$?
echo "$out"
[ $rc -eq 3 ] || fail "exit status $rc, expected 3 (EXIT_STALE_LOCK)"
grep -qF "$second $gone (" <<<"$out" || fail "the stale package and version were not named"
grep -q "no longer in the archive" <<<"$out" || fail "no reason given"
grep -q "make lock" <<<"$out" || fail "re-locking was not suggested"
ls "$pool2" | grep -q "^${second}_" && fail "a version of $second was put in the pool"
for n in $names; do
	[ "$n" = "$second" ] || ls "$pool2"/"${n}"_*.deb >/dev/null || fail "$n was not fetched"
done

step "an archive file other than the locked one is refused"
sed "/^Package: $first\$/,/^\$/ s/^SHA256: .*/SHA256: $(printf '0%.0s' {1..64})/" "$T/sub.lock" \
	>"$T/other.lock"
pool3=$T/pool3
rc=0
out=$(airlock-build fetch "$T/other.lock" --pool "$pool3" 2>&1) || rc=$?
echo "$out"
[ $rc -eq 1 ] || fail "exit status $rc, expected 1"
grep -q "the archive's $first .* is not the one the lock pins" <<<"$out" || fail "not refused"
grep -q "the lock or the archive was altered" <<<"$out" || fail "no conclusion drawn"
ls "$pool3" | grep -q "^${first}_" && fail "$first was put in the pool"
step "without a network: each package named, nothing half-written"
if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
	pool4=$T/pool4
	rc=0
	out=$(unshare -n airlock-build fetch "$T/sub.lock" --pool "$pool4" 2>&1) || rc=$?
	echo "$out"
	[ $rc -eq 1 ] || fail "exit status $rc, expected 1"
	for n in $names; do
		grep -q "fetch: $n .* was not fetched: E: " <<<"$out" || fail "$n was not named"
	done
	grep -q "run fetch again" <<<"$out" || fail "no advice given"
	[ -z "$(ls -A "$pool4")" ] || fail "the pool is not empty: $(ls -A "$pool4")"
else
	echo "(not root or no unshare: the offline case is not tried)"
fi
echo "fetch behaved"
