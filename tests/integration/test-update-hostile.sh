#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# What an outside review put in front of airlock-update verify, each refused with exit
# 3 and its reason (and each accepted before the fix): signatures by a revoked key or
# subkey, including an expired signature by a revoked key (gpg reports it as merely
# expired); bytes of any kind after the signature packets in manifest.json.sig, a key
# block there, armor; every tar dialect libarchive reads but a bundle is not (GNU 'L'
# 'K' 'V', global pax 'g', typeflags '7' and 'Z', base-256 numbers, GNU sparse 1.0, pax
# linkpath); a debug build offered to a system that is not one.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-update.sh"
need gpg

A=$(update_key a)
ka=$T/keys/a/signing-key.pub.asc
fake_build "$T/v2" 1.0.1 1.0.0 airlock/x86-64 "$A"
good=$(release "$T/v2" a)
m=$T/v2/manifest.json
s=$T/v2/manifest.json.sig
r=$T/v2/root.squashfs
v=$T/v2/root.verity
u=$T/v2/uki.efi
b=$T/v2/sbom.spdx.json
members() { # SIG [MANIFEST]
	echo "manifest.json=${2:-$m}" "manifest.json.sig=$1" "root.squashfs=$r" \
		"root.verity=$v" "uki.efi=$u" "sbom.spdx.json=$b"
}
forms() { python3 "$AIRLOCK_SRC/tests/integration/tarforms.py" "$@"; }

step "the strict tar form: ustar headers, and pax records the builder may write"
# shellcheck disable=SC2046
forms ustar "$T/ustar.tar" $(members "$s")
expect_ok verify "$T/ustar.tar" "$ka" 1.0.0 >/dev/null
# shellcheck disable=SC2046
forms pax-ok "$T/pax.tar" $(members "$s")
expect_ok verify "$T/pax.tar" "$ka" 1.0.0 >/dev/null

step "every other tar dialect is refused as malformed, naming the header"
for form in gnu-L gnu-K volume-V global-g contiguous-7 vendor-Z base256 gnu-sparse \
	pax-linkpath gnu-magic; do
	# shellcheck disable=SC2046
	forms "$form" "$T/$form.tar" $(members "$s")
	refused malformed "$T/$form.tar" "$ka" 1.0.0
done
# the same dialects on the first member, before any signature is checked
for form in gnu-L global-g contiguous-7 base256; do
	# shellcheck disable=SC2046
	forms --member=manifest.json "$form" "$T/first-$form.tar" $(members "$s")
	refused malformed "$T/first-$form.tar" "$ka" 1.0.0
done
out=$(verify "$T/contiguous-7.tar" "$ka" 1.0.0 2>&1) || true
grep -q "root.squashfs.*contiguous file ('7')" <<<"$out" ||
	fail "the refusal of a '7' member does not name the member and the header: $out"

step "manifest.json.sig is signature packets and nothing else"
for i in $(seq 1 24); do
	{ cat "$s"; head -c $((i * 7)) /dev/urandom; } >"$T/tail.sig"
	tarpy "$T/tail.tar" $(members "$T/tail.sig")
	refused bad-signature "$T/tail.tar" "$ka" 1.0.0 >/dev/null
done
echo "ok: 24 random tails after a good signature, each refused as bad-signature"
gpg --homedir "$T/keys/a/gnupg" --batch --export "$A" >"$T/key.gpg"
gpgconf --homedir "$T/keys/a/gnupg" --kill all 2>/dev/null || true
cat "$s" "$T/key.gpg" >"$T/sigkey.sig"
tarpy "$T/sigkey.tar" $(members "$T/sigkey.sig")
refused bad-signature "$T/sigkey.tar" "$ka" 1.0.0
tarpy "$T/key.tar" $(members "$T/key.gpg")
refused bad-signature "$T/key.tar" "$ka" 1.0.0
tarpy "$T/keyasc.tar" $(members "$ka")
refused bad-signature "$T/keyasc.tar" "$ka" 1.0.0
gpg --homedir "$T/keys/a/gnupg" --batch --quiet --pinentry-mode loopback --armor \
	--detach-sign --output "$T/armored.sig" "$m"
gpgconf --homedir "$T/keys/a/gnupg" --kill all 2>/dev/null || true
tarpy "$T/armored.tar" $(members "$T/armored.sig")
refused bad-signature "$T/armored.tar" "$ka" 1.0.0

step "a revoked key signs nothing, whether its signature expired or not"
g=$T/gx
mkdir -m 700 "$g"
gx() { gpg --homedir "$g" --batch --quiet --pinentry-mode loopback --passphrase '' "$@"; }
gx --faked-system-time 20200101T000000 \
	--quick-gen-key 'Airlock TEST-ONLY key X <test-only-x@airlock.invalid>' ed25519 sign never \
	2>/dev/null
X=$(gx --with-colons --list-keys | awk -F: '/^fpr/ {print $10; exit}')
gx --faked-system-time 20200601T000000 --default-sig-expire 1d --detach-sign \
	--output "$T/x-expired.sig" "$m" 2>/dev/null
gx --detach-sign --output "$T/x.sig" "$m"
gx --armor --export "$X" >"$T/x.asc"
sed 's/^:-----/-----/' "$g/openpgp-revocs.d/$X.rev" >"$g/rev.asc"
gx --import "$g/rev.asc" 2>/dev/null
gx --armor --export "$X" >"$T/x-revoked.asc"
gpgconf --homedir "$g" --kill all 2>/dev/null || true
tarpy "$T/x-expired.tar" $(members "$T/x-expired.sig")
tarpy "$T/x.tar" $(members "$T/x.sig")
refused revoked-key "$T/x-expired.tar" "$T/x-revoked.asc" 1.0.0
refused revoked-key "$T/x.tar" "$T/x-revoked.asc" 1.0.0
# revoked in the image's keyring, signed by an older bundle made before the revocation
refused revoked-key "$T/x.tar" "$T/x-revoked.asc" 1.0.0 airlock/x86-64
# expired but not revoked: no trusted clock, so expiry says nothing (airlock-update(8))
expect_ok verify "$T/x-expired.tar" "$T/x.asc" 1.0.0 >/dev/null
echo "ok: an expired signature by a key that is not revoked is accepted, as documented"

step "a debug build is refused unless the running image is one"
mkdir -p "$T/dbg" && cp "$r" "$v" "$u" "$b" "$T/dbg/"
jq '. + {debug: true}' "$m" >"$T/dbg/manifest.json"
dbg=$(release "$T/dbg" a --allow-debug)
refused debug-build "$dbg" "$ka" 1.0.0
expect_ok airlock-update verify "$dbg" --keyring "$ka" --running-version 1.0.0 \
	--compatible airlock/x86-64 --running-debug >/dev/null
echo "ok: the debug build verifies for a running debug build"
