#!/usr/bin/env bash
# A subflow joins again when its path comes back (issue 5), mptcp_rs to mptcp_rs:
# the client's "subflow" endpoint on path 2 opens a join per connection (as in
# mptcp_join_active.sh); two paths of 10 Mbit/s, 10 ms RTT. The server sends 20 MB
# and the client 20 MB (each end sends on the join, so each learns of the outage:
# an idle subflow would not). Once the client has 2 MB, path 2 refuses every TCP segment with
# a reset at both ends (iptables REJECT --reject-with tcp-reset, resets let through):
# both ends of the join subflow die, and the client's retries (after 1 s, 2 s, ...)
# are refused too. 2 s later path 2 works again (the iptables calls under TCG make
# that 3-5 s: between the retries at 3 s and 7 s, so the 7 s retry, at the latest,
# gets through with most of the transfer left). Then:
#  - the transfer completes on path 1 and later both paths, SHA-256 equal both ways;
#  - the client retried the join (MPJoinSynTx grew by at least 2: the first join and
#    a retry; typically 4: retries during the outage are reset too) and one more got
#    its SYN/ACK (MPJoinSynAckRx), the server accepted a second join (MPJoinAckRx);
#  - path 2 carried more than 1 MB to the client after it came back;
#  - clean kernel log.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
topo_new cli srv
topo_path cli srv 1
topo_path cli srv 2
for n in 1 2; do
	topo_shape cli "c$n" delay 5ms rate 10mbit limit 200
	topo_shape srv "s$n" delay 5ms rate 10mbit limit 200
done
c2=$(topo_addr4 c 2)
ip -n srv rule add to "$c2" table 102 pref 100
ip -n cli mptcp limits set subflows 1
ip -n srv mptcp limits set subflows 2
ip -n cli mptcp endpoint add "$c2" dev c2 subflow


out=$(mktemp -d)
xfer_server srv "$out" --bind 0.0.0.0 --port 6301 --proto mptcp --send $((20 << 20)) --timeout 120
rej="-p tcp ! --tcp-flags RST RST -j REJECT --reject-with tcp-reset"
cut="ip netns exec cli iptables -I INPUT -i c2 $rej && ip netns exec srv iptables -I INPUT -i s2 $rej"
restore="ip netns exec cli iptables -F INPUT; ip netns exec srv iptables -F INPUT"
snap="cat /sys/class/net/c2/statistics/rx_bytes > $out/rx_at_restore; nstat -az MPTcpExtMPJoinSynTx > $out/syn_at_restore"
syn0=$(mib cli MPTcpExtMPJoinSynTx) ack0=$(mib cli MPTcpExtMPJoinSynAckRx) srv0=$(mib srv MPTcpExtMPJoinAckRx)
ip netns exec cli python3 "$XFER" client --connect "$(topo_addr4 s 1)" --port 6301 --proto mptcp \
	--send $((20 << 20)) --timeout 120 --cut-at $((2 << 20)) \
	--cut-cmd "$cut; (sleep 2; $restore; ip netns exec cli sh -c '$snap') >/dev/null 2>&1 &" \
	>"$out/client" 2>"$out/client.err" || fail "client: $(tail -n 3 "$out/client.err")"
wait "$spid" || fail "server: $(tail -n 3 "$out/server.err")"
ip netns exec cli iptables -F INPUT 2>/dev/null || true
ip netns exec srv iptables -F INPUT 2>/dev/null || true
cut_transfer_ok "$out"
[ -s "$out/rx_at_restore" ] || fail "path 2 was not restored before the transfer ended"
rx=$(($(bytes_on cli c2 rx) - $(cat "$out/rx_at_restore")))
syn=$(($(mib cli MPTcpExtMPJoinSynTx) - syn0))
ack=$(($(mib cli MPTcpExtMPJoinSynAckRx) - ack0))
sacc=$(($(mib srv MPTcpExtMPJoinAckRx) - srv0))
info "client joins: $syn SYNs, $ack SYN/ACKs; server accepted $sacc; path 2 received $rx bytes after it came back"
info "(MPJoinSynTx at the restore: $(awk '/MPJoinSynTx/ {print $2}' "$out/syn_at_restore"))"
((syn >= 2)) || fail "no join retried after the path died: $syn join SYNs"
((ack >= 2)) || fail "no join succeeded after the path came back: $ack SYN/ACKs"
((sacc >= 2)) || fail "the server accepted no second join: $sacc"
((rx > 1 << 20)) || fail "path 2 carried too little after it came back: $rx bytes"
dmesg_clean
