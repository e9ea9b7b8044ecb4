#!/usr/bin/env bash
# The meta socket's send queue is charged to the socket, as TCP charges its write
# queue: while a connection sends on two subflows (multi mode, rust/sendq.rs), the
# bytes it keeps for the peer's DATA_ACK show in `ss -Mm` as the meta socket's
# wmem_queued ("w") with forward-allocated memory to match, and all of it is
# returned when the connection ends (inet_sock_destruct() warns otherwise:
# dmesg_clean). Two paths of 10 Mbit/s, 20 ms each way, 8 MB each way, SHA-256
# checked; `ss -HMm` sampled every 0.2 s at both ends meanwhile.
# Then the same transfer (16 MB) while TCP's memory limit (net.ipv4.tcp_mem, which
# the meta sockets share) is held at 40 pages for 4 s: charges are refused, the
# writers wait and retry as TCP's do (not ENOMEM), and every byte arrives.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
bytes=$((8 << 20))
topo_two_paths delay 20ms rate 10mbit limit 200
samples=$(mktemp)
(
	while :; do
		for ns in cli srv; do
			ip netns exec $ns ss -HnMm state established 2>/dev/null | tr '\n' ' ' | sed "s/^/$ns /"
			echo
		done
		sleep 0.2
	done
) >"$samples" &
spid=$!
XFER_OPTS="--send-after 1" transfer cli srv "$(topo_addr4 s 1)" 6600 mptcp "$bytes"
kill $spid
wait $spid 2>/dev/null
# the largest w (wmem_queued) seen per end, and the forward allocation with it
read -r cw cf sw sf < <(python3 - "$samples" <<'PY'
import re, sys
best = {"cli": (0, 0), "srv": (0, 0)}
for line in open(sys.argv[1]):
    ns = line.split(" ", 1)[0]
    for m in re.finditer(r"skmem:\(([^)]*)\)", line):
        f = dict((k, int(v)) for k, v in re.findall(r"([a-z]+)(\d+)", m.group(1)))
        if ns in best and f.get("w", 0) > best[ns][0]:
            best[ns] = (f.get("w", 0), f.get("f", 0))
print(*best["cli"], *best["srv"])
PY
)
info "largest wmem_queued seen: client ${cw} (fwd_alloc ${cf}), server ${sw} (fwd_alloc ${sf})"
grep -q skmem "$samples" || fail "ss -Mm showed no socket memory at all"
for w in "$cw" "$sw"; do
	# at least one 32 KB chunk (a page when memory is short) waits for its DATA_ACK
	# on two 20 ms paths at 10 Mbit/s
	((w >= 4096)) || fail "the send queue of an end sending on two subflows was never charged (w=$w)"
done
# under TCP's memory hard limit: the meta sockets' writers wait for memory
old_mem=$(sysctl -n net.ipv4.tcp_mem)
(
	sleep 3
	sysctl -qw net.ipv4.tcp_mem="40 40 40"
	sleep 4
	sysctl -qw net.ipv4.tcp_mem="$old_mem"
) &
mpid=$!
XFER_OPTS="--send-after 1" transfer cli srv "$(topo_addr4 s 1)" 6601 mptcp $((16 << 20))
wait $mpid
[ "$(sysctl -n net.ipv4.tcp_mem)" = "$old_mem" ] || sysctl -qw net.ipv4.tcp_mem="$old_mem"
info "memory pressure events: client $(mib cli TcpExtTCPMemoryPressures), server $(mib srv TcpExtTCPMemoryPressures); receive queue prunes: client $(mib cli TcpExtPruneCalled), server $(mib srv TcpExtPruneCalled)"
# everything goes back: the sockets close, then their destructors check the charges
for i in $(seq 60); do
	left=$(for ns in cli srv; do ip netns exec $ns ss -HnMa; done)
	[ -z "$left" ] && break
	sleep 1
done
[ -z "$left" ] || info "MPTCP sockets still there after 60 s: $left"
dmesg_clean
info "the send queue in multi mode is charged to the meta socket and returned"
