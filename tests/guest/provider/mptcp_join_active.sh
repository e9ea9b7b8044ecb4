#!/usr/bin/env bash
# Active MP_JOIN, mptcp_rs to mptcp_rs: the client namespace has a "subflow" endpoint
# on a second path (`ip mptcp endpoint add ADDR dev c2 subflow`, `limits subflows 1`);
# each connection it makes over path 1 opens a second subflow from that endpoint to
# the server's first address. 4 MB each way over IPv4 and over IPv6 (SHA-256 of every
# byte), then: one join per connection on both sides' counters (client MPJoinSynTx,
# MPJoinSynAckRx; server MPJoinSynRx, MPJoinAckRx), no HMAC failure or refusal, path
# 2 carried a real share of the data both ways (both sides schedule over both
# subflows, rust/sendq.rs), no subflow socket left but TIME-WAIT, clean log. Paths of
# 10 Mbit/s: at 40 Mbit/s under TCG the client's 4 MB could all leave on path 1 in
# the second before the join is usable (the client writes from its first ACK, the join
# waits for the connection to be fully established).
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
bytes=${MPTCP_RS_XFER_BYTES:-$((4 << 20))}
topo_new cli srv
topo_path cli srv 1
topo_path cli srv 2
for n in 1 2; do
	topo_shape cli "c$n" delay 5ms rate 10mbit limit 200
	topo_shape srv "s$n" delay 5ms rate 10mbit limit 200
done
c2_4=$(topo_addr4 c 2) c2_6=$(topo_addr6 c 2)
# what the server sends to the client's second address goes back over path 2, also
# from its first address (the join subflow's)
ip -n srv rule add to "$c2_4" table 102 pref 100
ip -n srv -6 rule add to "$c2_6" table 102 pref 100
# IPv6 neighbour discovery answers only for the addresses of the interface asked:
# the client reaches the server's first address over path 2 through its second one
ip -n cli -6 route add "$(topo_addr6 s 1)" via "$(topo_addr6 s 2)" dev c2 table 102
ip -n cli mptcp limits set subflows 1
ip -n srv mptcp limits set subflows 1
ip -n cli mptcp endpoint add "$c2_4" dev c2 subflow
ip -n cli mptcp endpoint add "$c2_6" dev c2 subflow

rx2() { ip netns exec srv cat /sys/class/net/s2/statistics/rx_bytes; }
tx2() { ip netns exec srv cat /sys/class/net/s2/statistics/tx_bytes; }
before_rx=$(rx2) before_tx=$(tx2)
port=6100
for addr in "$(topo_addr4 s 1)" "$(topo_addr6 s 1)"; do
	port=$((port + 1))
	transfer cli srv "$addr" $port mptcp "$bytes"
done
d_rx=$(($(rx2) - before_rx)) d_tx=$(($(tx2) - before_tx))
info "path 2 at the server: $d_rx bytes in, $d_tx out (of $((2 * bytes)) each way)"
expect_mptcp_used cli srv 2
mib_at_least cli MPTcpExtMPJoinSynTx 2
mib_at_least cli MPTcpExtMPJoinSynAckRx 2
mib_at_least srv MPTcpExtMPJoinSynRx 2
mib_at_least srv MPTcpExtMPJoinAckRx 2
for ns_m in "cli MPTcpExtMPJoinSynAckHMacFailure" "srv MPTcpExtMPJoinAckHMacFailure" \
	"srv MPTcpExtMPJoinRejected" "srv MPTcpExtMPJoinNoTokenFound" "cli MPTcpExtMPJoinSynTxConnectErr" \
	"cli MPTcpExtMPJoinSynTxBindErr"; do
	set -- $ns_m
	v=$(mib "$1" "$2")
	[ "${v:-0}" = 0 ] || fail "$2 in $1 is $v, expected 0"
done
# each direction put a real share of its data on the join subflows (path 2)
((d_rx > bytes / 10 && d_tx > bytes / 10)) || fail "path 2 carried too little: $d_rx bytes in, $d_tx out"
# every subflow closed: nothing but TIME-WAIT left from the client's second address
sleep 1
left=$(ip netns exec cli ss -Htan state all "( src $c2_4 or src [$c2_6] )" | grep -v TIME-WAIT || true)
[ -z "$left" ] || fail "subflow sockets left: $left"
dmesg_clean
