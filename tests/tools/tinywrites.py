#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Small writes over an MPTCP connection, with socket options set on the MPTCP
socket, and what each path carried of them: do the options reach every subflow?

  tinywrites.py server --port P --sniff IFACE [--set early|live] [--count N]
  tinywrites.py client --connect ADDR --port P --sniff IFACE [--set early|live]
                       [--count N]

Each side sets TCP_NODELAY and IP_TOS 0x28 on its MPTCP socket, "early" (the
client before connect(), the server right after accept()) or "live" (once the
connection has a joined subflow, MPTCP_INFO subflows >= 1), then (after one byte each
way, so that the connection is fully established and can be joined) writes --count
one-byte messages 2 ms apart, then reads the peer's as many bytes until EOF.
Meanwhile it captures (AF_PACKET) the TCP segments with data that its namespace
sends on IFACE, and prints one JSON line: {"joined": subflows seen before writing,
"received": bytes, "segments": N, "payload": bytes, "tos": [values seen]}.
"""
import argparse
import json
import socket
import struct
import sys
import threading
import time

IPPROTO_MPTCP = 262
SOL_MPTCP = 284
MPTCP_INFO = 1
TOS = 0x28
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4


def joined_subflows(s):
    raw = s.getsockopt(SOL_MPTCP, MPTCP_INFO, 1)
    return raw[0] if raw else 0


class Sniffer(threading.Thread):
    """Counts the data segments this namespace sends on one interface."""

    def __init__(self, iface):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))  # outgoing frames reach ETH_P_ALL taps only
        self.sock.bind((iface, 0))
        self.sock.settimeout(0.2)
        self.stop = False
        self.segments = 0
        self.payload = 0
        self.tos = set()

    def run(self):
        while not self.stop:
            try:
                frame, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            if addr[2] != PACKET_OUTGOING or len(frame) < 34 or frame[12:14] != b"\x08\x00":
                continue
            ip = frame[14:]
            if ip[9] != socket.IPPROTO_TCP:
                continue
            ihl = (ip[0] & 0xF) * 4
            total = struct.unpack("!H", ip[2:4])[0]
            doff = (ip[ihl + 12] >> 4) * 4
            data = total - ihl - doff
            if data > 0:
                self.segments += 1
                self.payload += data
                self.tos.add(ip[1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("--connect")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--sniff", required=True)
    ap.add_argument("--set", choices=["early", "live"], default="early")
    ap.add_argument("--count", type=int, default=400)
    ap.add_argument("--timeout", type=float, default=30)
    args = ap.parse_args()

    def options(s):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, TOS)

    if args.role == "server":
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("0.0.0.0", args.port))
        ls.listen(1)
        print("listening", file=sys.stderr, flush=True)
        ls.settimeout(args.timeout)
        s, _ = ls.accept()
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
        if args.set == "early":
            options(s)
        s.settimeout(args.timeout)
        s.connect((args.connect, args.port))
    if args.role == "server" and args.set == "early":
        options(s)
    # one byte each way: the connection is fully established, subflows may join
    s.send(b"h")
    if s.recv(1) != b"h":
        raise ConnectionError("no greeting from the peer")
    deadline = time.monotonic() + args.timeout
    while joined_subflows(s) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    joined = joined_subflows(s)
    if args.set == "live":
        options(s)
    sniffer = Sniffer(args.sniff)
    sniffer.start()
    got = [0]

    def reader():
        while True:
            d = s.recv(65536)
            if not d:
                return
            got[0] += len(d)

    r = threading.Thread(target=reader, daemon=True)
    r.start()
    for _ in range(args.count):
        s.send(b"x")
        time.sleep(0.002)
    s.shutdown(socket.SHUT_WR)
    r.join(args.timeout)
    time.sleep(0.3)
    sniffer.stop = True
    sniffer.join()
    s.close()
    print(json.dumps({"joined": joined, "received": got[0], "segments": sniffer.segments,
                      "payload": sniffer.payload, "tos": sorted(sniffer.tos)}))


if __name__ == "__main__":
    main()
