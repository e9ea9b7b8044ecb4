#!/usr/bin/env bash
# The client's SYN retransmitted without MP_CAPABLE (RFC 8684 3.9: a path may drop
# SYNs with options it does not know; net.mptcp.syn_retrans_before_tcp_fallback,
# here 0: the first retransmission already goes without), while the server got the
# first SYN, with MP_CAPABLE, and answers every SYN of the connection with
# MP_CAPABLE: the SYN/ACKs are lost at the client until that retransmission has
# gone (iptables), so the one that arrives carries MP_CAPABLE although
# the client asked for plain TCP last. The client must not take it up (upstream
# does not either): it completes the handshake as plain TCP, the server falls back
# on its ACK (MPCapableFallbackACK), and 1 MB each way arrives intact; no socket of
# the connection is left afterwards. (Before, the client took up the key of such a
# SYN/ACK on its fallen-back subflow, and its read saw end of file at once with
# none of the server's 1 MB; in the debug suite's churn test, where path flaps
# cost SYNs, 8 connections of 1,000 ended so, and 8 module references were left.)
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
out=$(mktemp -d) port=6401
spid="" cpid=""
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; [ -n "$cpid" ] && kill "$cpid" 2>/dev/null; topo_cleanup' EXIT
topo_new cli srv
topo_path cli srv 1
s1=$(topo_addr4 s 1)
ip netns exec cli sysctl -qw net.mptcp.syn_retrans_before_tcp_fallback=0

drop0=$(mib cli MPTcpExtMPCapableSYNTXDrop) synack0=$(mib cli MPTcpExtMPCapableSYNACKRX)
fbsynack0=$(mib cli MPTcpExtMPCapableFallbackSYNACK) fback0=$(mib srv MPTcpExtMPCapableFallbackACK)
synrx0=$(mib srv MPTcpExtMPCapableSYNRX)
rule=(INPUT -p tcp --tcp-flags SYN,ACK SYN,ACK -j DROP)
ip netns exec cli iptables -I "${rule[@]}"
xfer_server srv "$out" --bind 0.0.0.0 --port $port --proto mptcp --timeout 60 --send $((1 << 20))
ip netns exec cli python3 "$XFER" client --connect "$s1" --port $port --proto mptcp \
	--timeout 60 --send $((1 << 20)) >"$out/client" 2>"$out/client.err" &
cpid=$!
# the first SYN at once, its retransmission (without MP_CAPABLE) 1 s later: the
# SYN/ACKs pass again once it has gone (a later one answers it, or the client's next
# retransmission)
for i in $(seq 200); do
	(($(mib cli MPTcpExtMPCapableSYNTXDrop) > drop0)) && break
	sleep 0.05
done
dropped=$(ip netns exec cli iptables -L INPUT -v -n -x | awk '/DROP/ { print $1; exit }')
ip netns exec cli iptables -D "${rule[@]}"
((${dropped:-0} >= 1)) || fail "no SYN/ACK was dropped before the SYN's retransmission"
wait "$cpid" || fail "client: $(grep -v '^  ' "$out/client.err" | tail -n 5)"
cpid=""
wait "$spid" || fail "server: $(grep -v '^  ' "$out/server.err" | tail -n 5)"
spid=""
python3 - "$out/client" "$out/server" <<'PY' || fail "data mismatch: $(cat "$out/client" "$out/server")"
import json, sys
c = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
sys.exit(not (s.get("sent") == c["received"] == 1 << 20 and s["sent_sha256"] == c["received_sha256"]
              and c.get("sent") == s["received"] == 1 << 20 and c["sent_sha256"] == s["received_sha256"]))
PY
drop=$(mib_delta cli MPTcpExtMPCapableSYNTXDrop "$drop0")
synack=$(mib_delta cli MPTcpExtMPCapableSYNACKRX "$synack0")
fbsynack=$(mib_delta cli MPTcpExtMPCapableFallbackSYNACK "$fbsynack0")
fback=$(mib_delta srv MPTcpExtMPCapableFallbackACK "$fback0")
synrx=$(mib_delta srv MPTcpExtMPCapableSYNRX "$synrx0")
info "1 MB each way intact; SYN/ACKs dropped at the client: $dropped; client MPCapableSYNTXDrop +$drop" \
	"MPCapableSYNACKRX +$synack MPCapableFallbackSYNACK +$fbsynack; server MPCapableSYNRX +$synrx" \
	"MPCapableFallbackACK +$fback"
((drop == 1)) || fail "the SYN was not retransmitted without MP_CAPABLE (MPCapableSYNTXDrop +$drop)"
((synrx == 1)) || fail "the server did not get the MP_CAPABLE SYN (MPCapableSYNRX +$synrx)"
((synack == 0)) || fail "the client took up MP_CAPABLE from a SYN/ACK after its plain SYN"
((fback == 1)) || fail "the server did not fall back on the client's plain ACK (MPCapableFallbackACK +$fback)"
sockets_gone "syn fallback" $port
dmesg_clean
