#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Capture the MPTCP options of every TCP segment seen in the current network
namespace until SIGTERM/SIGINT, one line per option: "syn|synack|other HEX".

  capture_tcp_options.py OUTFILE
"""
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003
TCPOPT_MPTCP = 30


def tcp_options(frame):
    if len(frame) < 14:
        return None
    ethertype = struct.unpack("!H", frame[12:14])[0]
    p = frame[14:]
    if ethertype == 0x0800 and len(p) >= 20:
        ihl = (p[0] & 0xF) * 4
        if p[9] != 6:
            return None
        tcp = p[ihl:]
    elif ethertype == 0x86DD and len(p) >= 40:
        if p[6] != 6:  # no extension headers in these tests
            return None
        tcp = p[40:]
    else:
        return None
    if len(tcp) < 20:
        return None
    doff = (tcp[12] >> 4) * 4
    flags = tcp[13]
    return flags, tcp[20:doff]


def main():
    out = open(sys.argv[1], "w")
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.settimeout(0.2)
    running = [True]

    def stop(*_):
        running[0] = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("capturing", file=sys.stderr, flush=True)
    while running[0]:
        try:
            frame = s.recv(65535)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        r = tcp_options(frame)
        if not r:
            continue
        flags, opts = r
        syn, ack = flags & 0x02, flags & 0x10
        seg = "synack" if syn and ack else "syn" if syn else "other"
        i = 0
        while i < len(opts):
            kind = opts[i]
            if kind == 0:
                break
            if kind == 1:
                i += 1
                continue
            if i + 1 >= len(opts) or opts[i + 1] < 2:
                break
            ln = opts[i + 1]
            if kind == TCPOPT_MPTCP:
                out.write("%s %s\n" % (seg, opts[i:i + ln].hex()))
            i += ln
    out.close()


if __name__ == "__main__":
    main()
