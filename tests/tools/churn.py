#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Many short MPTCP (or TCP) connections, for churn tests.

  churn.py server --bind ADDR --port P [--proto tcp|mptcp]
  churn.py client --connect ADDR --port P [--proto ...] [--conns N] [--workers K]
                  [--bytes B] [--timeout S]

The server echoes the SHA-256 of what each connection sent (after the client's
shutdown(SHUT_WR)) followed by B' bytes it was asked for (the request starts with
B' and a connection number, 8 bytes each); it runs until killed, and prints one
JSON line to stdout for each connection it gave up on ({"conn": i, "error": name,
"stage": ...}); killed (SIGTERM), it prints to stderr one such line (error
"unfinished") for each connection still being served. The client makes N connections, K at a time, each sending B bytes
and asking for B bytes back, checks both, and prints one JSON line:
{"ok": ..., "failed": ..., "short": ..., "wrong": ..., "errors": {errno-name:
count}, "detail": [...]}. A connection that fails (reset, timeout: paths may be
down) counts as failed; one that ended early (EOF before all of the digest and the
data) counts as short, one whose bytes differ as wrong; "detail" describes the
first short and wrong ones (connection number, lengths, first differing offset,
and the socket's MPTCP_INFO: fallback flag, subflows, sequence numbers).
"""
import argparse
import errno
import hashlib
import json
import os
import signal
import socket
import struct
import sys
import threading

IPPROTO_MPTCP = 262
SOL_MPTCP = 284
MPTCP_INFO = 1


def mptcp_info(s):
    """What MPTCP_INFO says of socket s (None if it says nothing)."""
    try:
        b = s.getsockopt(SOL_MPTCP, MPTCP_INFO, 96)
    except OSError as e:
        return {"error": errno.errorcode.get(e.errno, str(e.errno))}
    if len(b) < 96:
        return None
    sub, flags, wseq, una, rnxt = struct.unpack_from("=B7xI4xQQQ", b)
    recvd, acked, total = struct.unpack_from("=QQB", b, 64)
    return {"extra_subflows": sub, "subflows_total": total, "fallback": bool(flags & 1),
            "remote_key": bool(flags & 2), "write_seq": wseq, "snd_una": una,
            "rcv_nxt": rnxt, "bytes_received": recvd, "bytes_acked": acked}


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def recv_all(s, n):
    buf = bytearray()
    while len(buf) < n:
        d = s.recv(min(65536, n - len(buf)))
        if not d:
            break
        buf += d
    return bytes(buf)


ACTIVE = {}


def serve_one(c, lock):
    conn, stage = None, "request"
    me = threading.get_ident()
    ACTIVE[me] = (None, stage)
    try:
        head = recv_all(c, 16)
        want = int.from_bytes(head[:8], "big")
        conn = int.from_bytes(head[8:], "big") if len(head) == 16 else None
        stage = "upload"
        ACTIVE[me] = (conn, "upload")
        h = hashlib.sha256()
        while True:
            d = c.recv(65536)
            if not d:
                break
            h.update(d)
        stage = "download"
        ACTIVE[me] = (conn, stage)
        c.sendall(h.digest())
        block = bytes(range(256)) * 256
        left = want
        while left > 0:
            n = min(left, len(block))
            c.sendall(block[:n])
            left -= n
        stage = "close"
        ACTIVE[me] = (conn, stage)
        c.shutdown(socket.SHUT_WR)
        recv_all(c, 1)
    except OSError as e:
        name = errno.errorcode.get(e.errno, type(e).__name__) if e.errno else type(e).__name__
        with lock:
            print(json.dumps({"conn": conn, "error": name, "stage": stage}), flush=True)
    finally:
        ACTIVE.pop(me, None)
        c.close()


def server(args):
    proto = IPPROTO_MPTCP if args.proto == "mptcp" else socket.IPPROTO_TCP
    ls = socket.socket(family_of(args.bind), socket.SOCK_STREAM, proto)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((args.bind, args.port))
    ls.listen(128)
    print("listening", file=sys.stderr, flush=True)
    lock = threading.Lock()

    def unfinished(*_):
        for conn, stage in list(ACTIVE.values()):
            print(json.dumps({"conn": conn, "error": "unfinished", "stage": stage}),
                  file=sys.stderr, flush=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, unfinished)
    while True:
        c, _ = ls.accept()
        c.settimeout(30)
        threading.Thread(target=serve_one, args=(c, lock), daemon=True).start()


def client(args):
    proto = IPPROTO_MPTCP if args.proto == "mptcp" else socket.IPPROTO_TCP
    lock = threading.Lock()
    res = {"ok": 0, "failed": 0, "short": 0, "wrong": 0, "errors": {}, "detail": []}
    counter = iter(range(args.conns))
    block = bytes(range(256)) * 256

    def one(i):
        s = socket.socket(family_of(args.connect), socket.SOCK_STREAM, proto)
        s.settimeout(args.timeout)
        try:
            s.connect((args.connect, args.port))
            payload = os.urandom(args.bytes)
            s.sendall(args.bytes.to_bytes(8, "big") + i.to_bytes(8, "big") + payload)
            s.shutdown(socket.SHUT_WR)
            digest = recv_all(s, 32)
            back = recv_all(s, args.bytes)
            expect = (block * (args.bytes // len(block) + 1))[:args.bytes]
            if digest == hashlib.sha256(payload).digest() and back == expect:
                return "ok"
            got = digest + back
            want = hashlib.sha256(payload).digest() + expect
            diff = next((k for k, (a, b) in enumerate(zip(got, want)) if a != b), None)
            kind = "wrong" if diff is not None else "short"
            with lock:
                if len(res["detail"]) < 20:
                    res["detail"].append({"conn": i, "kind": kind, "received": len(got),
                                          "port": s.getsockname()[1],
                                          "expected": len(want), "first_difference": diff,
                                          "info": mptcp_info(s) if proto == IPPROTO_MPTCP else None})
            return kind
        except OSError as e:
            name = errno.errorcode.get(e.errno, type(e).__name__) if e.errno else type(e).__name__
            with lock:
                res["errors"][name] = res["errors"].get(name, 0) + 1
            return "failed"
        finally:
            s.close()

    def worker():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            r = one(i)
            with lock:
                res[r] += 1

    ts = [threading.Thread(target=worker) for _ in range(args.workers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps(res), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--connect")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--proto", choices=["tcp", "mptcp"], default="mptcp")
    ap.add_argument("--conns", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--bytes", type=int, default=20000)
    ap.add_argument("--timeout", type=float, default=20)
    args = ap.parse_args()
    server(args) if args.role == "server" else client(args)


if __name__ == "__main__":
    main()
