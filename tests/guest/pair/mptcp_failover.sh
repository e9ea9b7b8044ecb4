#!/usr/bin/env bash
# Failover: an mptcp_rs server (custom kernel) and an upstream MPTCP client
# (reference kernel) exchange data (both ways: upstream only joins while it still
# sends) over two paths (scripts/vm --second-link; both shaped with netem
# delay 10 ms, rate MPTCP_RS_PAIR_RATE, 20mbit by default; the client joins from its
# second address as in mptcp_join.sh), and one path is blackholed mid-transfer: once
# the client has received a quarter of MPTCP_RS_PAIR_BYTES (16 MB by default), it
# drops everything on that path (iptables/ip6tables INPUT and OUTPUT on the
# interface), reading on meanwhile (xfer.py --cut-async: a reader that paused for
# the four commands let the window close with everything acknowledged, and then
# nothing was left on the path to reinject, 2 of 3 transfers of a CI run). Three
# transfers: path 2 cut (IPv4), path 1, the first subflow, cut (IPv4), path 2 cut
# (IPv6). Each must complete with the SHA-256 equal on both ends:
# what was in flight on the dead path is sent again on the other (mptcp_rs's
# reinjection, rust/sendq.rs: MPTcpExtMPTCPRetrans grows on the server). The client
# (xfer.py --cut-at) reports the longest stall after the cut and the equivalent
# outage (time lost versus going on at the surviving path's rate).
#   run by tests/lib/pair.sh: SCRIPT server | SCRIPT client (guests), SCRIPT check SHARE (host)
set -euo pipefail
role=$1 bytes=${MPTCP_RS_PAIR_BYTES:-$((16 << 20))} rate=${MPTCP_RS_PAIR_RATE:-20mbit}
if [ "$role" = check ]; then
	PAIR_SHARE=$2
	. "$(dirname "$0")/../../lib/pair.sh"
else
	. "$MPTCP_RS_REPO/tests/tools/pair-guest.sh"
fi
# the transfers: name, family, path cut (1 or 2)
runs=("v4p2 4 2" "v4p1 4 1" "v6p2 6 2")

setup() {
	pair_two_links 10ms "$rate" 1000
}

case "$role" in
server)
	setup
	ip mptcp limits set subflows 2
	port=7000
	for r in "${runs[@]}"; do
		read -r name fam _ <<<"$r"
		addr=$SELF4
		[ "$fam" = 6 ] && addr=$SELF6
		port=$((port + 1))
		pair_nstat "$name.nstat.before"
		python3 "$MPTCP_RS_REPO/tests/tools/xfer.py" server --bind "$addr" --port "$port" \
			--proto mptcp --send "$bytes" --timeout 60 \
			>"$SHARE/$name.server.json" 2>"$SHARE/$name.server.err" &
		pid=$!
		for i in $(seq 100); do
			grep -q listening "$SHARE/$name.server.err" 2>/dev/null && break
			sleep 0.1
		done
		pair_signal "$name.ready" "$port"
		wait "$pid" || { pair__diag "$name"; fail "$name: server failed: $(tail -n 3 "$SHARE/$name.server.err")"; }
		pair_nstat "$name.nstat.after"
		pair__finish "$name"
	done
	pair_log_clean
	info "kernel log clean"
	;;
client)
	setup
	ip mptcp limits set subflows 1
	ip mptcp endpoint add "$SELF4_2" dev "$PAIR_DEV2" subflow
	ip mptcp endpoint add "$SELF6_2" dev "$PAIR_DEV2" subflow
	ip rule add from "$SELF4_2" table 100
	ip route add "$PEER4/32" via "$PEER4_2" dev "$PAIR_DEV2" table 100
	ip -6 rule add from "$SELF6_2" table 100
	ip -6 route add "$PEER6/128" via "$PEER6_2" dev "$PAIR_DEV2" table 100
	for r in "${runs[@]}"; do
		read -r name fam path <<<"$r"
		addr=$PEER4
		[ "$fam" = 6 ] && addr=$PEER6
		dev=$PAIR_DEV
		[ "$path" = 2 ] && dev=$PAIR_DEV2
		cut="iptables -I INPUT -i $dev -j DROP; iptables -I OUTPUT -o $dev -j DROP;"
		cut+=" ip6tables -I INPUT -i $dev -j DROP; ip6tables -I OUTPUT -o $dev -j DROP"
		port=$(pair_wait "$name.ready") || exit 1
		python3 "$MPTCP_RS_REPO/tests/tools/xfer.py" client --connect "$addr" --port "$port" \
			--proto mptcp --send "$bytes" --timeout 60 --cut-at $((bytes / 4)) --cut-cmd "$cut" --cut-async \
			>"$SHARE/$name.client.json" 2>"$SHARE/$name.client.err" || {
			pair__diag "$name"
			fail "$name: client failed: $(tail -n 3 "$SHARE/$name.client.err")"
		}
		iptables -F
		ip6tables -F
		pair__finish "$name"
	done
	;;
check)
	fail=0
	for r in "${runs[@]}"; do
		read -r name fam path <<<"$r"
		python3 - "$PAIR_SHARE" "$name" "$bytes" "$path" <<'PY' || fail=1
import json, sys
share, name, n, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
try:
    c = json.load(open(f"{share}/{name}.client.json"))
    s = json.load(open(f"{share}/{name}.server.json"))
except (OSError, ValueError) as e:
    sys.exit(f"FAIL: {name}: no result: {e}")
if not (s["sent"] == c["received"] == n and s["sent_sha256"] == c["received_sha256"]
        and c["sent"] == s["received"] == n and c["sent_sha256"] == s["received_sha256"]):
    sys.exit(f"FAIL: {name}: data mismatch\n  client {c}\n  server {s}")
if c.get("cut") is None:
    sys.exit(f"FAIL: {name}: the path was never cut")
print(f"  {name}: path {path} cut at {c['cut']} s; {n} bytes intact in {c['seconds']} s; "
      f"longest stall after the cut {c['stall']} s, equivalent outage {c['outage']} s")
PY
		re=$(pair_delta "$name.nstat.before" "$name.nstat.after" MPTcpExtMPTCPRetrans)
		echo "  $name: server (mptcp_rs) MPTcpExtMPTCPRetrans +$re"
		((re > 0)) || { echo "FAIL: $name: mptcp_rs reinjected nothing" >&2; fail=1; }
	done
	exit "$fail"
	;;
*) echo "usage: $0 server|client|check SHARE" >&2; exit 2 ;;
esac
