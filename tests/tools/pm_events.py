#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Listens to the MPTCP path manager's events (generic netlink family "mptcp_pm",
multicast group "mptcp_pm_events", include/uapi/linux/mptcp_pm.h) in this network
namespace and prints each one as a JSON line on stdout:

  {"t": 12.345, "event": "SUB_ESTABLISHED", "token": 123, "family": 2,
   "saddr4": "192.0.2.9", "daddr4": "192.0.2.6", "sport": 40000, "dport": 7000, ...}

Attributes are decoded by type: addresses as text, ports in host order, the rest
as integers; an attribute the event does not carry is absent, an unknown one is
printed as "attr<N>" (hex). "ready" goes to stderr once subscribed. Stops after
--timeout seconds, or on SIGTERM/SIGINT.
"""
import argparse
import json
import select
import signal
import socket
import struct
import sys
import time

NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
CTRL_ATTR_MCAST_GROUPS = 7
CTRL_ATTR_MCAST_GRP_NAME = 1
CTRL_ATTR_MCAST_GRP_ID = 2
NLM_F_REQUEST = 1
NLMSG_ERROR = 2
NLA_TYPE_MASK = 0x3FFF

EVENTS = {1: "CREATED", 2: "ESTABLISHED", 3: "CLOSED", 6: "ANNOUNCED", 7: "REMOVED",
          10: "SUB_ESTABLISHED", 11: "SUB_CLOSED", 13: "SUB_PRIORITY",
          15: "LISTENER_CREATED", 16: "LISTENER_CLOSED"}
# enum mptcp_event_attr: name, decoder
U8 = lambda b: b[0]
U16 = lambda b: struct.unpack("=H", b[:2])[0]
U32 = lambda b: struct.unpack("=I", b[:4])[0]
S32 = lambda b: struct.unpack("=i", b[:4])[0]
BE16 = lambda b: struct.unpack("!H", b[:2])[0]
IP4 = lambda b: socket.inet_ntop(socket.AF_INET, b[:4])
IP6 = lambda b: socket.inet_ntop(socket.AF_INET6, b[:16])
ATTRS = {1: ("token", U32), 2: ("family", U16), 3: ("loc_id", U8), 4: ("rem_id", U8),
         5: ("saddr4", IP4), 6: ("saddr6", IP6), 7: ("daddr4", IP4), 8: ("daddr6", IP6),
         9: ("sport", BE16), 10: ("dport", BE16), 11: ("backup", U8), 12: ("error", U8),
         13: ("flags", U16), 14: ("timeout", U32), 15: ("if_idx", S32),
         16: ("reset_reason", U32), 17: ("reset_flags", U32), 18: ("server_side", U8)}


def attrs(buf):
    """(type, payload) of each netlink attribute in buf."""
    off = 0
    while off + 4 <= len(buf):
        alen, atype = struct.unpack_from("=HH", buf, off)
        if alen < 4:
            break
        yield atype & NLA_TYPE_MASK, buf[off + 4:off + alen]
        off += (alen + 3) & ~3


def messages(data):
    """(type, payload after the netlink header) of each message in data."""
    off = 0
    while off + 16 <= len(data):
        mlen, mtype, _flags, _seq, _pid = struct.unpack_from("=IHHII", data, off)
        if mlen < 16:
            break
        yield mtype, data[off + 16:off + mlen]
        off += (mlen + 3) & ~3


def resolve(sock, family):
    """The id of generic netlink family `family` and its multicast groups by name."""
    name = family.encode() + b"\0"
    nla = struct.pack("=HH", 4 + len(name), CTRL_ATTR_FAMILY_NAME) + name
    nla += b"\0" * (-len(nla) % 4)
    payload = struct.pack("=BBH", CTRL_CMD_GETFAMILY, 1, 0) + nla
    sock.send(struct.pack("=IHHII", 16 + len(payload), GENL_ID_CTRL, NLM_F_REQUEST, 1, 0) + payload)
    fid, groups = None, {}
    for mtype, body in messages(sock.recv(65536)):
        if mtype == NLMSG_ERROR:
            err = struct.unpack_from("=i", body)[0]
            raise OSError(-err, "cannot resolve generic netlink family %s" % family)
        for atype, val in attrs(body[4:]):
            if atype == CTRL_ATTR_FAMILY_ID:
                fid = U16(val)
            elif atype == CTRL_ATTR_MCAST_GROUPS:
                for _i, grp in attrs(val):
                    g = dict(attrs(grp))
                    gname = g[CTRL_ATTR_MCAST_GRP_NAME].rstrip(b"\0").decode()
                    groups[gname] = U32(g[CTRL_ATTR_MCAST_GRP_ID])
    if fid is None:
        raise OSError("no id for generic netlink family %s" % family)
    return fid, groups


def decode(fid, mtype, body, t0):
    if mtype != fid or len(body) < 4:
        return None
    cmd = body[0]
    ev = {"t": round(time.monotonic() - t0, 3), "event": EVENTS.get(cmd, "event%d" % cmd)}
    for atype, val in attrs(body[4:]):
        name, dec = ATTRS.get(atype, ("attr%d" % atype, lambda b: b.hex()))
        try:
            ev[name] = dec(val)
        except (struct.error, IndexError, ValueError):
            ev[name] = "bad:" + val.hex()
    return ev


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    stop = []
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: stop.append(1))
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    sock.bind((0, 0))
    fid, groups = resolve(sock, "mptcp_pm")
    sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, groups["mptcp_pm_events"])
    t0 = time.monotonic()
    print("ready family %d group %d" % (fid, groups["mptcp_pm_events"]), file=sys.stderr, flush=True)
    end = t0 + args.timeout
    while not stop and time.monotonic() < end:
        try:
            r, _, _ = select.select([sock], [], [], 0.2)
        except InterruptedError:
            continue
        if not r:
            continue
        data = sock.recv(65536)
        for mtype, body in messages(data):
            ev = decode(fid, mtype, body, t0)
            if ev is not None:
                print(json.dumps(ev, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
