#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Key rotation (airlock-update(8), "Key rotation"): an appliance on v1 trusts key A;
# v2 trusts key B and is released with --key B --rotate-from A, so v1 accepts it and,
# once on v2, only B counts. An update signed by a key nobody trusts is refused, and
# release refuses to sign an image with a key that image would not trust. Then the
# clock: an appliance whose clock is decades behind or ahead accepts the same
# bundles (keys "from the future", expired keys), and refuses the same ones.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib-update.sh"
need faketime gpg

A=$(update_key a)
B=$(update_key b)
C=$(update_key c)
ka=$T/keys/a/signing-key.pub.asc
kb=$T/keys/b/signing-key.pub.asc

step "v2 moves the trust from A to B and is co-signed by A"
fake_build "$T/v2" 2.0.0 1.0.0 airlock/x86-64 "$B"
v2=$(release "$T/v2" b --rotate-from "$T/keys/a")
out=$(expect_ok verify "$v2" "$ka" 1.0.0)
grep -q "^signed by: $A" <<<"$out" || fail "v1 (trusting A) should accept v2 by A's signature"
grep -q "^trusts:    $B " <<<"$out" || fail "verify does not say that v2 trusts B"
out=$(expect_ok verify "$v2" "$kb" 1.0.0)
grep -q "^signed by: $B" <<<"$out" || fail "B's own signature on v2 does not verify"

step "v3 is signed by B alone: v1 refuses it, v2 accepts it"
fake_build "$T/v3" 3.0.0 1.0.0 airlock/x86-64 "$B"
v3=$(release "$T/v3" b)
refused unknown-key "$v3" "$ka" 1.0.0
expect_ok verify "$v3" "$kb" 2.0.0 >/dev/null

step "an update signed by a key nobody trusts"
fake_build "$T/evil" 9.0.0 0 airlock/x86-64 "$C"
evil=$(release "$T/evil" c)
refused unknown-key "$evil" "$ka" 1.0.0
refused unknown-key "$evil" "$kb" 2.0.0

step "a transitional key set (A and B) as a directory of keys"
mkdir "$T/both"
cp "$ka" "$T/both/a.asc"
cp "$kb" "$T/both/b.asc"
fake_build "$T/t" 2.1.0 1.0.0 airlock/x86-64 "$A" "$B"
t=$(release "$T/t" a)
expect_ok verify "$t" "$T/both" 2.0.0 >/dev/null
expect_ok verify "$t" "$ka" 2.0.0 >/dev/null
refused unknown-key "$t" "$kb" 2.0.0
expect_ok verify "$v3" "$T/both" 2.1.0 >/dev/null
mkdir "$T/nokeys"
expect_fail "holds no key file" verify "$v3" "$T/nokeys" 2.1.0

step "release refuses an image that would not trust its own signing key"
fake_build "$T/strand" 4.0.0 1.0.0 airlock/x86-64 "$B"
expect_fail "does not trust its own signing key $A" release "$T/strand" a
[ ! -e "$T/strand/airlock-4.0.0.tar" ] && [ ! -e "$T/strand/manifest.json.sig" ] ||
	fail "a refused release left files behind"
expect_fail "does not trust its own signing key" release "$T/strand" a --rotate-from "$T/keys/b"
expect_fail "is given twice" release "$T/strand" b --rotate-from "$T/keys/b"

step "the clock does not matter: 1971 and 2300"
for when in "1971-01-01 00:00:00" "2300-01-01 00:00:00"; do
	out=$(expect_ok faketime -f "$when" airlock-update verify "$v2" --keyring "$ka" \
		--running-version 1.0.0 --compatible airlock/x86-64)
	grep -q '^verified: ' <<<"$out" || fail "verify at $when did not verify"
	rc=0
	out=$(faketime -f "$when" airlock-update verify "$evil" --keyring "$ka" \
		--running-version 1.0.0 --compatible airlock/x86-64 2>&1) || rc=$?
	[ $rc -eq 3 ] && grep -q 'refused (unknown-key)' <<<"$out" ||
		{ printf '%s\n' "$out"; fail "at $when, a bundle by an unknown key was not refused"; }
	echo "at $when: accepted and refused as now"
done

step "an expired key's signature still counts (expiry is a statement about the clock)"
g=$T/expiring
mkdir -m 700 "$g"
gx() { gpg --homedir "$g" --batch --quiet --pinentry-mode loopback --passphrase '' "$@"; }
gx --faked-system-time 20200101T000000 --quick-gen-key \
	'Airlock TEST-ONLY expiring key <test-only-e@airlock.invalid>' ed25519 sign 2020-12-31
E=$(gx --with-colons --list-keys | awk -F: '/^fpr/ {print $10; exit}')
gx --armor --export "$E" >"$T/expiring.asc"
fake_build "$T/e" 2.0.0 1.0.0 airlock/x86-64 "$E"
gx --faked-system-time 20200601T000000 --local-user "$E" --detach-sign \
	--output "$T/e/manifest.json.sig" "$T/e/manifest.json"
gpgconf --homedir "$g" --kill all 2>/dev/null || true
tarpy "$T/expired.tar" manifest.json="$T/e/manifest.json" manifest.json.sig="$T/e/manifest.json.sig" \
	root.squashfs="$T/e/root.squashfs" root.verity="$T/e/root.verity" uki.efi="$T/e/uki.efi" \
	sbom.spdx.json="$T/e/sbom.spdx.json"
gpg --batch --homedir "$g" --verify "$T/e/manifest.json.sig" "$T/e/manifest.json" 2>&1 |
	grep -q 'expired' || fail "the test key did not expire; the test proves nothing"
gpgconf --homedir "$g" --kill all 2>/dev/null || true
expect_ok verify "$T/expired.tar" "$T/expiring.asc" 1.0.0 | grep '^signed by'
