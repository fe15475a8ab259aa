# SPDX-License-Identifier: Apache-2.0
#
# Sourced by tests/integration/test-update-*.sh (after tests/lib.sh): small fake
# build outputs, TEST-ONLY signing keys and hand-made bundles.
#
#   update_key NAME             a TEST-ONLY signing key in $T/keys/NAME (airlock-build
#                               keygen, made once per test); prints its fingerprint
#   fake_build DIR VERSION MIN COMPATIBLE FPR...
#                               DIR holds small fake artifacts and a manifest.json for
#                               them, trusting the keys FPR...
#   release DIR KEYNAME [--rotate-from $T/keys/OLD]...
#                               airlock-build release; prints the bundle's path
#   verify BUNDLE KEYRING RUNNING [COMPATIBLE]
#                               airlock-update verify (compatible: airlock/x86-64)
#   refused REASON BUNDLE KEYRING RUNNING [COMPATIBLE]
#                               verify must refuse BUNDLE with exit 3 and REASON
#   tarpy OUT MEMBER-SPEC...    python3 tarfile writes OUT from member specs (see below)
#   real_build DIR VERSION MIN FPR
#                               a build output with a real verity tree (needs
#                               veritysetup) trusting FPR; prints the root hash
need airlock-build airlock-update python3 jq

update_key() {
	local name=$1 dir=$T/keys/$1
	if [ ! -d "$dir" ]; then
		mkdir -p "$T/keys"
		airlock-build -q keygen --dir "$dir" --name "Airlock TEST-ONLY update key $name" \
			>"$T/keys/$name.fpr" || fail "keygen $name"
	fi
	cat "$T/keys/$name.fpr"
}

# Deterministic pseudo-random bytes: N bytes seeded by SEED.
fake_bytes() { # SEED N
	python3 -c 'import hashlib,sys
seed, n = sys.argv[1].encode(), int(sys.argv[2])
out, i = bytearray(), 0
while len(out) < n:
    out += hashlib.sha256(seed + i.to_bytes(8, "big")).digest(); i += 1
sys.stdout.buffer.write(bytes(out[:n]))' "$1" "$2"
}

fake_build() { # DIR VERSION MIN COMPATIBLE FPR...
	local dir=$1 version=$2 min=$3 compat=$4
	shift 4
	mkdir -p "$dir"
	fake_bytes "root-$version" 65536 >"$dir/root.squashfs"
	fake_bytes "verity-$version" 8192 >"$dir/root.verity"
	fake_bytes "uki-$version" 12345 >"$dir/uki.efi"
	printf '{"spdxVersion": "SPDX-2.3", "name": "fake %s"}\n' "$version" >"$dir/sbom.spdx.json"
	python3 - "$dir" "$version" "$min" "$compat" "$@" <<'PY'
import hashlib, json, os, sys
d, version, minv, compat, keys = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
def art(n):
    b = open(os.path.join(d, n), "rb").read()
    return {"name": n, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()}
m = {
    "format": 1, "name": "airlock", "version": version, "min_version": minv,
    "compatible": compat, "architecture": "amd64", "source_date_epoch": 1747699200,
    "kernel": "6.1.0-test", "content_sha256": "00" * 32,
    "verity": {"root_hash": hashlib.sha256(b"root-" + version.encode()).hexdigest(),
               "hash_algorithm": "sha256", "format": 1, "salt": "11" * 32,
               "uuid": "00000000-0000-4000-8000-000000000001",
               "data_block_size": 4096, "hash_block_size": 4096, "data_blocks": 16},
    "disk": {"esp_size": 268435456, "root_size": 1073741824, "verity_size": 67108864,
             "data_min_size": 1073741824},
    "artifacts": [art(n) for n in ("root.squashfs", "root.verity", "uki.efi", "sbom.spdx.json")],
    "trusted_keys": keys,
    "packages": [],
}
open(os.path.join(d, "manifest.json"), "w").write(json.dumps(m, indent=2) + "\n")
PY
}

release() { # DIR KEYNAME [release options]
	local dir=$1 key=$2
	shift 2
	airlock-build -q release "$dir" --key "$T/keys/$key" "$@"
}

verify() { # BUNDLE KEYRING RUNNING [COMPATIBLE]
	airlock-update verify "$1" --keyring "$2" --running-version "$3" \
		--compatible "${4:-airlock/x86-64}"
}

refused() { # REASON BUNDLE KEYRING RUNNING [COMPATIBLE]
	local reason=$1 out rc=0
	shift
	out=$(verify "$@" 2>&1) || rc=$?
	if [ $rc -ne 3 ]; then
		printf '%s\n' "$out" >&2
		fail "verify $1: exit $rc, expected 3 (refused: $reason)"
	fi
	grep -q -- "refused ($reason)" <<<"$out" || {
		printf '%s\n' "$out" >&2
		fail "verify $1: not refused for '$reason'"
	}
	printf 'ok (refused as expected): %s\n' "$(grep -m1 -- 'refused (' <<<"$out")"
}

# tarpy OUT SPEC...: writes a POSIX (pax) tar. Each SPEC is one member:
#   NAME=FILE        a regular file named NAME with FILE's contents
#   NAME@SIZE=FILE   the same, but the header claims SIZE bytes (contents cut or padded)
#   NAME->TARGET     a symbolic link;   NAME=>TARGET  a hard link
#   NAME:chr / NAME:blk / NAME:fifo / NAME:dir       a device, fifo or directory
tarpy() {
	python3 - "$@" <<'PY'
import io, sys, tarfile
out, specs = sys.argv[1], sys.argv[2:]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    for s in specs:
        ti = None
        if "->" in s:
            n, target = s.split("->", 1); ti = tarfile.TarInfo(n); ti.type = tarfile.SYMTYPE; ti.linkname = target
        elif "=>" in s:
            n, target = s.split("=>", 1); ti = tarfile.TarInfo(n); ti.type = tarfile.LNKTYPE; ti.linkname = target
        elif "=" in s:
            n, f = s.split("=", 1)
            data = open(f, "rb").read()
            size = len(data)
            if "@" in n:
                n, size = n.rsplit("@", 1); size = int(size)
                data = (data + b"\0" * size)[:size]
            ti = tarfile.TarInfo(n); ti.size = size
            ti.mtime = 1747699200; ti.mode = 0o644; ti.uname = ti.gname = "root"
            t.addfile(ti, io.BytesIO(data)); continue
        else:
            n, kind = s.rsplit(":", 1)
            ti = tarfile.TarInfo(n)
            ti.type = {"chr": tarfile.CHRTYPE, "blk": tarfile.BLKTYPE, "fifo": tarfile.FIFOTYPE, "dir": tarfile.DIRTYPE}[kind]
            ti.devmajor, ti.devminor = 1, 3
        ti.mtime = 1747699200
        t.addfile(ti)
PY
}

# A TEST-ONLY build output: a 1 MiB root with a real verity tree, a fake UKI and SBOM.
real_build() { # DIR VERSION MIN KEY-FPR
	local dir=$1 version=$2 min=$3 key=$4 hash
	mkdir -p "$dir"
	fake_bytes "root-$version" 1048576 >"$dir/root.squashfs"
	hash=$(veritysetup format "$dir/root.squashfs" "$dir/root.verity" --data-block-size 4096 \
		--hash-block-size 4096 --salt "$(printf '11%.0s' {1..32})" \
		--uuid 00000000-0000-4000-8000-000000000001 | awk '/^Root hash:/ {print $3}')
	[ ${#hash} = 64 ] || fail "veritysetup format gave no root hash"
	fake_bytes "uki-$version" 54321 >"$dir/uki.efi"
	printf '{"spdxVersion": "SPDX-2.3", "name": "TEST-ONLY %s"}\n' "$version" >"$dir/sbom.spdx.json"
	python3 - "$dir" "$version" "$min" "$hash" "$key" <<'PY'
import hashlib, json, os, sys
d, version, minv, rh, key = sys.argv[1:6]
def art(n):
    b = open(os.path.join(d, n), "rb").read()
    return {"name": n, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()}
m = {
    "format": 1, "name": "airlock", "version": version, "min_version": minv,
    "compatible": "airlock/x86-64", "architecture": "amd64", "source_date_epoch": 1747699200,
    "kernel": "6.1.0-test", "content_sha256": "00" * 32,
    "verity": {"root_hash": rh, "hash_algorithm": "sha256", "format": 1, "salt": "11" * 32,
               "uuid": "00000000-0000-4000-8000-000000000001",
               "data_block_size": 4096, "hash_block_size": 4096, "data_blocks": 256},
    "disk": {"esp_size": 67108864, "root_size": 33554432, "verity_size": 8388608,
             "data_min_size": 67108864},
    "artifacts": [art(n) for n in ("root.squashfs", "root.verity", "uki.efi", "sbom.spdx.json")],
    "trusted_keys": [key], "packages": [],
}
open(os.path.join(d, "manifest.json"), "w").write(json.dumps(m, indent=2) + "\n")
PY
	echo "$hash"
}
