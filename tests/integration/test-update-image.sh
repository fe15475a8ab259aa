#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Releases an image and verifies the bundle as an appliance would, then checks that
# what streamed out is the image: the extracted root.squashfs and root.verity verify
# with veritysetup against the signed manifest's root hash. The image is the default
# one (tests/lib.sh test_image), its manifest given this test's TEST-ONLY key.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-update.sh"
need veritysetup jq tar

A=$(update_key a)
img=$T/img
mkdir -p "$img"

step "the default image (the shared test image)"
test_image default
out=$TEST_IMAGE_DIR
for f in root.squashfs root.verity sbom.spdx.json uki.efi; do
	ln "$out/$f" "$img/$f" 2>/dev/null || cp "$out/$f" "$img/$f"
done
# This test's TEST-ONLY key signs the release: the manifest trusts it.
jq --arg k "$A" '.trusted_keys = [$k]' "$out/manifest.json" >"$img/manifest.json"
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
