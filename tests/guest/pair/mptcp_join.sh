#!/usr/bin/env bash
# MP_JOIN: an upstream MPTCP client (reference kernel) adds a second subflow over a
# second link to an mptcp_rs server (custom kernel) and sends over both. The guests
# have two independent links (scripts/vm --second-link): eth0 (10.77.0.0/24,
# fd77::/64) and eth1 (10.77.1.0/24, fd77:1::/64), both with netem 5 ms delay and a
# rate of MPTCP_RS_PAIR_RATE (15mbit by default, below what one transfer reaches
# here: unshaped, the CPU is the bottleneck and one path may rightly carry it all,
# so "both paths used" would test nothing). The
# client has `ip mptcp limits set subflows 1` and a "subflow" endpoint on its eth1
# address; source routing sends what comes from that address through eth1 to the
# server's first address. One transfer over IPv4, one over IPv6 (MPTCP_RS_PAIR_BYTES
# each way, 32 MB by default): SHA-256 equal on both ends; the server's MPJoinSynRx
# and MPJoinAckRx and the client's MPJoinSynTx and MPJoinSynAckRx show one join per
# connection, no HMAC failure, no refusal; the server's NIC counters show the upload
# (upstream's scheduler) AND the download (mptcp_rs's scheduler, rust/sendq.rs)
# carried by BOTH links; the client never dropped our data as outside its window
# (MPTcpExtNoDSSInWindow). Then the
# server unloads mptcp_rs (every subflow freed) and its kernel log is clean (kmemleak
# too on a debug kernel).
#   run by tests/lib/pair.sh: SCRIPT server | SCRIPT client (guests), SCRIPT check SHARE (host)
set -euo pipefail
role=$1 bytes=${MPTCP_RS_PAIR_BYTES:-$((32 << 20))}
if [ "$role" = check ]; then
	PAIR_SHARE=$2
	. "$(dirname "$0")/../../lib/pair.sh"
else
	. "$MPTCP_RS_REPO/tests/tools/pair-guest.sh"
fi

# rx and tx bytes of both links into $SHARE/NAME
link_bytes() {
	local d
	for d in "$PAIR_DEV" "$PAIR_DEV2"; do
		echo "$d $(cat "/sys/class/net/$d/statistics/rx_bytes") $(cat "/sys/class/net/$d/statistics/tx_bytes")"
	done >"$SHARE/$1"
}

# sampled_xfer NAME FAMILY: the server's transfer, with its subflows as TCP sees
# them every second in $SHARE/ss.NAME (shown when a path carried too little)
sampled_xfer() {
	(while :; do date +%s.%N; ss -tniHO state established; sleep 1; done) >"$SHARE/ss.$1" 2>&1 &
	local sspid=$!
	pair_xfer_server "$1" mptcp "$bytes" "$2"
	kill "$sspid" 2>/dev/null || true
}

setup() {
	pair_two_links 5ms "${MPTCP_RS_PAIR_RATE:-15mbit}" 100
}

case "$role" in
server)
	setup
	if [ -w /sys/kernel/debug/kmemleak ]; then
		# what booting left is not ours
		echo scan >/sys/kernel/debug/kmemleak
		echo clear >/sys/kernel/debug/kmemleak
	fi
	ip mptcp limits set subflows 2
	pair_nstat nstat.before
	link_bytes links.v4.before
	sampled_xfer v4 4
	link_bytes links.v4.after
	pair_nstat nstat.v4
	sampled_xfer v6 6
	link_bytes links.v6.after
	pair_nstat nstat.after
	pair_unload_clean
	;;
client)
	setup
	ip mptcp limits set subflows 1
	ip mptcp endpoint add "$SELF4_2" dev "$PAIR_DEV2" subflow
	ip mptcp endpoint add "$SELF6_2" dev "$PAIR_DEV2" subflow
	# what leaves from the second addresses goes through the second link, also to
	# the server's first addresses
	# (through the server's second address as next hop: IPv6 neighbour discovery
	# answers only for the addresses of the interface asked)
	ip rule add from "$SELF4_2" table 100
	ip route add "$PEER4/32" via "$PEER4_2" dev "$PAIR_DEV2" table 100
	ip -6 rule add from "$SELF6_2" table 100
	ip -6 route add "$PEER6/128" via "$PEER6_2" dev "$PAIR_DEV2" table 100
	pair_nstat client.nstat.before
	pair_xfer_client v4 mptcp "$bytes" 4
	pair_xfer_client v6 mptcp "$bytes" 6
	pair_nstat client.nstat.after
	;;
check)
	pair_check_xfer v4 "$bytes"
	pair_check_xfer v6 "$bytes"
	d() { pair_delta nstat.before nstat.after "$1"; }
	c() { pair_delta client.nstat.before client.nstat.after "$1"; }
	echo "  client (upstream): MPTcpExtMPJoinSynTx +$(c MPTcpExtMPJoinSynTx)" \
		"MPTcpExtMPJoinSynAckRx +$(c MPTcpExtMPJoinSynAckRx)" \
		"MPTcpExtMPJoinSynAckHMacFailure +$(c MPTcpExtMPJoinSynAckHMacFailure)" \
		"MPTcpExtMPCapableFallbackSYNACK +$(c MPTcpExtMPCapableFallbackSYNACK)"
	echo "  server (mptcp_rs): MPTcpExtMPJoinSynRx +$(d MPTcpExtMPJoinSynRx)" \
		"MPTcpExtMPJoinAckRx +$(d MPTcpExtMPJoinAckRx)" \
		"MPTcpExtMPJoinAckHMacFailure +$(d MPTcpExtMPJoinAckHMacFailure)" \
		"MPTcpExtMPJoinNoTokenFound +$(d MPTcpExtMPJoinNoTokenFound)" \
		"MPTcpExtMPJoinRejected +$(d MPTcpExtMPJoinRejected)" \
		"MPTcpExtDSSCorruptionReset +$(d MPTcpExtDSSCorruptionReset)"
	fail=0
	for x in v4 v6; do
		before=links.v4.before
		[ "$x" = v6 ] && before=links.v4.after
		read -r dev1 rx1 tx1 < <(sed -n 1p "$PAIR_SHARE/$before")
		read -r dev2 rx2 tx2 < <(sed -n 2p "$PAIR_SHARE/$before")
		read -r _ rx1b tx1b < <(sed -n 1p "$PAIR_SHARE/links.$x.after")
		read -r _ rx2b tx2b < <(sed -n 2p "$PAIR_SHARE/links.$x.after")
		p1=$((rx1b - rx1)) p2=$((rx2b - rx2))
		q1=$((tx1b - tx1)) q2=$((tx2b - tx2))
		echo "  $x upload received by the server: $dev1 (path 1) $p1 bytes, $dev2 (path 2) $p2 bytes"
		echo "  $x download sent by the server: $dev1 (path 1) $q1 bytes, $dev2 (path 2) $q2 bytes"
		# each path carried a real share of each direction
		((p1 > bytes / 20 && p2 > bytes / 20)) || { echo "FAIL: $x: the upload did not use both paths" >&2; fail=1; }
		((q1 > bytes / 20 && q2 > bytes / 20)) || {
			echo "FAIL: $x: the download did not use both paths; the server's subflows (ss -ti, each second):" >&2
			grep -oE '^[0-9.]+$|[][0-9a-f.:]+:[0-9]+ +[][0-9a-f.:]+:[0-9]+|rtt:[0-9./]+|minrtt:[0-9.]+|cwnd:[0-9]+|bytes_sent:[0-9]+|notsent:[0-9]+' \
				"$PAIR_SHARE/ss.$x" 2>/dev/null | paste -sd' ' | sed 's/ \([0-9]\{10\}\.\)/\n\1/g' | sed 's/^/    /' >&2
			fail=1
		}
	done
	(($(c MPTcpExtNoDSSInWindow) == 0)) ||
		{ echo "FAIL: the client dropped $(c MPTcpExtNoDSSInWindow) segments outside its MPTCP window" >&2; fail=1; }
	(($(d MPTcpExtMPJoinSynRx) >= 2)) || { echo "FAIL: the server saw no MP_JOIN SYN for each connection" >&2; fail=1; }
	(($(d MPTcpExtMPJoinAckRx) >= 2)) || { echo "FAIL: the server completed no join for each connection" >&2; fail=1; }
	(($(c MPTcpExtMPJoinSynAckRx) >= 2)) || { echo "FAIL: the client saw no MP_JOIN SYN/ACK for each connection" >&2; fail=1; }
	(($(d MPTcpExtMPJoinAckHMacFailure) + $(c MPTcpExtMPJoinSynAckHMacFailure) == 0)) ||
		{ echo "FAIL: MP_JOIN HMAC failures" >&2; fail=1; }
	(($(d MPTcpExtMPJoinRejected) + $(d MPTcpExtMPJoinNoTokenFound) == 0)) ||
		{ echo "FAIL: joins refused" >&2; fail=1; }
	exit "$fail"
	;;
*) echo "usage: $0 server|client|check SHARE" >&2; exit 2 ;;
esac
