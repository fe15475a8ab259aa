#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# lock against a small copy of the host's apt lists (the bookworm-updates suite): every
# compression apt may store an index in gives the same lock; an altered index, an
# altered or unsigned InRelease, a keyring without the signer, a signed Release put
# in place of another suite's, and ambiguous or missing lists are refused, each with
# a message naming the file and the reason.
source "$(dirname "$0")/../lib.sh"
need airlock-build lz4 gzip xz zstd bzip2 sha256sum

host=${AIRLOCK_TEST_LISTS:-/var/lib/apt/lists}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || skip "$keyring is missing (make deps)"
inrelease=$(ls "$host"/*_dists_bookworm-updates_InRelease 2>/dev/null | head -n1 || true)
[ -n "$inrelease" ] || skip "no bookworm-updates InRelease in $host (apt-get update)"
prefix=$(basename "$inrelease" InRelease)
index=$(ls "$host/${prefix}main_binary-amd64_Packages"* | head -n1)

lists=$T/lists
mkdir "$lists"
cp "$inrelease" "$lists/"
case $index in
*.lz4) lz4 -dc "$index" ;;
*.gz) gzip -dc "$index" ;;
*.xz) xz -dc "$index" ;;
*.zst) zstd -dc "$index" ;;
*) cat "$index" ;;
esac >"$T/Packages"
packages=$lists/${prefix}main_binary-amd64_Packages

# A package of that suite without dependencies, so that the suite alone resolves it.
pkg=$(awk 'BEGIN { RS = "" } !/\n(Pre-)?Depends:/ { sub(/^Package: /, ""); sub(/\n.*/, ""); print; exit }' "$T/Packages")
[ -n "$pkg" ] || skip "bookworm-updates has no package without dependencies today"

write_manifest() { # FILE KEYRING SUITE PACKAGES...
	local f=$1 k=$2 s=$3
	shift 3
	cat >"$f" <<EOM
[image]
name = t
version = 1
compatible = airlock/test
architecture = amd64

[archive]
suites = $s
components = main
keyring = $k

[packages]
include = $*
EOM
}
write_manifest "$T/t.manifest" "$keyring" bookworm-updates "$pkg"

step "each compression apt may use gives the same lock"
for c in none gz xz zst lz4 bz2; do
	rm -f "$packages"*
	case $c in
	none) cp "$T/Packages" "$packages" ;;
	gz) gzip -c "$T/Packages" >"$packages.gz" ;;
	xz) xz -c "$T/Packages" >"$packages.xz" ;;
	zst) zstd -q -c "$T/Packages" >"$packages.zst" ;;
	lz4) lz4 -q -c "$T/Packages" >"$packages.lz4" ;;
	bz2) bzip2 -c "$T/Packages" >"$packages.bz2" ;;
	esac
	expect_ok airlock-build lock "$T/t.manifest" --lists "$lists" --output "$T/$c.lock" >/dev/null
	grep -q "^Package: $pkg\$" "$T/$c.lock" || fail "$c: $pkg is not in the lock"
	cmp "$T/none.lock" "$T/$c.lock" || fail "the lock from a .$c index differs"
done
grep -q "^ bookworm-updates [0-9]* $(sha256sum "$inrelease" | cut -d' ' -f1)\$" "$T/none.lock" ||
	fail "the lock does not record the InRelease's sha256"

step "the manifest's [archive] lists is used without --lists"
sed -i "s|^keyring = .*|&\nlists = $lists|" "$T/t.manifest"
expect_ok airlock-build lock "$T/t.manifest" --output "$T/m.lock" >/dev/null
cmp "$T/none.lock" "$T/m.lock" || fail "[archive] lists gave another lock"
write_manifest "$T/t.manifest" "$keyring" bookworm-updates "$pkg"

step "one byte of the index changed"
rm -f "$packages"*
cp "$T/Packages" "$packages"
printf 'X' | dd of="$packages" bs=1 seek=100 conv=notrunc status=none
want=$(awk '$3 == "main/binary-amd64/Packages" && length($1) == 64 { print $1; exit }' "$inrelease")
expect_fail "$packages: the index does not match its signed hash.*expects sha256 $want" \
	airlock-build lock "$T/t.manifest" --lists "$lists" --output "$T/x.lock"
[ ! -e "$T/x.lock" ] || fail "a lock was written from an altered index"

step "two copies of the index"
cp "$T/Packages" "$packages"
gzip -c "$T/Packages" >"$packages.gz"
expect_fail "several Packages indexes for main/binary-amd64" \
	airlock-build lock "$T/t.manifest" --lists "$lists" --output "$T/x.lock"
rm -f "$packages.gz"

step "the signed text of the InRelease changed"
sed -i 's/^Suite: .*/&x/' "$lists/${prefix}InRelease"
expect_fail "${prefix}InRelease: signature refused: bad signature" \
	airlock-build lock "$T/t.manifest" --lists "$lists" --output "$T/x.lock"
cp "$inrelease" "$lists/"

step "a corrupted signature"
awk '/^-----BEGIN PGP SIGNATURE-----/ { s = NR } s && NR == s + 3 { $0 = (substr($0, 1, 10) == "AAAAAAAAAA" ? "BBBBBBBBBB" : "AAAAAAAAAA") substr($0, 11) } { print }' \
	"$inrelease" >"$lists/${prefix}InRelease"
expect_fail "${prefix}InRelease: signature refused: (bad|corrupt) signature" \
	airlock-build lock "$T/t.manifest" --lists "$lists" --output "$T/x.lock"

step "no signature at all"
sed -n '/^-----BEGIN PGP SIGNED MESSAGE-----/,/^-----BEGIN PGP SIGNATURE-----/p' "$inrelease" |
	sed '1,3d;$d' >"$lists/${prefix}InRelease"
expect_fail "${prefix}InRelease: signature refused: no OpenPGP signature" \
	airlock-build lock "$T/t.manifest" --lists "$lists" --output "$T/x.lock"
cp "$inrelease" "$lists/"

step "a keyring without the signer"
other=/usr/share/keyrings/debian-archive-bullseye-stable.gpg
[ -r "$other" ] || skip "$other is missing (debian-archive-keyring)"
write_manifest "$T/k.manifest" "$other" bookworm-updates "$pkg"
expect_fail "signature refused: signed only by key\(s\) not in keyring '$other': [0-9A-F]{40}" \
	airlock-build lock "$T/k.manifest" --lists "$lists" --output "$T/x.lock"

step "a signed Release standing in for another suite"
cp "$inrelease" "$lists/${prefix/bookworm-updates/bookworm-backports}InRelease"
cp "$packages" "$lists/${prefix/bookworm-updates/bookworm-backports}main_binary-amd64_Packages"
write_manifest "$T/b.manifest" "$keyring" bookworm-backports "$pkg"
expect_fail "is the signed Release of suite '.*' \(codename 'bookworm-updates'\), not of 'bookworm-backports'" \
	airlock-build lock "$T/b.manifest" --lists "$lists" --output "$T/x.lock"

step "a suite apt has not fetched, and one fetched from two mirrors"
write_manifest "$T/n.manifest" "$keyring" bookworm-nonesuch "$pkg"
expect_fail "no InRelease file for suite 'bookworm-nonesuch' in '$lists'" \
	airlock-build lock "$T/n.manifest" --lists "$lists" --output "$T/x.lock"
cp "$inrelease" "$lists/mirror.example_debian_dists_bookworm-updates_InRelease"
expect_fail "several InRelease files for suite 'bookworm-updates'" \
	airlock-build lock "$T/t.manifest" --lists "$lists" --output "$T/x.lock"
rm "$lists/mirror.example_debian_dists_bookworm-updates_InRelease"

step "a package the suite does not have names the manifest line"
write_manifest "$T/t.manifest" "$keyring" bookworm-updates "$pkg" airlock-no-such-package
expect_fail "airlock-no-such-package \($T/t.manifest:13\) is not available in bookworm-updates for amd64" \
	airlock-build lock "$T/t.manifest" --lists "$lists" --output "$T/x.lock"
[ ! -e "$T/x.lock" ] || fail "a lock was written although resolution failed"
echo "all refusals named their reason"
