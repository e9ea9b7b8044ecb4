#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Capture the MPTCP options of every TCP segment seen in the current network
namespace until SIGTERM/SIGINT, one line per option: "syn|synack|other HEX".

  capture_tcp_options.py OUTFILE [SEGFILE]

With SEGFILE, also writes there what is needed to recompute DSS checksums, for the
first 8 MB of payload: "S FLOW ISN" for each SYN, "D FLOW SEQ PAYLOADHEX" for each
segment with data, "M FLOW OPTHEX" for each DSS option carrying a mapping, where
FLOW names the sender's address and port and the receiver's.
"""
import signal
import time
import socket
import struct
import sys

ETH_P_ALL = 0x0003
TCPOPT_MPTCP = 30


def flow_of(frame):
    ethertype = struct.unpack("!H", frame[12:14])[0]
    p = frame[14:]
    if ethertype == 0x0800:
        ihl = (p[0] & 0xF) * 4
        src, dst, tcp = socket.inet_ntoa(p[12:16]), socket.inet_ntoa(p[16:20]), p[ihl:]
    else:
        src = socket.inet_ntop(socket.AF_INET6, p[8:24])
        dst = socket.inet_ntop(socket.AF_INET6, p[24:40])
        tcp = p[40:]
    sport, dport, seq = struct.unpack("!HHI", tcp[:8])
    return "%s.%d>%s.%d" % (src, sport, dst, dport), seq


def tcp_options(frame):
    """(flags, options, payload) of a TCP segment in an Ethernet frame, the payload
    cut to the IP length (never trailing bytes), or None."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack("!H", frame[12:14])[0]
    p = frame[14:]
    if ethertype == 0x0800 and len(p) >= 20:
        ihl = (p[0] & 0xF) * 4
        if p[9] != 6:
            return None
        total = struct.unpack("!H", p[2:4])[0]
        tcp = p[ihl:total]
    elif ethertype == 0x86DD and len(p) >= 40:
        if p[6] != 6:  # no extension headers in these tests
            return None
        total = 40 + struct.unpack("!H", p[4:6])[0]
        tcp = p[40:total]
    else:
        return None
    if len(tcp) < 20:
        return None
    doff = (tcp[12] >> 4) * 4
    flags = tcp[13]
    return flags, tcp[20:doff], tcp[doff:]


def mptcp_options(opts):
    """The MPTCP options (kind 30, whole, as bytes) among TCP options `opts`."""
    i = 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            return
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            return
        ln = opts[i + 1]
        if kind == TCPOPT_MPTCP:
            yield opts[i:i + ln]
        i += ln


def main():
    out = open(sys.argv[1], "w")
    seg_out = open(sys.argv[2], "w") if len(sys.argv) > 2 else None
    budget = 8 << 20
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    # a large buffer: the interpreter is slow under emulation, and a dropped frame
    # may be the one MP_PRIO of the test
    SO_RCVBUFFORCE = 33
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 256 << 20)
    s.settimeout(0.2)
    running = [True]

    def stop(*_):
        running[0] = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("capturing", file=sys.stderr, flush=True)
    read = 0
    stopped_at = None
    while True:
        # after SIGTERM, the frames already queued are still read (the interpreter
        # may lag seconds behind the link on a slow host, and the last frames are
        # often the ones a test looks for), until the queue is empty or for 60 s
        if not running[0] and stopped_at is None:
            stopped_at = time.monotonic()
        if stopped_at is not None and time.monotonic() - stopped_at > 60:
            break
        try:
            # a GSO frame is up to 64 KB of IP plus the link header
            frame = s.recv(1 << 17)
        except socket.timeout:
            if not running[0]:
                break
            continue
        except InterruptedError:
            continue
        read += 1
        r = tcp_options(frame)
        if not r:
            continue
        flags, opts, payload = r
        syn, ack = flags & 0x02, flags & 0x10
        seg = "synack" if syn and ack else "syn" if syn else "other"
        flow = None
        if seg_out and budget > 0:
            flow, seq = flow_of(frame)
            if syn:
                seg_out.write("S %s %d\n" % (flow, seq))
            if payload:
                seg_out.write("D %s %d %s\n" % (flow, seq, payload.hex()))
                budget -= len(payload)
        for opt in mptcp_options(opts):
            out.write("%s %s\n" % (seg, opt.hex()))
            # DSS (subtype 2) with a mapping (flag M)
            if flow and len(opt) >= 4 and opt[2] >> 4 == 2 and opt[3] & 0x04:
                seg_out.write("M %s %s\n" % (flow, opt.hex()))
    # PACKET_STATISTICS (SOL_PACKET 263, option 6): packets seen, packets dropped
    seen, drops = struct.unpack("II", s.getsockopt(263, 6, 8))
    print("capture: %d frames, %d dropped, %d read" % (seen, drops, read), file=sys.stderr, flush=True)
    out.close()
    if seg_out:
        seg_out.close()


if __name__ == "__main__":
    main()
