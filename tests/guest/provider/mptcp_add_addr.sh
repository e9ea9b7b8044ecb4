#!/usr/bin/env bash
# ADD_ADDR / REMOVE_ADDR, mptcp_rs to mptcp_rs: the server has "signal" endpoints on
# its path-2 addresses (IPv4 and IPv6), the client no endpoint and `limits
# add_addr_accepted 1 subflows 1`. Two paths of 10 Mbit/s, 10 ms RTT (at 40 Mbit/s under
# TCG the client's 4 MB could all leave on path 1 in the second before the join is
# usable).
#  1. 4 MB each way over IPv4, then over IPv6 (SHA-256): each connection's server
#     announces its path-2 address of the connection's family (AddAddrTx), the
#     client accepts it (AddAddr), echoes it (EchoAddTx, the server's EchoAdd) and
#     joins it from the source routing picks (its own path-2 address): MPJoinSynTx /
#     MPJoinSynAckRx at the client, MPJoinAckRx at the server, no refusal; path 2
#     carried more than a tenth of the data each way.
#     The client's join source got an "implicit" endpoint (as upstream's): an
#     endpoint with another id for that address is refused, one without an id
#     takes its place and its id.
#  2. add_addr_accepted 0 at the client: the announcement is received and echoed,
#     but no join is opened.
#  3. 16 MB to the client over IPv4 (shaped to 10 Mbit/s per path); once the client
#     has 4 MB, the server deletes its IPv4 signal endpoint: it sends REMOVE_ADDR
#     (RmAddrTx) and closes its subflow from it (RmSubflow), the client receives it
#     (RmAddr); both ends close that subflow as upstream does, with FINs and no
#     reset (MPRstTx +0 at both ends; within 5 s, the client reading on, it has no
#     socket on path 2 left in ESTABLISHED or CLOSE-WAIT), the transfer completes
#     on path 1 intact, and from a second after the removal path 2 carries less
#     than 1 MB.
#  Clean kernel log.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
bytes=$((4 << 20))
topo_new cli srv
topo_path cli srv 1
topo_path cli srv 2
for n in 1 2; do
	topo_shape cli "c$n" delay 5ms rate 10mbit limit 200
	topo_shape srv "s$n" delay 5ms rate 10mbit limit 200
done
s2_4=$(topo_addr4 s 2) s2_6=$(topo_addr6 s 2)
ip -n cli mptcp limits set add_addr_accepted 1 subflows 1
ip -n srv mptcp limits set subflows 2
ip -n srv mptcp endpoint add "$s2_4" dev s2 signal
ip -n srv mptcp endpoint add "$s2_6" dev s2 signal
id4=$(ip -n srv mptcp endpoint show | awk -v a="$s2_4" '$1 == a {for (i = 1; i < NF; i++) if ($i == "id") print $(i + 1)}')
[ -n "$id4" ] || fail "no id for the signal endpoint $s2_4: $(ip -n srv mptcp endpoint show)"


# 1. announce, accept, echo, join: IPv4 then IPv6
port=6401
for addr in "$(topo_addr4 s 1)" "$(topo_addr6 s 1)"; do
	tx0=$(mib srv MPTcpExtAddAddrTx) rx0=$(mib cli MPTcpExtAddAddr) etx0=$(mib cli MPTcpExtEchoAddTx)
	erx0=$(mib srv MPTcpExtEchoAdd) syn0=$(mib cli MPTcpExtMPJoinSynTx) sa0=$(mib cli MPTcpExtMPJoinSynAckRx)
	ack0=$(mib srv MPTcpExtMPJoinAckRx)
	c2rx0=$(bytes_on cli c2 rx) c2tx0=$(bytes_on cli c2 tx)
	# the client's subflows as TCP sees them, every half second (shown if path 2
	# carried too little)
	(while :; do date +%s.%N; ip netns exec cli ss -tniH state established "( dport = :$port )"; sleep 0.5; done) >/tmp/add_addr.ss 2>&1 &
	sspid=$!
	transfer cli srv "$addr" "$port" mptcp "$bytes"
	kill "$sspid"; wait "$sspid" 2>/dev/null
	c2rx=$(($(bytes_on cli c2 rx) - c2rx0)) c2tx=$(($(bytes_on cli c2 tx) - c2tx0))
	info "$addr: AddAddrTx +$(mib_delta srv MPTcpExtAddAddrTx "$tx0"), AddAddr +$(mib_delta cli MPTcpExtAddAddr "$rx0"), EchoAddTx +$(mib_delta cli MPTcpExtEchoAddTx "$etx0"), EchoAdd +$(mib_delta srv MPTcpExtEchoAdd "$erx0"), joins +$(mib_delta cli MPTcpExtMPJoinSynTx "$syn0")/+$(mib_delta cli MPTcpExtMPJoinSynAckRx "$sa0")/+$(mib_delta srv MPTcpExtMPJoinAckRx "$ack0"); path 2: $c2rx bytes in, $c2tx out at the client"
	(($(mib_delta srv MPTcpExtAddAddrTx "$tx0") >= 1)) || fail "$addr: the server announced nothing"
	(($(mib_delta cli MPTcpExtAddAddr "$rx0") >= 1)) || fail "$addr: the client received no ADD_ADDR"
	(($(mib_delta cli MPTcpExtEchoAddTx "$etx0") >= 1)) || fail "$addr: the client did not echo"
	(($(mib_delta srv MPTcpExtEchoAdd "$erx0") >= 1)) || fail "$addr: the server saw no echo"
	(($(mib_delta cli MPTcpExtMPJoinSynTx "$syn0") >= 1)) || fail "$addr: the client opened no join to the announced address"
	(($(mib_delta cli MPTcpExtMPJoinSynAckRx "$sa0") >= 1)) || fail "$addr: the join got no SYN/ACK"
	(($(mib_delta srv MPTcpExtMPJoinAckRx "$ack0") >= 1)) || fail "$addr: the server accepted no join"
	((c2rx > bytes / 10 && c2tx > bytes / 10)) || fail "$addr: path 2 carried too little: $c2rx in, $c2tx out; the client's subflows:
$(head -c 12000 /tmp/add_addr.ss)"
	port=$((port + 1))
done
mib_at_least srv MPTcpExtAddAddrTx 2
v=$(mib srv MPTcpExtMPJoinRejected)
[ "${v:-0}" = 0 ] || fail "the server refused $v joins"
v=$(mib cli MPTcpExtAddAddrDrop)
[ "${v:-0}" = 0 ] || fail "the client dropped $v ADD_ADDRs"

# 1b. the client's join source was no endpoint: it got an "implicit" one (as
# upstream's), which keeps its id against an explicit id and gives it to an
# endpoint added for the same address without one
c2_4=$(topo_addr4 c 2)
ep_of() { ip -n cli mptcp endpoint show | awk -v a="$1" '$1 == a'; }
imp=$(ep_of "$c2_4")
info "client endpoint after the joins: ${imp:-none}"
# (an iproute2 that does not know the flag shows it as "rawflags 10")
is_implicit() { echo "$1" | grep -qwE 'implicit|rawflags 10'; }
is_implicit "$imp" || fail "no implicit endpoint for $c2_4: $(ip -n cli mptcp endpoint show)"
imp_id=$(echo "$imp" | awk '{for (i = 1; i < NF; i++) if ($i == "id") print $(i + 1)}')
[ -n "$imp_id" ] && [ "$imp_id" != 0 ] || fail "implicit endpoint without an id: $imp"
if ip -n cli mptcp endpoint add "$c2_4" id $((imp_id + 50)) dev c2 subflow 2>/dev/null; then
	fail "an explicit id replaced the implicit endpoint: $(ep_of "$c2_4")"
fi
ip -n cli mptcp endpoint add "$c2_4" dev c2 subflow || fail "cannot replace the implicit endpoint"
rep=$(ep_of "$c2_4")
info "replaced: $rep"
is_implicit "$rep" && fail "still implicit: $rep"
echo "$rep" | grep -qw "id $imp_id" || fail "the replacement did not keep id $imp_id: $rep"
ip -n cli mptcp endpoint flush

# 2. nothing accepted: echoed, no join
ip -n cli mptcp limits set add_addr_accepted 0 subflows 1
rx0=$(mib cli MPTcpExtAddAddr) etx0=$(mib cli MPTcpExtEchoAddTx) syn0=$(mib cli MPTcpExtMPJoinSynTx)
transfer cli srv "$(topo_addr4 s 1)" "$port" mptcp $((1 << 20))
port=$((port + 1))
info "add_addr_accepted 0: AddAddr +$(mib_delta cli MPTcpExtAddAddr "$rx0"), EchoAddTx +$(mib_delta cli MPTcpExtEchoAddTx "$etx0"), joins +$(mib_delta cli MPTcpExtMPJoinSynTx "$syn0")"
(($(mib_delta cli MPTcpExtAddAddr "$rx0") >= 1)) || fail "limit 0: no ADD_ADDR received"
(($(mib_delta cli MPTcpExtEchoAddTx "$etx0") >= 1)) || fail "limit 0: the announcement was not echoed"
(($(mib_delta cli MPTcpExtMPJoinSynTx "$syn0") == 0)) || fail "limit 0: the client joined anyway"

# 3. the endpoint goes: REMOVE_ADDR, the subflow closes, the transfer goes on
ip -n cli mptcp limits set add_addr_accepted 1 subflows 1
for n in 1 2; do
	topo_shape cli "c$n" delay 5ms rate 10mbit limit 200
	topo_shape srv "s$n" delay 5ms rate 10mbit limit 200
done
out=$(mktemp -d)
ip netns exec srv python3 "$XFER" server --bind 0.0.0.0 --port "$port" --proto mptcp \
	--send $((16 << 20)) --timeout 120 >"$out/server" 2>"$out/server.err" &
spid=$!
for i in $(seq 50); do grep -q listening "$out/server.err" 2>/dev/null && break; sleep 0.1; done
rmtx0=$(mib srv MPTcpExtRmAddrTx) rm0=$(mib cli MPTcpExtRmAddr) rms0=$(mib srv MPTcpExtRmSubflow)
rstc0=$(mib cli MPTcpExtMPRstTx) rsts0=$(mib srv MPTcpExtMPRstTx)
c2_4=$(topo_addr4 c 2)
# (the check runs in the background: the client reads on, and what the closed subflow
# still carries drains before its FIN)
cut="ip netns exec srv ip mptcp endpoint delete id $id4; (sleep 1; cat /sys/class/net/c2/statistics/rx_bytes > $out/rx_at_cut
	for i in \$(seq 25); do ss -Htn state established state close-wait src $c2_4 > $out/c2_left; [ -s $out/c2_left ] || break; sleep 0.2; done
	touch $out/cut_done) >/dev/null 2>&1 &"
ip netns exec cli python3 "$XFER" client --connect "$(topo_addr4 s 1)" --port "$port" --proto mptcp \
	--send $((1 << 20)) --timeout 120 --cut-at $((4 << 20)) --cut-cmd "ip netns exec cli sh -c '$cut'" \
	>"$out/client" 2>"$out/client.err" || fail "client: $(tail -n 3 "$out/client.err")"
wait "$spid" || fail "server: $(tail -n 3 "$out/server.err")"
for i in $(seq 100); do [ -e "$out/cut_done" ] && break; sleep 0.1; done
python3 - "$out/client" "$out/server" <<'PY' || fail "transfer across REMOVE_ADDR: data mismatch"
import json, sys
c = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
ok = (s["sent"] == c["received"] and s["sent_sha256"] == c["received_sha256"]
      and c["sent"] == s["received"] and c["sent_sha256"] == s["received_sha256"])
print("  endpoint deleted at %s s, %d bytes intact" % (c.get("cut"), c["received"]), file=sys.stderr)
sys.exit(0 if ok and c.get("cut") is not None else 1)
PY
rx=$(($(bytes_on cli c2 rx) - $(cat "$out/rx_at_cut")))
info "REMOVE_ADDR: RmAddrTx +$(mib_delta srv MPTcpExtRmAddrTx "$rmtx0"), RmAddr +$(mib_delta cli MPTcpExtRmAddr "$rm0"), server RmSubflow +$(mib_delta srv MPTcpExtRmSubflow "$rms0"), client RmSubflow $(mib cli MPTcpExtRmSubflow); path 2 received $rx bytes after"
(($(mib_delta srv MPTcpExtRmAddrTx "$rmtx0") >= 1)) || fail "the server sent no REMOVE_ADDR"
(($(mib_delta cli MPTcpExtRmAddr "$rm0") >= 1)) || fail "the client received no REMOVE_ADDR"
(($(mib_delta srv MPTcpExtRmSubflow "$rms0") >= 1)) || fail "the server closed no subflow"
(($(mib_delta cli MPTcpExtMPRstTx "$rstc0") == 0 && $(mib_delta srv MPTcpExtMPRstTx "$rsts0") == 0)) ||
	fail "the removed subflow was reset (MPRstTx client +$(mib_delta cli MPTcpExtMPRstTx "$rstc0"), server +$(mib_delta srv MPTcpExtMPRstTx "$rsts0")), not closed"
[ -e "$out/cut_done" ] || fail "the check after the REMOVE_ADDR did not end"
[ ! -s "$out/c2_left" ] || fail "5 s after the REMOVE_ADDR the client still has on path 2: $(cat "$out/c2_left")"
((rx < 1 << 20)) || fail "path 2 still carried $rx bytes after the address was removed"
dmesg_clean
