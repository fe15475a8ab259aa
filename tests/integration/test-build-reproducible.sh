#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Two builds of the default manifest are byte-identical although the second runs
# as another user, from another working directory, into another output folder,
# with another TZ, LANG, umask and HOME, and without any network (unshare -n).
# Then: the image verifies with veritysetup against manifest.json's root hash and
# stops verifying when one byte changes; it holds what an appliance needs; the
# manifest and SBOM carry what they must.
source "$(dirname "$0")/../lib.sh"
need airlock-build unshare setpriv veritysetup unsquashfs jq sha256sum
need_root

lock=$(test_lock)
pool=$(test_pool)
# The update keys the image trusts: the TEST-ONLY key A of tests/data/sig.
keys=$T/update-keys
mkdir -p "$keys"
cp "$AIRLOCK_SRC/tests/data/sig/a.pub" "$keys/test-only-a.asc"
key_a=$(head -n1 "$AIRLOCK_SRC/tests/data/sig/fingerprints.txt")

step "build A: as root, from the source tree, TZ=UTC, umask 022"
(cd "$AIRLOCK_SRC" && umask 022 && TZ=UTC LANG=C.UTF-8 \
	airlock-build -q build manifests/airlock.manifest --lock "$lock" --pool "$pool" \
	--update-keys "$keys" --out "$T/a")

step "build B: as nobody, from elsewhere, TZ=Pacific/Kiritimati LANG=de_DE.UTF-8 umask 077, no network"
# nobody needs to read the pool and the sources, and write its output folder.
mkdir -p "$T/b-home" "$T/b-cwd" "$T/b-pool"
cp -al "$pool"/. "$T/b-pool"/ 2>/dev/null || cp -a "$pool"/. "$T/b-pool"/
cp "$lock" "$T/b.lock"
chmod -R a+rX "$T/b-pool" "$T/b.lock" "$keys"
chown nobody "$T/b-home" "$T/b-cwd"
chmod 755 "$T"
src_ok=1
setpriv --reuid=nobody --regid=nogroup --clear-groups test -r "$AIRLOCK_SRC/manifests/airlock.manifest" || src_ok=0
[ $src_ok = 1 ] || skip "user nobody cannot read $AIRLOCK_SRC (make the checkout world-readable)"
(cd "$T/b-cwd" && unshare -n -- setpriv --reuid=nobody --regid=nogroup --clear-groups \
	env -i PATH=/usr/bin:/bin HOME="$T/b-home" TZ=Pacific/Kiritimati LANG=de_DE.UTF-8 \
	LC_ALL=de_DE.UTF-8 USER=nobody \
	sh -c "umask 077 && exec '$AIRLOCK_BUILD/airlock-build' -q build \
		'$AIRLOCK_SRC/manifests/airlock.manifest' --lock '$T/b.lock' --pool '$T/b-pool' \
		--update-keys '$keys' --out '$T/b-cwd/out' --programs '$AIRLOCK_BUILD'")

step "the artifacts are byte-identical"
for f in root.squashfs root.verity manifest.json sbom.spdx.json; do
	a=$(sha256sum "$T/a/$f" | cut -d' ' -f1)
	b=$(sha256sum "$T/b-cwd/out/$f" | cut -d' ' -f1)
	printf '%-16s %s %s\n' "$f" "$a" "$([ "$a" = "$b" ] && echo identical || echo "DIFFERS: $b")"
	[ "$a" = "$b" ] || fail "$f differs between the two builds"
done

step "veritysetup verifies the image against manifest.json's root hash"
root_hash=$(jq -r .verity.root_hash "$T/a/manifest.json")
salt=$(jq -r .verity.salt "$T/a/manifest.json")
expect_ok veritysetup verify "$T/a/root.squashfs" "$T/a/root.verity" "$root_hash"
[ "$(veritysetup dump "$T/a/root.verity" | awk '/^Salt:/ {print $2}')" = "$salt" ] ||
	fail "the hash tree's salt is not manifest.json's"
for f in root.squashfs root.verity; do
	a=$(jq -r --arg f "$f" '.artifacts[] | select(.name == $f) | .sha256' "$T/a/manifest.json")
	[ "$a" = "$(sha256sum "$T/a/$f" | cut -d' ' -f1)" ] || fail "manifest.json's sha256 of $f is wrong"
done

step "one flipped byte of root.squashfs makes verification fail"
cp "$T/a/root.squashfs" "$T/flipped.squashfs"
size=$(stat -c %s "$T/flipped.squashfs")
offset=$((size / 2 + 123))
byte=$(od -An -tu1 -j "$offset" -N1 "$T/flipped.squashfs" | tr -d ' ')
printf "$(printf '\\%03o' $(((byte + 1) % 256)))" |
	dd of="$T/flipped.squashfs" bs=1 seek="$offset" conv=notrunc status=none
cmp -s "$T/a/root.squashfs" "$T/flipped.squashfs" && fail "the byte did not change"
expect_fail "Verification failed|verification failed" veritysetup verify "$T/flipped.squashfs" \
	"$T/a/root.verity" "$root_hash"

step "the image holds what an appliance needs"
listing=$(unsquashfs -lls "$T/a/root.squashfs")
for p in usr/lib/systemd/systemd usr/sbin/haproxy usr/bin/qemu-system-x86_64 etc/os-release \
	etc/machine-id etc/passwd etc/shadow var/lib/dpkg/status usr/bin/airlock-ledger; do
	grep -qE " squashfs-root/$p( |$)" <<<"$listing" || fail "/$p is not in the image"
done
cmp <(unsquashfs -cat "$T/a/root.squashfs" usr/share/airlock/update-keys/test-only-a.asc) \
	"$keys/test-only-a.asc" || fail "the image does not carry the update key"
jq -e --arg k "$key_a" '.trusted_keys == [$k]' "$T/a/manifest.json" >/dev/null ||
	fail "manifest.json's trusted_keys is not [$key_a]"
for d in bin sbin lib lib64; do
	grep -qE "^l.* squashfs-root/$d -> usr/$d$" <<<"$listing" || fail "/$d is not a symlink to usr/$d"
done
grep -qE '^-r--r--r-- root/root +0 .* squashfs-root/etc/machine-id$' <<<"$listing" ||
	fail "/etc/machine-id is not an empty read-only file"
unsquashfs -cat "$T/a/root.squashfs" usr/lib/os-release >"$T/os-release"
grep -qx 'IMAGE_ID=airlock' "$T/os-release" || fail "os-release has no IMAGE_ID"
grep -qx "IMAGE_VERSION=$(jq -r .version "$T/a/manifest.json")" "$T/os-release" ||
	fail "os-release's IMAGE_VERSION is not the manifest's version"
unsquashfs -q -d "$T/db" "$T/a/root.squashfs" var/lib/dpkg >/dev/null
n_status=$(dpkg-query --admindir="$T/db/var/lib/dpkg" -W | wc -l)
n_lock=$(grep -c '^Package:' "$lock")
[ "$n_status" = "$n_lock" ] || fail "the dpkg database lists $n_status packages, the lock $n_lock"
dpkg --admindir="$T/db/var/lib/dpkg" --audit >"$T/audit" 2>&1 || true
[ ! -s "$T/audit" ] || { cat "$T/audit"; fail "dpkg --audit complains about the image's database"; }

step "manifest.json and the SBOM"
jq -e '.name == "airlock" and (.packages | length) > 100 and .verity.data_block_size == 4096
	and .verity.hash_block_size == 4096 and (.source_date_epoch | type) == "number"
	and (.verity.salt | length) == 64' "$T/a/manifest.json" >/dev/null ||
	fail "manifest.json lacks fields"
[ "$(jq '.packages | length' "$T/a/manifest.json")" = "$n_lock" ] || fail "manifest.json's package list is not the lock's"
jq -e '.spdxVersion == "SPDX-2.3" and .dataLicense == "CC0-1.0" and .SPDXID == "SPDXRef-DOCUMENT"
	and (.documentNamespace | startswith("https://")) and (.creationInfo.created | test("Z$"))
	and (.creationInfo.creators | length) > 0
	and ([.packages[] | select(.SPDXID and .name and .downloadLocation and (.filesAnalyzed == false))] | length) == (.packages | length)
	and ([.relationships[] | select(.relationshipType == "DESCRIBES")] | length) == 1' \
	"$T/a/sbom.spdx.json" >/dev/null || fail "the SBOM misses required SPDX 2.3 fields"
while read -r name version sha; do
	jq -e --arg n "$name" --arg v "$version" --arg s "$sha" \
		'[.packages[] | select(.name == $n and .versionInfo == $v and .checksums[0].checksumValue == $s)] | length == 1' \
		"$T/a/sbom.spdx.json" >/dev/null || fail "the SBOM lacks $name $version ($sha)"
done < <(awk '/^Package:/ {n=$2} /^Version:/ {v=$2} /^SHA256:/ {print n, v, $2}' "$lock")
echo "reproducible: root.squashfs $(sha256sum "$T/a/root.squashfs" | cut -c1-64)"
