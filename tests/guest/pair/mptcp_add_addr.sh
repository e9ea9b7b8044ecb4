#!/usr/bin/env bash
# ADD_ADDR: the server announces its second-link addresses ("signal" endpoints, v4
# and v6) and the client, with `ip mptcp limits set add_addr_accepted 1 subflows 1`
# and no endpoint, accepts the announcement and joins it from the source address
# its routing picks (its own second-link address). Run both ways: an upstream client
# (reference kernel) with an mptcp_rs server (add_addr_ref_to_rs), and an mptcp_rs
# client with an upstream server (add_addr_rs_to_ref). The guests have two links
# (scripts/vm --second-link): eth0 (10.77.0.0/24, fd77::/64) and eth1 (10.77.1.0/24,
# fd77:1::/64), both with netem 5 ms delay and a rate of MPTCP_RS_PAIR_RATE
# (15mbit by default, see mptcp_join.sh); the server listens on the wildcard
# address. One transfer over IPv4, one over IPv6 (MPTCP_RS_PAIR_BYTES each way, 16
# MB by default): SHA-256 equal on both ends; per connection the server sent an
# ADD_ADDR (AddAddrTx) and got its echo (EchoAdd), the client received it (AddAddr),
# echoed it (EchoAddTx) and joined the announced address (MPJoinSynTx,
# MPJoinSynAckRx; the server's MPJoinSynRx, MPJoinAckRx); no HMAC failure, no
# refused join, no dropped ADD_ADDR; the client's second link carried a real share
# (> 5 %) of the download. Then the mptcp_rs side unloads the module; clean logs.
# With MPTCP_RS_PAIR_ADDR_PORT=P the endpoints carry port P (the server listens
# there, the ADD_ADDRs carry it, the joins arrive at it): the client counts PortAdd,
# the server MPJoinPortSynRx, once per connection.
#   run by tests/lib/pair.sh: SCRIPT server | SCRIPT client (guests), SCRIPT check SHARE (host)
set -euo pipefail
role=$1 bytes=${MPTCP_RS_PAIR_BYTES:-$((16 << 20))} aport=${MPTCP_RS_PAIR_ADDR_PORT:-}
if [ "$role" = check ]; then
	PAIR_SHARE=$2
	. "$(dirname "$0")/../../lib/pair.sh"
else
	. "$MPTCP_RS_REPO/tests/tools/pair-guest.sh"
fi

link_stats() {
	local d s
	for d in "$PAIR_DEV" "$PAIR_DEV2"; do
		s=/sys/class/net/$d/statistics
		echo "$d $(cat $s/rx_bytes) $(cat $s/tx_bytes)"
	done >"$SHARE/$1"
}

setup() {
	pair_two_links 5ms "${MPTCP_RS_PAIR_RATE:-15mbit}" 100
}

# the mptcp_rs side unloads the module (no connection, work item or subflow left
# pins it), both check their kernel logs
finish() {
	if lsmod | grep -q '^mptcp_rs '; then
		pair_unload_clean
	else
		pair_log_clean
	fi
}

case "$role" in
server)
	setup
	ip mptcp limits set subflows 2
	ip mptcp endpoint add "$SELF4_2" dev "$PAIR_DEV2" signal ${aport:+port $aport}
	ip mptcp endpoint add "$SELF6_2" dev "$PAIR_DEV2" signal ${aport:+port $aport}
	pair_nstat nstat.before
	PAIR_BIND_ANY=1 pair_xfer_server v4 mptcp "$bytes" 4
	PAIR_BIND_ANY=1 pair_xfer_server v6 mptcp "$bytes" 6
	pair_nstat nstat.after
	finish
	;;
client)
	setup
	ip mptcp limits set add_addr_accepted 1 subflows 1
	pair_nstat client.nstat.before
	link_stats links.v4.before
	pair_xfer_client v4 mptcp "$bytes" 4
	link_stats links.v4.after
	pair_xfer_client v6 mptcp "$bytes" 6
	link_stats links.v6.after
	pair_nstat client.nstat.after
	finish
	;;
check)
	pair_check_xfer v4 "$bytes"
	pair_check_xfer v6 "$bytes"
	s() { pair_delta nstat.before nstat.after "$1"; }
	c() { pair_delta client.nstat.before client.nstat.after "$1"; }
	echo "  server: MPTcpExtAddAddrTx +$(s MPTcpExtAddAddrTx) MPTcpExtEchoAdd +$(s MPTcpExtEchoAdd)" \
		"MPTcpExtMPJoinSynRx +$(s MPTcpExtMPJoinSynRx) MPTcpExtMPJoinAckRx +$(s MPTcpExtMPJoinAckRx)" \
		"MPTcpExtMPJoinRejected +$(s MPTcpExtMPJoinRejected) MPTcpExtMPJoinAckHMacFailure +$(s MPTcpExtMPJoinAckHMacFailure)"
	echo "  client: MPTcpExtAddAddr +$(c MPTcpExtAddAddr) MPTcpExtEchoAddTx +$(c MPTcpExtEchoAddTx)" \
		"MPTcpExtAddAddrDrop +$(c MPTcpExtAddAddrDrop) MPTcpExtMPJoinSynTx +$(c MPTcpExtMPJoinSynTx)" \
		"MPTcpExtMPJoinSynAckRx +$(c MPTcpExtMPJoinSynAckRx) MPTcpExtMPJoinSynAckHMacFailure +$(c MPTcpExtMPJoinSynAckHMacFailure)"
	fail=0
	need() { # VALUE MIN WHAT
		(($1 >= $2)) || { echo "FAIL: $3: $1, expected at least $2" >&2; fail=1; }
	}
	need "$(s MPTcpExtAddAddrTx)" 2 "the server's ADD_ADDRs (AddAddrTx)"
	need "$(s MPTcpExtEchoAdd)" 2 "echoes the server received (EchoAdd)"
	need "$(c MPTcpExtAddAddr)" 2 "ADD_ADDRs the client accepted as valid (AddAddr)"
	need "$(c MPTcpExtEchoAddTx)" 2 "echoes the client sent (EchoAddTx)"
	need "$(c MPTcpExtMPJoinSynTx)" 2 "the client's joins (MPJoinSynTx)"
	need "$(c MPTcpExtMPJoinSynAckRx)" 2 "the client's joins answered (MPJoinSynAckRx)"
	need "$(s MPTcpExtMPJoinSynRx)" 2 "joins the server saw (MPJoinSynRx)"
	need "$(s MPTcpExtMPJoinAckRx)" 2 "joins the server completed (MPJoinAckRx)"
	if [ -n "$aport" ]; then
		echo "  port $aport: client MPTcpExtPortAdd +$(c MPTcpExtPortAdd), server MPTcpExtMPJoinPortSynRx +$(s MPTcpExtMPJoinPortSynRx)"
		need "$(c MPTcpExtPortAdd)" 2 "ADD_ADDRs with a port the client received (PortAdd)"
		need "$(s MPTcpExtMPJoinPortSynRx)" 2 "joins at the announced port (MPJoinPortSynRx)"
	fi
	(($(s MPTcpExtMPJoinRejected) + $(s MPTcpExtMPJoinAckHMacFailure) + $(c MPTcpExtMPJoinSynAckHMacFailure) + $(c MPTcpExtAddAddrDrop) == 0)) ||
		{ echo "FAIL: joins refused, HMAC failures or dropped ADD_ADDRs" >&2; fail=1; }
	for x in v4 v6; do
		before=links.v4.before
		[ "$x" = v6 ] && before=links.v4.after
		read -r _ rx2 tx2 < <(sed -n 2p "$PAIR_SHARE/$before")
		read -r dev2 rx2b tx2b < <(sed -n 2p "$PAIR_SHARE/links.$x.after")
		echo "  $x client: $dev2 (path 2, the join to the announced address) rx $((rx2b - rx2)) tx $((tx2b - tx2)) bytes"
		((rx2b - rx2 > bytes / 20)) ||
			{ echo "FAIL: $x: the download did not use the join to the announced address" >&2; fail=1; }
	done
	exit "$fail"
	;;
*) echo "usage: $0 server|client|check SHARE" >&2; exit 2 ;;
esac
