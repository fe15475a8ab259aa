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
need airlock-build unshare setpriv veritysetup unsquashfs jq sha256sum gpg
need_root

step "build A: the shared default test image (scripts/image: as root, from the source tree)"
test_image default
A=$TEST_IMAGE_DIR
pool=$(test_pool)
# the lock scripts/image built from: the committed one, or a fresh one it made in A
lock=$AIRLOCK_SRC/manifests/airlock.lock
[ -f "$A/airlock.lock" ] && lock=$A/airlock.lock
name=$(jq -r .name "$A/manifest.json")
version=$(jq -r .version "$A/manifest.json")

step "build B: as nobody, from elsewhere, TZ=Pacific/Kiritimati LANG=de_DE.UTF-8 umask 077, no network"
# The same inputs as A: lock, pool, the TEST-ONLY Secure Boot key and update keys.
# nobody needs to read them and the sources, and write its output folder.
mkdir -p "$T/b-home" "$T/b-cwd" "$T/b-pool" "$T/b-keys"
cp -al "$pool"/. "$T/b-pool"/ 2>/dev/null || cp -a "$pool"/. "$T/b-pool"/
cp "$lock" "$T/b.lock"
cp "$A/keys/snakeoil.key" "$T/b-keys/sb.key"
cp "$A/keys/pcr-signing.key" "$T/b-keys/pcr.key"
cp -r "$A/keys/update-keys" "$T/b-keys/update-keys"
chmod -R a+rX "$T/b-pool" "$T/b.lock" "$T/b-keys"
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
		--secure-boot-key '$T/b-keys/sb.key' --secure-boot-cert /usr/share/ovmf/PkKek-1-snakeoil.pem \
		--pcr-key '$T/b-keys/pcr.key' --update-keys '$T/b-keys/update-keys' \
		--out '$T/b-cwd/out' --programs '$AIRLOCK_BUILD'") || fail "build B failed"

step "the artifacts are byte-identical"
for f in root.squashfs root.verity initramfs.img uki.efi manifest.json sbom.spdx.json \
	"$name-$version.img" SHA256SUMS; do
	[ -f "$A/$f" ] || fail "build A has no $f"
	a=$(sha256sum "$A/$f" | cut -d' ' -f1)
	b=$(sha256sum "$T/b-cwd/out/$f" | cut -d' ' -f1)
	printf '%-24s %s %s\n' "$f" "$a" "$([ "$a" = "$b" ] && echo identical || echo "DIFFERS: $b")"
	[ "$a" = "$b" ] || fail "$f differs between the two builds"
done
mkdir -p "$T/a"
for f in root.squashfs root.verity manifest.json sbom.spdx.json; do ln -s "$A/$f" "$T/a/$f"; done
lock_used=$lock

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
cmp <(unsquashfs -cat "$T/a/root.squashfs" usr/share/airlock/update-keys/test-only-development.asc) \
	"$A/keys/update-keys/test-only-development.asc" || fail "the image does not carry the update key"
mkdir -m 700 "$T/gnupg"
key_a=$(gpg --homedir "$T/gnupg" --batch --quiet --with-colons --show-keys \
	"$A/keys/update-keys/test-only-development.asc" 2>/dev/null | awk -F: '/^fpr:/ {print $10; exit}')
[ -n "$key_a" ] || fail "gpg cannot read the update key's fingerprint"
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
grep -qx "AIRLOCK_COMPATIBLE=$(jq -r .compatible "$T/a/manifest.json")" "$T/os-release" ||
	fail "os-release's AIRLOCK_COMPATIBLE is not the manifest's compatible"
unsquashfs -q -d "$T/db" "$T/a/root.squashfs" var/lib/dpkg >/dev/null
n_status=$(dpkg-query --admindir="$T/db/var/lib/dpkg" -W | wc -l)
n_lock=$(grep -c '^Package:' "$lock_used")
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
done < <(awk '/^Package:/ {n=$2} /^Version:/ {v=$2} /^SHA256:/ {print n, v, $2}' "$lock_used")
echo "reproducible: root.squashfs $(sha256sum "$T/a/root.squashfs" | cut -c1-64)"
