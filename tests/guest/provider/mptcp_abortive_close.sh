#!/usr/bin/env bash
# Abortive close (RFC 8684 3.5): an MPTCP socket closed with data it never read, or
# with SO_LINGER and a zero timeout, resets its subflow with MP_FASTCLOSE (carrying the
# peer's key) and MP_TCPRST; the peer's read ends with ECONNRESET. A graceful close
# (everything read) sends neither. IPv4 and IPv6, counters on both ends; after
# fallback to TCP the abort is a plain TCP reset (no MPTCP options left to send).
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
ABORT="$MPTCP_RS_REPO/tests/tools/abort.py"
topo_new cli srv
topo_path cli srv 1

port=6400
# abort MODE ADDR [CLIENT_PROTO]: one connection closed by the client as MODE says;
# the server (MPTCP) must see the end MODE implies
abort() {
	local mode=$1 addr=$2 cproto=${3:-mptcp} out
	port=$((port + 1))
	out=$(mktemp)
	ip netns exec srv python3 "$ABORT" server --bind "$addr" --port $port --mode "$mode" \
		>"$out" 2>"$out.err" &
	local spid=$! i
	for i in $(seq 50); do grep -q listening "$out.err" 2>/dev/null && break; sleep 0.1; done
	ip netns exec cli python3 "$ABORT" client --connect "$addr" --port $port --mode "$mode" \
		--proto "$cproto" || fail "$mode client to $addr ($cproto) failed"
	wait $spid || fail "$mode close by the client ($cproto) to $addr: the server saw $(cat "$out" "$out.err")"
	info "$mode ($cproto client, [$addr]:$port): server saw $(cat "$out")"
	rm -f "$out" "$out.err"
}

# a graceful close first: no MP_FASTCLOSE, no MP_TCPRST
abort graceful "$(topo_addr4 s 1)"
for c in MPTcpExtMPFastcloseTx MPTcpExtMPRstTx; do
	[ "$(mib cli $c)" = 0 ] || fail "$c = $(mib cli $c) after a graceful close"
done
[ "$(mib srv MPTcpExtMPFastcloseRx)" = 0 ] || fail "MPFastcloseRx moved on a graceful close"

abort unread "$(topo_addr4 s 1)"
abort unread "$(topo_addr6 s 1)"
abort linger0 "$(topo_addr4 s 1)"
abort linger0 "$(topo_addr6 s 1)"
mib_at_least cli MPTcpExtMPFastcloseTx 4
mib_at_least cli MPTcpExtMPRstTx 4
mib_at_least srv MPTcpExtMPFastcloseRx 4
mib_at_least srv MPTcpExtMPRstRx 4

# a plain TCP client of the MPTCP listener (fallback on the server): a TCP reset
tx=$(mib cli MPTcpExtMPFastcloseTx)
abort unread "$(topo_addr4 s 1)" tcp
[ "$(mib cli MPTcpExtMPFastcloseTx)" = "$tx" ] || fail "a TCP client sent MP_FASTCLOSE"
dmesg_clean
