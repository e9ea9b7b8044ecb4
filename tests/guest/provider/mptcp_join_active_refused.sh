#!/usr/bin/env bash
# Active MP_JOIN refused: the client opens a subflow from its "subflow" endpoint on
# path 2, but the server (mptcp_rs) takes no extra subflow (`limits subflows 0`). As
# upstream (and its mptcp_join.sh "limited by server" cases), the server answers the
# MP_JOIN SYN with a SYN/ACK and resets the third ACK (MPJoinRejected, no
# MPJoinAckRx). The connection is not affected (4 MB each way, SHA-256, IPv4 and
# IPv6), the refused subflow is released (no socket left from the second address), the
# server's request goes with its child (no SYN/ACK sent again: a request left behind
# unhashed resends them for a minute and stays counted in the listener's queue) and
# the kernel log stays clean.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
bytes=${MPTCP_RS_XFER_BYTES:-$((4 << 20))}
topo_new cli srv
topo_path cli srv 1
topo_path cli srv 2
c2_4=$(topo_addr4 c 2) c2_6=$(topo_addr6 c 2)
ip -n srv rule add to "$c2_4" table 102 pref 100
ip -n srv -6 rule add to "$c2_6" table 102 pref 100
# IPv6 neighbour discovery answers only for the addresses of the interface asked:
# the client reaches the server's first address over path 2 through its second one
ip -n cli -6 route add "$(topo_addr6 s 1)" via "$(topo_addr6 s 2)" dev c2 table 102
ip -n cli mptcp limits set subflows 1
ip -n srv mptcp limits set subflows 0
ip -n cli mptcp endpoint add "$c2_4" dev c2 subflow
ip -n cli mptcp endpoint add "$c2_6" dev c2 subflow
port=6200
for addr in "$(topo_addr4 s 1)" "$(topo_addr6 s 1)"; do
	port=$((port + 1))
	transfer cli srv "$addr" $port mptcp "$bytes"
done
expect_mptcp_used cli srv 2
mib_at_least cli MPTcpExtMPJoinSynTx 2
mib_at_least srv MPTcpExtMPJoinSynRx 2
mib_at_least srv MPTcpExtMPJoinRejected 2
mib_at_least cli MPTcpExtMPJoinSynAckRx 2
v=$(mib srv MPTcpExtMPJoinAckRx)
[ "${v:-0}" = 0 ] || fail "MPTcpExtMPJoinAckRx in srv is $v, expected 0"
sleep 1
left=$(ip netns exec cli ss -Htan state all "( src $c2_4 or src [$c2_6] )" | grep -v TIME-WAIT || true)
[ -z "$left" ] || fail "subflow sockets left: $left"
# (SYN/ACKs are first sent again after 1 s; the paths here lose nothing)
sleep 2
v=$(mib srv TcpExtTCPSynRetrans)
[ "${v:-0}" = 0 ] || fail "the server sent $v SYN/ACKs again after refusing the joins"
dmesg_clean
