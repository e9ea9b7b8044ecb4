#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""close() with SO_LINGER on an MPTCP connection with two subflows.

  linger_close.py server --port P
  linger_close.py client --connect ADDR --port P --bytes N [--linger SECONDS]

The client sends one byte and waits (up to 30 s) for a joined subflow
(MPTCP_INFO), so that the connection sends on several subflows; then it sets
SO_LINGER (on, --linger seconds; none without it), writes --bytes of data and
closes (running --before-close and --after-close around it). It prints {"joined": N, "close_s": seconds close() took,
"closed_at": CLOCK_MONOTONIC when it returned}. The server reads until EOF and
prints {"received": bytes, "sha256": ..., "eof_at": CLOCK_MONOTONIC at EOF}; the
client's data is os.urandom-free: byte i is i % 251, so the server can check it.
"""
import argparse
import json
import socket
import struct
import subprocess
import sys
import time

IPPROTO_MPTCP = 262
SOL_MPTCP = 284
MPTCP_INFO = 1


def pattern(n):
    block = bytes(i % 251 for i in range(251 * 256))
    return (block * (n // len(block) + 1))[:n]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("--connect")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bytes", type=int, default=4 << 20)
    ap.add_argument("--linger", type=int)
    ap.add_argument("--before-close", help="shell command run right before close()")
    ap.add_argument("--after-close", help="shell command run right after close() returned")
    args = ap.parse_args()
    if args.role == "server":
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("0.0.0.0", args.port))
        ls.listen(1)
        print("listening", file=sys.stderr, flush=True)
        ls.settimeout(60)
        c, _ = ls.accept()
        c.settimeout(60)
        got = bytearray()
        while True:
            d = c.recv(1 << 20)
            if not d:
                break
            got += d
        eof = time.monotonic()
        ok = bytes(got[1:]) == pattern(len(got) - 1) and got[:1] == b"h"
        print(json.dumps({"received": len(got) - 1, "intact": ok, "eof_at": eof}))
        return
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    s.settimeout(60)
    s.connect((args.connect, args.port))
    s.send(b"h")
    deadline = time.monotonic() + 30
    joined = 0
    while time.monotonic() < deadline:
        joined = s.getsockopt(SOL_MPTCP, MPTCP_INFO, 1)[0]
        if joined >= 1:
            break
        time.sleep(0.05)
    if args.linger is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, args.linger))
    s.sendall(pattern(args.bytes))
    if args.before_close:
        subprocess.run(args.before_close, shell=True, check=True)
    t0 = time.monotonic()
    s.close()
    t1 = time.monotonic()
    if args.after_close:
        subprocess.run(args.after_close, shell=True, check=True)
    print(json.dumps({"joined": joined, "close_s": t1 - t0, "closed_at": t1}))


if __name__ == "__main__":
    main()
