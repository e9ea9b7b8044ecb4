#!/usr/bin/env bash
# Active MP_JOIN: an mptcp_rs client (custom kernel) opens a second subflow over a
# second link to an upstream MPTCP server (reference kernel, `ip mptcp limits set
# subflows 2`). The guests have two independent links (scripts/vm --second-link): eth0
# (10.77.0.0/24, fd77::/64) and eth1 (10.77.1.0/24, fd77:1::/64), both with netem 5 ms
# delay and a rate of MPTCP_RS_PAIR_RATE (15mbit by default: one path alone cannot
# carry the transfer, see mptcp_join.sh). The client has `ip mptcp limits set subflows 1` and a "subflow" endpoint on
# its eth1 address (v4 and v6); source routing sends what comes from that address
# through eth1 to the server's first address. One transfer over IPv4, one over IPv6
# (MPTCP_RS_PAIR_BYTES each way, 32 MB by default): SHA-256 equal on both ends; the
# client's MPJoinSynTx and MPJoinSynAckRx and the server's MPJoinSynRx and MPJoinAckRx
# show one join per connection, no HMAC failure, no refusal.
#
# NIC counters of the client's links: the upstream server schedules its download over
# both subflows and mptcp_rs its upload (rust/sendq.rs), so each link must carry a
# real share (> 5 %) of each direction.
#
# Then the client unloads mptcp_rs (every subflow freed) and its kernel log is clean
# (kmemleak too on a debug kernel).
#   run by tests/lib/pair.sh: SCRIPT server | SCRIPT client (guests), SCRIPT check SHARE (host)
set -euo pipefail
role=$1 bytes=${MPTCP_RS_PAIR_BYTES:-$((32 << 20))}
if [ "$role" = check ]; then
	PAIR_SHARE=$2
	. "$(dirname "$0")/../../lib/pair.sh"
else
	. "$MPTCP_RS_REPO/tests/tools/pair-guest.sh"
fi

# rx and tx bytes and packets of both links into $SHARE/NAME
link_stats() {
	local d s
	for d in "$PAIR_DEV" "$PAIR_DEV2"; do
		s=/sys/class/net/$d/statistics
		echo "$d $(cat $s/rx_bytes) $(cat $s/tx_bytes) $(cat $s/rx_packets) $(cat $s/tx_packets)"
	done >"$SHARE/$1"
}

setup() {
	pair_two_links 5ms "${MPTCP_RS_PAIR_RATE:-15mbit}" 100
}

case "$role" in
server)
	setup
	ip mptcp limits set subflows 2
	# what goes to the client's second addresses leaves through the second link
	ip route add "$PEER4_2/32" dev "$PAIR_DEV2" 2>/dev/null || true
	pair_nstat nstat.before
	pair_xfer_server v4 mptcp "$bytes" 4
	pair_xfer_server v6 mptcp "$bytes" 6
	pair_nstat nstat.after
	;;
client)
	setup
	if [ -w /sys/kernel/debug/kmemleak ]; then
		# what booting left is not ours
		echo scan >/sys/kernel/debug/kmemleak
		echo clear >/sys/kernel/debug/kmemleak
	fi
	ip mptcp limits set subflows 1
	ip mptcp endpoint add "$SELF4_2" dev "$PAIR_DEV2" subflow
	ip mptcp endpoint add "$SELF6_2" dev "$PAIR_DEV2" subflow
	# what leaves from the second addresses goes through the second link, also to the
	# server's first addresses (through the server's second address as next hop: IPv6
	# neighbour discovery answers only for the addresses of the interface asked)
	ip rule add from "$SELF4_2" table 100
	ip route add "$PEER4/32" via "$PEER4_2" dev "$PAIR_DEV2" table 100
	ip -6 rule add from "$SELF6_2" table 100
	ip -6 route add "$PEER6/128" via "$PEER6_2" dev "$PAIR_DEV2" table 100
	pair_nstat client.nstat.before
	link_stats links.v4.before
	pair_xfer_client v4 mptcp "$bytes" 4
	link_stats links.v4.after
	pair_xfer_client v6 mptcp "$bytes" 6
	link_stats links.v6.after
	pair_nstat client.nstat.after
	ip mptcp endpoint flush
	pair_unload_clean
	;;
check)
	pair_check_xfer v4 "$bytes"
	pair_check_xfer v6 "$bytes"
	d() { pair_delta nstat.before nstat.after "$1"; }
	c() { pair_delta client.nstat.before client.nstat.after "$1"; }
	echo "  client (mptcp_rs): MPTcpExtMPJoinSynTx +$(c MPTcpExtMPJoinSynTx)" \
		"MPTcpExtMPJoinSynAckRx +$(c MPTcpExtMPJoinSynAckRx)" \
		"MPTcpExtMPJoinSynAckHMacFailure +$(c MPTcpExtMPJoinSynAckHMacFailure)" \
		"MPTcpExtMPJoinSynTxConnectErr +$(c MPTcpExtMPJoinSynTxConnectErr)" \
		"MPTcpExtMPCapableFallbackSYNACK +$(c MPTcpExtMPCapableFallbackSYNACK)"
	echo "  server (upstream): MPTcpExtMPJoinSynRx +$(d MPTcpExtMPJoinSynRx)" \
		"MPTcpExtMPJoinAckRx +$(d MPTcpExtMPJoinAckRx)" \
		"MPTcpExtMPJoinAckHMacFailure +$(d MPTcpExtMPJoinAckHMacFailure)" \
		"MPTcpExtMPJoinNoTokenFound +$(d MPTcpExtMPJoinNoTokenFound)" \
		"MPTcpExtMPJoinRejected +$(d MPTcpExtMPJoinRejected)"
	fail=0
	for x in v4 v6; do
		before=links.v4.before
		[ "$x" = v6 ] && before=links.v4.after
		read -r dev1 rx1 tx1 _ _ < <(sed -n 1p "$PAIR_SHARE/$before")
		read -r dev2 rx2 tx2 _ txp2 < <(sed -n 2p "$PAIR_SHARE/$before")
		read -r _ rx1b tx1b _ _ < <(sed -n 1p "$PAIR_SHARE/links.$x.after")
		read -r _ rx2b tx2b _ txp2b < <(sed -n 2p "$PAIR_SHARE/links.$x.after")
		echo "  $x client: $dev1 (path 1) rx $((rx1b - rx1)) tx $((tx1b - tx1)) bytes;" \
			"$dev2 (path 2, the join) rx $((rx2b - rx2)) tx $((tx2b - tx2)) bytes, $((txp2b - txp2)) packets sent"
		((txp2b - txp2 >= 3)) || { echo "FAIL: $x: no ACKs sent on the joined subflow's link" >&2; fail=1; }
		((rx2b - rx2 > bytes / 20)) ||
			{ echo "FAIL: $x: the server's download did not use the joined subflow" >&2; fail=1; }
		((tx2b - tx2 > bytes / 20 && tx1b - tx1 > bytes / 20)) ||
			{ echo "FAIL: $x: the upload did not use both paths" >&2; fail=1; }
	done
	(($(c MPTcpExtMPJoinSynTx) >= 2)) || { echo "FAIL: the client sent no MP_JOIN SYN for each connection" >&2; fail=1; }
	(($(c MPTcpExtMPJoinSynAckRx) >= 2)) || { echo "FAIL: the client accepted no MP_JOIN SYN/ACK for each connection" >&2; fail=1; }
	(($(d MPTcpExtMPJoinSynRx) >= 2)) || { echo "FAIL: the server saw no MP_JOIN SYN for each connection" >&2; fail=1; }
	(($(d MPTcpExtMPJoinAckRx) >= 2)) || { echo "FAIL: the server completed no join for each connection" >&2; fail=1; }
	(($(c MPTcpExtMPJoinSynAckHMacFailure) + $(d MPTcpExtMPJoinAckHMacFailure) == 0)) ||
		{ echo "FAIL: MP_JOIN HMAC failures" >&2; fail=1; }
	(($(d MPTcpExtMPJoinRejected) + $(d MPTcpExtMPJoinNoTokenFound) == 0)) ||
		{ echo "FAIL: joins refused" >&2; fail=1; }
	exit "$fail"
	;;
*) echo "usage: $0 server|client|check SHARE" >&2; exit 2 ;;
esac
