#!/usr/bin/env bash
# getsockopt(SOL_MPTCP) with two subflows, mptcp_rs on both ends: the client joins a
# second subflow from a "subflow" endpoint on path 2 (once the first byte is
# acknowledged); then, on both sockets,
# MPTCP_TCPINFO and MPTCP_SUBFLOW_ADDRS report two subflows (the first subflow's
# addresses are the socket's names, the joined one's are path 2's on the client),
# MPTCP_FULL_INFO numbers them 1 and 2 (client; the server's MPTCP_TCPINFO counts two), and with room for one entry reports both but
# fills one (tests/tools/mptcp_api.py helpers).
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
topo_new cli srv
topo_path cli srv 1
topo_path cli srv 2
c2=$(topo_addr4 c 2)
ip -n srv rule add to "$c2" table 102 pref 100
ip -n cli mptcp limits set subflows 1
ip -n srv mptcp limits set subflows 1
ip -n cli mptcp endpoint add "$c2" dev c2 subflow
srv_addr=$(topo_addr4 s 1)
srv_out=$(mktemp)
ip netns exec srv python3 - "$srv_addr" >"$srv_out" <<'PY' &
import socket, sys, time
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], 6200)); ls.listen(1)
s, _ = ls.accept()
s.recv(1)
sys.path.insert(0, "%s/tests/tools" % __import__("os").environ["MPTCP_RS_REPO"])
from mptcp_api import raw_getsockopt, SOL_MPTCP, MPTCP_TCPINFO
import struct
for _ in range(100):
    raw, _ = raw_getsockopt(s, SOL_MPTCP, MPTCP_TCPINFO, struct.pack("=IIII", 16, 0, 0, 0))
    if struct.unpack_from("=IIII", raw)[1] == 2:
        break
    time.sleep(0.1)
print("server subflows", struct.unpack_from("=IIII", raw)[1], flush=True)
s.recv(1)
PY
spid=$!
sleep 1
out=$(ip netns exec cli python3 - "$srv_addr" "$c2" <<'PY'
import ctypes, os, socket, struct, sys, time
sys.path.insert(0, os.environ["MPTCP_RS_REPO"] + "/tests/tools")
from mptcp_api import raw_getsockopt, sockaddr, SOL_MPTCP, MPTCP_TCPINFO, MPTCP_SUBFLOW_ADDRS, MPTCP_FULL_INFO
hdr = struct.Struct("=IIII")
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
c.settimeout(10)
c.connect((sys.argv[1], 6200))
c.send(b"x")  # the server's DATA_ACK makes the first subflow fully established: then we join
for _ in range(100):
    raw, olen = raw_getsockopt(c, SOL_MPTCP, MPTCP_TCPINFO, hdr.pack(16, 0, 0, 256) + bytes(1024))
    if hdr.unpack_from(raw)[1] == 2:
        break
    time.sleep(0.1)
_, n, ksize, usize = hdr.unpack_from(raw)
print("tcpinfo", n, olen == 16 + 2 * usize, raw[16] == 1 and raw[16 + usize] == 1)
raw, olen = raw_getsockopt(c, SOL_MPTCP, MPTCP_SUBFLOW_ADDRS, hdr.pack(16, 0, 0, 256) + bytes(1024))
n = hdr.unpack_from(raw)[1]
first, second = sockaddr(raw[16:144]), sockaddr(raw[16 + 256:16 + 384])
print("addrs", n, olen, first == c.getsockname(), second[0] == sys.argv[2],
      sockaddr(raw[16 + 384:16 + 512])[0] == sys.argv[1])
sf = ctypes.create_string_buffer(2 * 264)
full = struct.pack("=IIIIIIQQ", 0, 0, 0, 264, 0, 2, ctypes.addressof(sf), 0) + bytes(256)
raw, olen = raw_getsockopt(c, SOL_MPTCP, MPTCP_FULL_INFO, full)
ids = [struct.unpack_from("=I", sf.raw, i * 264)[0] for i in range(2)]
print("full", struct.unpack_from("=I", raw, 16)[0], ids, sockaddr(sf.raw[264 + 8:264 + 136])[0] == sys.argv[2])
sf = ctypes.create_string_buffer(2 * 264)
full = struct.pack("=IIIIIIQQ", 0, 0, 0, 264, 0, 1, ctypes.addressof(sf), 0)
raw, olen = raw_getsockopt(c, SOL_MPTCP, MPTCP_FULL_INFO, full)
print("full1", struct.unpack_from("=I", raw, 16)[0], olen, struct.unpack_from("=I", sf.raw, 264)[0])
c.send(b"x")
c.close()
PY
) || fail "client: $out"
wait $spid || fail "server failed"
info "$(echo "$out" | tr '\n' ';') $(cat "$srv_out")"
grep -qx "server subflows 2" "$srv_out" || fail "server: $(cat "$srv_out")"
echo "$out" | grep -qx "tcpinfo 2 True True" || fail "MPTCP_TCPINFO with two subflows: $out"
echo "$out" | grep -qx "addrs 2 528 True True True" || fail "MPTCP_SUBFLOW_ADDRS with two subflows: $out"
echo "$out" | grep -qx "full 2 \[1, 2\] True" || fail "MPTCP_FULL_INFO with two subflows: $out"
# room for one entry: both counted, one written, optlen the header only
echo "$out" | grep -qx "full1 2 40 0" || fail "MPTCP_FULL_INFO with one entry: $out"
dmesg_clean
