#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Bulk transfer with an end-to-end hash, for guest tests.

  xfer.py server --bind ADDR --port P [--proto tcp|mptcp] [--send BYTES]
  xfer.py client --connect ADDR --port P [--proto tcp|mptcp] [--send BYTES]

Each side sends --send bytes of pseudo-random data (default 0), then shuts down its
write side, reads until EOF and prints one JSON line: bytes and SHA-256 sent and
received, the protocol the socket was opened with and the seconds from connection
to the end of both directions. The server handles one connection. If sending fails
(an error, or no progress for --timeout), the JSON has "send_error" instead of
"sent" and the exit status is 1.
--write-size N writes N bytes at a time (64 KB by default), --nodelay sets
TCP_NODELAY.
MPTCP_RS_INJECT_CORRUPTION=1 flips one received byte before hashing, to show that a
test comparing the hashes can fail.

Failover measurements (receiving side): --cut-at BYTES --cut-cmd CMD runs CMD (a
shell command, e.g. blackholing a path) once BYTES were received; the JSON then
holds "cut": seconds from the start to the cut, "stall": the longest time without
received data after the cut, and "outage": the equivalent outage, i.e. the time
after the cut minus the time the rest would have taken at the rate of the last 40%
of the time after the cut (the surviving path's rate), or at --survivor-bps.
CMD runs to its end before the next read (a reader that pauses), unless --cut-async:
then it runs beside the reads, the cut counts from its start, and its exit status is
checked at the end (a blackhole that takes effect while data still flows on both
paths, as a link that dies does; a reader that stops leaves the sender nothing in
flight to lose).
"""
import argparse
import faulthandler
import signal
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time

IPPROTO_MPTCP = 262
CHUNK = 65536


def open_socket(family, proto):
    return socket.socket(family, socket.SOCK_STREAM,
                         IPPROTO_MPTCP if proto == "mptcp" else socket.IPPROTO_TCP)


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def outage(marks, cut_t, cut_b, total, survivor_bps=None):
    """Longest gap after the cut and equivalent outage from (t, bytes) marks: against
    survivor_bps (bits/s) if given, else the rate of the last 40% of the time."""
    # the cut itself starts the first gap: the wait for the first read after it counts
    after = [(cut_t, cut_b)] + [(t, b) for t, b in marks if t > cut_t]
    if len(after) < 2:
        return None, None
    stall = max(b[0] - a[0] for a, b in zip(after, after[1:]))
    end_t = after[-1][0]
    if survivor_bps:
        return stall, (end_t - cut_t) - (total - cut_b) * 8 / survivor_bps
    tail_t = cut_t + 0.6 * (end_t - cut_t)
    tail = [(t, b) for t, b in after if t >= tail_t]
    if len(tail) < 2 or tail[-1][0] <= tail[0][0]:
        return stall, None
    rate = (tail[-1][1] - tail[0][1]) / (tail[-1][0] - tail[0][0])
    if rate <= 0:
        return stall, None
    return stall, (end_t - cut_t) - (total - cut_b) / rate


def transfer(sock, nbytes, cut_at=None, cut_cmd=None, survivor_bps=None, shutdown_after=0,
             write_size=CHUNK, cut_async=False):
    result = {}

    def sender():
        h = hashlib.sha256()
        left = nbytes
        block = os.urandom(CHUNK)
        try:
            while left > 0:
                # vary the data so reordering bugs change the hash
                block = hashlib.sha256(block[:32]).digest() + block[32:]
                part = block[:min(left, write_size)]
                sock.sendall(part)
                h.update(part)
                left -= len(part)
            time.sleep(shutdown_after)
            sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            # the result says so (and the exit status): what was sent until then
            result["send_error"] = "%r after %d bytes" % (e, nbytes - left)
            return
        result["sent"] = nbytes
        result["sent_sha256"] = h.hexdigest()

    t = threading.Thread(target=sender)
    t.start()
    h = hashlib.sha256()
    got = 0
    corrupt = os.environ.get("MPTCP_RS_INJECT_CORRUPTION") == "1"
    t0 = time.monotonic()
    marks = [(0.0, 0)]
    cut = None
    cutter = None
    while True:
        data = sock.recv(CHUNK)
        if not data:
            break
        now = time.monotonic() - t0
        marks.append((now, got + len(data)))
        if cut is None and cut_at is not None and got + len(data) >= cut_at:
            if cut_async:
                cut = (time.monotonic() - t0, got + len(data))
                cutter = subprocess.Popen(cut_cmd, shell=True)
            else:
                subprocess.run(cut_cmd, shell=True, check=True)
                cut = (time.monotonic() - t0, got + len(data))
        if corrupt and got == 0:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        h.update(data)
        got += len(data)
    t.join()
    if cutter is not None and cutter.wait() != 0:
        raise subprocess.CalledProcessError(cutter.returncode, cut_cmd)
    if cut is not None:
        stall, out = outage(marks, cut[0], cut[1], got, survivor_bps)
        result["cut"] = round(cut[0], 3)
        result["stall"] = None if stall is None else round(stall, 3)
        result["outage"] = None if out is None else round(out, 3)
    result["received"] = got
    result["received_sha256"] = h.hexdigest()
    return result


def main():
    # SIGUSR1 prints every thread's Python stack (diagnosing a stalled transfer)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--connect")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--proto", choices=["tcp", "mptcp"], default="tcp")
    ap.add_argument("--send", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--send-after", type=float, default=0,
                    help="seconds between connecting and the first write (joins first)")
    ap.add_argument("--send-after-file",
                    help="first write once this file exists (within --timeout)")
    ap.add_argument("--sndbuf", type=int,
                    help="SO_SNDBUF of the connection (set before the first write)")
    ap.add_argument("--write-size", type=int, default=CHUNK,
                    help="bytes per write (at most %d)" % CHUNK)
    ap.add_argument("--nodelay", action="store_true",
                    help="TCP_NODELAY: every write goes out at once")
    ap.add_argument("--shutdown-after", type=float, default=0,
                    help="seconds between the last write and shutdown(SHUT_WR)")
    ap.add_argument("--cut-at", type=int)
    ap.add_argument("--cut-cmd")
    ap.add_argument("--cut-async", action="store_true",
                    help="run --cut-cmd beside the reads (see above)")
    ap.add_argument("--survivor-bps", type=float,
                    help="rate of the path left after the cut, for the equivalent outage")
    args = ap.parse_args()
    if not 0 < args.write_size <= CHUNK:
        ap.error("--write-size must be 1 to %d" % CHUNK)

    if args.role == "server":
        ls = open_socket(family_of(args.bind), args.proto)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((args.bind, args.port))
        # room for several join requests at once (fullmesh): a full request queue
        # turns to SYN cookies, with which mptcp_rs refuses MP_JOIN
        ls.listen(16)
        ls.settimeout(args.timeout)
        print("listening", flush=True, file=sys.stderr)
        sock, _ = ls.accept()
        # the listener stays open: MPTCP joins arrive at the listening port
    else:
        sock = open_socket(family_of(args.connect), args.proto)
        sock.settimeout(args.timeout)
        sock.connect((args.connect, args.port))
    sock.settimeout(args.timeout)
    if args.sndbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, args.sndbuf)
    if args.nodelay:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    time.sleep(args.send_after)
    if args.send_after_file:
        deadline = time.monotonic() + args.timeout
        while not os.path.exists(args.send_after_file):
            if time.monotonic() > deadline:
                sys.exit(f"{args.send_after_file} did not appear in {args.timeout} s")
            time.sleep(0.1)
    start = time.monotonic()
    res = transfer(sock, args.send, args.cut_at, args.cut_cmd, args.survivor_bps,
                   args.shutdown_after, args.write_size, args.cut_async)
    res["seconds"] = round(time.monotonic() - start, 3)
    res["proto"] = args.proto
    sock.close()
    if args.role == "server":
        ls.close()
    print(json.dumps(res), flush=True)
    if "send_error" in res:
        sys.exit("sending failed: " + res["send_error"])


if __name__ == "__main__":
    main()
