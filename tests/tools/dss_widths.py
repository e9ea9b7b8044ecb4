#!/usr/bin/env python3
"""The widths of the DSS options in a capture (tcpdump -w, Ethernet, IPv4/IPv6).

Per sending address, counts the DSS options with a mapping (by DSN width: 4 or 8
octets, and by option length) and the DATA_ACKs (by width), and checks RFC 8684
3.3's rule for the DATA_ACK: a host whose peer sends 64-bit DSNs sends 64-bit
DATA_ACKs. A DATA_ACK counts against the rule when its connection's peer sent a
64-bit DSN more than GRACE seconds before it (a segment may be built before the
mapping that changes the width is processed) and no 32-bit one since.

  dss_widths.py FILE.pcap [--grace S] [--dsn32 ADDR]... [--dsn64 ADDR]...
                [--ack32 ADDR]... [--ack64 ADDR]... [--data-len ADDR=N]...
                [--mss ADDR=N]...

--dsn32 ADDR: every mapping ADDR sends has a 32-bit DSN (and there is one at
least); --dsn64 ADDR: every one has a 64-bit DSN; --ack32 ADDR: every DATA_ACK
ADDR sends is 32-bit (and there is one at least); --ack64 ADDR: every one is 64-bit; --data-len ADDR=N: every DSS
with a mapping and a DATA_ACK that ADDR sends on a segment with payload is N bytes
long; --mss ADDR=N: the largest payload of ADDR's segments with a DSS is N bytes
(a capture without TSO/GSO). Prints one summary line per address; exits 1 when a
check fails.
"""
import argparse
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capture_tcp_options import flow_of, mptcp_options, tcp_options  # noqa: E402

DSS_SUBTYPE = 2
F_ACK, F_ACK64, F_MAP, F_DSN64 = 0x01, 0x02, 0x04, 0x08


def packets(path):
    """(time, src, dst, sport, dport, tcp_options, payload_len) of each TCP packet."""
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return
        magic = struct.unpack("<I", head[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            end = "<"
        elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
            end = ">"
        else:
            raise SystemExit(f"{path}: not a pcap file")
        nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
        linktype = struct.unpack(end + "I", head[20:24])[0]
        if linktype != 1:
            raise SystemExit(f"{path}: link type {linktype}, not Ethernet")
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, frac, caplen, _ = struct.unpack(end + "IIII", rec)
            data = f.read(caplen)
            t = sec + frac / (1e9 if nano else 1e6)
            p = parse_frame(data)
            if p:
                yield (t,) + p


def parse_frame(frame):
    """(src, dst, sport, dport, options, payload length) of a TCP segment in an
    Ethernet frame, or None (the parsing of capture_tcp_options.py)."""
    seg = tcp_options(frame)
    if seg is None:
        return None
    _, opts, _ = seg
    flow, _ = flow_of(frame)
    src, dst = flow.split(">")
    (src, sport), (dst, dport) = src.rsplit(".", 1), dst.rsplit(".", 1)
    # the payload's length from the IP header: a capture cuts frames short
    if struct.unpack("!H", frame[12:14])[0] == 0x0800:
        tcp_len = struct.unpack("!H", frame[16:18])[0] - (frame[14] & 0xF) * 4
    else:
        tcp_len = struct.unpack("!H", frame[18:20])[0]
    return src, dst, int(sport), int(dport), opts, max(0, tcp_len - 20 - len(opts))


def dss_of(opts):
    """(flags, length) of the DSS option among `opts`, or None."""
    for opt in mptcp_options(opts):
        if len(opt) >= 4 and opt[2] >> 4 == DSS_SUBTYPE:
            return opt[3], len(opt)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("--grace", type=float, default=0.2)
    ap.add_argument("--dsn32", action="append", default=[])
    ap.add_argument("--dsn64", action="append", default=[])
    ap.add_argument("--ack32", action="append", default=[])
    ap.add_argument("--ack64", action="append", default=[])
    ap.add_argument("--data-len", action="append", default=[])
    ap.add_argument("--mss", action="append", default=[])
    a = ap.parse_args()

    stats = {}
    # per direction (src, sport, dst, dport): time of the last 64-bit DSN its peer
    # sent since the peer's last 32-bit one, or None
    peer_dsn64_since = {}
    def addr_ints(specs):
        out = {}
        for spec in specs:
            addr, _, n = spec.partition("=")
            out[addr] = int(n)
        return out

    data_len, mss = addr_ints(a.data_len), addr_ints(a.mss)
    fails = []
    for t, src, dst, sport, dport, opts, plen in packets(a.pcap):
        dss = dss_of(opts)
        if dss is None:
            continue
        flags, length = dss
        s = stats.setdefault(src, {"map32": 0, "map64": 0, "ack32": 0, "ack64": 0,
                                   "data_lens": {}, "late_ack32": 0, "max_payload": 0})
        s["max_payload"] = max(s["max_payload"], plen)
        here, back = (src, sport, dst, dport), (dst, dport, src, sport)
        if flags & F_MAP:
            s["map64" if flags & F_DSN64 else "map32"] += 1
            # what this sender's mappings say about the widths its peer must use
            if flags & F_DSN64:
                if peer_dsn64_since.get(back) is None:
                    peer_dsn64_since[back] = t
            else:
                peer_dsn64_since[back] = None
            if plen > 0 and flags & F_ACK:
                s["data_lens"][length] = s["data_lens"].get(length, 0) + 1
        if flags & F_ACK:
            wide = bool(flags & F_ACK64)
            s["ack64" if wide else "ack32"] += 1
            since = peer_dsn64_since.get(here)
            if not wide and since is not None and t - since > a.grace:
                s["late_ack32"] += 1
    for src, s in sorted(stats.items()):
        lens = ",".join(f"{n}:{c}" for n, c in sorted(s["data_lens"].items()))
        print(f"  {src}: mappings DSN32 {s['map32']} DSN64 {s['map64']}; "
              f"DATA_ACK32 {s['ack32']} ACK64 {s['ack64']} "
              f"(32-bit after the peer's 64-bit DSNs: {s['late_ack32']}); "
              f"data DSS lengths {lens or '-'}; largest payload {s['max_payload']}")
        if s["late_ack32"]:
            fails.append(f"{src} sent {s['late_ack32']} 32-bit DATA_ACKs while its peer sent 64-bit DSNs")
    empty = {"map32": 0, "map64": 0, "ack32": 0, "ack64": 0, "data_lens": {}, "max_payload": 0}
    # (option, counter that must be there, counter that must not, what it counts)
    only = [(a.dsn32, "map32", "map64", "mappings with a 32-bit DSN"),
            (a.dsn64, "map64", "map32", "mappings with a 64-bit DSN"),
            (a.ack32, "ack32", "ack64", "32-bit DATA_ACKs"),
            (a.ack64, "ack64", "ack32", "64-bit DATA_ACKs")]
    for addrs, want, other, what in only:
        for addr in addrs:
            s = stats.get(addr, empty)
            if s[other] or not s[want]:
                fails.append(f"{addr}: {s[want]} {what}, and {s[other]} of the other width")
    for addr, n in data_len.items():
        lens = stats.get(addr, empty)["data_lens"]
        if not lens or set(lens) != {n}:
            fails.append(f"{addr}: data DSS lengths {lens or 'none'}, expected only {n}")
    for addr, n in mss.items():
        got = stats.get(addr, empty)["max_payload"]
        if got != n:
            fails.append(f"{addr}: largest payload {got} bytes, expected {n}")
    for f in fails:
        print(f"FAIL: {f}", file=sys.stderr)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
