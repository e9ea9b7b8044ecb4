#!/usr/bin/env bash
# The protocol core's option codec against bytes written by upstream Linux MPTCP:
# two reference-kernel hosts with checksums on, two paths, an announced address
# (ADD_ADDR + echo), a joined subflow (MP_JOIN x3), a backup change (MP_PRIO), an
# address removal (REMOVE_ADDR) and an abortive close (MP_FASTCLOSE, MP_TCPRST). Every
# MPTCP option seen on the wire must parse and write back (mptcp-optcheck, built from
# host/), and each of those subtypes must have been seen; the DSS checksums of the
# mappings are recomputed from the captured payload by the core's csum module and
# must all match.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap 'kill $cap 2>/dev/null; topo_cleanup' EXIT
check="$MPTCP_RS_REPO/host/target/release/mptcp-optcheck"
[ -x "$check" ] || fail "build host/ first (cargo build --release --bin mptcp-optcheck)"

topo_new cli srv
topo_path cli srv 1
topo_path cli srv 2
for ns in cli srv; do
	ip netns exec $ns sysctl -qw net.mptcp.checksum_enabled=1
	ip -n $ns mptcp limits set subflows 4 add_addr_accepted 4
done
for dev in c1 c2; do topo_shape cli $dev delay 2ms rate 10mbit limit 1000; done
ip -n srv mptcp endpoint add "$(topo_addr4 s 2)" id 2 signal
ip -n cli mptcp endpoint add "$(topo_addr4 c 2)" dev c2 id 3 subflow

ip netns exec srv python3 "$MPTCP_RS_REPO/tests/tools/capture_tcp_options.py" /tmp/opts.txt /tmp/segs.txt 2>/tmp/cap.err &
cap=$!
for i in $(seq 50); do grep -q capturing /tmp/cap.err 2>/dev/null && break; sleep 0.1; done

# a transfer long enough to change priorities under it; each step waits for the
# previous one to show in upstream's counters
(
	for i in $(seq 100); do [ "$(mib srv MPTcpExtMPJoinAckRx)" -ge 1 ] && break; sleep 0.1; done
	ip -n cli mptcp endpoint change id 3 backup
) &
changes=$!
transfer cli srv "$(topo_addr4 s 1)" 7001 mptcp $((6 << 20))
wait $changes

# an address removal, then an abortive close (MP_FASTCLOSE and MP_TCPRST), on a second
# connection. The removal is made while that connection is idle: upstream composes
# REMOVE_ADDR on the first option it builds, and when that is the MSS estimate of a
# sender (no segment) the option is counted (RmAddrTx) but never sent.
ip netns exec srv python3 -c '
import socket
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 7002)); l.listen(1); l.settimeout(20)
c, _ = l.accept()
try:
    while c.recv(65536):
        pass
except OSError:
    pass' &
srv=$!
for i in $(seq 50); do ip netns exec srv ss -Hltn 'sport = :7002' | grep -q . && break; sleep 0.1; done
rm -f /tmp/rm_done
ip netns exec cli python3 -c '
import os, socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
s.connect(("'"$(topo_addr4 s 1)"'", 7002))
s.sendall(b"x" * 100000)
for i in range(200):
    if os.path.exists("/tmp/rm_done"):
        break
    time.sleep(0.1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()' &
cli=$!
for i in $(seq 100); do [ "$(mib srv MPTcpExtMPJoinAckRx)" -ge 2 ] && break; sleep 0.1; done
sleep 0.5
ip -n srv mptcp endpoint del id 2
for i in $(seq 150); do [ "$(mib cli MPTcpExtRmAddr)" -ge 1 ] && break; sleep 0.1; done
touch /tmp/rm_done
wait $cli
wait $srv
sleep 0.5
kill $cap; wait $cap 2>/dev/null

lines=$(wc -l </tmp/opts.txt)
result=$("$check" --segments /tmp/segs.txt </tmp/opts.txt)
rc=$?
echo "$result" | sed 's/^/  /' >&2
info "$lines MPTCP options captured; $(grep -o 'capture: .*' /tmp/cap.err)"
csum_err="cli=$(mib cli MPTcpExtDataCsumErr) srv=$(mib srv MPTcpExtDataCsumErr)"
[ "$rc" = 0 ] || fail "(upstream DataCsumErr ${csum_err}) options written by upstream that the codec rejects or cannot round-trip, or DSS checksums it disagrees with"
verified=$(echo "$result" | awk '/^dss_checksums_verified/ {print $2}')
[ "${verified:-0}" -ge 100 ] || fail "only ${verified:-0} DSS checksums could be verified"
for want in 'MP_CAPABLE(syn)' 'MP_CAPABLE(synack)' 'MP_CAPABLE(' 'DSS(ack+map+csum' 'MP_JOIN(syn)' \
	'MP_JOIN(synack)' 'MP_JOIN(ack)' 'ADD_ADDR(hmac)' 'ADD_ADDR(echo)' 'MP_PRIO' 'REMOVE_ADDR' \
	'MP_FASTCLOSE' 'MP_TCPRST'; do
	echo "$result" | grep -qF "$want" || fail "no $want seen on the wire (join acks $(mib srv MPTcpExtMPJoinAckRx), prio tx $(mib cli MPTcpExtMPPrioTx), rm_addr tx $(mib srv MPTcpExtRmAddrTx))"
done
