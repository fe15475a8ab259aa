#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Test-only: writes a .deb whose data.tar holds exactly the members given, including
ones no well-behaved tool would make (absolute paths, '..', symlinks to write through).

  mkdeb.py OUT.deb PACKAGE VERSION MEMBER...
  MEMBER: dir:PATH | file:PATH=CONTENT | link:PATH=TARGET | hard:PATH=TARGET
"""
import io
import sys
import tarfile

out, package, version, *members = sys.argv[1:]


def tar_bytes(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.GNU_FORMAT) as t:
        for info, data in entries:
            info.mtime = 0
            info.uname = info.gname = "root"
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


data = []
for m in members:
    kind, spec = m.split(":", 1)
    path, _, value = spec.partition("=")
    info = tarfile.TarInfo(path)
    payload = None
    if kind == "dir":
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    elif kind == "file":
        payload = value.encode()
        info.size, info.mode = len(payload), 0o644
    elif kind == "link":
        info.type, info.linkname, info.mode = tarfile.SYMTYPE, value, 0o777
    elif kind == "hard":
        info.type, info.linkname, info.mode = tarfile.LNKTYPE, value, 0o644
    else:
        sys.exit(f"unknown member kind {kind}")
    data.append((info, payload))

control = f"Package: {package}\nVersion: {version}\nArchitecture: all\n" \
          f"Maintainer: Airlock tests <tests@airlock.invalid>\nDescription: TEST-ONLY package\n"
cinfo = tarfile.TarInfo("./control")
cinfo.size = len(control)
ctrl = tar_bytes([(cinfo, control.encode())])
dat = tar_bytes(data)


def ar_member(name, payload):
    header = f"{name:<16}{0:<12}{0:<6}{0:<6}{0o100644:<8o}{len(payload):<10}`\n".encode()
    pad = b"\n" if len(payload) % 2 else b""
    return header + payload + pad


with open(out, "wb") as f:
    f.write(b"!<arch>\n")
    f.write(ar_member("debian-binary", b"2.0\n"))
    f.write(ar_member("control.tar.gz", ctrl))
    f.write(ar_member("data.tar.gz", dat))
