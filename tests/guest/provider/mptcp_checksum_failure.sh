#!/usr/bin/env bash
# DSS checksum failure on the only subflow (RFC 8684 3.7): a middlebox modifies one
# payload byte of a data segment and fixes the TCP checksum (tc pedit + csum, on the
# one packet netfilter marks), with DSS checksums on. The receiver counts the
# checksum error and sends MP_FAIL; the sender answers with an infinite mapping and
# both fall back to TCP: the connection survives and every byte arrives, the
# modified one as the middlebox made it (as TCP would deliver it). IPv4 and IPv6.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
TOOL="$MPTCP_RS_REPO/tests/tools/csum_fail.py"
bytes=$((4 << 20))
topo_new cli srv
topo_path cli srv 1
for ns in cli srv; do ip netns exec $ns sysctl -qw net.mptcp.checksum_enabled=1; done
tc -n cli qdisc add dev c1 clsact || fail "no clsact qdisc"

port=6500
run() { # 4|6
	local fam=$1 tables=iptables proto=ip addr out
	addr=$(topo_addr$fam s 1)
	[ "$fam" = 6 ] && tables=ip6tables proto=ipv6
	# the 20th large segment the client sends gets byte 148 (from the IP header) inverted
	ip netns exec cli $tables -t mangle -F OUTPUT
	ip netns exec cli $tables -t mangle -A OUTPUT -o c1 -p tcp -m length --length 1000:65535 \
		-m statistic --mode nth --every 100000000 --packet 19 -j MARK --set-mark 42 ||
		fail "iptables cannot mark packets here"
	tc -n cli filter del dev c1 egress 2>/dev/null
	tc -n cli filter add dev c1 egress protocol $proto prio 1000 handle 42 fw \
		action pedit munge offset 148 u8 invert pipe csum tcp || fail "tc pedit/csum unavailable"
	port=$((port + 1))
	out=$(mktemp)
	ip netns exec srv python3 "$TOOL" server --bind "$addr" --port $port >"$out" 2>"$out.err" &
	local spid=$! i
	for i in $(seq 50); do grep -q listening "$out.err" 2>/dev/null && break; sleep 0.1; done
	ip netns exec cli python3 "$TOOL" client --connect "$addr" --port $port --bytes $bytes ||
		fail "IPv$fam: client failed"
	wait $spid || fail "IPv$fam: server failed: $(cat "$out" "$out.err")"
	python3 - "$out" $bytes <<'PY' || fail "IPv$fam: $(cat "$out")"
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2])
ok = r["received"] == n and len(r["differing"]) == 1 and r["all_inverted"]
sys.exit(0 if ok else 1)
PY
	info "IPv$fam: $(cat "$out")"
	rm -f "$out" "$out.err"
}

run 4
mib_at_least srv MPTcpExtDataCsumErr 1
mib_at_least srv MPTcpExtMPFailTx 1
mib_at_least cli MPTcpExtMPFailRx 1
mib_at_least cli MPTcpExtInfiniteMapTx 1
mib_at_least srv MPTcpExtInfiniteMapRx 1
run 6
mib_at_least srv MPTcpExtDataCsumErr 2
mib_at_least cli MPTcpExtInfiniteMapTx 2
mib_at_least srv MPTcpExtInfiniteMapRx 2
for ns in cli srv; do
	[ "$(mib $ns MPTcpExtMPRstTx)" = 0 ] || fail "$ns reset a subflow (MPRstTx $(mib $ns MPTcpExtMPRstTx))"
done
dmesg_clean
