#!/usr/bin/env bash
# Endpoints added while a connection lives, and `fullmesh` endpoints (issue 5),
# mptcp_rs to mptcp_rs; the same script passes on the reference kernel (upstream's
# in-kernel path manager, `mptcp_nl_add_subflow_or_signal_addr()`). Two paths of
# 10 Mbit/s, 10 ms RTT; each end sends 16 MB (both still sending when the endpoint
# comes, about 13 s of path 1 each way: upstream leaves a half-closed connection
# alone, and under TCG the 2 MB mark came as late as 6.6 s), over path 1 with
# no endpoint at the start; once the client has 2 MB:
#  1. the server adds `ADDR2 signal` (client `limits add_addr_accepted 1 subflows 1`):
#     the live connection announces it (server AddAddrTx +1, client AddAddr +1), the
#     client joins it (MPJoinSynTx/SynAckRx at the client, MPJoinAckRx at the
#     server, +1 each);
#  2. the client adds `ADDR2 subflow` (`limits subflows 1`): the connection opens a
#     subflow from it to the server's first address (the same counters);
#  each time the client's MPTCP_INFO (`ss -Mi`) shows 1 extra subflow 1.5 s after the
#  endpoint was added, path 2 (the client's c2 NIC) received more than 1 MB after it
#  and the data arrived intact both ways (SHA-256).
#  3. fullmesh: the client has both its addresses as `subflow fullmesh` endpoints,
#     the server `ADDR2 signal`; limits 1 accepted, 4 subflows: the connection gets
#     3 joins (path-2 address to the server's first one; both client addresses to
#     the server's announced one), as upstream: 3 MPJoinSynTx/SynAckRx at the
#     client, 3 MPJoinAckRx at the server, `ss -Mi` shows 3 subflows (4 MB each
#     way, the ends wait 6 s before sending, data intact).
#  Clean kernel log.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
topo_new cli srv
topo_path cli srv 1
topo_path cli srv 2
for n in 1 2; do
	topo_shape cli "c$n" delay 5ms rate 10mbit limit 200
	topo_shape srv "s$n" delay 5ms rate 10mbit limit 200
done
c1=$(topo_addr4 c 1) c2=$(topo_addr4 c 2) s1=$(topo_addr4 s 1) s2=$(topo_addr4 s 2)
# what the server sends to the client's second address goes over path 2, also from
# its first address (a join from the client's c2 to it)
ip -n srv rule add to "$c2" table 102 pref 100

# subflows_in FILE: the extra subflows MPTCP_INFO reports for the client's one MPTCP
# connection (as `ss -Mi` prints it: absent when 0; the client may have shut down
# its sending side already)
subflows_in() {
	local n
	n=$(grep -o '\bsubflows:[0-9]*' "$1" | head -n 1 | cut -d: -f2)
	echo "${n:-0}"
}

# live CASE PORT ADDCMD: a transfer over path 1; ADDCMD (run in the client's
# namespace) once the client has 2 MB; the checks above
live() {
	local what=$1 port=$2 add=$3 out spid
	out=$(mktemp -d)
	ip netns exec srv python3 "$XFER" server --bind 0.0.0.0 --port "$port" --proto mptcp \
		--send $((16 << 20)) --timeout 120 >"$out/server" 2>"$out/server.err" &
	spid=$!
	for i in $(seq 50); do grep -q listening "$out/server.err" 2>/dev/null && break; sleep 0.1; done
	local tx0 rx0 syn0 sa0 ack0
	tx0=$(mib srv MPTcpExtAddAddrTx) rx0=$(mib cli MPTcpExtAddAddr)
	syn0=$(mib cli MPTcpExtMPJoinSynTx) sa0=$(mib cli MPTcpExtMPJoinSynAckRx) ack0=$(mib srv MPTcpExtMPJoinAckRx)
	local cut="$add; cat /sys/class/net/c2/statistics/rx_bytes > $out/rx_at_add"
	ip netns exec cli python3 "$XFER" client --connect "$s1" --port "$port" --proto mptcp \
		--send $((16 << 20)) --timeout 120 --cut-at $((2 << 20)) --cut-cmd "$cut" \
		>"$out/client" 2>"$out/client.err" &
	local cpid=$!
	for i in $(seq 300); do [ -s "$out/rx_at_add" ] && break; sleep 0.1; done
	sleep 1.5
	ip netns exec cli ss -nMHi >"$out/ss"
	wait "$cpid" || fail "$what: client: $(tail -n 3 "$out/client.err")"
	wait "$spid" || fail "$what: server: $(tail -n 3 "$out/server.err")"
	python3 - "$out/client" "$out/server" <<'PY' || fail "$what: data mismatch"
import json, sys
c = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
ok = (s["sent"] == c["received"] and s["sent_sha256"] == c["received_sha256"]
      and c["sent"] == s["received"] and c["sent_sha256"] == s["received_sha256"])
print("  endpoint added at %s s, %d bytes intact" % (c.get("cut"), c["received"]), file=sys.stderr)
sys.exit(0 if ok and c.get("cut") is not None else 1)
PY
	[ -s "$out/ss" ] || fail "$what: no MPTCP connection in ss -Mi 1.5 s after the endpoint was added"
	local rx sf
	rx=$(($(bytes_on cli c2 rx) - $(cat "$out/rx_at_add")))
	sf=$(subflows_in "$out/ss")
	info "$what: AddAddrTx +$(mib_delta srv MPTcpExtAddAddrTx "$tx0"), AddAddr +$(mib_delta cli MPTcpExtAddAddr "$rx0"), joins +$(mib_delta cli MPTcpExtMPJoinSynTx "$syn0")/+$(mib_delta cli MPTcpExtMPJoinSynAckRx "$sa0")/+$(mib_delta srv MPTcpExtMPJoinAckRx "$ack0"); MPTCP_INFO subflows $sf; path 2 received $rx bytes after"
	if [ "$what" = signal ]; then
		(($(mib_delta srv MPTcpExtAddAddrTx "$tx0") == 1)) || fail "signal: the server did not announce the new endpoint once"
		(($(mib_delta cli MPTcpExtAddAddr "$rx0") == 1)) || fail "signal: the client received no ADD_ADDR"
	else
		(($(mib_delta srv MPTcpExtAddAddrTx "$tx0") == 0)) || fail "subflow: the server announced something"
	fi
	(($(mib_delta cli MPTcpExtMPJoinSynTx "$syn0") == 1)) || fail "$what: the client did not open one join"
	(($(mib_delta cli MPTcpExtMPJoinSynAckRx "$sa0") == 1)) || fail "$what: the join got no SYN/ACK"
	(($(mib_delta srv MPTcpExtMPJoinAckRx "$ack0") == 1)) || fail "$what: the server accepted no join"
	[ "$sf" = 1 ] || fail "$what: MPTCP_INFO shows $sf extra subflows, expected 1: $(cat "$out/ss")"
	((rx > 1 << 20)) || fail "$what: path 2 carried too little after the endpoint was added: $rx bytes"
	rm -rf "$out"
}

# 1. a signal endpoint appears on the server
ip -n cli mptcp limits set add_addr_accepted 1 subflows 1
ip -n srv mptcp limits set add_addr_accepted 0 subflows 1
live signal 6501 "ip netns exec srv ip mptcp endpoint add $s2 dev s2 signal"
ip -n srv mptcp endpoint flush

# 2. a subflow endpoint appears on the client
ip -n cli mptcp limits set add_addr_accepted 0 subflows 1
live subflow 6502 "ip mptcp endpoint add $c2 dev c2 subflow"
ip -n cli mptcp endpoint flush

# 3. fullmesh: 2 client addresses x (the server's initial address + 1 announced)
for n in 1 2; do
	topo_shape cli "c$n" delay 5ms rate 40mbit limit 1000
	topo_shape srv "s$n" delay 5ms rate 40mbit limit 1000
done
ip -n cli mptcp limits set add_addr_accepted 1 subflows 4
ip -n srv mptcp limits set add_addr_accepted 0 subflows 4
ip -n cli mptcp endpoint add "$c1" subflow fullmesh
ip -n cli mptcp endpoint add "$c2" subflow fullmesh
ip -n srv mptcp endpoint add "$s2" dev s2 signal
syn0=$(mib cli MPTcpExtMPJoinSynTx) sa0=$(mib cli MPTcpExtMPJoinSynAckRx) ack0=$(mib srv MPTcpExtMPJoinAckRx)
out=$(mktemp -d)
# (the ends wait 6 s before sending: the joins are made meanwhile; MPTCP_INFO is
# read 2 s after the connection is established)
XFER_OPTS="--send-after 6" transfer cli srv "$s1" 6503 mptcp $((4 << 20)) &
tpid=$!
for i in $(seq 100); do
	[ -n "$(ip netns exec cli ss -nMH state established)" ] && break
	sleep 0.1
done
sleep 2
ip netns exec cli ss -nMHi >"$out/ss"
wait "$tpid" || fail "fullmesh: transfer failed"
sf=$(subflows_in "$out/ss")
info "fullmesh: joins +$(mib_delta cli MPTcpExtMPJoinSynTx "$syn0")/+$(mib_delta cli MPTcpExtMPJoinSynAckRx "$sa0")/+$(mib_delta srv MPTcpExtMPJoinAckRx "$ack0"); MPTCP_INFO subflows $sf"
(($(mib_delta cli MPTcpExtMPJoinSynTx "$syn0") == 3)) || fail "fullmesh: the client opened $(mib_delta cli MPTcpExtMPJoinSynTx "$syn0") joins, expected 3"
(($(mib_delta cli MPTcpExtMPJoinSynAckRx "$sa0") == 3)) || fail "fullmesh: $(mib_delta cli MPTcpExtMPJoinSynAckRx "$sa0") SYN/ACKs, expected 3"
(($(mib_delta srv MPTcpExtMPJoinAckRx "$ack0") == 3)) || fail "fullmesh: the server accepted $(mib_delta srv MPTcpExtMPJoinAckRx "$ack0") joins, expected 3"
[ "$sf" = 3 ] || fail "fullmesh: MPTCP_INFO shows $sf extra subflows, expected 3: $(cat "$out/ss")"
v=$(mib srv MPTcpExtMPJoinRejected)
[ "${v:-0}" = 0 ] || fail "the server refused $v joins"
dmesg_clean
