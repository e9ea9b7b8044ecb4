#!/usr/bin/env bash
# An MPTCP transfer between the two guests (both sockets IPPROTO_MPTCP), 16 MB each way
# (MPTCP_RS_PAIR_BYTES) over IPv4 and IPv6 at the same time, through netem on both sides (5 ms, 1%
# loss, reordering), DSS checksums requested by both sides if MPTCP_RS_PAIR_CSUM=1:
# every byte's SHA-256 agrees on both ends, and both sides' MPTcpExt counters show
# MP_CAPABLE handshakes completed without fallback, i.e. MPTCP was really used. Any
# kernel that provides MPTCP on either side (reference, custom + mptcp_rs), so the
# counters of whichever side runs upstream MPTCP are among those checked. Then the
# client closes two connections abortively (data left unread; SO_LINGER 0): the
# server's read ends with ECONNRESET and the counters show MP_FASTCLOSE sent and
# received. The first 4,000 packets of the IPv4 transfer, captured on the client,
# show each side's DSS widths, and that each sends 64-bit DATA_ACKs when its peer
# sends 64-bit DSNs (tests/tools/dss_widths.py).
#   run by tests/lib/pair.sh: SCRIPT server | SCRIPT client (guests), SCRIPT check SHARE (host)
set -euo pipefail
role=$1 bytes=${MPTCP_RS_PAIR_BYTES:-$((16 << 20))} csum=${MPTCP_RS_PAIR_CSUM:-0}
netem=(delay 5ms reorder 10% 50% loss 1%)
if [ "$role" = check ]; then
	PAIR_SHARE=$2
	. "$(dirname "$0")/../../lib/pair.sh"
else
	. "$MPTCP_RS_REPO/tests/tools/pair-guest.sh"
fi

case "$role" in
server)
	pair_link_up
	pair_netem "${netem[@]}"
	sysctl -qw net.mptcp.checksum_enabled="$csum"
	pair_nstat nstat.before
	# IPv4 and IPv6 at once: netem's loss, not the guests' CPU, limits each transfer
	pair_xfer_server v4 mptcp "$bytes" 4 &
	v4=$!
	pair__port=$((pair__port + 1)) # the port the IPv4 server took in its subshell
	pair_xfer_server v6 mptcp "$bytes" 6
	wait "$v4"
	pair_nstat nstat.after
	pair_qdisc_save
	# no loss for the aborts: a reset is sent once, never retransmitted
	tc qdisc del dev "$PAIR_DEV" root
	pair_abort_server abort-unread unread 4
	pair_abort_server abort-linger0 linger0 6
	pair_nstat nstat.abort
	;;
client)
	pair_link_up
	pair_netem "${netem[@]}"
	sysctl -qw net.mptcp.checksum_enabled="$csum"
	pair_nstat client.nstat.before
	# the first segments of the IPv4 transfer, for the DSS widths (check)
	tcpdump -Z root -i "$PAIR_DEV" -nn -s 200 -U -c 4000 -w "$SHARE/client.dss.pcap" "ip and tcp" \
		2>"$SHARE/client.tcpdump.err" &
	dump=$!
	sleep 1
	pair_xfer_client v4 mptcp "$bytes" 4 &
	v4=$!
	pair_xfer_client v6 mptcp "$bytes" 6
	wait "$v4"
	kill "$dump" 2>/dev/null || true
	wait "$dump" || true
	pair_nstat client.nstat.after
	pair_qdisc_save
	# no loss for the aborts: a reset is sent once, never retransmitted
	tc qdisc del dev "$PAIR_DEV" root
	pair_abort_client abort-unread unread 4
	pair_abort_client abort-linger0 linger0 6
	pair_nstat client.nstat.abort
	;;
check)
	pair_check_xfer v4 "$bytes"
	pair_check_xfer v6 "$bytes"
	d() { pair_delta nstat.before nstat.after "$1"; }
	c() { pair_delta client.nstat.before client.nstat.after "$1"; }
	echo "  client: MPTcpExtMPCapableSYNTX +$(c MPTcpExtMPCapableSYNTX)" \
		"MPTcpExtMPCapableSYNACKRX +$(c MPTcpExtMPCapableSYNACKRX)" \
		"MPTcpExtMPCapableFallbackSYNACK +$(c MPTcpExtMPCapableFallbackSYNACK)" \
		"MPTcpExtDataCsumErr +$(c MPTcpExtDataCsumErr) (checksums: $csum)"
	echo "  server: MPTcpExtMPCapableSYNRX +$(d MPTcpExtMPCapableSYNRX)" \
		"MPTcpExtMPCapableACKRX +$(d MPTcpExtMPCapableACKRX)" \
		"MPTcpExtMPCapableFallbackACK +$(d MPTcpExtMPCapableFallbackACK)" \
		"MPTcpExtMPCapableDataFallback +$(d MPTcpExtMPCapableDataFallback)" \
		"TcpExtTCPSACKReorder +$(d TcpExtTCPSACKReorder)" \
		"TcpRetransSegs +$(d TcpRetransSegs)"
	pair_netem_stats server
	pair_netem_stats client
	(($(d MPTcpExtMPCapableSYNRX) >= 2)) || { echo "FAIL: the server saw no MP_CAPABLE SYN for each connection" >&2; exit 1; }
	(($(d MPTcpExtMPCapableACKRX) >= 2)) || { echo "FAIL: the server saw no MP_CAPABLE third ACK for each connection" >&2; exit 1; }
	(($(d MPTcpExtMPCapableFallbackACK) == 0 && $(d MPTcpExtMPCapableDataFallback) == 0)) ||
		{ echo "FAIL: the server fell back to TCP" >&2; exit 1; }
	(($(c MPTcpExtMPCapableSYNACKRX) >= 2)) || { echo "FAIL: the client saw no MP_CAPABLE SYN/ACK for each connection" >&2; exit 1; }
	(($(c MPTcpExtMPCapableFallbackSYNACK) == 0)) || { echo "FAIL: the client fell back to TCP" >&2; exit 1; }
	(($(d MPTcpExtDataCsumErr) + $(c MPTcpExtDataCsumErr) == 0)) || { echo "FAIL: DSS checksum errors" >&2; exit 1; }
	(($(d TcpRetransSegs) > 0)) || { echo "FAIL: no retransmission: netem's loss was not in the way" >&2; exit 1; }
	# RFC 8684 3.3 on both sides: 64-bit DATA_ACKs to a peer that sends 64-bit DSNs
	# (upstream always does; mptcp_rs sends 32-bit ones)
	echo "  DSS widths in the first segments of the IPv4 transfer:"
	widths=$(python3 "$(dirname "$0")/../../tools/dss_widths.py" "$PAIR_SHARE/client.dss.pcap" 2>&1) ||
		{ echo "FAIL: DSS widths: $widths" >&2; exit 1; }
	echo "$widths"
	(($(grep -c 'mappings DSN32 [1-9]\|DSN64 [1-9]' <<<"$widths") >= 2)) ||
		{ echo "FAIL: the capture does not hold both sides' mappings" >&2; exit 1; }
	# the abortive closes
	da() { pair_delta nstat.after nstat.abort "$1"; }
	ca() { pair_delta client.nstat.after client.nstat.abort "$1"; }
	echo "  abortive closes: client MPTcpExtMPFastcloseTx +$(ca MPTcpExtMPFastcloseTx)" \
		"MPTcpExtMPRstTx +$(ca MPTcpExtMPRstTx); server MPTcpExtMPFastcloseRx +$(da MPTcpExtMPFastcloseRx)" \
		"MPTcpExtMPRstRx +$(da MPTcpExtMPRstRx)"
	(($(ca MPTcpExtMPFastcloseTx) >= 2)) || { echo "FAIL: the client did not send MP_FASTCLOSE" >&2; exit 1; }
	(($(da MPTcpExtMPFastcloseRx) >= 2)) || { echo "FAIL: the server did not receive MP_FASTCLOSE" >&2; exit 1; }
	;;
*) echo "usage: $0 server|client|check SHARE" >&2; exit 2 ;;
esac
