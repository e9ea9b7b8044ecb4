#!/usr/bin/env bash
# DSS checksum failure on the only subflow (RFC 8684 3.7): a middlebox modifies one
# payload byte of a data segment and fixes the TCP checksum (tc pedit + csum, on the
# one packet netfilter marks), with DSS checksums on. The receiver counts the
# checksum error and sends MP_FAIL; the sender answers with an infinite mapping and
# both fall back to TCP: the connection survives and every byte arrives, the
# modified one as the middlebox made it (as TCP would deliver it). IPv4 and IPv6.
# Then with a second path and a joined subflow (a `subflow` endpoint), the middlebox
# on path 2: no infinite mapping is possible once a second subflow was established,
# so the server checks each whole mapping before any of it reaches the connection,
# resets the joined subflow with MP_FAIL and MP_TCPRST (middlebox), and the client
# sends its data again on path 1: every byte arrives unmodified, no fallback.
# Between the two, an MP_FAIL the peer never answers (see "Unanswered" below).
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
TOOL="$MPTCP_RS_REPO/tests/tools/csum_fail.py"
bytes=$((4 << 20))
topo_new cli srv
topo_path cli srv 1
for ns in cli srv; do ip netns exec $ns sysctl -qw net.mptcp.checksum_enabled=1; done
tc -n cli qdisc add dev c1 clsact || fail "no clsact qdisc"

port=6500
run() { # 4|6 [PATH]
	local fam=$1 n=${2:-1} tables=iptables proto=ip addr out
	addr=$(topo_addr$fam s 1)
	[ "$fam" = 6 ] && tables=ip6tables proto=ipv6
	# the 20th large segment the client sends gets byte 148 (from the IP header) inverted
	ip netns exec cli $tables -t mangle -F OUTPUT
	ip netns exec cli $tables -t mangle -A OUTPUT -o c$n -p tcp -m length --length 1000:65535 \
		-m statistic --mode nth --every 100000000 --packet 19 -j MARK --set-mark 42 ||
		fail "iptables cannot mark packets here"
	tc -n cli filter del dev c$n egress 2>/dev/null
	tc -n cli filter add dev c$n egress protocol $proto prio 1000 handle 42 fw \
		action pedit munge offset 148 u8 invert pipe csum tcp || fail "tc pedit/csum unavailable"
	port=$((port + 1))
	out=$(mktemp)
	ip netns exec srv python3 "$TOOL" server --bind "$addr" --port $port >"$out" 2>"$out.err" &
	local spid=$! i
	for i in $(seq 50); do grep -q listening "$out.err" 2>/dev/null && break; sleep 0.1; done
	if ! ip netns exec cli python3 "$TOOL" client --connect "$addr" --port $port --bytes $bytes; then
		for ns in cli srv; do
			info "$ns: $(ip netns exec $ns nstat -az | awk '/MPTcpExt/ && $2 != 0 {printf "%s=%s ", $1, $2}')"
		done
		kill $spid 2>/dev/null
		fail "IPv$fam: client failed; server: $(cat "$out" "$out.err")"
	fi
	wait $spid || fail "IPv$fam: server failed: $(cat "$out" "$out.err")"
	# one modified byte arrives where it falls back; none where the subflow is reset
	python3 - "$out" $bytes "$([ "$n" = 1 ] && echo 1 || echo 0)" <<'PY' || { info "IPv$fam: $(cat "$out")"; return 1; }
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2]); bad = int(sys.argv[3])
ok = r["received"] == n and len(r["differing"]) == bad and (bad == 0 or r["all_inverted"])
sys.exit(0 if ok else 1)
PY
	info "IPv$fam: $(cat "$out")"
	rm -f "$out" "$out.err"
}

run 4 || fail "IPv4: wrong data"
mib_at_least srv MPTcpExtDataCsumErr 1
mib_at_least srv MPTcpExtMPFailTx 1
mib_at_least cli MPTcpExtMPFailRx 1
mib_at_least cli MPTcpExtInfiniteMapTx 1
mib_at_least srv MPTcpExtInfiniteMapRx 1
run 6 || fail "IPv6: wrong data"
mib_at_least srv MPTcpExtDataCsumErr 2
mib_at_least cli MPTcpExtInfiniteMapTx 2
mib_at_least srv MPTcpExtInfiniteMapRx 2
for ns in cli srv; do
	[ "$(mib $ns MPTcpExtMPRstTx)" = 0 ] || fail "$ns reset a subflow (MPRstTx $(mib $ns MPTcpExtMPRstTx))"
done

# Unanswered: the client never sees the server's MP_FAIL (nftables drops it), so it
# neither echoes it nor sends an infinite mapping. The server waits TCP's longest
# RTO (net.ipv4.tcp_rto_max_ms, 2 s here; 120 s by default, as upstream's
# TCP_RTO_MAX), then resets the subflow (MP_TCPRST), which ends the connection:
# the client's read fails with ECONNRESET about 2 s after the corruption, while
# the server, holding the connection open, had all the data.
ip netns exec srv sysctl -qw net.ipv4.tcp_rto_max_ms=2000 || fail "no net.ipv4.tcp_rto_max_ms"
ip netns exec cli nft -f - <<'NFT' || fail "nftables cannot match MPTCP options here"
table inet mpfail {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp option mptcp subtype 6 counter drop
	}
}
NFT
frx0=$(mib cli MPTcpExtMPFailRx) ftx0=$(mib srv MPTcpExtMPFailTx) inf0=$(mib cli MPTcpExtInfiniteMapTx)
rtx0=$(mib srv MPTcpExtMPRstTx) rrx0=$(mib cli MPTcpExtMPRstRx)
addr=$(topo_addr4 s 1)
ip netns exec cli iptables -t mangle -F OUTPUT
ip netns exec cli iptables -t mangle -A OUTPUT -o c1 -p tcp -m length --length 1000:65535 \
	-m statistic --mode nth --every 100000000 --packet 19 -j MARK --set-mark 42
tc -n cli filter del dev c1 egress 2>/dev/null
tc -n cli filter add dev c1 egress protocol ip prio 1000 handle 42 fw \
	action pedit munge offset 148 u8 invert pipe csum tcp
out=$(mktemp)
ip netns exec srv python3 "$TOOL" server --bind "$addr" --port 6600 --hold 8 >"$out" 2>"$out.err" &
spid=$!
for i in $(seq 50); do grep -q listening "$out.err" 2>/dev/null && break; sleep 0.1; done
cres=$(ip netns exec cli python3 "$TOOL" client --connect "$addr" --port 6600 --bytes $bytes --report)
wait $spid || fail "unanswered: server: $(cat "$out" "$out.err")"
dropped=$(ip netns exec cli nft list chain inet mpfail input | grep -o 'packets [0-9]*' | awk '{print $2}')
info "unanswered: client $cres; server $(cat "$out"); MP_FAILs dropped: $dropped; server MPRstTx +$(mib_delta srv MPTcpExtMPRstTx "$rtx0")"
python3 - "$cres" "$out" $bytes <<'PY' || fail "unanswered: client $cres; server $(cat "$out")"
import json, sys
c = json.loads(sys.argv[1]); s = json.load(open(sys.argv[2])); n = int(sys.argv[3])
assert c["end"] == "ConnectionResetError", "the client's read ended with %s" % c["end"]
assert 1.8 <= c["at"] <= 6, "the reset came %.1f s after connect, not about 2 s after the corruption" % c["at"]
assert s["received"] == n and len(s["differing"]) == 1, "the server did not get every byte"
PY
((dropped >= 1)) || fail "unanswered: no MP_FAIL was dropped"
(($(mib_delta srv MPTcpExtMPFailTx "$ftx0") == 1)) || fail "unanswered: the server sent no MP_FAIL"
(($(mib_delta cli MPTcpExtMPFailRx "$frx0") == 0)) || fail "unanswered: the client saw the MP_FAIL"
(($(mib_delta cli MPTcpExtInfiniteMapTx "$inf0") == 0)) || fail "unanswered: an infinite mapping was sent"
(($(mib_delta srv MPTcpExtMPRstTx "$rtx0") == 1 && $(mib_delta cli MPTcpExtMPRstRx "$rrx0") == 1)) ||
	fail "unanswered: the subflow was not reset once with MP_TCPRST"
ip netns exec cli nft delete table inet mpfail
ip netns exec srv sysctl -qw net.ipv4.tcp_rto_max_ms=120000
rm -f "$out" "$out.err"

# a joined subflow on path 2 (both paths 10 Mbit/s: the join carries a share)
topo_path cli srv 2
for n in 1 2; do
	topo_shape cli "c$n" delay 5ms rate 10mbit limit 200
	topo_shape srv "s$n" delay 5ms rate 10mbit limit 200
done
tc -n cli qdisc add dev c2 clsact || fail "no clsact qdisc on c2"
ip -n srv rule add to "$(topo_addr4 c 2)" table 102 pref 100
ip -n cli mptcp limits set subflows 1
ip -n srv mptcp limits set subflows 1
ip -n cli mptcp endpoint add "$(topo_addr4 c 2)" dev c2 subflow
err0=$(mib srv MPTcpExtDataCsumErr) ftx0=$(mib srv MPTcpExtMPFailTx) frx0=$(mib cli MPTcpExtMPFailRx)
rtx0=$(mib srv MPTcpExtMPRstTx) rrx0=$(mib cli MPTcpExtMPRstRx) inf0=$(mib cli MPTcpExtInfiniteMapTx)
run 4 2
rc=$?
info "joined: DataCsumErr +$(mib_delta srv MPTcpExtDataCsumErr "$err0"), MPFailTx +$(mib_delta srv MPTcpExtMPFailTx "$ftx0"), MPRstTx +$(mib_delta srv MPTcpExtMPRstTx "$rtx0"); client MPFailRx +$(mib_delta cli MPTcpExtMPFailRx "$frx0"), MPRstRx +$(mib_delta cli MPTcpExtMPRstRx "$rrx0"), InfiniteMapTx +$(mib_delta cli MPTcpExtInfiniteMapTx "$inf0")"
[ "$rc" = 0 ] || fail "joined: wrong data"
(($(mib_delta srv MPTcpExtDataCsumErr "$err0") == 1)) || fail "joined: the checksum error was not seen once"
(($(mib_delta srv MPTcpExtMPFailTx "$ftx0") == 1 && $(mib_delta cli MPTcpExtMPFailRx "$frx0") == 1)) ||
	fail "joined: no MP_FAIL with the reset"
(($(mib_delta srv MPTcpExtMPRstTx "$rtx0") == 1 && $(mib_delta cli MPTcpExtMPRstRx "$rrx0") == 1)) ||
	fail "joined: the subflow was not reset once"
(($(mib_delta cli MPTcpExtInfiniteMapTx "$inf0") == 0)) || fail "joined: an infinite mapping was sent"
dmesg_clean
