#!/usr/bin/env bash
# TCP_CONGESTION on an MPTCP socket reaches every subflow, those joined later too:
# the client sets "lia" on its MPTCP socket before connect() (its second subflow is
# opened afterwards from a "subflow" endpoint, rust/join_active.rs), the server sets
# "olia" on the socket accept() returned (the peer's MP_JOIN arrives afterwards,
# rust/join.rs). While data flows, ss -ti shows lia on both client subflows and olia
# on both server subflows.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
. "$MPTCP_RS_REPO/tests/lib/cc.sh"
trap 'topo_cleanup; cc_unload' EXIT
cc_load || fail "cannot load mptcp_lia/mptcp_olia"
topo_new cli srv
topo_path cli srv 1
topo_path cli srv 2
for n in 1 2; do
	topo_shape cli "c$n" delay 10ms rate 20mbit limit 1000
	topo_shape srv "s$n" delay 10ms rate 20mbit limit 1000
done
ip -n srv rule add to "$(topo_addr4 c 2)" table 102 pref 100
cc_mptcp_endpoint "$(topo_addr4 c 2)" c2
server=$(topo_addr4 s 1) port=5501
secs=30

ip netns exec srv python3 - "$port" "$secs" <<'PY' &
import socket, sys, time
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_MPTCP)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", int(sys.argv[1]))); l.listen(1)
a, _ = l.accept()
a.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"olia")
end = time.time() + float(sys.argv[2]) + 5
while time.time() < end and a.recv(1 << 16):
    pass
PY
spid=$!
sleep 0.5
ip netns exec cli python3 - "$server" "$port" "$secs" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_MPTCP)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"lia")
s.connect((sys.argv[1], int(sys.argv[2])))
buf = b"x" * (1 << 16)
end = time.time() + float(sys.argv[3])
while time.time() < end:
    s.sendall(buf)
s.close()
PY
cpid=$!
# each side's subflows of the connection: LOCAL-ADDRESS=ALGORITHM, from `ss -tin`
# output (taken for both sides first: the transfer ends a few seconds later, and
# python starts slowly under TCG)
ccs() {
	python3 -c '
import re, sys
lines = sys.stdin.read().splitlines()
out = set()
for i, l in enumerate(lines):
    m = re.search(r"^\S+\s+\d+\s+\d+\s+(\d+\.\d+\.\d+\.\d+)(%\S+)?:\d+\s", l)
    if m and i + 1 < len(lines) and lines[i + 1].split():
        out.add(m.group(1) + "=" + lines[i + 1].split()[0])
print(" ".join(sorted(out)))'
}
# until both sides show two subflows (joins take a while under a loaded TCG host)
for i in $(seq 40); do
	ss_cli=$(ip netns exec cli ss -tin "( dport = :$port )")
	ss_srv=$(ip netns exec srv ss -tin "( sport = :$port )")
	(($(grep -c ESTAB <<<"$ss_cli") >= 2 && $(grep -c ESTAB <<<"$ss_srv") >= 2)) && break
	sleep 0.5
done
c=$(ccs <<<"$ss_cli")
s=$(ccs <<<"$ss_srv")
n=$(grep -cw olia <<<"$ss_srv")
kill "$cpid" "$spid" 2>/dev/null
wait
info "client subflows: $c; server subflows: $s"
c1=$(topo_addr4 c 1) c2=$(topo_addr4 c 2) s1=$(topo_addr4 s 1)
[ "$c" = "$c1=lia $c2=lia" ] || fail "client subflows do not all run lia: $c"
# both server subflows are bound to its first address (the join goes there)
[ "$s" = "$s1=olia" ] || fail "server subflows do not all run olia: $s"
((n == 2)) || fail "expected 2 server subflows with olia, found $n"
dmesg_clean
