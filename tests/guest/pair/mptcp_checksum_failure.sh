#!/usr/bin/env bash
# DSS checksum failure between the two guests (RFC 8684 3.7), both with
# net.mptcp.checksum_enabled=1: a middlebox on the client's egress modifies one payload
# byte of one data segment and fixes the TCP checksum (netfilter marks the 20th large
# segment, tc pedit inverts its byte 148, tc csum recomputes the TCP checksum). The
# server detects it (DataCsumErr), sends MP_FAIL; the client answers with an infinite
# mapping and both fall back to TCP: 4 MB arrive, the modified byte inverted and no
# other, over IPv4 and IPv6. Either kernel can be upstream's: its counters are among
# those checked.
#   run by tests/lib/pair.sh: SCRIPT server | SCRIPT client (guests), SCRIPT check SHARE (host)
set -euo pipefail
role=$1 bytes=$((4 << 20))
if [ "$role" = check ]; then
	PAIR_SHARE=$2
	. "$(dirname "$0")/../../lib/pair.sh"
else
	. "$MPTCP_RS_REPO/tests/tools/pair-guest.sh"
	TOOL="$REPO/tests/tools/csum_fail.py"
fi

case "$role" in
server)
	pair_link_up
	sysctl -qw net.mptcp.checksum_enabled=1
	pair_nstat nstat.before
	for fam in 4 6; do
		addr=$SELF4
		[ $fam = 6 ] && addr=$SELF6
		port=$((6600 + fam))
		python3 "$TOOL" server --bind "$addr" --port $port >"$SHARE/v$fam.server.json" 2>"$SHARE/v$fam.server.err" &
		pid=$!
		for i in $(seq 100); do grep -q listening "$SHARE/v$fam.server.err" 2>/dev/null && break; sleep 0.1; done
		pair_signal "v$fam.ready" $port
		wait $pid || { pair__diag "v$fam"; fail "v$fam: server: $(cat "$SHARE/v$fam.server.json" "$SHARE/v$fam.server.err")"; }
		pair_wait "v$fam.client-done" >/dev/null
	done
	pair_nstat nstat.after
	;;
client)
	pair_link_up
	sysctl -qw net.mptcp.checksum_enabled=1
	tc qdisc add dev "$PAIR_DEV" clsact || fail "no clsact qdisc"
	pair_nstat client.nstat.before
	for fam in 4 6; do
		tables=iptables proto=ip addr=$PEER4
		[ $fam = 6 ] && tables=ip6tables proto=ipv6 addr=$PEER6
		$tables -t mangle -F OUTPUT
		$tables -t mangle -A OUTPUT -o "$PAIR_DEV" -p tcp -m length --length 1000:65535 \
			-m statistic --mode nth --every 100000000 --packet 19 -j MARK --set-mark 42 ||
			fail "iptables cannot mark packets here"
		tc filter del dev "$PAIR_DEV" egress 2>/dev/null || true
		tc filter add dev "$PAIR_DEV" egress protocol $proto prio 1000 handle 42 fw \
			action pedit munge offset 148 u8 invert pipe csum tcp || fail "tc pedit/csum unavailable"
		port=$(pair_wait "v$fam.ready")
		python3 "$TOOL" client --connect "$addr" --port "$port" --bytes $bytes 2>"$SHARE/v$fam.client.err" ||
			{ pair__diag "v$fam"; fail "v$fam: client: $(cat "$SHARE/v$fam.client.err")"; }
		pair_signal "v$fam.client-done"
	done
	pair_nstat client.nstat.after
	;;
check)
	for fam in 4 6; do
		python3 - "$PAIR_SHARE/v$fam.server.json" $bytes <<'PY' || { echo "FAIL: v$fam: $(cat "$PAIR_SHARE/v$fam.server.json")" >&2; exit 1; }
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2])
sys.exit(0 if r["received"] == n and len(r["differing"]) == 1 and r["all_inverted"] else 1)
PY
		echo "  v$fam: server received $(cat "$PAIR_SHARE/v$fam.server.json")"
	done
	d() { pair_delta nstat.before nstat.after "$1"; }
	c() { pair_delta client.nstat.before client.nstat.after "$1"; }
	echo "  server: MPTcpExtDataCsumErr +$(d MPTcpExtDataCsumErr) MPTcpExtMPFailTx +$(d MPTcpExtMPFailTx)" \
		"MPTcpExtInfiniteMapRx +$(d MPTcpExtInfiniteMapRx) MPTcpExtMPRstTx +$(d MPTcpExtMPRstTx)"
	echo "  client: MPTcpExtMPFailRx +$(c MPTcpExtMPFailRx) MPTcpExtInfiniteMapTx +$(c MPTcpExtInfiniteMapTx)" \
		"MPTcpExtMPRstRx +$(c MPTcpExtMPRstRx)"
	(($(d MPTcpExtDataCsumErr) >= 2)) || { echo "FAIL: the server saw no checksum error in each connection" >&2; exit 1; }
	(($(d MPTcpExtMPFailTx) >= 2)) || { echo "FAIL: the server did not send MP_FAIL in each connection" >&2; exit 1; }
	(($(c MPTcpExtMPFailRx) >= 2)) || { echo "FAIL: the client did not receive MP_FAIL in each connection" >&2; exit 1; }
	(($(c MPTcpExtInfiniteMapTx) >= 2)) || { echo "FAIL: the client sent no infinite mapping in each connection" >&2; exit 1; }
	(($(d MPTcpExtInfiniteMapRx) >= 2)) || { echo "FAIL: the server received no infinite mapping in each connection" >&2; exit 1; }
	;;
*) echo "usage: $0 server|client|check SHARE" >&2; exit 2 ;;
esac
