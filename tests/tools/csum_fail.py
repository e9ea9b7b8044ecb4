#!/usr/bin/env python3
"""One-way transfer through a payload-modifying middlebox.

  csum_fail.py server --bind ADDR --port P [--hold S]
  csum_fail.py client --connect ADDR --port P --bytes N [--report]

The client sends N bytes of a known pattern over MPTCP, shuts its side down and
reads until the server closes; the server reads to the end (then waits S seconds
before it closes) and prints one JSON line: how many bytes arrived, and which differ
from the pattern (offset and whether the byte is the pattern's byte inverted, as the
middlebox's tc pedit does). With --report the client prints how its read ended
("eof" or the exception's name) and when (seconds after connect). Exit status 0 if the
connection ended normally.
"""
import argparse
import json
import socket
import sys
import time

IPPROTO_MPTCP = 262


def pattern(n):
    block = bytes((i * 7 + 3) & 0xFF for i in range(4096))
    return (block * (n // len(block) + 1))[:n]


def fam(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def main():
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["server", "client"])
    p.add_argument("--bind")
    p.add_argument("--connect")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--bytes", type=int, default=4 << 20)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--hold", type=float, default=0)
    p.add_argument("--report", action="store_true")
    a = p.parse_args()
    if a.role == "client":
        s = socket.socket(fam(a.connect), socket.SOCK_STREAM, IPPROTO_MPTCP)
        s.settimeout(a.timeout)
        s.connect((a.connect, a.port))
        t0 = time.monotonic()
        end = "eof"
        try:
            s.sendall(pattern(a.bytes))
            s.shutdown(socket.SHUT_WR)
            while s.recv(4096):
                pass
        except OSError as e:
            end = type(e).__name__
        if a.report:
            print(json.dumps({"end": end, "at": round(time.monotonic() - t0, 2)}), flush=True)
        s.close()
        return 0 if end == "eof" else 1
    ls = socket.socket(fam(a.bind), socket.SOCK_STREAM, IPPROTO_MPTCP)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(1)
    print("listening", file=sys.stderr, flush=True)
    ls.settimeout(a.timeout)
    c, _ = ls.accept()
    c.settimeout(a.timeout)
    got = bytearray()
    end = "eof"
    try:
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            got += b
    except OSError as e:
        end = type(e).__name__
    time.sleep(a.hold)
    c.close()
    want = pattern(len(got))
    diffs = [i for i in range(len(got)) if got[i] != want[i]]
    print(json.dumps({
        "end": end,
        "received": len(got),
        "differing": diffs[:16],
        "all_inverted": all(got[i] == want[i] ^ 0xFF for i in diffs),
    }), flush=True)
    return 0 if end == "eof" else 1


if __name__ == "__main__":
    sys.exit(main())
