#!/usr/bin/env bash
# Active MP_JOIN with a SYN/ACK whose MP_JOIN HMAC is wrong: the server (mptcp_rs) sends
# its join SYN/ACKs over path 2, where its egress inverts 4 bytes of the MP_JOIN option
# (tc pedit on segments marked SYN+ACK by iptables, TCP checksum fixed: the truncated
# HMAC, or the nonce it covers, no longer match). The client must refuse the subflow
# with a reset carrying MP_TCPRST (MPJoinSynAckHMacFailure, MPRstTx, no MPJoinSynAckRx),
# and the connection is not affected (4 MB each way, SHA-256); no socket is left from
# the client's second address, the kernel log stays clean.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
bytes=${MPTCP_RS_XFER_BYTES:-$((4 << 20))}
topo_new cli srv
topo_path cli srv 1
topo_path cli srv 2
c2_4=$(topo_addr4 c 2)
ip -n srv rule add to "$c2_4" table 102 pref 100
ip -n cli mptcp limits set subflows 1
ip -n srv mptcp limits set subflows 1
ip -n cli mptcp endpoint add "$c2_4" dev c2 subflow
# IPv4 SYN/ACK options: MSS (4), SACK_PERM + timestamps (12), window scale (4), then
# MP_JOIN: kind, length, subtype, id at IP offset 60, the truncated HMAC at 64
ip netns exec srv sysctl -qw net.ipv4.tcp_timestamps=1 net.ipv4.tcp_sack=1 net.ipv4.tcp_window_scaling=1
ip netns exec srv iptables -t mangle -A OUTPUT -o s2 -p tcp --tcp-flags SYN,ACK SYN,ACK \
	-j MARK --set-mark 42 || fail "iptables cannot mark packets here"
tc -n srv qdisc add dev s2 clsact || fail "no clsact qdisc"
tc -n srv filter add dev s2 egress protocol ip prio 1000 handle 42 fw \
	action pedit munge offset 64 u32 invert pipe csum tcp || fail "tc pedit/csum unavailable"
transfer cli srv "$(topo_addr4 s 1)" 6301 mptcp "$bytes"
expect_mptcp_used cli srv 1
mib_at_least cli MPTcpExtMPJoinSynTx 1
mib_at_least srv MPTcpExtMPJoinSynRx 1
mib_at_least cli MPTcpExtMPJoinSynAckHMacFailure 1
mib_at_least cli MPTcpExtMPRstTx 1
v=$(mib cli MPTcpExtMPJoinSynAckRx)
[ "${v:-0}" = 0 ] || fail "MPTcpExtMPJoinSynAckRx in cli is $v, expected 0"
v=$(mib srv MPTcpExtMPJoinAckRx)
[ "${v:-0}" = 0 ] || fail "MPTcpExtMPJoinAckRx in srv is $v, expected 0"
sleep 1
left=$(ip netns exec cli ss -Htan state all "( src $c2_4 )" | grep -v TIME-WAIT || true)
[ -z "$left" ] || fail "subflow sockets left: $left"
dmesg_clean
