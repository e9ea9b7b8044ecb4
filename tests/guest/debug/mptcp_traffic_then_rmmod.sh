#!/usr/bin/env bash
# On the debug kernel (lockdep, DEBUG_ATOMIC_SLEEP, kmemleak, KFENCE, DEBUG_OBJECTS,
# Rust overflow checks): MPTCP connections between mptcp_rs hosts over a lossy path
# (with and without DSS checksums), a listener closed with connections it never
# accepted, fallback against TCP, the socket API checks; then every socket closed,
# rmmod succeeds, the kernel log is clean and kmemleak finds nothing.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
ko="$MPTCP_RS_REPO/build/$MPTCP_RS_FLAVOUR/mptcp_rs.ko"
grep -q '^mptcp_rs ' /proc/modules || insmod "$ko" || fail "insmod failed"
echo scan >/sys/kernel/debug/kmemleak; echo clear >/sys/kernel/debug/kmemleak
dmesg -C
rm -f /tmp/unaccepted-done
topo_new cli srv
topo_path cli srv 1
lossy_path cli srv 1
bytes=$((4 << 20))
transfer cli srv "$(topo_addr4 s 1)" 7001 mptcp $bytes
transfer cli srv "$(topo_addr6 s 1)" 7002 mptcp $bytes
for ns in cli srv; do ip netns exec $ns sysctl -qw net.mptcp.checksum_enabled=1; done
transfer cli srv "$(topo_addr4 s 1)" 7003 mptcp $bytes
transfer cli srv "$(topo_addr4 s 1)" 7004 mptcp $bytes tcp
transfer cli srv "$(topo_addr4 s 1)" 7005 tcp $bytes mptcp
expect_mptcp_used cli srv 3
# a listener that goes away with three connections it never accepted
ip netns exec srv python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7010)); s.listen(8)
# until the three clients are done (a fixed time ran out on a slow host)
for _ in range(600):
    try:
        open("/tmp/unaccepted-done").close()
        break
    except OSError:
        time.sleep(0.1)
s.close()' &
# the listener must be up before the clients connect (python starts slowly here)
for i in $(seq 50); do ip netns exec srv ss -ltn | grep -q ':7010 ' && break; sleep 0.1; done
for i in 1 2 3; do
	ip netns exec cli python3 -c '
import socket, sys
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
c.settimeout(5); c.connect((sys.argv[1], 7010)); c.sendall(b"x" * 5000); c.close()' "$(topo_addr4 s 1)" ||
		fail "connect to the unaccepting listener failed"
done
touch /tmp/unaccepted-done
wait
ip netns exec srv timeout 300 python3 "$MPTCP_RS_REPO/tests/tools/mptcp_api.py" --family 4 >/tmp/api.out 2>&1 ||
	fail "socket API checks: $(cat /tmp/api.out)"
topo_cleanup
unload_clean 30 "the connections closed"
info "MPTCP traffic on the debug kernel: no splat, no leak, module unloaded"
