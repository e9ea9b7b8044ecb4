#!/usr/bin/env python3
"""SOCK_DESTROY for MPTCP sockets over NETLINK_SOCK_DIAG, the request `ss -K -M`
would make if it named the protocol: iproute2's ss puts IPPROTO_MPTCP (262) into the
8-bit sdiag_protocol of its SOCK_DESTROY (TCP's 6 after truncation) without the
INET_DIAG_REQ_PROTOCOL attribute its dumps carry, so its kill never reaches an MPTCP
handler. This tool dumps the MPTCP sockets of the current network namespace whose
remote (or, with --listeners, local) port is PORT, sends SOCK_DESTROY for each with
INET_DIAG_REQ_PROTOCOL 262, and prints one line per socket: the state and the
answer ("ok" or the errno's name). Exit status 0 if every answer was as --expect
says (ok by default).

  mptcp_destroy.py --port PORT [--listeners] [--expect ok|ENOENT|...]
"""
import argparse
import errno
import os
import socket
import struct
import sys

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
SOCK_DESTROY = 21
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
INET_DIAG_REQ_PROTOCOL = 3
IPPROTO_MPTCP = 262
TCP_LISTEN = 10
STATES = {1: "ESTAB", 2: "SYN-SENT", 3: "SYN-RECV", 4: "FIN-WAIT-1", 5: "FIN-WAIT-2",
          6: "TIME-WAIT", 7: "CLOSE", 8: "CLOSE-WAIT", 9: "LAST-ACK", 10: "LISTEN",
          11: "CLOSING"}
SOCKID = struct.Struct("!HH16s16s")  # ports and addresses, network order
HOST = struct.Struct("=I8s")         # interface, cookie: host order


def request(kind, flags, family, states, sockid):
    # struct inet_diag_req_v2, then the protocol attribute (an rtattr with a u32)
    body = struct.pack("=BBBBI", family, IPPROTO_MPTCP & 0xff, 0, 0, states) + sockid
    body += struct.pack("=HHI", 8, INET_DIAG_REQ_PROTOCOL, IPPROTO_MPTCP)
    return struct.pack("=IHHII", 16 + len(body), kind, flags, 1, 0) + body


def messages(sock):
    while True:
        data = sock.recv(65536)
        off = 0
        while off + 16 <= len(data):
            length, kind = struct.unpack_from("=IH", data, off)
            yield kind, data[off + 16:off + length]
            off += (length + 3) & ~3


def dump(sock, family, states):
    sock.send(request(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, family, states,
                      bytes(SOCKID.size + HOST.size)))
    found = []
    for kind, body in messages(sock):
        if kind == NLMSG_DONE:
            return found
        if kind == NLMSG_ERROR:
            (err,) = struct.unpack_from("=i", body)
            sys.exit(f"mptcp_destroy: dump failed: {os.strerror(-err)}")
        fam, state = body[0], body[1]
        sockid = body[4:4 + SOCKID.size + HOST.size]
        sport, dport, _, _ = SOCKID.unpack_from(sockid)
        found.append((fam, state, sport, dport, sockid))


def destroy(sock, family, sockid):
    sock.send(request(SOCK_DESTROY, NLM_F_REQUEST | NLM_F_ACK, family, 0, sockid))
    for kind, body in messages(sock):
        if kind == NLMSG_ERROR:
            (err,) = struct.unpack_from("=i", body)
            return "ok" if err == 0 else errno.errorcode.get(-err, str(-err))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--listeners", action="store_true")
    ap.add_argument("--expect", default="ok")
    args = ap.parse_args()
    states = (1 << TCP_LISTEN) if args.listeners else 0xfff & ~(1 << TCP_LISTEN)
    good = True
    n = 0
    for family in (socket.AF_INET, socket.AF_INET6):
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG) as sock:
            targets = dump(sock, family, states)
        for fam, state, sport, dport, sockid in targets:
            if (sport if args.listeners else dport) != args.port:
                continue
            with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG) as sock:
                answer = destroy(sock, fam, sockid)
            n += 1
            print(f"{STATES.get(state, state)} {sport} -> {dport}: {answer}")
            good = good and answer == args.expect
    if n == 0:
        print("mptcp_destroy: no MPTCP socket with that port", file=sys.stderr)
        good = False
    sys.exit(0 if good else 1)


main()
