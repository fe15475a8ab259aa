#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# airlock-build keygen and release: the key directory (modes, no passphrase, nothing
# in ~/.gnupg, no agent left running, never overwritten), and the bundle release
# writes (member order and metadata, byte-identical for the same inputs and signing
# time, written atomically, never for artifacts that changed after the build or a
# manifest the appliance would refuse).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-update.sh"
need gpg faketime cmp

# gpg-agent for a key's home is gone (it may take a moment to exit once told to).
agent_gone() { # DIR
	local i
	for i in $(seq 30); do
		pgrep -f "gpg-agent --homedir $1" >/dev/null || return 0
		sleep 0.1
	done
	return 1
}

step "keygen: an Ed25519 key without passphrase, private to its directory"
export HOME=$T/home
mkdir -p "$HOME"
(umask 022 && airlock-build keygen --dir "$T/keys/a" --name "Airlock TEST-ONLY key A" \
	>"$T/keys-a.out" 2>"$T/keys-a.err") || { cat "$T/keys-a.err"; fail "keygen"; }
cat "$T/keys-a.err"
A=$(cat "$T/keys-a.out")
[[ $A =~ ^[0-9A-F]{40}$ ]] || fail "keygen printed '$A', not a fingerprint"
echo "$A" >"$T/keys/a.fpr"
[ -z "$(ls -A "$HOME")" ] || fail "keygen wrote into \$HOME: $(ls -A "$HOME")"
[ "$(stat -c %a "$T/keys/a")" = 700 ] || fail "the key directory is not 0700"
[ "$(stat -c %a "$T/keys/a/signing-key.pub.asc")" = 644 ] || fail "the public key is not 0644"
bad=$(find "$T/keys/a/gnupg" \( -type d ! -perm 700 \) -o \( -type f ! -perm 600 \))
[ -z "$bad" ] || fail "not private: $bad"
find "$T/keys/a" -name '*.key' -path '*private-keys-v1.d*' | grep -q . || fail "no secret key file"
[ -s "$T/keys/a/gnupg/openpgp-revocs.d/$A.rev" ] || fail "no revocation certificate"
ls -A "$T/keys" | grep -q '^\.keygen-' && fail "keygen left its temporary directory"
agent_gone "$T/keys/a" || fail "keygen left a gpg-agent running"
shown=$(gpg --batch --with-colons --show-keys "$T/keys/a/signing-key.pub.asc" 2>/dev/null)
grep -q "^fpr:::::::::$A:" <<<"$shown" || fail "the public key file is not key $A"
# pub:validity:bits:algo(22 = EdDSA):keyid:created:expires(empty = never):...:capabilities
awk -F: '/^pub/ {exit !($4 == 22 && $7 == "" && $12 ~ /s/)}' <<<"$shown" ||
	fail "not an Ed25519 signing key without expiry: $(grep ^pub <<<"$shown")"
grep -q 'Airlock TEST-ONLY key A' <<<"$shown" || fail "--name is not the user id"
grep -q PRIVATE "$T/keys/a/signing-key.pub.asc" && fail "the public key file holds a private key"

step "keygen never replaces a key; an empty directory is fine"
before=$(find "$T/keys/a" -type f -exec sha256sum {} + | sort)
expect_fail "not empty; refusing to replace a key" airlock-build keygen --dir "$T/keys/a"
[ "$before" = "$(find "$T/keys/a" -type f -exec sha256sum {} + | sort)" ] || fail "keygen changed an existing key"
ls -A "$T/keys" | grep -q '^\.keygen-' && fail "a refused keygen left its temporary directory"
mkdir "$T/keys/b"
B=$(airlock-build -q keygen --dir "$T/keys/b")
echo "$B" >"$T/keys/b.fpr"
[ -s "$T/keys/b/signing-key.pub.asc" ] || fail "keygen into an empty directory"
: >"$T/file"
expect_fail "not a directory" airlock-build keygen --dir "$T/file"

step "release: members in order, fixed owner, mode and mtime"
fake_build "$T/v2" 1.0.1 1.0.0 airlock/x86-64 "$A"
bundle=$(release "$T/v2" a --out "$T/out")
[ "$bundle" = "$T/out/airlock-1.0.1.tar" ] || fail "release printed '$bundle'"
python3 - "$bundle" <<'PY' || fail "the bundle's members are wrong"
import sys, tarfile
want = ["manifest.json", "manifest.json.sig", "root.squashfs", "root.verity", "uki.efi",
        "sbom.spdx.json"]
with tarfile.open(sys.argv[1]) as t:
    ms = t.getmembers()
    names = [m.name for m in ms]
    assert names == want, names
    for m in ms:
        assert m.isreg(), m.name
        assert (m.uid, m.gid, m.uname, m.gname) == (0, 0, "root", "root"), (m.name, m.uid, m.uname)
        assert m.mode == 0o644, (m.name, oct(m.mode))
        assert m.mtime == 1747699200, (m.name, m.mtime)
        assert not m.pax_headers, (m.name, m.pax_headers)
data = open(sys.argv[1], "rb").read()
assert data[257:263] == b"ustar\0", data[257:263]
print("members:", " ".join(names))
PY
mkdir "$T/x"
tar -xf "$bundle" -C "$T/x"
for f in manifest.json manifest.json.sig root.squashfs root.verity uki.efi sbom.spdx.json; do
	cmp "$T/x/$f" "$T/v2/$f" || fail "member $f differs from the build output"
done
agent_gone "$T/keys/a" || fail "release left a gpg-agent running"
gpg --batch --homedir "$T/keys/a/gnupg" --verify "$T/v2/manifest.json.sig" "$T/v2/manifest.json" 2>&1 |
	grep -q 'Good signature' || fail "gpg does not find manifest.json.sig good"
gpgconf --homedir "$T/keys/a/gnupg" --kill gpg-agent 2>/dev/null || true

step "release: byte-identical for the same inputs and signing time"
for d in r1 r2; do
	faketime -f "2031-02-03 04:05:06" airlock-build -q release "$T/v2" --key "$T/keys/a" \
		--out "$T/$d" >/dev/null || fail "release under faketime"
done
cmp "$T/r1/airlock-1.0.1.tar" "$T/r2/airlock-1.0.1.tar" || fail "two releases differ"
echo "identical: $(sha256sum <"$T/r1/airlock-1.0.1.tar" | cut -c1-64)"

step "release: nothing is written for a build that changed or does not verify"
cp -a "$T/v2" "$T/changed"
rm -f "$T/changed/manifest.json.sig" "$T/changed"/*.tar
python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(100); c = f.read(1); f.seek(100); f.write(bytes([c[0] ^ 1]))' \
	"$T/changed/uki.efi"
expect_fail "does not verify \(digest-mismatch\).*uki.efi" release "$T/changed" a
ls "$T/changed" | grep -E '\.tar|\.sig|^\.#' && fail "a refused release left files"
printf x >>"$T/changed/root.verity"
expect_fail "root.verity is 8193 bytes, manifest.json says 8192" release "$T/changed" a
truncate -s 8192 "$T/changed/root.verity"
rm "$T/changed/sbom.spdx.json"
expect_fail "sbom.spdx.json: No such file" release "$T/changed" a
fake_build "$T/nokey" 1.0.1 1.0.0 airlock/x86-64
jq '.trusted_keys = []' "$T/v2/manifest.json" >"$T/nokey/manifest.json"
expect_fail "trusted_keys: empty: the image would trust no update key" release "$T/nokey" a
jq 'del(.artifacts[2])' "$T/v2/manifest.json" >"$T/nokey/manifest.json"
expect_fail "artifacts: has 3 entries, expected 4" release "$T/nokey" a
expect_fail "0 secret keys|No such file" release "$T/v2" nonexistent
ls "$T/nokey" | grep -E '\.tar|\.sig|^\.#' && fail "a refused release left files"

step "release: a debug build only with --allow-debug"
fake_build "$T/dbg" 1.0.2 1.0.0 airlock/x86-64 "$A"
jq '.debug = true' "$T/dbg/manifest.json" >"$T/dbg/m" && mv "$T/dbg/m" "$T/dbg/manifest.json"
expect_fail "is a debug build .*not released without --allow-debug" release "$T/dbg" a
ls "$T/dbg" | grep -E '\.tar|\.sig' && fail "a refused debug release left files"
dbg=$(release "$T/dbg" a --allow-debug)
refused debug-build "$dbg" "$T/keys/a/signing-key.pub.asc" 1.0.0
airlock-update verify "$dbg" --keyring "$T/keys/a/signing-key.pub.asc" --running-version 1.0.0 \
	--compatible airlock/x86-64 --running-debug | grep -q '^WARNING: *a debug build' ||
	fail "verify does not point out a debug build"

step "release: an existing bundle is replaced only by a complete new one"
old=$(sha256sum <"$T/out/airlock-1.0.1.tar")
cp "$T/v2/uki.efi" "$T/uki.saved"
printf y >>"$T/v2/uki.efi"
expect_fail "uki.efi is 12346 bytes" release "$T/v2" a --out "$T/out"
[ "$old" = "$(sha256sum <"$T/out/airlock-1.0.1.tar")" ] || fail "a failed release changed the old bundle"
ls -A "$T/out" | grep -q '^\.#' && fail "a failed release left a temporary file"
mv "$T/uki.saved" "$T/v2/uki.efi"
expect_ok release "$T/v2" a --out "$T/out" >/dev/null
