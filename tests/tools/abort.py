#!/usr/bin/env python3
"""An abortive close, seen from both ends.

  abort.py server --bind ADDR --port P [--proto mptcp|tcp] --mode MODE
  abort.py client --connect ADDR --port P [--proto mptcp|tcp] --mode MODE

MODE unread: the server sends 64 KB; the client waits until they arrived and closes
without reading them (TCP resets such a connection; MPTCP sends MP_FASTCLOSE).
MODE linger0: the client sends 1000 bytes, sets SO_LINGER with a zero timeout and
closes. MODE graceful: the client reads the 64 KB and closes normally.

The server reads until the connection ends and prints one JSON line: "end" is
"reset" (ECONNRESET), "eof" (orderly close) or "timeout". It exits 0 when the end is
the one MODE implies (reset for unread and linger0, eof for graceful), else 1.
"""
import argparse
import errno
import json
import select
import socket
import struct
import sys
import time

IPPROTO_MPTCP = 262
PAYLOAD = 64 * 1024


def proto_of(name):
    return IPPROTO_MPTCP if name == "mptcp" else socket.IPPROTO_TCP


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def server(a):
    ls = socket.socket(family_of(a.bind), socket.SOCK_STREAM, proto_of(a.proto))
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(1)
    print("listening", file=sys.stderr, flush=True)
    ls.settimeout(a.timeout)
    c, _ = ls.accept()
    c.settimeout(a.timeout)
    if a.mode in ("unread", "graceful"):
        c.sendall(b"x" * PAYLOAD)
    got = 0
    end = "timeout"
    try:
        while True:
            b = c.recv(65536)
            if not b:
                end = "eof"
                break
            got += len(b)
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        end = "timeout"
    except OSError as e:
        end = errno.errorcode.get(e.errno, str(e.errno))
    want = "eof" if a.mode == "graceful" else "reset"
    print(json.dumps({"mode": a.mode, "end": end, "received": got}), flush=True)
    return 0 if end == want else 1


def client(a):
    s = socket.socket(family_of(a.connect), socket.SOCK_STREAM, proto_of(a.proto))
    s.settimeout(a.timeout)
    s.connect((a.connect, a.port))
    if a.mode == "linger0":
        s.sendall(b"y" * 1000)
        time.sleep(0.5)  # the data is delivered before the abort
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif a.mode == "unread":
        # wait for the server's data, then leave it unread
        r, _, _ = select.select([s], [], [], a.timeout)
        if not r:
            print("no data from the server", file=sys.stderr)
            return 1
        time.sleep(0.5)
    else:
        got = 0
        while got < PAYLOAD:
            b = s.recv(65536)
            if not b:
                break
            got += len(b)
        if got != PAYLOAD:
            print(f"got {got} of {PAYLOAD} bytes", file=sys.stderr)
            return 1
    s.close()
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["server", "client"])
    p.add_argument("--bind")
    p.add_argument("--connect")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--proto", default="mptcp", choices=["mptcp", "tcp"])
    p.add_argument("--mode", required=True, choices=["unread", "linger0", "graceful"])
    p.add_argument("--timeout", type=float, default=20)
    a = p.parse_args()
    return server(a) if a.role == "server" else client(a)


if __name__ == "__main__":
    sys.exit(main())
