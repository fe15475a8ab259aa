#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The built UKI's PCR 11 signature (airlock-build --pcr-key): .pcrpkey is the image's
# PCR key, .pcrsig is byte-identical to what systemd 252's own systemd-measure signs for
# the sections the UKI really carries (read back from the signed UKI), and its
# signature verifies with openssl. A UKI built without --pcr-key carries neither, and
# bad keys are refused with the file named.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/swtpm.sh"

MEASURE=/usr/lib/systemd/systemd-measure
[ -x "$MEASURE" ] || skip "$MEASURE (systemd 252) is not installed"
need airlock-build openssl jq python3 swtpm
test_image default
B=$TEST_IMAGE_DIR
cd "$T"

# sections UKI DIR: each PE section's VirtualSize bytes into DIR/<name without the dot>
sections() {
	python3 - "$1" "$2" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
pe = struct.unpack_from("<I", data, 0x3C)[0]
n, = struct.unpack_from("<H", data, pe + 6)
opt, = struct.unpack_from("<H", data, pe + 20)
for i in range(n):
    h = pe + 24 + opt + 40 * i
    name = data[h:h + 8].rstrip(b"\0").decode()
    vsize, _, rsize, roff = struct.unpack_from("<IIII", data, h + 8)
    body = data[roff:roff + min(vsize, rsize)] + b"\0" * max(0, vsize - rsize)
    open(sys.argv[2] + "/" + name.lstrip("."), "wb").write(body)
EOF
}

step "the default image's UKI carries .pcrpkey and .pcrsig"
mkdir s
sections "$B/uki.efi" s
for f in pcrpkey pcrsig linux osrel cmdline initrd; do
	[ -s "s/$f" ] || fail "uki.efi has no .$f section"
done
openssl pkey -in "$B/keys/pcr-signing.key" -pubout -out pcr.pem
cmp s/pcrpkey pcr.pem || fail ".pcrpkey is not the public part of keys/pcr-signing.key"
cat s/pcrsig

step ".pcrsig is byte-identical to systemd-measure sign --phase= over the UKI's sections"
swtpm_start "$T/tpm"
"$MEASURE" sign --linux=s/linux --osrel=s/osrel --cmdline=s/cmdline --initrd=s/initrd \
	--pcrpkey=s/pcrpkey --bank=sha256 --phase= --private-key="$B/keys/pcr-signing.key" \
	--public-key=pcr.pem --tpm2-device="$SWTPM_TCTI" >theirs.pcrsig
cmp s/pcrsig theirs.pcrsig || fail "the UKI's .pcrsig differs from systemd-measure's"

step "the signed value is what the stub measures (tests/e2e/uki-pcr11), and openssl verifies it"
value=$("$AIRLOCK_SRC/tests/e2e/uki-pcr11" "$B/uki.efi")
Z=0000000000000000000000000000000000000000000000000000000000000000
pcrhash=$(printf '%s' "$value" | xxd -r -p | sha256sum | cut -c1-64)
pol=$(printf '%s' "${Z}0000017f00000001000b03000800${pcrhash}" | xxd -r -p | sha256sum | cut -c1-64)
[ "$(jq -r '.sha256[0].pol' s/pcrsig)" = "$pol" ] ||
	fail ".pcrsig's pol is not PolicyPCR(11 = $value)"
jq -r '.sha256[0].pol' s/pcrsig | xxd -r -p >pol.bin
jq -r '.sha256[0].sig' s/pcrsig | base64 -d >sig.bin
openssl dgst -sha256 -verify pcr.pem -signature sig.bin pol.bin || fail "the signature does not verify"
echo "PCR 11 $value signed as pol $pol"

step "airlock-build disk: without --pcr-key no .pcrpkey/.pcrsig; bad keys are refused"
test_image_parts "$B" parts || fail "extracting the image's parts failed"
disk() {
	airlock-build -q disk --name airlock --version 1.0.0 --kernel-cmdline "console=ttyS0" \
		--stub parts/stub --systemd-boot parts/sd-boot --os-release parts/os-release \
		--kernel parts/vmlinuz --initrd "$B/initramfs.img" --root "$B/root.squashfs" \
		--verity "$B/root.verity" --roothash "$(jq -r .verity.root_hash "$B/manifest.json")" \
		--unsigned --source-date-epoch 0 "$@"
}
disk --out nokey || fail "disk without --pcr-key failed"
mkdir n && sections nokey/uki.efi n
[ ! -e n/pcrsig ] && [ ! -e n/pcrpkey ] || fail "a UKI without --pcr-key carries PCR sections"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key 2>/dev/null
expect_fail "ec.key': not an RSA private key in PEM" disk --out ec --pcr-key ec.key
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes256 -pass pass:test-only \
	-out enc.key 2>/dev/null
expect_fail "enc.key': encrypted with a passphrase" disk --out enc --pcr-key enc.key
expect_fail "missing.key': No such file" disk --out missing --pcr-key missing.key
[ ! -e ec/uki.efi ] && [ ! -e enc/uki.efi ] || fail "a refused build left a UKI"
echo "ok"
