#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Socket API checks of an MPTCP implementation over loopback.

  mptcp_api.py [--family 4|6]

Runs each check against socket(AF_INET[6], SOCK_STREAM, IPPROTO_MPTCP) and prints one
line per check ("ok NAME" / "FAIL NAME: why"); exits 1 if any check failed. The
expected behaviour is that of TCP sockets (and of upstream Linux MPTCP).
"""
import argparse
import ctypes
import errno
import fcntl
import os
import select
import socket
import struct
import sys
import threading
import time

IPPROTO_MPTCP = 262
TCP_CONGESTION = 13
TCP_ULP = 31

failures = []


def check(name):
    def wrap(fn):
        def run(*a):
            try:
                fn(*a)
                print(f"ok {name}")
            except Exception as e:  # noqa: BLE001 - report every failure
                failures.append(name)
                print(f"FAIL {name}: {type(e).__name__}: {e}")
        run.__name__ = name
        CHECKS.append(run)
        return run
    return wrap


CHECKS = []


def msock(fam):
    return socket.socket(fam, socket.SOCK_STREAM, IPPROTO_MPTCP)


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def pair(fam, host):
    """A connected (client, server-side) pair of MPTCP sockets."""
    ls = msock(fam)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, 0))
    ls.listen(4)
    port = ls.getsockname()[1]
    c = msock(fam)
    c.settimeout(10)
    c.connect((host, port))
    ls.settimeout(10)
    s, _ = ls.accept()
    s.settimeout(10)
    ls.close()
    return c, s, port


def mptcpext():
    """This namespace's MPTcpExt counters."""
    rows = [l.split() for l in open("/proc/net/netstat") if l.startswith("MPTcpExt:")]
    return {k: int(v) for k, v in zip(rows[0][1:], rows[1][1:])} if len(rows) == 2 else {}


SOL_MPTCP = 284
MPTCP_INFO = 1
MPTCP_INFO_FIELDS = ("subflows add_addr_signal add_addr_accepted subflows_max add_addr_signal_max "
                     "add_addr_accepted_max flags token write_seq snd_una rcv_nxt local_addr_used "
                     "local_addr_max csum_enabled retransmits bytes_retrans bytes_sent bytes_received "
                     "bytes_acked subflows_total endp_laminar_max endp_fullmesh_max reserved "
                     "last_data_sent last_data_recv last_ack_recv").split()
MPTCP_INFO_FORMAT = "=BBBBBB2xIIQQQBBBxIQQQQBBBBIII"  # struct mptcp_info, 96 bytes


def mptcp_info(sk):
    raw = sk.getsockopt(SOL_MPTCP, MPTCP_INFO, struct.calcsize(MPTCP_INFO_FORMAT))
    expect(len(raw) == struct.calcsize(MPTCP_INFO_FORMAT), f"MPTCP_INFO returned {len(raw)} bytes")
    return dict(zip(MPTCP_INFO_FIELDS, struct.unpack(MPTCP_INFO_FORMAT, raw)))


MPTCP_TCPINFO = 2
MPTCP_SUBFLOW_ADDRS = 3
MPTCP_FULL_INFO = 4
TCP_INFO = 11
TCP_INQ = 36
TCP_CM_INQ = 36  # = TCP_INQ
SO_TIMESTAMPNS_OLD = 35
SIOCINQ = 0x541B
SIOCOUTQ = 0x5411
SIOCOUTQNSD = 0x894B
LIBC = ctypes.CDLL(None, use_errno=True)


def raw_getsockopt(sk, level, opt, buf):
    """getsockopt() whose buffer also carries input (SOL_MPTCP headers): (bytes, optlen)."""
    cbuf = ctypes.create_string_buffer(bytes(buf), len(buf))
    olen = ctypes.c_uint32(len(buf))
    if LIBC.getsockopt(sk.fileno(), level, opt, cbuf, ctypes.byref(olen)) < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return cbuf.raw, olen.value


def sockaddr(raw):
    """(host, port) of a struct sockaddr_in / sockaddr_in6 in a sockaddr_storage."""
    fam, port = struct.unpack_from("=H", raw)[0], struct.unpack_from("!H", raw, 2)[0]
    if fam == socket.AF_INET:
        return socket.inet_ntop(socket.AF_INET, raw[4:8]), port
    return socket.inet_ntop(socket.AF_INET6, raw[8:24]), port


def ioctl_int(sk, req):
    return struct.unpack("i", fcntl.ioctl(sk.fileno(), req, b"\0" * 4))[0]


def free_port(fam, host):
    t = socket.socket(fam, socket.SOCK_STREAM)
    t.bind((host, 0))
    p = t.getsockname()[1]
    t.close()
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", default="4", choices=["4", "6"])
    args = ap.parse_args()
    fam = socket.AF_INET if args.family == "4" else socket.AF_INET6
    host = "127.0.0.1" if fam == socket.AF_INET else "::1"

    @check("blocking_connect_refused")
    def _():
        c = msock(fam)
        c.settimeout(5)
        try:
            c.connect((host, free_port(fam, host)))
            raise AssertionError("connect succeeded with nobody listening")
        except ConnectionRefusedError:
            pass
        finally:
            c.close()

    @check("nonblocking_connect_refused_so_error")
    def _():
        c = msock(fam)
        c.setblocking(False)
        rc = c.connect_ex((host, free_port(fam, host)))
        expect(rc in (errno.EINPROGRESS, errno.ECONNREFUSED), f"connect_ex gave {rc}")
        if rc == errno.EINPROGRESS:
            p = select.poll()
            p.register(c, select.POLLOUT)
            ev = p.poll(5000)
            expect(ev, "no poll event after a refused connect")
            err = c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            expect(err == errno.ECONNREFUSED, f"SO_ERROR {err}, expected ECONNREFUSED")
        c.close()

    @check("nonblocking_connect_then_writable")
    def _():
        ls = msock(fam)
        ls.bind((host, 0))
        ls.listen(1)
        c = msock(fam)
        c.setblocking(False)
        rc = c.connect_ex(ls.getsockname()[:2])
        expect(rc in (0, errno.EINPROGRESS), f"connect_ex gave {rc}")
        p = select.poll()
        p.register(c, select.POLLOUT)
        ev = p.poll(5000)
        expect(ev and ev[0][1] & select.POLLOUT, f"not writable after connect: {ev}")
        expect(c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0, "SO_ERROR set")
        s, _ = ls.accept()
        for x in (c, s, ls):
            x.close()

    @check("names")
    def _():
        c, s, port = pair(fam, host)
        expect(c.getpeername()[1] == port, f"client peer {c.getpeername()} port {port}")
        expect(s.getsockname()[1] == port, f"server name {s.getsockname()}")
        expect(s.getpeername()[1] == c.getsockname()[1], "ports do not pair up")
        expect(c.getsockname()[1] != 0, "client has no local port")
        c.close(); s.close()

    @check("peek_then_read")
    def _():
        c, s, _ = pair(fam, host)
        c.sendall(b"0123456789abcdef")
        deadline = time.time() + 5
        got = b""
        while len(got) < 10 and time.time() < deadline:
            got = s.recv(10, socket.MSG_PEEK)
        expect(got == b"0123456789", f"peek gave {got!r}")
        again = s.recv(4, socket.MSG_PEEK)
        expect(again == b"0123", f"second peek gave {again!r}")
        data = b""
        while len(data) < 16:
            data += s.recv(16 - len(data))
        expect(data == b"0123456789abcdef", f"read gave {data!r}")
        c.close(); s.close()

    @check("zero_length_read")
    def _():
        # recv() of 0 bytes on a blocking socket with data queued returns b"" at
        # once (TCP's does), and leaves the data
        c, s, _ = pair(fam, host)
        c.sendall(b"queued")
        deadline = time.time() + 5
        while not s.recv(1, socket.MSG_PEEK) and time.time() < deadline:
            pass
        s.settimeout(None)
        got = []
        # Python's own recv(0) returns b"" without a system call: libc's recv()
        libc = ctypes.CDLL(None, use_errno=True)
        buf = ctypes.create_string_buffer(1)
        t = threading.Thread(target=lambda: got.append(libc.recv(s.fileno(), buf, 0, 0)),
                             daemon=True)
        t.start()
        t.join(3)
        expect(got == [0], f"recv(fd, buf, 0, 0) gave {got} within 3 s")
        expect(s.recv(16) == b"queued", "the data after recv(0)")
        c.close(); s.close()

    @check("dontwait_empty_eagain")
    def _():
        c, s, _ = pair(fam, host)
        s.settimeout(None)  # blocking: the flag alone must make it non-blocking
        try:
            s.recv(10, socket.MSG_DONTWAIT)
            raise AssertionError("recv on an empty socket did not fail")
        except BlockingIOError:
            pass
        c.close(); s.close()

    def four_chunks(c):
        """A thread sending 1000 A, B, C and D bytes 0.2 s apart on c; and all of them."""
        def slow():
            for i in range(4):
                c.sendall(bytes([65 + i]) * 1000)
                time.sleep(0.2)
        t = threading.Thread(target=slow)
        t.start()
        return t, b"A" * 1000 + b"B" * 1000 + b"C" * 1000 + b"D" * 1000

    @check("waitall_gathers_chunks")
    def _():
        c, s, _ = pair(fam, host)
        t, want = four_chunks(c)
        s.settimeout(None)  # blocking, so that MSG_WAITALL waits
        data = s.recv(4000, socket.MSG_WAITALL)
        t.join()
        expect(len(data) == 4000, f"MSG_WAITALL returned {len(data)} bytes")
        expect(data == want, "content")
        c.close(); s.close()

    @check("peek_waitall_gathers_chunks")
    def _():
        # MSG_PEEK with MSG_WAITALL waits for the rest as WAITALL does, and what it
        # returns is the stream from its start, each byte once; a read then gets
        # the same bytes
        c, s, _ = pair(fam, host)
        t, want = four_chunks(c)
        s.settimeout(None)
        data = s.recv(4000, socket.MSG_PEEK | socket.MSG_WAITALL)
        t.join()
        expect(data == want, f"peek gave {len(data)} bytes, {data.count(b'A')} of them A")
        data = s.recv(4000, socket.MSG_WAITALL)
        expect(data == want, f"the read after the peek gave {len(data)} bytes")
        c.close(); s.close()

    @check("epoll_in_and_out")
    def _():
        c, s, _ = pair(fam, host)
        ep = select.epoll()
        ep.register(c.fileno(), select.EPOLLIN | select.EPOLLOUT)
        ev = dict(ep.poll(2))
        expect(ev.get(c.fileno(), 0) & select.EPOLLOUT, f"not writable: {ev}")
        expect(not ev.get(c.fileno(), 0) & select.EPOLLIN, f"readable before data: {ev}")
        s.sendall(b"x")
        deadline = time.time() + 5
        ok = False
        while time.time() < deadline and not ok:
            ev = dict(ep.poll(1))
            ok = bool(ev.get(c.fileno(), 0) & select.EPOLLIN)
        expect(ok, "no EPOLLIN after the peer sent")
        expect(c.recv(1) == b"x", "wrong byte")
        ep.close(); c.close(); s.close()

    @check("shutdown_write_half_close")
    def _():
        c, s, _ = pair(fam, host)
        c.sendall(b"request")
        c.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            b = s.recv(100)
            if not b:
                break
            data += b
        expect(data == b"request", f"server read {data!r}")
        s.sendall(b"reply after EOF")
        s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            b = c.recv(100)
            if not b:
                break
            got += b
        expect(got == b"reply after EOF", f"client read {got!r}")
        try:
            c.send(b"more")
            raise AssertionError("send after SHUT_WR succeeded")
        except (BrokenPipeError, OSError):
            pass
        c.close(); s.close()

    @check("poll_hup_after_peer_close")
    def _():
        c, s, _ = pair(fam, host)
        s.close()
        p = select.poll()
        p.register(c, select.POLLIN | select.POLLRDHUP)
        ev = p.poll(5000)
        expect(ev and ev[0][1] & (select.POLLIN | select.POLLRDHUP), f"no event: {ev}")
        expect(c.recv(10) == b"", "EOF expected")
        c.close()

    @check("sockopts_reach_subflow")
    def _():
        c, s, _ = pair(fam, host)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        expect(c.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1, "TCP_NODELAY")
        c.setsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, b"reno")
        cc = c.getsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, 16).rstrip(b"\0")
        expect(cc == b"reno", f"TCP_CONGESTION {cc!r}")
        c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        expect(c.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1, "SO_KEEPALIVE")
        c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        expect(c.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) == 131072, "SO_SNDBUF")
        c.setsockopt(socket.IPPROTO_IP if fam == socket.AF_INET else socket.IPPROTO_IPV6,
                     socket.IP_TOS if fam == socket.AF_INET else socket.IPV6_TCLASS, 0x20)
        c.sendall(b"still works")
        got = b""
        while len(got) < 11:
            got += s.recv(11 - len(got))
        expect(got == b"still works", "data after setsockopt")
        c.close(); s.close()

    @check("reuseaddr_set_before_bind")
    def _():
        # a TCP connection closed by its server leaves TIME_WAIT on the port; a new
        # listener with SO_REUSEADDR (set before bind, as servers do) may bind it
        ls = socket.socket(fam, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((host, 0)); ls.listen(1)
        port = ls.getsockname()[1]
        c = socket.create_connection((host, port), timeout=5)
        s, _ = ls.accept()
        s.close(); ls.close(); time.sleep(0.2); c.close()
        m = msock(fam)
        m.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        m.bind((host, port))
        m.listen(1)
        m.close()

    @check("large_write_read_back")
    def _():
        c, s, _ = pair(fam, host)
        blob = bytes(range(256)) * 4096 * 4  # 4 MB
        t = threading.Thread(target=lambda: (c.sendall(blob), c.shutdown(socket.SHUT_WR)))
        t.start()
        got = bytearray()
        while True:
            b = s.recv(1 << 16)
            if not b:
                break
            got += b
        t.join()
        expect(bytes(got) == blob, f"got {len(got)} bytes, content differs")
        c.close(); s.close()

    @check("tcp_ulp_refused")
    def _():
        # an MPTCP socket takes no ULP, at once (no module lookup), as upstream's
        c, s, _ = pair(fam, host)
        for name in (b"tls", b"mptcp"):
            t = time.time()
            try:
                c.setsockopt(socket.IPPROTO_TCP, TCP_ULP, name)
                raise AssertionError(f"TCP_ULP {name!r} accepted")
            except OSError as e:
                expect(e.errno == errno.ENOPROTOOPT, f"TCP_ULP {name!r}: {errno.errorcode.get(e.errno)}")
            expect(time.time() - t < 0.05, f"TCP_ULP {name!r} took {time.time() - t:.3f} s")
        expect(c.getsockopt(socket.IPPROTO_TCP, TCP_ULP, 8).rstrip(b"\0") == b"mptcp", "TCP_ULP is not mptcp")
        c.close(); s.close()

    @check("mptcp_info")
    def _():
        # getsockopt(SOL_MPTCP, MPTCP_INFO) as upstream reports it: MPTCP in use, a
        # token, DSNs that moved by what was exchanged, one subflow
        c, s, _ = pair(fam, host)
        short = c.getsockopt(SOL_MPTCP, MPTCP_INFO, 4)
        expect(len(short) == 4, f"a 4-byte MPTCP_INFO returned {len(short)} bytes")
        a = mptcp_info(c)
        c.sendall(b"q" * 100000)
        got = 0
        while got < 100000:
            got += len(s.recv(1 << 16))
        s.sendall(b"r" * 30000)
        got = 0
        while got < 30000:
            got += len(c.recv(1 << 16))
        time.sleep(0.2)  # the DATA_ACK of the last byte
        b = mptcp_info(c)
        expect(b["flags"] & 1 == 0, "fallback flag set")
        expect(b["flags"] & 2, "remote key not received")
        expect(b["token"] != 0, "no token")
        expect(b["subflows_total"] == 1, f"subflows_total {b['subflows_total']}")
        expect(b["bytes_acked"] - a["bytes_acked"] == 100000, f"bytes_acked moved by {b['bytes_acked'] - a['bytes_acked']}")
        expect(b["snd_una"] - a["snd_una"] == 100000, f"snd_una moved by {b['snd_una'] - a['snd_una']}")
        expect(b["write_seq"] == b["snd_una"], f"write_seq {b['write_seq']:x}, snd_una {b['snd_una']:x}")
        expect(b["bytes_received"] == 30000, f"bytes_received {b['bytes_received']}")
        expect(b["rcv_nxt"] - a["rcv_nxt"] == 30000, f"rcv_nxt moved by {b['rcv_nxt'] - a['rcv_nxt']}")
        expect(b["bytes_sent"] >= 100000, f"bytes_sent {b['bytes_sent']}")
        srv = mptcp_info(s)
        expect(srv["token"] not in (0, b["token"]), "the server's token is the client's")
        c.close(); s.close()
        # a plain TCP peer: the socket answers as a TCP socket (upstream: EOPNOTSUPP)
        ls = socket.socket(fam, socket.SOCK_STREAM)
        ls.bind((host, 0)); ls.listen(1)
        f = msock(fam); f.settimeout(10)
        f.connect((host, ls.getsockname()[1]))
        try:
            mptcp_info(f)
            raise AssertionError("MPTCP_INFO answered on a connection that fell back")
        except OSError as e:
            expect(e.errno == errno.EOPNOTSUPP, f"fallback: {errno.errorcode.get(e.errno)}")
        f.close(); ls.close()

    @check("mptcp_subflow_sockopts")
    def _():
        # MPTCP_TCPINFO, MPTCP_SUBFLOW_ADDRS, MPTCP_FULL_INFO: one subflow, its
        # tcp_info (as TCP_INFO reads it) and addresses (as the socket's names), the
        # struct mptcp_subflow_data header with the sizes both sides use; a bad header
        c, s, _ = pair(fam, host)
        c.sendall(b"x" * 1000)
        got = 0
        while got < 1000:
            got += len(s.recv(4096))
        hdr = struct.Struct("=IIII")
        raw, olen = raw_getsockopt(c, SOL_MPTCP, MPTCP_TCPINFO, hdr.pack(16, 0, 0, 512) + bytes(1024))
        _, n, ksize, usize = hdr.unpack_from(raw)
        tcpi = c.getsockopt(socket.IPPROTO_TCP, TCP_INFO, 512)
        expect(n == 1, f"MPTCP_TCPINFO: {n} subflows")
        expect(ksize == len(tcpi) and usize == ksize, f"MPTCP_TCPINFO sizes: kernel {ksize}, user {usize}, TCP_INFO {len(tcpi)}")
        expect(olen == 16 + usize, f"MPTCP_TCPINFO optlen {olen}")
        expect(raw[16:24] == tcpi[:8], "MPTCP_TCPINFO's tcp_info differs from TCP_INFO's (state, options)")
        raw, olen = raw_getsockopt(c, SOL_MPTCP, MPTCP_SUBFLOW_ADDRS, hdr.pack(16, 0, 0, 256) + bytes(512))
        _, n, ksize, usize = hdr.unpack_from(raw)
        expect(n == 1 and ksize == 256 and usize == 256 and olen == 16 + 256,
               f"MPTCP_SUBFLOW_ADDRS: {n} subflows, sizes {ksize}/{usize}, optlen {olen}")
        local, remote = sockaddr(raw[16:144]), sockaddr(raw[144:272])
        expect(local == c.getsockname()[:2], f"subflow local {local}, socket {c.getsockname()[:2]}")
        expect(remote == c.getpeername()[:2], f"subflow remote {remote}, socket {c.getpeername()[:2]}")
        try:
            raw_getsockopt(c, SOL_MPTCP, MPTCP_SUBFLOW_ADDRS, hdr.pack(0, 0, 0, 256) + bytes(256))
            raise AssertionError("a header with size_subflow_data 0 accepted")
        except OSError as e:
            expect(e.errno == errno.EINVAL, f"bad header: {errno.errorcode.get(e.errno)}")
        sfinfo = ctypes.create_string_buffer(2 * 264)
        tinfo = ctypes.create_string_buffer(2 * len(tcpi))
        full = struct.pack("=IIIIIIQQ", 0, len(tcpi), 0, 264, 0, 2,
                           ctypes.addressof(sfinfo), ctypes.addressof(tinfo)) + bytes(256)
        raw, olen = raw_getsockopt(c, SOL_MPTCP, MPTCP_FULL_INFO, full)
        tk, tu, sk_, su, n = struct.unpack_from("=IIIII", raw)
        expect(n == 1 and tk == len(tcpi) and tu == tk, f"MPTCP_FULL_INFO: {n} subflows, tcp_info {tk}/{tu}")
        expect(struct.unpack_from("=I", sfinfo.raw)[0] == 1, "MPTCP_FULL_INFO: first subflow id is not 1")
        expect(sockaddr(sfinfo.raw[8:136]) == local, "MPTCP_FULL_INFO: subflow addresses differ")
        expect(tinfo.raw[:8] == tcpi[:8], "MPTCP_FULL_INFO: tcp_info differs")
        expect(struct.unpack_from("=I", raw, 40 + 12)[0] == mptcp_info(c)["token"], "MPTCP_FULL_INFO: token differs")
        c.close(); s.close()

    @check("tcp_inq_timestamps_ioctls")
    def _():
        # TCP_INQ and SO_TIMESTAMPNS control messages on recvmsg, FIONREAD (SIOCINQ),
        # SIOCOUTQ and SIOCOUTQNSD, as upstream's mptcp_inq expects them
        c, s, _ = pair(fam, host)
        s.setsockopt(socket.IPPROTO_TCP, TCP_INQ, 1)
        expect(s.getsockopt(socket.IPPROTO_TCP, TCP_INQ) == 1, "TCP_INQ does not read back 1")
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS_OLD, 1)
        time.sleep(0.2)  # the first timestamping socket turns receive stamps on in a work item
        c.sendall(b"y" * 3000)
        for _ in range(500):
            if ioctl_int(s, SIOCINQ) == 3000 and ioctl_int(c, SIOCOUTQ) == 0:
                break
            time.sleep(0.01)
        expect(ioctl_int(s, SIOCINQ) == 3000, f"FIONREAD {ioctl_int(s, SIOCINQ)}, expected 3000")
        expect(ioctl_int(c, SIOCOUTQ) == 0 and ioctl_int(c, SIOCOUTQNSD) == 0, "data still unacknowledged")
        data, anc, _, _ = s.recvmsg(1000, 1024)
        cm = {(lvl, typ): d for lvl, typ, d in anc}
        expect(len(data) == 1000, f"read {len(data)}")
        expect((socket.IPPROTO_TCP, TCP_CM_INQ) in cm, f"no TCP_CM_INQ cmsg: {list(cm)}")
        expect(struct.unpack("=I", cm[(socket.IPPROTO_TCP, TCP_CM_INQ)][:4])[0] == 2000, "TCP_CM_INQ is not 2000")
        ts = cm.get((socket.SOL_SOCKET, SO_TIMESTAMPNS_OLD))
        expect(ts is not None and len(ts) == 16, f"no SO_TIMESTAMPNS cmsg: {list(cm)}")
        sec, nsec = struct.unpack("=qq", ts)
        expect(abs(sec + nsec / 1e9 - time.time()) < 60, f"timestamp {sec}.{nsec:09d} is not now")
        c.close()
        got = len(data)
        while True:
            data, anc, _, _ = s.recvmsg(4096, 1024)
            inq = [struct.unpack("=I", d[:4])[0] for lvl, typ, d in anc if (lvl, typ) == (socket.IPPROTO_TCP, TCP_CM_INQ)]
            expect(inq, "no TCP_CM_INQ cmsg")
            if not data:
                expect(inq[0] == 1, f"TCP_CM_INQ {inq[0]} at EOF, expected 1")
                break
            got += len(data)
        expect(got == 3000, f"read {got} bytes")
        s.close()

    if fam == socket.AF_INET6:
        @check("v4_mapped_connect_uses_mptcp")
        def _():
            # an IPv6 socket connecting to ::ffff:127.0.0.1 (a dual-stack listener):
            # MP_CAPABLE completes (counters), no fallback, data flows both ways
            before = mptcpext()
            ls = msock(fam)
            ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            ls.bind(("::", 0))
            ls.listen(1)
            c = msock(fam)
            c.settimeout(10)
            c.connect(("::ffff:127.0.0.1", ls.getsockname()[1]))
            ls.settimeout(10)
            s, peer = ls.accept()
            s.settimeout(10)
            expect(peer[0] == "::ffff:127.0.0.1", f"accepted from {peer[0]}")
            expect(c.getpeername()[0] == "::ffff:127.0.0.1", f"peer name {c.getpeername()}")
            blob = bytes(range(256)) * 1024
            c.sendall(blob)
            got = bytearray()
            while len(got) < len(blob):
                got += s.recv(1 << 16)
            s.sendall(got)
            back = bytearray()
            while len(back) < len(blob):
                back += c.recv(1 << 16)
            expect(bytes(back) == blob, "data differs")
            c.close(); s.close(); ls.close()
            after = mptcpext()
            d = {k: after[k] - before.get(k, 0) for k in after}
            expect(d["MPCapableSYNACKRX"] == 1 and d["MPCapableACKRX"] == 1,
                   f"MP_CAPABLE not completed: {d['MPCapableSYNACKRX']} SYN/ACK, {d['MPCapableACKRX']} ACK")
            expect(d["MPCapableFallbackSYNACK"] == 0 and d["MPCapableFallbackACK"] == 0,
                   "the connection fell back to TCP")

    for fn in CHECKS:
        fn()
    print(f"{len(CHECKS) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
