#!/usr/bin/env bash
# `laminar` endpoints (issue 5), mptcp_rs to mptcp_rs, the cases of upstream's
# mptcp_join.sh laminar_endp_tests (which skip on a module: they look for a built-in
# symbol in /proc/kallsyms). Four paths of 10 Mbit/s; the server refuses TCP from the
# client's path-2 address, the one routing picks to reach the server's path-2
# address; the server announces addresses from `signal` endpoints; 2 MB each way
# per connection (SHA-256 checked) over path 1. As upstream's
# `fill_local_laminar_endp()`, a join to an announced address starts from the first
# `laminar` endpoint of the family whose address no subflow uses (the endpoint of
# the initial address stands for address id 0, used by the initial subflow), and
# from none if all are used; without `laminar` endpoints, from the address routing
# picks.
#  A. No laminar endpoint, the server announces path 2: one join tried from path 2
#     (MPJoinSynTx +1), refused (MPJoinSynAckRx +0); ADD_ADDR received +1.
#  B. A laminar endpoint on path 3: one join, from path 3 (path 3 carries data).
#  C. The server announces paths 2 and 3; laminar endpoints on path 3 (IPv6, not the
#     family), 3 and 4 (IPv4): two joins, paths 3 and 4 carry data.
#  D. The same announcements, one laminar endpoint (path 3): one join, one tried.
#  E. The server announces path 2; `subflow,laminar` endpoints on path 1 (the
#     initial address) and path 3: one join tried, from path 3 to the server's
#     initial address (the `subflow` endpoint); none to path 2 (path 1 is address
#     id 0, in use; path 3 is in use).
#  F. As E, but 1 s into a transfer of 12 MB each way the initial subflow is reset
#     (ss -K) while the join from path 3 carries on; then the server announces path
#     2: address id 0 is free again, so a subflow from path 1 to path 2 is
#     established, and the transfer completes intact.
#  Clean kernel log.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
pm_tools /tmp/pm_laminar
trap pm_cleanup EXIT
topo_new cli srv
for n in 1 2 3 4; do
	topo_path cli srv $n
	topo_shape cli "c$n" delay 5ms rate 10mbit limit 200
	topo_shape srv "s$n" delay 5ms rate 10mbit limit 200
done
c1=$(topo_addr4 c 1) c2=$(topo_addr4 c 2) c3=$(topo_addr4 c 3) c4=$(topo_addr4 c 4)
s1=$(topo_addr4 s 1) s2=$(topo_addr4 s 2) s3=$(topo_addr4 s 3)
ip netns exec srv iptables -A INPUT -s "$c2" -p tcp -j REJECT ||
	fail "cannot install the filter on the server"

port=6600
# scenario NAME SYN_TX SYN_ACK_RX ADD_ADDR_RX [DEV...]: a 2 MB transfer each way
# with the endpoints set; then the client's MPJoinSynTx, MPJoinSynAckRx and
# AddAddr moved by exactly that much, and each DEV carried more than 200 KB.
scenario() {
	local what=$1 syn=$2 synack=$3 add=$4 dev i
	shift 4
	local tx0 ack0 add0 rx0=() d
	# an earlier connection still closing would be counted with this one
	for i in $(seq 100); do
		[ -z "$(ip netns exec cli ss -Htan state all | grep -v TIME-WAIT)" ] && break
		sleep 0.1
	done
	tx0=$(mib cli MPTcpExtMPJoinSynTx) ack0=$(mib cli MPTcpExtMPJoinSynAckRx) add0=$(mib cli MPTcpExtAddAddr)
	for dev in "$@"; do rx0+=($(($(bytes_on cli "$dev" rx) + $(bytes_on cli "$dev" tx)))); done
	port=$((port + 1))
	transfer cli srv "$s1" $port mptcp $((2 << 20))
	info "$what: MPJoinSynTx +$(mib_delta cli MPTcpExtMPJoinSynTx "$tx0"), MPJoinSynAckRx +$(mib_delta cli MPTcpExtMPJoinSynAckRx "$ack0"), AddAddr +$(mib_delta cli MPTcpExtAddAddr "$add0")"
	(($(mib_delta cli MPTcpExtMPJoinSynTx "$tx0") == syn)) ||
		fail "$what: $(mib_delta cli MPTcpExtMPJoinSynTx "$tx0") joins tried, expected $syn"
	(($(mib_delta cli MPTcpExtMPJoinSynAckRx "$ack0") == synack)) ||
		fail "$what: $(mib_delta cli MPTcpExtMPJoinSynAckRx "$ack0") joins answered, expected $synack"
	(($(mib_delta cli MPTcpExtAddAddr "$add0") == add)) ||
		fail "$what: $(mib_delta cli MPTcpExtAddAddr "$add0") ADD_ADDR received, expected $add"
	i=0
	for dev in "$@"; do
		d=$(($(bytes_on cli "$dev" rx) + $(bytes_on cli "$dev" tx) - rx0[i]))
		info "$what: $dev carried $d bytes"
		((d > 200000)) || fail "$what: $dev carried $d bytes, expected a share of the data"
		i=$((i + 1))
	done
}
# endpoints SRV_ADDRS -- CLI_ENDPOINTS...: both sides flushed, the server's
# `signal` endpoints, the client's (pm_nl_ctl `add` arguments, ';'-separated).
endpoints() {
	local a
	pm cli flush
	pm srv flush
	while [ $# -gt 0 ] && [ "$1" != -- ]; do pm srv add "$1" flags signal; shift; done
	shift
	for a in "$@"; do
		# shellcheck disable=SC2086
		pm cli add $a || fail "pm_nl_ctl add $a"
	done
}

pm srv limits 0 2
pm cli limits 2 2
endpoints "$s2" --
scenario "A (no laminar endpoint)" 1 0 1
endpoints "$s2" -- "$c3 flags laminar"
scenario "B (one laminar endpoint)" 1 1 1 c3
endpoints "$s2" "$s3" -- "$(topo_addr6 c 3) flags laminar" "$c3 flags laminar" "$c4 flags laminar"
scenario "C (laminar endpoints)" 2 2 2 c3 c4
endpoints "$s2" "$s3" -- "$c3 flags laminar"
scenario "D (a single laminar endpoint)" 1 1 2 c3
pm srv limits 0 4
pm cli limits 2 4
endpoints "$s2" -- "$c1 flags subflow,laminar" "$c3 flags subflow,laminar"
scenario "E (subflow and laminar endpoints)" 1 1 1 c3
endpoints -- "$c1 flags subflow,laminar" "$c3 flags subflow,laminar"
tx0=$(mib cli MPTcpExtMPJoinSynTx) ack0=$(mib cli MPTcpExtMPJoinSynAckRx)
port=$((port + 1))
work=$(mktemp -d)
xfer_server srv "$work" --bind 0.0.0.0 --port $port --proto mptcp --send $((12 << 20))
ip netns exec cli python3 "$XFER" client --connect "$s1" --port $port --proto mptcp \
	--send $((12 << 20)) >"$work/client" 2>"$work/client.err" &
cpid=$!
for i in $(seq 100); do (($(mib_delta cli MPTcpExtMPJoinSynAckRx "$ack0") >= 1)) && break; sleep 0.1; done
sleep 1
[ -n "$(ip netns exec cli ss -HKt src "$c1" dst "$s1" dport = :$port)" ] ||
	fail "F: ss -K found no initial subflow"
sleep 0.5
pm srv add "$s2" flags signal
joined=
for i in $(seq 80); do
	joined=$(ip netns exec cli ss -Htn state established src "$c1" dst "$s2")
	[ -n "$joined" ] && break
	sleep 0.1
done
wait $cpid || fail "F: client: $(tail -n 3 "$work/client.err")"
wait $spid || fail "F: server: $(tail -n 3 "$work/server.err")"
python3 - "$work/client" "$work/server" $((12 << 20)) <<'PY' || fail "F: data mismatch"
import json, sys
c = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2])); n = int(sys.argv[3])
sys.exit(0 if c["sent"] == s["received"] == n == s["sent"] == c["received"]
         and c["sent_sha256"] == s["received_sha256"] and s["sent_sha256"] == c["received_sha256"] else 1)
PY
info "F (initial subflow reset, then path 2 announced): MPJoinSynTx +$(mib_delta cli MPTcpExtMPJoinSynTx "$tx0"), MPJoinSynAckRx +$(mib_delta cli MPTcpExtMPJoinSynAckRx "$ack0")"
[ -n "$joined" ] || fail "F: no subflow from the initial address to path 2 once the initial subflow was reset"
rm -rf "$work"
dmesg_clean
