#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# keygen -> release -> airlock-update verify of a good bundle, then every way a bundle
# must be refused, each with exit status 3 and its own reason: no signature, an
# unknown or revoked key, a manifest altered after signing, a flipped payload byte,
# truncation, extra, renamed and reordered members, links, devices, path tricks,
# oversize and undersize members, trailing data, non-POSIX and compressed archives,
# a replay, a downgrade, a running version below the floor, another product. The
# bundles are small fakes: what is checked is the container, not an image.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-update.sh"
need gpg tar gzip

A=$(update_key a)
B=$(update_key b)
ka=$T/keys/a/signing-key.pub.asc
kb=$T/keys/b/signing-key.pub.asc

step "a good bundle verifies"
fake_build "$T/v2" 1.0.1 1.0.0 airlock/x86-64 "$A"
good=$(release "$T/v2" a)
[ "$good" = "$T/v2/airlock-1.0.1.tar" ] || fail "release printed '$good'"
out=$(expect_ok verify "$good" "$ka" 1.0.0)
printf '%s\n' "$out"
grep -q "^signed by: $A" <<<"$out" || fail "verify does not name the signer"
grep -q '^verified: ' <<<"$out" || fail "verify does not say verified"
[ "$(grep -c ' ok, would go to ' <<<"$out")" = 4 ] || fail "verify does not list the four payload members"

# The members, for hand-made variants.
m=$T/v2/manifest.json
s=$T/v2/manifest.json.sig
r=$T/v2/root.squashfs
v=$T/v2/root.verity
u=$T/v2/uki.efi
b=$T/v2/sbom.spdx.json
tarpy "$T/same.tar" manifest.json="$m" manifest.json.sig="$s" root.squashfs="$r" \
	root.verity="$v" uki.efi="$u" sbom.spdx.json="$b"
expect_ok verify "$T/same.tar" "$ka" 1.0.0 >/dev/null # python's tar (zero-padded to a record) is fine

step "signatures"
tarpy "$T/nosig.tar" manifest.json="$m" root.squashfs="$r" root.verity="$v" uki.efi="$u" \
	sbom.spdx.json="$b"
refused no-signature "$T/nosig.tar" "$ka" 1.0.0
: >"$T/empty.sig"
tarpy "$T/emptysig.tar" manifest.json="$m" manifest.json.sig="$T/empty.sig" root.squashfs="$r" \
	root.verity="$v" uki.efi="$u" sbom.spdx.json="$b"
refused no-signature "$T/emptysig.tar" "$ka" 1.0.0
refused unknown-key "$good" "$kb" 1.0.0
head -c 200 /dev/urandom >"$T/junk.sig"
tarpy "$T/junksig.tar" manifest.json="$m" manifest.json.sig="$T/junk.sig" root.squashfs="$r" \
	root.verity="$v" uki.efi="$u" sbom.spdx.json="$b"
refused bad-signature "$T/junksig.tar" "$ka" 1.0.0

step "a manifest altered after signing"
sed 's/"min_version": "1.0.0"/"min_version": "0.0.1"/' "$m" >"$T/altered.json"
cmp -s "$m" "$T/altered.json" && fail "the manifest did not change"
tarpy "$T/altered.tar" manifest.json="$T/altered.json" manifest.json.sig="$s" root.squashfs="$r" \
	root.verity="$v" uki.efi="$u" sbom.spdx.json="$b"
refused bad-signature "$T/altered.tar" "$ka" 1.0.0

step "a revoked key"
g=$T/gpg-revoke
mkdir -m 700 "$g"
gpg --homedir "$g" --batch --quiet --import "$ka" "$T/keys/a/gnupg/openpgp-revocs.d/$A.rev" 2>/dev/null ||
	{ sed 's/^:-----/-----/' "$T/keys/a/gnupg/openpgp-revocs.d/$A.rev" >"$g/rev.asc" &&
		gpg --homedir "$g" --batch --quiet --import "$g/rev.asc"; }
gpg --homedir "$g" --batch --armor --export "$A" >"$T/revoked.asc"
gpgconf --homedir "$g" --kill all 2>/dev/null || true
refused revoked-key "$good" "$T/revoked.asc" 1.0.0

step "a flipped payload byte"
cp "$good" "$T/flipped.tar"
off=$(python3 -c 'import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    print([m for m in t.getmembers() if m.name == "root.squashfs"][0].offset_data + 1234)' "$good")
python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); c = f.read(1); f.seek(int(sys.argv[2]))
f.write(bytes([c[0] ^ 0x01]))' "$T/flipped.tar" "$off"
refused digest-mismatch "$T/flipped.tar" "$ka" 1.0.0

step "truncated bundles"
size=$(stat -c %s "$good")
for cut in 700 $((off + 100)) $((size - 1024)) $((size - 1)); do
	head -c "$cut" "$good" >"$T/cut.tar"
	refused truncated "$T/cut.tar" "$ka" 1.0.0
done

step "extra, renamed and reordered members"
printf 'extra' >"$T/extra"
tarpy "$T/extra.tar" manifest.json="$m" manifest.json.sig="$s" root.squashfs="$r" \
	root.verity="$v" uki.efi="$u" sbom.spdx.json="$b" extra="$T/extra"
refused extra-member "$T/extra.tar" "$ka" 1.0.0
tarpy "$T/middle.tar" manifest.json="$m" manifest.json.sig="$s" root.squashfs="$r" \
	extra="$T/extra" root.verity="$v" uki.efi="$u" sbom.spdx.json="$b"
refused unexpected-member "$T/middle.tar" "$ka" 1.0.0
tarpy "$T/renamed.tar" manifest.json="$m" manifest.json.sig="$s" root.squashfs="$r" \
	root.verity="$v" kernel.efi="$u" sbom.spdx.json="$b"
refused unexpected-member "$T/renamed.tar" "$ka" 1.0.0
tarpy "$T/order.tar" manifest.json="$m" manifest.json.sig="$s" root.verity="$v" \
	root.squashfs="$r" uki.efi="$u" sbom.spdx.json="$b"
refused unexpected-member "$T/order.tar" "$ka" 1.0.0
tarpy "$T/sigfirst.tar" manifest.json.sig="$s" manifest.json="$m" root.squashfs="$r" \
	root.verity="$v" uki.efi="$u" sbom.spdx.json="$b"
refused unexpected-member "$T/sigfirst.tar" "$ka" 1.0.0

step "links, devices, fifos and directories"
for spec in "root.squashfs->/dev/sda" "root.squashfs=>manifest.json" "root.squashfs:chr" \
	"root.squashfs:blk" "root.squashfs:fifo" "root.squashfs:dir"; do
	tarpy "$T/link.tar" manifest.json="$m" manifest.json.sig="$s" "$spec" \
		root.verity="$v" uki.efi="$u" sbom.spdx.json="$b"
	refused not-a-regular-file "$T/link.tar" "$ka" 1.0.0
done

step "member paths with '..' or '/'"
for name in ../root.squashfs /root.squashfs ./root.squashfs slot/root.squashfs; do
	tarpy "$T/path.tar" manifest.json="$m" manifest.json.sig="$s" "$name=$r" \
		root.verity="$v" uki.efi="$u" sbom.spdx.json="$b"
	refused bad-path "$T/path.tar" "$ka" 1.0.0
done
tarpy "$T/path.tar" ../manifest.json="$m" manifest.json.sig="$s"
refused bad-path "$T/path.tar" "$ka" 1.0.0

step "members larger or smaller than declared"
rs=$(stat -c %s "$r")
tarpy "$T/large.tar" manifest.json="$m" manifest.json.sig="$s" "root.squashfs@$((rs + 1))=$r" \
	root.verity="$v" uki.efi="$u" sbom.spdx.json="$b"
refused too-large "$T/large.tar" "$ka" 1.0.0
tarpy "$T/small.tar" manifest.json="$m" manifest.json.sig="$s" "root.squashfs@$((rs - 1))=$r" \
	root.verity="$v" uki.efi="$u" sbom.spdx.json="$b"
refused too-small "$T/small.tar" "$ka" 1.0.0
head -c $((5 * 1024 * 1024)) /dev/zero >"$T/huge.json"
tarpy "$T/huge.tar" manifest.json="$T/huge.json" manifest.json.sig="$s"
refused too-large "$T/huge.tar" "$ka" 1.0.0

step "trailing data, GNU and compressed archives"
{ cat "$good"; printf 'trailing garbage'; } >"$T/trailing.tar"
refused trailing-data "$T/trailing.tar" "$ka" 1.0.0
{ cat "$good"; head -c 20480 /dev/zero; } >"$T/zeros.tar"
refused trailing-data "$T/zeros.tar" "$ka" 1.0.0
mkdir "$T/gnu" && (cd "$T/v2" && tar --format=gnu -cf "$T/gnu.tar" manifest.json \
	manifest.json.sig root.squashfs root.verity uki.efi sbom.spdx.json)
refused malformed "$T/gnu.tar" "$ka" 1.0.0
gzip -c "$good" >"$T/good.tar.gz"
refused malformed "$T/good.tar.gz" "$ka" 1.0.0

step "a signed manifest that is not a valid manifest"
jq '.artifacts |= [.[1], .[0], .[2], .[3]]' "$m" >"$T/bad.json"
gpg --homedir "$T/keys/a/gnupg" --batch --quiet --pinentry-mode loopback --detach-sign \
	--output "$T/bad.json.sig" "$T/bad.json"
gpgconf --homedir "$T/keys/a/gnupg" --kill gpg-agent 2>/dev/null || true
tarpy "$T/badmanifest.tar" manifest.json="$T/bad.json" manifest.json.sig="$T/bad.json.sig" \
	root.squashfs="$r" root.verity="$v" uki.efi="$u" sbom.spdx.json="$b"
refused bad-manifest "$T/badmanifest.tar" "$ka" 1.0.0

step "versions, floor and product"
refused same-version "$good" "$ka" 1.0.1
refused downgrade "$good" "$ka" 1.0.2
refused downgrade "$good" "$ka" 2
fake_build "$T/v3" 2.0.0 1.5.0 airlock/x86-64 "$A"
v3=$(release "$T/v3" a)
refused below-floor "$v3" "$ka" 1.0.0
refused below-floor "$v3" "$ka" 1.4.99
expect_ok verify "$v3" "$ka" 1.5.0 >/dev/null
expect_ok verify "$v3" "$ka" 1.10 >/dev/null
# The version floor the TPM keeps: a bundle's security_version (0 here: not given) below it
out=$(airlock-update verify "$good" --keyring "$ka" --running-version 1.0.0 \
	--compatible airlock/x86-64 --version-floor 1 2>&1) && fail "verify below the version floor passed"
grep -q "refused (below-version-floor): manifest.json: version 1.0.1 has security version 0, below the version floor 1" <<<"$out" ||
	fail "below the version floor: $out"
echo "ok (refused as expected): $out"
airlock-update verify "$good" --keyring "$ka" --running-version 1.0.0 --compatible airlock/x86-64 \
	--version-floor 0 >/dev/null || fail "verify at the version floor 0 refused"
refused incompatible "$good" "$ka" 1.0.0 airlock/arm64
fake_build "$T/other" 1.0.1 1.0.0 other-product/x86-64 "$A"
refused incompatible "$(release "$T/other" a)" "$ka" 1.0.0

step "from a block device, with whatever follows the bundle on it"
if [ "$(id -u)" -eq 0 ] && losetup -f >/dev/null 2>&1; then
	{ cat "$good"; head -c 1048576 /dev/urandom; } >"$T/stick.img"
	truncate -s %1048576 "$T/stick.img"
	dev=$(losetup --find --show --read-only "$T/stick.img")
	on_exit "losetup -d '$dev'"
	expect_ok verify "$dev" "$ka" 1.0.0 | tail -n 1
	refused unknown-key "$dev" "$kb" 1.0.0
else
	echo "no loop device here (not root): the device case is covered by the e2e tests only"
fi

step "usage errors and an unreadable keyring are not refusals"
rc=0
airlock-update verify "$good" --keyring "$ka" --running-version x --compatible c >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "a bad --running-version gave exit $rc, expected 2"
rc=0
airlock-update verify "$good" --keyring "$T/nonexistent" --running-version 1 --compatible c \
	>/dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "a missing keyring gave exit $rc, expected 1"
gpg --homedir "$T/keys/a/gnupg" --batch --armor --export-secret-keys "$A" >"$T/secret.asc"
gpgconf --homedir "$T/keys/a/gnupg" --kill gpg-agent 2>/dev/null || true
expect_fail "holds a secret key" verify "$good" "$T/secret.asc" 1.0.0
