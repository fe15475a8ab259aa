#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Makes the TEST-ONLY OpenPGP fixtures of tests/unit/test-sig.c (committed; run again
# only to replace them). Every key here is throwaway, has no passphrase and signs
# nothing but these files.
set -euo pipefail
cd "$(dirname "$0")"
home=$(mktemp -d)
trap 'gpgconf --homedir "$home" --kill all 2>/dev/null || true; rm -rf "$home"' EXIT
g() { gpg --homedir "$home" --batch --quiet --pinentry-mode loopback --passphrase '' "$@"; }

g --quick-gen-key 'Airlock TEST-ONLY key A <test-only-a@airlock.invalid>' ed25519 sign never
g --quick-gen-key 'Airlock TEST-ONLY key B <test-only-b@airlock.invalid>' ed25519 sign never
g --faked-system-time 20200101T000000 \
	--quick-gen-key 'Airlock TEST-ONLY key E, expired <test-only-e@airlock.invalid>' \
	ed25519 sign 2020-12-31
g --quick-gen-key 'Airlock TEST-ONLY key R, revoked <test-only-r@airlock.invalid>' ed25519 sign never

printf 'Origin: Airlock TEST-ONLY\nSuite: test\nDate: Sat, 11 Jul 2026 10:16:37 UTC\n' >data.txt
g --armor --export test-only-a@airlock.invalid >a.pub
g --armor --export test-only-b@airlock.invalid >b.pub
g --armor --export test-only-e@airlock.invalid >expired.pub

g --local-user test-only-a@airlock.invalid --clearsign --output signed-a.txt data.txt
g --local-user test-only-a@airlock.invalid --local-user test-only-b@airlock.invalid \
	--clearsign --output signed-ab.txt data.txt
g --local-user test-only-a@airlock.invalid --detach-sign --output data.txt.sig data.txt
g --faked-system-time 20200601T000000 --local-user test-only-e@airlock.invalid \
	--clearsign --output signed-expired.txt data.txt
g --local-user test-only-r@airlock.invalid --clearsign --output signed-revoked.txt data.txt
fpr=$(g --with-colons --list-keys test-only-r@airlock.invalid | awk -F: '/^fpr/ {print $10; exit}')
g --import "$home/openpgp-revocs.d/$fpr.rev" 2>/dev/null ||
	{ sed 's/^:-----/-----/' "$home/openpgp-revocs.d/$fpr.rev" >"$home/rev.asc" && g --import "$home/rev.asc"; }
g --armor --export test-only-r@airlock.invalid >revoked.pub
# Key X: its detached signatures of data.txt, one made in 2020 that expired a day later,
# one without expiry; x.pub before, x-revoked.pub after X's revocation.
g --faked-system-time 20200101T000000 \
	--quick-gen-key 'Airlock TEST-ONLY key X, revoked later <test-only-x@airlock.invalid>' \
	ed25519 sign never
g --faked-system-time 20200601T000000 --default-sig-expire 1d \
	--local-user test-only-x@airlock.invalid --detach-sign --output data.txt.x-expired.sig data.txt
g --local-user test-only-x@airlock.invalid --detach-sign --output data.txt.x.sig data.txt
g --armor --export test-only-x@airlock.invalid >x.pub
fpr=$(g --with-colons --list-keys test-only-x@airlock.invalid | awk -F: '/^fpr/ {print $10; exit}')
sed 's/^:-----/-----/' "$home/openpgp-revocs.d/$fpr.rev" >"$home/rev-x.asc"
g --import "$home/rev-x.asc"
g --armor --export test-only-x@airlock.invalid >x-revoked.pub
# Key S: a certify-only primary key whose signing subkey signs data.txt and is then revoked.
g --quick-gen-key 'Airlock TEST-ONLY key S, subkey revoked <test-only-s@airlock.invalid>' \
	ed25519 cert never
fpr=$(g --with-colons --list-keys test-only-s@airlock.invalid | awk -F: '/^fpr/ {print $10; exit}')
g --quick-add-key "$fpr" ed25519 sign never
g --local-user test-only-s@airlock.invalid --detach-sign --output data.txt.s.sig data.txt
g --armor --export test-only-s@airlock.invalid >s.pub
printf 'key 1\nrevkey\ny\n0\n\ny\nsave\n' |
	g --command-fd 0 --edit-key "$fpr" >/dev/null 2>&1
g --armor --export test-only-s@airlock.invalid >s-subkey-revoked.pub
g --with-colons --list-keys | awk -F: '/^fpr/ {print $10}' >fingerprints.txt
