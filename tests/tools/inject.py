#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Inject crafted TCP segments into a live IPv4 connection, for guest tests.

  inject.py --dev DEV --src IP:PORT --dst IP:PORT --mode MODE [--count N] [--seed S]

Run in the namespace of the connection's SOURCE side: it sniffs DEV (AF_PACKET) for the
connection's latest segment from SRC to DST (sequence numbers, timestamps) and the
MP_CAPABLE keys of its handshake, then sends segments from SRC to DST through a raw
IP socket, in sequence for DST, that SRC's own TCP never sent. Modes:

  garbage    N pure ACKs, each with random bytes in an MPTCP option (kind 30, random
             subtype and length): the receiver must ignore them
  badmap     one data segment whose DSS mapping covers fewer bytes than it carries:
             the receiver must reset the connection (DSSNotMatching)
  fastclose  one ACK with MP_FASTCLOSE carrying the receiver's key (read from the
             handshake): the receiver must close the connection (MPFastcloseRx)
  join-token a SYN with MP_JOIN naming a token no connection has, from port
             SRC_PORT + 1: the receiver must answer with a reset (MPJoinNoTokenFound)
  join-hmac  a SYN with MP_JOIN with the connection's token (from the receiver's key),
             from port SRC_PORT + 1, then, after the SYN/ACK with MP_JOIN, a third ACK
             whose HMAC is wrong: the receiver must reset (MPJoinAckHMacFailure). The
             caller keeps SRC's own kernel from resetting the SYN/ACK (a firewall
             rule dropping resets from that port)
  join-nompj as join-hmac, but the third ACK carries no MP_JOIN at all (a join cannot
             fall back to TCP): the receiver must reset, and counts it as upstream
             does (MPJoinAckHMacFailure)
  overlap    (DSS checksums on) one 1200-byte DSS mapping with a right checksum, sent
             as two data segments that overlap: bytes 0-800, then 401-1199, i.e. the
             second repeats 400 bytes the receiver already has (and its new bytes
             start at an odd offset of the mapping), as a retransmission
             joining an arrived segment to a lost one does. The payload is what SRC
             sends next if byte k of its stream is k mod 256 (the caller's victim),
             so the stream stays intact: the receiver must accept the mapping
  overlap-bad the same with the mapping's byte 1000 inverted in the second segment, after the part
             it repeats: the receiver must find the checksum wrong (DataCsumErr)
  ackahead   one ACK whose DSS DATA_ACK (64-bit) lies 3 GiB beyond the receiver's
             first DSN (from its key), acknowledging data it never sent: the receiver
             must ignore it and carry on

Prints one JSON line describing what was sent.
"""
import argparse
import hashlib
import json
import random
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SO_RCVBUFFORCE = 33


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def parse_frame(frame):
    """(src, sport, dst, dport, seq, ack, flags, options, payload_len) of a TCP/IPv4 frame."""
    if len(frame) < 14 + 20 or struct.unpack("!H", frame[12:14])[0] != 0x0800:
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0xF) * 4
    if ip[9] != 6:
        return None
    tot = struct.unpack("!H", ip[2:4])[0]
    tcp = ip[ihl:tot]
    if len(tcp) < 20:
        return None
    sport, dport, seq, ack, off_flags = struct.unpack("!HHIIH", tcp[:14])
    doff = (off_flags >> 12) * 4
    return (socket.inet_ntoa(ip[12:16]), sport, socket.inet_ntoa(ip[16:20]), dport, seq, ack,
            off_flags & 0x1FF, tcp[20:doff], len(tcp) - doff)


def options(raw):
    out, i = [], 0
    while i < len(raw):
        k = raw[i]
        if k == 0:
            break
        if k == 1:
            i += 1
            continue
        if i + 1 >= len(raw) or raw[i + 1] < 2:
            break
        out.append(raw[i:i + raw[i + 1]])
        i += raw[i + 1]
    return out


def tcp_segment(src, sport, dst, dport, seq, ack, flags, opts, payload, window=512):
    while len(opts) % 4:
        opts += b"\x01"
    doff = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIHHHH", sport, dport, seq, ack, (doff << 12) | flags, window, 0, 0)
    seg = hdr + opts + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(seg))
    c = csum(pseudo + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def idsn_of(key):
    """The IDSN of the side whose MPTCP key is KEY: the low 64 bits of SHA-256 of it."""
    return int.from_bytes(hashlib.sha256(key).digest()[-8:], "big")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--mode", required=True,
                    choices=["garbage", "badmap", "fastclose", "join-token", "join-hmac",
                             "join-nompj", "overlap", "overlap-bad", "ackahead"])
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sniff", type=float, default=3.0, help="seconds to watch the connection")
    a = ap.parse_args()
    src, sport = a.src.rsplit(":", 1)
    dst, dport = a.dst.rsplit(":", 1)
    sport, dport = int(sport), int(dport)
    rnd = random.Random(a.seed)

    # watch the connection: the latest segment from src to dst gives the next
    # sequence number, the ack and a timestamp; the handshake gives the keys
    sn = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    # a busy link (the bystander's transfer) must not push the connection's few
    # frames out of the capture buffer before this (slow) reader gets to them
    sn.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 256 << 20)
    sn.bind((a.dev, 0))
    # the caller starts the connection once this line is out
    print("sniffing", file=sys.stderr, flush=True)
    sn.settimeout(0.2)
    last, keys, isn = None, {}, None
    # a loaded guest may start the connection late: wait for it up to 5 times the
    # sniffing time, and sniff one more second once it showed up
    start = time.time()
    deadline = start + 5 * a.sniff
    seen = False
    while time.time() < deadline:
        try:
            frame = sn.recv(65536)
        except socket.timeout:
            continue
        p = parse_frame(frame)
        if not p:
            continue
        fs, fsp, fd, fdp, seq, ack, flags, opt, plen = p
        for o in options(opt):
            # MP_CAPABLE on the third ACK: sender key, receiver key
            if o[0] == 30 and len(o) >= 20 and o[2] >> 4 == 0 and not flags & 0x02:
                if (fs, fsp) == (src, sport):
                    keys["src"], keys["dst"] = o[4:12], o[12:20]
        if (fs, fsp, fd, fdp) == (src, sport, dst, dport) and flags & 0x12 == 0x02:
            isn = seq
        if (fs, fsp, fd, fdp) == (src, sport, dst, dport) and flags & 0x10:
            last = (seq + plen + (1 if flags & 0x01 else 0), ack, opt)
            if not seen:
                # the handshake and the first data follow at once; the victim idles
                # for 5 s after them, and the injection must come before it resumes
                seen = True
                deadline = min(deadline, time.time() + min(a.sniff, 1.0))
    if not last:
        print("no segment of the connection seen", file=sys.stderr)
        return 1
    seq, ack, opt = last
    ts = b"".join(o for o in options(opt) if o[0] == 8)  # keep the timestamp: PAWS
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)

    def send(flags, mopt, payload=b""):
        seg = tcp_segment(src, sport, dst, dport, seq, ack, flags, ts + mopt, payload)
        raw.sendto(seg, (dst, 0))

    sent = 0
    if a.mode == "garbage":
        for _ in range(a.count):
            body = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 24)))
            room = 40 - len(ts) - 2
            body = body[:room]
            send(0x10, bytes([30, len(body) + 2]) + body)
            sent += 1
    elif a.mode == "badmap":
        payload = bytes(rnd.randrange(256) for _ in range(1000))
        # DSS: flags M|m|A|a (mapping with 64-bit DSN, 64-bit ack, no checksum);
        # data_len 100 < 1000 bytes carried
        dss = bytes([30, 26, 0x20, 0x0F]) + struct.pack("!QQIH", 0, 1, 1, 100)
        send(0x18, dss, payload)
        sent = 1
    elif a.mode == "fastclose":
        if "dst" not in keys:
            print("no MP_CAPABLE keys seen", file=sys.stderr)
            return 1
        send(0x10, bytes([30, 12, 0x70, 0]) + keys["dst"])
        sent = 1
    elif a.mode == "ackahead":
        if "dst" not in keys:
            print("no MP_CAPABLE keys seen", file=sys.stderr)
            return 1
        # a DATA_ACK 3 GiB beyond DST's first DSN (its IDSN, the low 64 bits of
        # SHA-256 of its key, + 1): data DST never sent (RFC 8684 3.3.2; upstream
        # ignores it). DSS: flags A|a (64-bit DATA_ACK), no mapping
        data_ack = (idsn_of(keys["dst"]) + 1 + (3 << 30)) & (2**64 - 1)
        send(0x10, bytes([30, 12, 0x20, 0x03]) + struct.pack("!Q", data_ack))
        sent = 1
    elif a.mode in ("overlap", "overlap-bad"):
        if "src" not in keys or isn is None:
            print("no SYN or MP_CAPABLE keys seen", file=sys.stderr)
            return 1
        # one subflow, no fallback: the next byte's DSN is the IDSN (the low 64 bits
        # of SHA-256 of SRC's key) + 1 + the bytes SRC sent so far
        sent_bytes = (seq - isn - 1) & 0xFFFFFFFF
        dsn = (idsn_of(keys["src"]) + 1 + sent_bytes) & (2**64 - 1)
        ssn = sent_bytes + 1  # mappings count subflow bytes from 1
        payload = bytes((sent_bytes + i) & 0xFF for i in range(1200))
        # RFC 8684 3.3.1: the DSS checksum covers a pseudo-header (64-bit DSN,
        # relative subflow sequence number, data-level length, zero) and the payload
        dss_sum = csum(struct.pack("!QIHH", dsn, ssn, len(payload), 0) + payload)
        # DSS: flags M|m (mapping, 64-bit DSN), no DATA_ACK, with the checksum
        dss = bytes([30, 20, 0x20, 0x0C]) + struct.pack("!QIHH", dsn, ssn, len(payload), dss_sum)
        second = bytearray(payload[401:])
        if a.mode == "overlap-bad":
            second[1000 - 401] ^= 0xFF
        raw.sendto(tcp_segment(src, sport, dst, dport, seq, ack, 0x18, ts + dss,
                               payload[:801]), (dst, 0))
        time.sleep(0.3)
        raw.sendto(tcp_segment(src, sport, dst, dport, (seq + 401) & 0xFFFFFFFF, ack, 0x18,
                               ts + dss, bytes(second)), (dst, 0))
        sent = 2
        print(json.dumps({"mode": a.mode, "sent": sent, "seq": seq, "dsn": dsn,
                          "ssn": ssn, "csum": dss_sum}))
        return 0
    elif a.mode in ("join-token", "join-hmac", "join-nompj"):
        if "dst" not in keys:
            print("no MP_CAPABLE keys seen", file=sys.stderr)
            return 1
        token = struct.unpack("!I", hashlib.sha256(keys["dst"]).digest()[:4])[0]
        if a.mode == "join-token":
            token ^= 0xDEADBEEF
        return join(a, sn, raw, src, sport + 1, dst, dport, token, rnd, keys)
    print(json.dumps({"mode": a.mode, "sent": sent, "seq": seq, "ack": ack,
                      "keys_seen": sorted(keys)}))
    return 0


def join(a, sn, raw, src, jport, dst, dport, token, rnd, keys):
    """An MP_JOIN handshake from src:jport that the receiver must refuse."""
    isn = rnd.randrange(1 << 32)
    nonce = rnd.randrange(1 << 32)
    # MP_JOIN on the SYN: subtype 1, B = 0, address id 5, token, nonce; plus an MSS
    mpj = bytes([30, 12, 0x10, 5]) + struct.pack("!II", token, nonce)
    mss = bytes([2, 4]) + struct.pack("!H", 1400)
    raw.sendto(tcp_segment(src, jport, dst, dport, isn, 0, 0x02, mss + mpj, b"", 64240),
               (dst, 0))

    def answer(timeout=3.0):
        """The receiver's next segment to src:jport: (flags, seq, MP_JOIN option)."""
        end = time.time() + timeout
        while time.time() < end:
            try:
                frame = sn.recv(65536)
            except socket.timeout:
                continue
            p = parse_frame(frame)
            if not p:
                continue
            fs, fsp, fd, fdp, seq, ack, flags, opt, plen = p
            if (fs, fsp, fd, fdp) == (dst, dport, src, jport):
                mp = [o for o in options(opt) if o[0] == 30 and len(o) > 2 and o[2] >> 4 == 1]
                return flags, seq, mp[0] if mp else None
        return None

    res = {"mode": a.mode, "token": token, "synack": False, "synack_mp_join": False,
           "rst": False, "keys_seen": sorted(keys)}
    r = answer()
    if r and r[0] & 0x12 == 0x12:
        res["synack"] = True
        res["synack_mp_join"] = r[2] is not None and len(r[2]) == 16
        if a.mode in ("join-hmac", "join-nompj"):
            # the third ACK, with an HMAC that cannot be the right one, or none
            hmac = bytes(rnd.randrange(256) for _ in range(20))
            ack3 = bytes([30, 24, 0x10, 0]) + hmac if a.mode == "join-hmac" else b""
            raw.sendto(tcp_segment(src, jport, dst, dport, isn + 1, (r[1] + 1) & 0xFFFFFFFF,
                                   0x10, ack3, b"", 64240), (dst, 0))
            r = answer()
    if r and r[0] & 0x04:
        res["rst"] = True
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
