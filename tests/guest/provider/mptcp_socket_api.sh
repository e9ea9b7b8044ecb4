#!/usr/bin/env bash
# The MPTCP socket API of mptcp_rs over loopback, IPv4 and IPv6: connect (blocking,
# non-blocking, refused with SO_ERROR), names, MSG_PEEK/MSG_DONTWAIT/MSG_WAITALL, poll
# and epoll, half close, socket options reaching the subflow, a 4 MB round trip
# (tests/tools/mptcp_api.py); and net.mptcp.enabled=0 refusing new sockets.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
topo_new api
for fam in 4 6; do
	out=$(ip netns exec api timeout 300 python3 "$MPTCP_RS_REPO/tests/tools/mptcp_api.py" --family $fam 2>&1) ||
		fail "socket API checks (IPv$fam):
$out"
	info "IPv$fam: $(echo "$out" | tail -n 1)"
done
ip netns exec api sysctl -qw net.mptcp.enabled=0
err=$(ip netns exec api python3 -c '
import errno, socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
    print("created")
except OSError as e:
    print(errno.errorcode[e.errno])')
[ "$err" = ENOPROTOOPT ] || fail "net.mptcp.enabled=0: socket() gave $err, expected ENOPROTOOPT"
info "net.mptcp.enabled=0: socket() fails with ENOPROTOOPT"
dmesg_clean
