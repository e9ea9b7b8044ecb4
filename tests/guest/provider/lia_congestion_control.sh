#!/usr/bin/env bash
# mptcp_lia.ko registers the congestion control "lia": it is listed, selectable per
# socket (TCP_CONGESTION) and per namespace, pins its module while a socket or a
# namespace default uses it, carries a transfer intact over a lossy path (on plain
# TCP sockets it is Reno, and the losses made it set ssthresh), and unloads afterwards.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap 'topo_cleanup; rmmod mptcp_lia 2>/dev/null' EXIT
ko="$MPTCP_RS_REPO/build/$MPTCP_RS_FLAVOUR/mptcp_lia.ko"
insmod "$ko" || fail "insmod mptcp_lia"
grep -qw lia /proc/sys/net/ipv4/tcp_available_congestion_control || fail "lia not available"

# a socket using lia pins the module; closing it releases the module
python3 - "$ko" <<'PY' || fail "per-socket selection and pinning"
import socket, subprocess, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
c = socket.socket()
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"lia")
assert c.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0") == b"lia"
c.connect(l.getsockname())
a, _ = l.accept()
r = subprocess.run(["rmmod", "mptcp_lia"], capture_output=True)
assert r.returncode != 0, "rmmod succeeded while a socket used lia"
c.close(); a.close(); l.close()
PY
for i in $(seq 20); do rmmod mptcp_lia 2>/dev/null && break; sleep 0.2; done
grep -q '^mptcp_lia ' /proc/modules && fail "mptcp_lia still pinned after the socket closed"
insmod "$ko" || fail "insmod mptcp_lia again"

# namespace default over a lossy path
topo_new cli srv
topo_path cli srv 1
topo_shape cli c1 delay 10ms loss 1% rate 50mbit limit 1000
# a namespace other than the initial one may pick only an allowed algorithm
sysctl -qw net.ipv4.tcp_allowed_congestion_control="$(cat /proc/sys/net/ipv4/tcp_allowed_congestion_control) lia"
ip netns exec cli sysctl -qw net.ipv4.tcp_congestion_control=lia || fail "cannot select lia in a namespace"
transfer cli srv "$(topo_addr4 s 1)" 5101 tcp $((8 << 20)) &
xfer=$!
seen=""
for i in $(seq 60); do
	sleep 0.25
	line=$(ip netns exec cli ss -tin dst "$(topo_addr4 s 1)" 2>/dev/null | grep -E ' lia ' | head -n 1)
	[ -n "$line" ] && seen=$line
	[[ $seen == *" ssthresh:"* ]] && break
done
wait "$xfer" || fail "transfer with lia failed"
[ -n "$seen" ] || fail "no socket showed congestion control lia in ss -ti"
[[ $seen == *" ssthresh:"* ]] || fail "no loss response seen (ssthresh unset): $seen"
info "ss: $(echo "$seen" | grep -oE ' (lia|cwnd:[0-9]+|ssthresh:[0-9]+)' | tr -d '\n')"
rmmod mptcp_lia 2>/dev/null && fail "mptcp_lia unloaded while a namespace defaults to it"
ip netns exec cli sysctl -qw net.ipv4.tcp_congestion_control=reno
for i in $(seq 20); do rmmod mptcp_lia 2>/dev/null && break; sleep 0.2; done
grep -q '^mptcp_lia ' /proc/modules && fail "mptcp_lia cannot be unloaded after use"
dmesg_clean
info "lia selectable per socket and namespace, pinned while used, unloaded cleanly"
