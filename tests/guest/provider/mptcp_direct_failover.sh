#!/usr/bin/env bash
# What a connection wrote before its first join is delivered when the first path
# dies after the join (mptcp_rs to mptcp_rs, issue 5). Until a second subflow is
# established, the application's data goes straight into the first subflow
# (direct mode, Documentation/mptcp-rs/multipath.rst); that subflow then still
# holds the part the peer did not acknowledge, which only it had. Two paths of
# 5 Mbit/s, 20 ms RTT, queues of 200 packets; no endpoint at first, so the
# connection starts on path 1 alone. The client sends 256 KB and shuts down its
# side 10 s later (a half-closed connection gets no join, as upstream), the
# server as below. Once the client has 128 KB, it adds its path-2 endpoint, waits
# for the join to be established, and blackholes path 1 (iptables DROP both ways
# at the client); its reader pauses meanwhile, so the first subflow may sit
# behind a closed window, and then only its window probes time out:
#  1. the server is still writing (6 MB, SO_SNDBUF 1 MB): its writes after the
#     join leave direct mode;
#  2. the server wrote everything (3 MB, SO_SNDBUF 4 MB) and shut down its side
#     before the join: no write comes after it, the DATA_FIN is queued;
#  3. as 2, but the server shuts down its side only 15 s after its last write:
#     nothing but the first subflow timing out (a retransmission timeout, or
#     window probes unanswered) can start the failover, and the client's longest
#     wait for data after the cut stays under 6 s;
#  4. as 2, but path 1 is reset, not blackholed: the client's netfilter answers
#     what the server sends on path 1 with a TCP reset (REJECT --reject-with
#     tcp-reset), so the server's first subflow closes and TCP purges what it
#     held. The server kept clones of it when the reset arrived; the connection
#     (in multi mode since the shutdown) goes on over path 2 and the client's
#     longest wait after the cut stays under 6 s. (Before, the bytes were lost
#     and the transfer timed out.)
#  5. as 3 (the server still in direct mode when the join is established), with
#     the reset of 4. (Before, the reset ended the server's connection.)
#  6. as 2, but the server's first subflow is destroyed (see there): the bytes
#     are lost, and the connection ends at both ends;
#  7. the server's first subflow is destroyed while it holds nothing
#     unacknowledged (see there): the connection goes on over the join;
#  8. as 7, with a sudden delay on path 2 (see there): no copy of the data goes
#     on the subflow that holds it.
# After each part no socket of the connection is left within 10 s.
# In parts 1 to 5 the transfer completes with SHA-256 equal within its 90 s timeout
# (the bytes the first subflow held went again on path 2: MPTcpExtMPTCPRetrans grew
# at the server) and the join happened; the kernel log is clean after all parts. (Before the first
# subflow's bytes from direct mode were copied for reinjection, parts 1 and 2
# timed out; without the work item's switch to multi mode, part 3 waited for the
# server's shutdown.)
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
cut_script=$(mktemp)
spid=""
cpid=""
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; [ -n "$cpid" ] && kill "$cpid" 2>/dev/null; rm -f "$cut_script"; topo_cleanup' EXIT
shape=(delay 10ms rate 5mbit limit 200)
topo_two_paths "${shape[@]}"
c1=$(topo_addr4 c 1) c2=$(topo_addr4 c 2) s1=$(topo_addr4 s 1)
ip -n cli mptcp endpoint flush

# join_then_cut: run by the client at 128 KB: the join over path 2, then path 1 dies
cat >"$cut_script" <<CUT
#!/usr/bin/env bash
ip -n cli mptcp endpoint add $c2 dev c2 subflow
for i in \$(seq 100); do
	ip netns exec cli ss -tnH state established "( src $c2 )" | grep -q . && break
	sleep 0.1
done
if ! ip netns exec cli ss -tnH state established "( src $c2 )" | grep -q .; then
	echo "no join on path 2 within 10 s; client sockets, endpoints, join counters:" >&2
	ip netns exec cli ss -tanH >&2
	ip -n cli mptcp endpoint show >&2
	ip netns exec cli nstat -az | grep -E 'MPJoin|MPCapable' >&2
	exit 1
fi
if [ "\${1:-}" = kill ]; then
	# (the server counts the join established one way later, at its third ACK)
	for i in \$(seq 50); do
		ip netns exec srv ss -tnH state established "( dst $c2 )" | grep -q . && break
		sleep 0.1
	done
	# the server's first subflow is destroyed (SOCK_DESTROY: no reset comes in,
	# nothing of its queues can be kept) while path 1 works, so that no
	# retransmission timeout has had its bytes copied for the join before; the
	# join goes from c2 to the server's first address too, and stays
	ip netns exec srv ss -HK -t state established "( src $s1 and sport = :\$2 and dst $c1 )" | grep -q . ||
		{ echo "ss -K found no first subflow at the server" >&2; exit 1; }
elif [ "\${1:-}" = reset ]; then
	# what the server sends on path 1 gets a reset; nothing else leaves on it
	ip netns exec cli iptables -I INPUT -i c1 -p tcp -j REJECT --reject-with tcp-reset
	ip netns exec cli iptables -I OUTPUT -o c1 -p tcp ! --tcp-flags RST RST -j DROP
else
	ip netns exec cli iptables -I INPUT -i c1 -j DROP
	ip netns exec cli iptables -I OUTPUT -o c1 -j DROP
fi
CUT
chmod +x "$cut_script"

part() { # N PORT MAX_STALL CUT SERVER_ARGS... (CUT: drop or reset)
	local n=$1 port=$2 max_stall=$3 cut=$4 out
	shift 4
	out=$(mktemp -d)
	local retrans0 joins0 resets0 rto_aborts0
	retrans0=$(mib srv MPTcpExtMPTCPRetrans) joins0=$(mib srv MPTcpExtMPJoinAckRx)
	resets0=$(mib srv TcpEstabResets) rto_aborts0=$(mib srv TcpExtTCPAbortOnTimeout)
	xfer_server srv "$out" --bind 0.0.0.0 --port "$port" --proto mptcp --timeout 90 "$@"
	ip netns exec cli python3 "$XFER" client --connect "$(topo_addr4 s 1)" --port "$port" \
		--proto mptcp --timeout 90 --send $((256 << 10)) --shutdown-after 10 --cut-at $((128 << 10)) --cut-cmd "$cut_script $cut" \
		>"$out/client" 2>"$out/client.err" || fail "part $n: client: $(grep -v '^  ' "$out/client.err" | tail -n 40)"
	wait "$spid" || fail "part $n: server: $(tail -n 3 "$out/server.err")"
	spid=""
	cut_transfer_ok "$out"
	local stall
	stall=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["stall"])' "$out/client")
	python3 -c 'import sys; sys.exit(sys.argv[1] == "None" or float(sys.argv[1]) > float(sys.argv[2]))' \
		"$stall" "$max_stall" || fail "part $n: the client waited $stall s for data after the cut (at most $max_stall s)"
	local retrans=$(($(mib srv MPTcpExtMPTCPRetrans) - retrans0))
	local joins=$(($(mib srv MPTcpExtMPJoinAckRx) - joins0))
	info "part $n: longest wait for data after the cut $stall s; server MPTCPRetrans +$retrans, joins +$joins"
	((joins >= 1)) || fail "part $n: no join reached the server"
	((retrans >= 1)) || fail "part $n: nothing went again on path 2 (MPTCPRetrans +0)"
	if [ "$cut" = reset ]; then
		# the client's netfilter answered segments of the server's first subflow
		# with resets (each exactly at the server's rcv_nxt: the ACK it carried)
		local rejected
		rejected=$(ip netns exec cli iptables -L INPUT -v -n -x | awk '/REJECT/ { print $1; exit }')
		info "part $n: segments on path 1 answered with a reset: ${rejected:-none}"
		((${rejected:-0} >= 1)) || fail "part $n: no reset went to the server's first subflow"
		# and the server's first subflow closed on it (an established socket
		# reset), not on a timeout
		local resets=$(($(mib srv TcpEstabResets) - resets0))
		local rto_aborts=$(($(mib srv TcpExtTCPAbortOnTimeout) - rto_aborts0))
		info "part $n: server TcpEstabResets +$resets, TCPAbortOnTimeout +$rto_aborts"
		((resets >= 1 && rto_aborts == 0)) ||
			fail "part $n: the server's first subflow did not close on the reset"
	fi
	part_cleanup "$n" "$port"
}

# part_cleanup N PORT: the cut undone; nothing left of part N's connection within
# 10 s (the dead first subflows are reset once it is over), so that no later test
# finds mptcp_rs in use
part_cleanup() {
	ip netns exec cli iptables -F
	ip -n cli mptcp endpoint flush
	sockets_gone "part $1" "$2"
}

part 1 6321 60 drop --send $((6 << 20)) --sndbuf $((1 << 20))
part 2 6322 60 drop --send $((3 << 20)) --sndbuf $((4 << 20))
part 3 6323 6 drop --send $((3 << 20)) --sndbuf $((4 << 20)) --shutdown-after 15
part 4 6324 6 reset --send $((3 << 20)) --sndbuf $((4 << 20))
part 5 6325 6 reset --send $((3 << 20)) --sndbuf $((4 << 20)) --shutdown-after 15

# 6. as 2, but the server's first subflow is destroyed (ss -K) instead of a cut:
#    TCP purges what it held and nothing of it was kept (no reset came in), so
#    bytes the client never got are gone beyond repair. The server's connection
#    (in multi mode since its shutdown, right after its writes: in direct mode it
#    would end with the subflow's own error, ECONNABORTED) ends with ECONNRESET
#    and resets the join with MP_FASTCLOSE, so the client's
#    ends with ECONNRESET too, at once (a reset with MP_TCPRST closes one subflow
#    only: before MP_FASTCLOSE went on the join, the client's process ended after
#    64 s). The client's process ends at about 12 s (its sender thread waits 10 s
#    before its shutdown).
out=$(mktemp -d) port=6326
ftx0=$(mib srv MPTcpExtMPFastcloseTx) frx0=$(mib cli MPTcpExtMPFastcloseRx)
xfer_server srv "$out" --bind 0.0.0.0 --port $port --proto mptcp --timeout 90 \
	--send $((3 << 20)) --sndbuf $((4 << 20))
t0=$SECONDS
if ip netns exec cli python3 "$XFER" client --connect "$s1" --port $port --proto mptcp \
	--timeout 90 --send $((256 << 10)) --shutdown-after 10 --cut-at $((128 << 10)) \
	--cut-cmd "$cut_script kill $port" >"$out/client" 2>"$out/client.err"; then
	fail "part 6: the transfer completed although bytes were lost: $(cat "$out/client")"
fi
took=$((SECONDS - t0))
grep -q "ConnectionResetError" "$out/client.err" ||
	fail "part 6: the client did not end with ECONNRESET: $(grep -v '^  ' "$out/client.err" | tail -n 5)"
((took <= 30)) || fail "part 6: the client's connection ended only after $took s"
ftx=$(($(mib srv MPTcpExtMPFastcloseTx) - ftx0)) frx=$(($(mib cli MPTcpExtMPFastcloseRx) - frx0))
info "part 6: the client's read ended with ECONNRESET, its process after $took s; MP_FASTCLOSE sent +$ftx, received +$frx"
((ftx >= 1 && frx >= 1)) || fail "part 6: no MP_FASTCLOSE from the server to the client"
wait "$spid" && fail "part 6: the server's transfer completed although bytes were lost"
spid=""
grep -q "ConnectionResetError" "$out/server.err" ||
	fail "part 6: the server did not end with ECONNRESET: $(grep -v '^  ' "$out/server.err" | tail -n 3)"
part_cleanup 6 $port

# 7. the server's first subflow is destroyed (as 6) while it holds nothing
#    unacknowledged: the server has written nothing yet, the client's 64 KB were
#    acknowledged, a join is established, and both ends are still in direct mode.
#    Nothing has to go again (nothing was copied, nothing is needed: neither end's
#    MPTCPRetrans moves): both ends go on over the join, and the server's 1 MB,
#    written afterwards, arrives intact.
# 8. as 7, but path 2 takes 600 ms more from the server to the client before the
#    server writes: the DATA_ACK waits longer than the MPTCP-level retransmission
#    timer (armed with the join's 20 ms RTT: 300 ms), and TCP's own timer fires
#    too. The join, the only subflow, still holds the data; it resends it itself,
#    and no copy goes on it (MPTCPRetrans stays put, as upstream's, which resends
#    only on a subflow with empty queues). (Before, the timer queued 64 KB again
#    on the join: MPTCPRetrans +1 or more.)
after_kill() { # N PORT [NETEM...]: parts 7 and 8 (NETEM: path 2 at the server, after the kill)
	local n=$1 port=$2 out go s2tx0 rs0 rc0 sendq i
	shift 2
	out=$(mktemp -d) go=$(mktemp -u)
	s2tx0=$(bytes_on srv s2 tx)
	rs0=$(mib srv MPTcpExtMPTCPRetrans) rc0=$(mib cli MPTcpExtMPTCPRetrans)
	xfer_server srv "$out" --bind 0.0.0.0 --port "$port" --proto mptcp --timeout 60 \
		--send $((1 << 20)) --send-after-file "$go"
	ip netns exec cli python3 "$XFER" client --connect "$s1" --port "$port" --proto mptcp \
		--timeout 60 --send $((64 << 10)) --shutdown-after 12 >"$out/client" 2>"$out/client.err" &
	cpid=$!
	# the client's 64 KB acknowledged (0.1 s at 5 Mbit/s): nothing in its first
	# subflow's send queue
	for i in $(seq 50); do
		sendq=$(ip netns exec cli ss -tnH state established "( src $c1 and dport = :$port )" | awk '{ print $2; exit }')
		[ "$sendq" = 0 ] && break
		sleep 0.1
	done
	[ "$sendq" = 0 ] || fail "part $n: the client's 64 KB were not acknowledged within 5 s (Send-Q ${sendq:-none})"
	"$cut_script" kill "$port" || fail "part $n: the join or the destruction of the first subflow failed"
	(($# == 0)) || topo_shape srv s2 "$@"
	touch "$go"
	wait "$cpid" || fail "part $n: client: $(grep -v '^  ' "$out/client.err" | tail -n 5)"
	cpid=""
	wait "$spid" || fail "part $n: server: $(grep -v '^  ' "$out/server.err" | tail -n 5)"
	spid=""
	rm -f "$go"
	(($# == 0)) || topo_shape srv s2 "${shape[@]}"
	python3 - "$out/client" "$out/server" <<'PY' || fail "part $n: data mismatch: $(cat "$out/client" "$out/server")"
import json, sys
c = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
sys.exit(not (s.get("sent") == c["received"] == 1 << 20 and s["sent_sha256"] == c["received_sha256"]
              and c.get("sent") == s["received"] == 64 << 10 and c["sent_sha256"] == s["received_sha256"]))
PY
	local s2tx=$(($(bytes_on srv s2 tx) - s2tx0))
	info "part $n: 1 MB after the first subflow's end intact; the server sent $s2tx bytes on path 2"
	((s2tx >= 1 << 20)) || fail "part $n: the server's data did not go over the join (path 2: $s2tx bytes)"
	local rs=$(($(mib srv MPTcpExtMPTCPRetrans) - rs0)) rc=$(($(mib cli MPTcpExtMPTCPRetrans) - rc0))
	((rs == 0 && rc == 0)) || fail "part $n: data went again on the subflow that held it (MPTCPRetrans server +$rs, client +$rc)"
	part_cleanup "$n" "$port"
}
after_kill 7 6327
after_kill 8 6328 delay 610ms rate 5mbit limit 1000
dmesg_clean
