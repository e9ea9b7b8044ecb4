#!/usr/bin/env bash
# A connection that ends after one of its paths died leaves no subflow behind,
# mptcp_rs to mptcp_rs (issue 5). Two paths of 10 Mbit/s, 10 ms RTT; each end
# sends 8 MB. Once the client has 2 MB, path 2 drops everything at the client
# (iptables DROP both ways), and stays so until the end of the test. The subflow
# over path 2 then holds, at both ends, bytes in flight that it retransmits in vain,
# and what the scheduler had queued on it: the connection delivers all of it on
# path 1 and ends with both DATA_FINs acknowledged. Then:
#  - the transfer completes, SHA-256 equal both ways;
#  - within 5 s of the end, neither namespace has a TCP socket left on path 2: the
#    dead subflow, holding only copies of delivered data, was reset at the end
#    (rust/sendq.rs, reset_stale), not closed with a FIN queued behind that data,
#    which TCP would retransmit to nobody for a minute or more while the subflow,
#    and with it mptcp_rs, stayed in use;
#  - MPTcpExtMPRstTx grew at both ends (the resets);
#  - clean kernel log.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
topo_two_paths delay 5ms rate 10mbit limit 200
c2=$(topo_addr4 c 2) s2=$(topo_addr4 s 2)

out=$(mktemp -d)
xfer_server srv "$out" --bind 0.0.0.0 --port 6311 --proto mptcp --send $((8 << 20)) --timeout 120
cut="ip netns exec cli iptables -I INPUT -i c2 -j DROP && ip netns exec cli iptables -I OUTPUT -o c2 -j DROP"
rst_c0=$(mib cli MPTcpExtMPRstTx) rst_s0=$(mib srv MPTcpExtMPRstTx)
ip netns exec cli python3 "$XFER" client --connect "$(topo_addr4 s 1)" --port 6311 --proto mptcp \
	--send $((8 << 20)) --timeout 120 --cut-at $((2 << 20)) --cut-cmd "$cut" \
	>"$out/client" 2>"$out/client.err" || fail "client: $(tail -n 3 "$out/client.err")"
wait "$spid" || fail "server: $(tail -n 3 "$out/server.err")"
cut_transfer_ok "$out"

# path2_sockets NS ADDR: TCP sockets of NS on ADDR (path 2), TIME-WAIT aside
path2_sockets() {
	ip netns exec "$1" ss -tanH state all "( src $2 )" | grep -v TIME-WAIT || true
}
left_c="" left_s=""
for i in $(seq 50); do
	left_c=$(path2_sockets cli "$c2") left_s=$(path2_sockets srv "$s2")
	[ -z "$left_c$left_s" ] && break
	sleep 0.1
done
if [ -n "$left_c$left_s" ]; then
	ip netns exec cli ss -tanie "( src $c2 )" >&2
	ip netns exec srv ss -tanie "( src $s2 )" >&2
	fail "subflows left on the dead path 5 s after the connection ended:
  client: ${left_c:-none}
  server: ${left_s:-none}"
fi
rst_c=$(($(mib cli MPTcpExtMPRstTx) - rst_c0)) rst_s=$(($(mib srv MPTcpExtMPRstTx) - rst_s0))
info "no subflow left on path 2 after $((i / 10)).$((i % 10)) s; resets sent: client $rst_c, server $rst_s"
((rst_c >= 1 && rst_s >= 1)) || fail "a dead subflow went without a reset: MPRstTx client +$rst_c, server +$rst_s"
ip netns exec cli iptables -F
dmesg_clean
