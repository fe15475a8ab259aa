#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# Hostile ledger clients for tests/integration/test-ledger-hostile.sh, each bounded in
# time and count (they only ever talk to the test's own socket):
#   flood SOCK SECONDS          sends requests as fast as it can and never reads a reply;
#                               prints how many it sent and how the connection ended
#   hold SOCK SECONDS UID:N...  for each UID (forked, setuid), opens N connections and
#                               holds them SECONDS; prints "accepted A refused R" (a
#                               refused connection gets a reply and is closed at once)
#   inject SOCK                 one request with a field whose name carries a newline, a
#                               forged log line and a terminal escape sequence (refused,
#                               and named in the daemon's warning)
import json
import os
import select
import socket
import sys
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    return s


def flood(path, seconds):
    s = connect(path)
    s.setblocking(False)
    req = json.dumps({"type": "test.flood", "payload": {"n": 1}}).encode()
    sent, end, how = 0, time.monotonic() + seconds, "still open"
    while time.monotonic() < end:
        _, w, _ = select.select([], [s], [], 0.2)
        if not w:
            continue
        try:
            s.send(req)
            sent += 1
        except BlockingIOError:
            continue
        except (BrokenPipeError, ConnectionResetError) as e:
            how = "closed by the daemon (%s)" % type(e).__name__
            break
    if how == "still open":
        # closed while we were blocked? a send or a read tells
        try:
            s.send(req)
        except BlockingIOError:
            pass
        except (BrokenPipeError, ConnectionResetError) as e:
            how = "closed by the daemon (%s)" % type(e).__name__
    print("sent %d requests, never read a reply; connection %s" % (sent, how))


def hold_as(path, uid, n, seconds, wfd):
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    conns, refused = [], 0
    for _ in range(n):
        try:
            conns.append(connect(path))
        except OSError:
            refused += 1
    time.sleep(0.5)
    accepted = []
    for c in conns:
        p = select.poll()
        p.register(c, select.POLLIN)
        if p.poll(0):  # a refusal: the reply, then the end
            refused += 1
            c.close()
        else:
            accepted.append(c)
    os.write(wfd, ("%d %d\n" % (len(accepted), refused)).encode())
    time.sleep(seconds)
    os._exit(0)


def hold(path, seconds, specs):
    kids, pipes = [], []
    for spec in specs:
        uid, n = (int(x) for x in spec.split(":"))
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            hold_as(path, uid, n, seconds, w)
        os.close(w)
        kids.append(pid)
        pipes.append(r)
    acc = ref = 0
    for r in pipes:
        line = os.read(r, 64).decode().split()
        acc += int(line[0])
        ref += int(line[1])
    print("accepted %d refused %d" % (acc, ref), flush=True)
    for pid in kids:
        os.waitpid(pid, 0)


def inject(path):
    s = connect(path)
    key = "x\nairlock-ledger: FORGED record accepted\x1b[2J\r"
    s.send(json.dumps({"type": "test.inject", "payload": {}, key: 1}).encode())
    s.settimeout(10)
    print(s.recv(65536).decode(errors="replace"))


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "flood":
        flood(path, float(sys.argv[3]))
    elif mode == "hold":
        hold(path, float(sys.argv[3]), sys.argv[4:])
    elif mode == "inject":
        inject(path)
    else:
        sys.exit("unknown mode " + mode)


main()
