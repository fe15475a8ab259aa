#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# airlock-build build refuses hostile packages and a bad pool, naming the package,
# the member or the expected sha256, and writes nothing outside its staging tree:
#  - a .deb with a '../' member, one with an absolute member, one that plants a
#    symlink and then writes through it, one with a hard link leaving the tree;
#  - a pool file that is missing, and one that was altered.
source "$(dirname "$0")/../lib.sh"
need airlock-build python3 sha256sum

mkdeb=$AIRLOCK_SRC/tests/integration/mkdeb.py
outside=$T/outside # where a naive extractor would write
mkdir -p "$outside" "$T/pool"

manifest_for() { # name -> manifest path
	cat >"$T/$1.manifest" <<EOM
[image]
name = refusals
version = 1
compatible = test/x86-64
architecture = amd64
[archive]
suites = bookworm
[packages]
include = $1
EOM
	echo "$T/$1.manifest"
}

lock_for() { # name deb -> lock path (the digest is manifest_lock_digest()'s formula)
	local name=$1 deb=$2 digest sha size
	digest=$(printf 'architecture=amd64\nsuites=bookworm\ncomponents=main\npackages=%s\n' "$name" |
		sha256sum | cut -d' ' -f1)
	sha=$(sha256sum "$deb" | cut -d' ' -f1)
	size=$(stat -c %s "$deb")
	cat >"$T/$name.lock" <<EOL
Format: airlock-lock 1
Image: refusals
Architecture: amd64
Manifest-Digest: $digest
Source-Date-Epoch: 1700000000
Suites:
 bookworm 1700000000 $(printf '0%.0s' $(seq 64))

Package: $name
Version: 1.0
Architecture: all
Source: $name
Source-Version: 1.0
Suite: bookworm
Filename: pool/main/t/$name/${name}_1.0_all.deb
Size: $size
SHA256: $sha
EOL
	echo "$T/$name.lock"
}

build() { # name -> runs the build of that one-package image
	airlock-build build "$T/$1.manifest" --lock "$T/$1.lock" --pool "$T/pool" --out "$T/out-$1" --unsigned
}

hostile() { # name regex member...
	local name=$1 regex=$2
	shift 2
	python3 "$mkdeb" "$T/pool/${name}_1.0_all.deb" "$name" 1.0 'dir:./' "$@"
	manifest_for "$name" >/dev/null
	lock_for "$name" "$T/pool/${name}_1.0_all.deb" >/dev/null
	expect_fail "$regex" build "$name"
	# Nothing escaped, and the failed build left no staging tree behind.
	[ -z "$(ls -A "$outside")" ] || fail "$name: something was written to $outside: $(ls -A "$outside")"
	[ -z "$(find "$T/out-$name" -mindepth 1 2>/dev/null)" ] ||
		fail "$name: the failed build left files: $(find "$T/out-$name" -mindepth 1 | head)"
}

touch "$T/marker"
step "a member with '..'"
hostile dotdot "package dotdot 1.0: member '\./\.\./\.\./[^']*' contains a '\.\.' component" \
	"file:./../..$outside/dotdot=boom"
step "an absolute member"
hostile absolute "package absolute 1.0: member '$outside/abs' is an absolute path" \
	'file:./usr/share/ok=fine' "file:$outside/abs=boom"
step "a symlink, then a member written through it"
hostile symlink "package symlink 1.0: member '\./evil/pwned': 'evil/pwned' would be written through the symlink '/evil' -> '$outside'" \
	"link:./evil=$outside" 'file:./evil/pwned=boom'
step "a relative symlink leaving the tree, then a member through it"
hostile symlink2 "would be written through the symlink '/usr/lib/up'" \
	'dir:./usr' 'dir:./usr/lib' 'link:./usr/lib/up=../../../..' 'file:./usr/lib/up/tmp/pwned=boom'
step "a hard link to a file outside the tree"
hostile hardlink "package hardlink 1.0: member '\./x' is a hard link whose target '\.\./\.\./etc/passwd' contains a '\.\.' component" \
	'hard:./x=../../etc/passwd'
step "a hard link to a file of the image that this package did not ship"
hostile hardlink2 "is a hard link to '\./etc/shadow', which is not an earlier regular file of this package" \
	'hard:./x=./etc/shadow'
[ -z "$(find /tmp /var/tmp "$AIRLOCK_SRC" -xdev -newer "$T/marker" -name pwned 2>/dev/null | head -1)" ] ||
	fail "a file named pwned appeared outside the staging tree"

step "a pool file that is missing"
python3 "$mkdeb" "$T/good.deb" good 1.0 'dir:./' 'file:./usr/share/good=good'
manifest_for good >/dev/null
lock_for good "$T/good.deb" >/dev/null
sha=$(sha256sum "$T/good.deb" | cut -d' ' -f1)
expect_fail "package good 1\.0 is missing from the pool: $T/pool/good_1\.0_all\.deb \(expected sha256 $sha\)" build good

step "a pool file that was altered"
cp "$T/good.deb" "$T/pool/good_1.0_all.deb"
printf 'X' | dd of="$T/pool/good_1.0_all.deb" bs=1 seek=200 conv=notrunc status=none
expect_fail "package good 1\.0: $T/pool/good_1\.0_all\.deb has sha256 [0-9a-f]{64}, the lock pins $sha" build good
[ ! -e "$T/out-good/root.squashfs" ] || fail "a root.squashfs was written despite the bad pool"

step "a lock made for another package list"
sed -i 's/^include = good$/include = good other/' "$T/good.manifest"
expect_fail "good\.lock was made for another package list than .*good\.manifest has now.*make lock" build good
echo "all refusals named what was wrong"
