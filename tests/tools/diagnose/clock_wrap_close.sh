#!/usr/bin/env bash
# Diagnosis (not part of make check: it waits for uptime 298 s, about 4.5 minutes
# in a fresh guest): a connection closed 2 s before uptime 300 s, when the kernel's
# 32-bit jiffies_to_msecs() wraps (jiffies start 300 s before their 32-bit wrap),
# must still end after net.mptcp.close_timeout (2 s here). The server's close
# lingers (its data is unacknowledged: the path died, netem loss 100%); before the
# module's clock became 64-bit, its deadline was never reached and the connection
# stayed, ESTABLISHED, for good.
#   scripts/vm --kernel custom --load mptcp_rs -- tests/guest/run-suite DIR
#   (DIR holding a link to this script; run-suite then counts module users after it)
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
[ "$(cut -d. -f1 /proc/uptime)" -lt 290 ] || fail "uptime is past 290 s: boot a fresh guest"
topo_new cli srv
topo_path cli srv 1
ip netns exec srv sysctl -qw net.mptcp.close_timeout=2
ip netns exec srv python3 -c "
import socket, time
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('0.0.0.0', 7100)); l.listen(1)
s, _ = l.accept()
s.recv(1000)
s.sendall(b'x' * 100000)  # unacknowledged once the path dies: the close lingers
time.sleep(1000)
" &
spid=$!
sleep 1
ip netns exec cli python3 -c "
import socket, time
for i in range(50):
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
        s.connect(('$(topo_addr4 s 1)', 7100))
        break
    except OSError:
        time.sleep(0.2)
s.sendall(b'y' * 1000)
time.sleep(1000)
" &
cpid=$!
sleep 3
[ -n "$(ip netns exec srv ss -Htn state established "sport = :7100")" ] || fail "no connection"
topo_shape cli c1 loss 100%
topo_shape srv s1 loss 100%
while [ "$(cut -d. -f1 /proc/uptime)" -lt 298 ]; do sleep 0.5; done
info "uptime at the server's close: $(cut -d' ' -f1 /proc/uptime)"
kill $spid
t0=$SECONDS
while ((SECONDS - t0 < 8)); do
	left=$(ip netns exec srv ss -Htn state all "sport = :7100" | grep -v -e TIME-WAIT -e LISTEN)
	[ -z "$left" ] && break
	sleep 0.1
done
[ -z "$left" ] || fail "the server's subflow is left 8 s after its close (close_timeout 2 s): $left"
info "the closed connection ended within $((SECONDS - t0)) s (uptime $(cut -d' ' -f1 /proc/uptime))"
kill $cpid
wait 2>/dev/null
