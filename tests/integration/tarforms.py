#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# Writes a tar whose headers are made by hand, byte by byte, so that a test can put
# every tar dialect libarchive reads (and a bundle must not be) in front of the bundle
# reader: tarforms.py FORM OUT NAME=FILE... writes the members in order, the one named
# by --member (default root.squashfs) in FORM, the others as plain ustar headers, then
# the end-of-archive marker padded to a 10240-byte record. FORMs:
#   ustar        the plain form (what airlock-build writes)
#   pax-ok       a pax extended header with path and mtime records before the member
#   gnu-L        a GNU long-name header ('L') before the member
#   gnu-K        a GNU long-link-name header ('K') before the member
#   volume-V     a volume label ('V') before the member
#   global-g     a global pax header ('g') before the member
#   contiguous-7 the member with typeflag '7' (a contiguous file)
#   vendor-Z     the member with typeflag 'Z'
#   base256      the member's size in base-256 (binary) instead of octal
#   gnu-sparse   pax GNU.sparse.* records of GNU sparse format 1.0 before the member
#   pax-linkpath a pax linkpath record before the (regular) member
#   gnu-magic    the member's header with GNU tar's magic ("ustar  \0")
import sys

BLOCK = 512


def octal(n, width):
    return ("%0*o" % (width - 1, n)).encode() + b"\0"


def header(name, size, typ=b"0", magic=b"ustar\x0000", linkname=b"", size_field=None):
    h = bytearray(BLOCK)
    name = name.encode() if isinstance(name, str) else name
    h[0 : len(name)] = name
    h[100:108] = octal(0o644, 8)
    h[108:116] = octal(0, 8)
    h[116:124] = octal(0, 8)
    h[124:136] = size_field if size_field is not None else octal(size, 12)
    h[136:148] = octal(1747699200, 12)
    h[156:157] = typ
    h[157 : 157 + len(linkname)] = linkname
    h[257:265] = magic
    h[265:269] = b"root"
    h[297:301] = b"root"
    h[329:337] = octal(0, 8)
    h[337:345] = octal(0, 8)
    h[148:156] = b" " * 8
    s = sum(h)
    h[148:156] = ("%06o" % s).encode() + b"\0 "
    return bytes(h)


def pad(data):
    return data + b"\0" * (-len(data) % BLOCK)


def pax_records(pairs):
    out = b""
    for k, v in pairs:
        body = (" %s=%s\n" % (k, v)).encode()
        n = len(body) + 1
        while len(str(n)) + len(body) != n:
            n += 1
        out += str(n).encode() + body
    return out


def entry(form, name, data):
    out = b""
    if form == "pax-ok":
        rec = pax_records([("path", name), ("mtime", "1747699200")])
        out += header("PaxHeader/" + name, len(rec), b"x") + pad(rec)
    elif form == "gnu-L":
        long = name.encode() + b"\0"
        out += header("././@LongLink", len(long), b"L") + pad(long)
    elif form == "gnu-K":
        long = b"/etc/shadow\0"
        out += header("././@LongLink", len(long), b"K") + pad(long)
    elif form == "volume-V":
        out += header("AIRLOCK-VOLUME", 0, b"V")
    elif form == "global-g":
        rec = pax_records([("comment", "global")])
        out += header("GlobalHead", len(rec), b"g") + pad(rec)
    elif form == "gnu-sparse":
        rec = pax_records([("GNU.sparse.major", "1"), ("GNU.sparse.minor", "0"),
                           ("GNU.sparse.name", name), ("GNU.sparse.realsize", str(len(data)))])
        out += header("PaxHeader/" + name, len(rec), b"x") + pad(rec)
    elif form == "pax-linkpath":
        rec = pax_records([("linkpath", "/etc/shadow")])
        out += header("PaxHeader/" + name, len(rec), b"x") + pad(rec)
    typ, magic, size_field = b"0", b"ustar\x0000", None
    if form == "contiguous-7":
        typ = b"7"
    elif form == "vendor-Z":
        typ = b"Z"
    elif form == "gnu-magic":
        magic = b"ustar  \0"
    elif form == "base256":
        size_field = bytes([0x80]) + len(data).to_bytes(11, "big")
    return out + header(name, len(data), typ, magic, size_field=size_field) + pad(data)


def main():
    args = sys.argv[1:]
    member = "root.squashfs"
    if args and args[0].startswith("--member="):
        member = args.pop(0).split("=", 1)[1]
    form, out, specs = args[0], args[1], args[2:]
    blob = b""
    for s in specs:
        name, path = s.split("=", 1)
        data = open(path, "rb").read()
        blob += entry(form if name == member else "ustar", name, data)
    blob += b"\0" * (2 * BLOCK)
    blob += b"\0" * (-len(blob) % 10240)
    open(out, "wb").write(blob)


main()
