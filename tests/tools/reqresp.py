#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Request/response over one connection, for latency-bound benchmarks.

  reqresp.py server --bind ADDR --port P [--proto tcp|mptcp]
  reqresp.py client --connect ADDR --port P [--proto ...] --size BYTES [--seconds S]
                    [--warmup S]

The client sends an 8-byte request holding BYTES; the server answers with BYTES
bytes; the client reads them all and sends the next request. After a warm-up
(default 1 s: the connection's subflows are up and their windows open) it counts
the requests completed in --seconds and prints one JSON line:
{"size": BYTES, "requests": N, "seconds": S, "rps": N / S}. The server handles one
connection and exits when the client closes it.
"""
import argparse
import json
import socket
import sys
import time

IPPROTO_MPTCP = 262


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def recv_exact(s, n):
    got = 0
    while got < n:
        d = s.recv(min(1 << 20, n - got))
        if not d:
            raise ConnectionError("closed after %d of %d bytes" % (got, n))
        got += len(d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--connect")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--proto", choices=["tcp", "mptcp"], default="tcp")
    ap.add_argument("--size", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--warmup", type=float, default=1)
    args = ap.parse_args()
    proto = IPPROTO_MPTCP if args.proto == "mptcp" else socket.IPPROTO_TCP
    if args.role == "server":
        ls = socket.socket(family_of(args.bind), socket.SOCK_STREAM, proto)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((args.bind, args.port))
        ls.listen(1)
        print("listening", file=sys.stderr, flush=True)
        c, _ = ls.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        payload = bytes(1 << 20)
        while True:
            req = b""
            while len(req) < 8:
                d = c.recv(8 - len(req))
                if not d:
                    return
                req += d
            left = int.from_bytes(req, "big")
            while left > 0:
                n = min(left, len(payload))
                c.sendall(payload[:n])
                left -= n
    s = socket.socket(family_of(args.connect), socket.SOCK_STREAM, proto)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.connect((args.connect, args.port))
    req = args.size.to_bytes(8, "big")
    start = time.monotonic()
    while time.monotonic() - start < args.warmup:
        s.sendall(req)
        recv_exact(s, args.size)
    n = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < args.seconds:
        s.sendall(req)
        recv_exact(s, args.size)
        n += 1
    dt = time.monotonic() - t0
    s.close()
    print(json.dumps({"size": args.size, "requests": n, "seconds": round(dt, 3),
                      "rps": n / dt}), flush=True)


if __name__ == "__main__":
    main()
