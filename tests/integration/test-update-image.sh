#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Releases an image and verifies the bundle as an appliance would, then checks that
# what streamed out is the image: the extracted root.squashfs and root.verity verify
# with veritysetup against the signed manifest's root hash. The image is the default
# one when out/ holds a build of it (make image; its manifest is given this test's
# TEST-ONLY key, and a stand-in uki.efi until build writes one), else a small real
# squashfs + dm-verity image made here, so that the test always runs.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-update.sh"
need veritysetup mksquashfs

A=$(update_key a)
img=$T/img
mkdir -p "$img"
out=${AIRLOCK_OUT:-$AIRLOCK_SRC/out}

if [ -f "$out/manifest.json" ] && [ -f "$out/root.squashfs" ] && [ -f "$out/root.verity" ] &&
	[ -f "$out/sbom.spdx.json" ]; then
	step "the default image in $out"
	for f in root.squashfs root.verity sbom.spdx.json uki.efi; do
		[ -f "$out/$f" ] && { ln "$out/$f" "$img/$f" 2>/dev/null || cp "$out/$f" "$img/$f"; }
	done
	if ! jq -e '[.artifacts[].name] | index("uki.efi")' "$out/manifest.json" >/dev/null; then
		echo "manifest.json lists no uki.efi yet: a stand-in takes its place"
		fake_bytes uki 40000 >"$img/uki.efi"
		jq --arg sha "$(sha256sum <"$img/uki.efi" | cut -c1-64)" --argjson size 40000 \
			'.artifacts = [(.artifacts[] | select(.name == "root.squashfs" or .name == "root.verity")),
				{name: "uki.efi", size: $size, sha256: $sha},
				(.artifacts[] | select(.name == "sbom.spdx.json"))]' \
			"$out/manifest.json" >"$img/manifest.json.1"
	else
		cp "$out/manifest.json" "$img/manifest.json.1"
	fi
	jq --arg k "$A" '.trusted_keys = [$k]' "$img/manifest.json.1" >"$img/manifest.json"
	rm "$img/manifest.json.1"
else
	step "no default image in $out (make image): a small squashfs + dm-verity image"
	mkdir -p "$T/tree/usr/lib" "$T/tree/etc"
	printf 'ID=airlock\nIMAGE_ID=airlock\nIMAGE_VERSION=1.0.1\n' >"$T/tree/usr/lib/os-release"
	fake_bytes tree 3000000 >"$T/tree/usr/lib/blob"
	mksquashfs "$T/tree" "$img/root.squashfs" -noappend -all-root -mkfs-time 0 -all-time 0 \
		-comp zstd -quiet >/dev/null
	truncate -s %4096 "$img/root.squashfs"
	fake_build "$T/fake" 1.0.1 1.0.0 airlock/x86-64 "$A"
	cp "$T/fake/uki.efi" "$T/fake/sbom.spdx.json" "$img/"
	hash=$(veritysetup format "$img/root.squashfs" "$img/root.verity" \
		--salt=0000000000000000000000000000000000000000000000000000000000000001 |
		sed -n 's/^Root hash:[[:space:]]*//p')
	python3 - "$img" "$hash" "$T/fake/manifest.json" <<'PY'
import hashlib, json, os, sys
d, root_hash, fake = sys.argv[1], sys.argv[2], sys.argv[3]
m = json.load(open(fake))
def art(n):
    b = open(os.path.join(d, n), "rb").read()
    return {"name": n, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()}
m["artifacts"] = [art(n) for n in ("root.squashfs", "root.verity", "uki.efi", "sbom.spdx.json")]
m["verity"]["root_hash"] = root_hash
m["verity"]["data_blocks"] = os.path.getsize(os.path.join(d, "root.squashfs")) // 4096
open(os.path.join(d, "manifest.json"), "w").write(json.dumps(m, indent=2) + "\n")
PY
fi
version=$(jq -r .version "$img/manifest.json")
root_hash=$(jq -r .verity.root_hash "$img/manifest.json")
echo "image: $(jq -r '.name + " " + .version' "$img/manifest.json"), root.squashfs $(stat -c %s "$img/root.squashfs") bytes"

step "release and verify"
# The running version: the floor, which must be older than the image's version (the
# default manifest's floor is its own version: this test's copy lowers it).
if [ "$(jq -r .min_version "$img/manifest.json")" = "$version" ]; then
	jq '.min_version = "0"' "$img/manifest.json" >"$img/manifest.json.1"
	mv "$img/manifest.json.1" "$img/manifest.json"
fi
running=$(jq -r .min_version "$img/manifest.json")
compatible=$(jq -r .compatible "$img/manifest.json")
bundle=$(release "$img" a)
out=$(expect_ok verify "$bundle" "$T/keys/a/signing-key.pub.asc" "$running" "$compatible")
printf '%s\n' "$out"
refused same-version "$bundle" "$T/keys/a/signing-key.pub.asc" "$version" "$compatible"

step "what streamed out is the image: dm-verity checks it against the signed root hash"
mkdir "$T/x"
tar -xf "$bundle" -C "$T/x" root.squashfs root.verity
expect_ok veritysetup verify "$T/x/root.squashfs" "$T/x/root.verity" "$root_hash"
echo "verity: root hash $root_hash verified"
