#!/usr/bin/env bash
# An active MP_JOIN whose fourth ACK never comes: mptcp_rs to mptcp_rs, the client's
# "subflow" endpoint on path 2, and the server's path 2 lets out only SYN/ACKs
# (nftables), so the join's handshake completes on the client (SYN/ACK with a valid
# HMAC, third ACK sent, MPJoinSynAckRx) and on the server (MPJoinAckRx), but nothing
# the server sends afterwards arrives. The client's third-ACK timer resends the third
# ACK, backing off, then gives the path up and resets the join (rust/join_active.rs)
# instead of keeping an established subflow that can never carry data (the eighth
# resend goes about 12.8 s after the seventh, so 25.5 s after the join at a short
# RTT): once the join is established (within 15 s of the start), it is still there
# 20 s later and gone 32 s after (client MPRstTx +1), on both ends. The connection carries on over path 1 throughout,
# its data intact (SHA-256 on both ends).
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
topo_new cli srv
topo_path cli srv 1
topo_path cli srv 2
c2=$(topo_addr4 c 2) s1=$(topo_addr4 s 1)
ip -n srv rule add to "$c2" table 102 pref 100
ip -n cli mptcp limits set subflows 1
ip -n srv mptcp limits set subflows 1
ip -n cli mptcp endpoint add "$c2" dev c2 subflow
ip netns exec srv nft -f - <<'NFT' || fail "nft"
table inet synackonly {
	chain out {
		type filter hook output priority 0;
		oifname "s2" tcp flags & (syn | ack) == syn | ack accept
		oifname "s2" meta l4proto tcp counter drop
	}
}
NFT

port=6301
ip netns exec srv python3 -c '
import hashlib, json, socket, sys
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", int(sys.argv[1]))); ls.listen(4)
print("listening", file=sys.stderr, flush=True)
s, _ = ls.accept(); s.settimeout(60)
h, n = hashlib.sha256(), 0
while True:
    d = s.recv(65536)
    if not d: break
    h.update(d); n += len(d)
print(json.dumps({"bytes": n, "sha256": h.hexdigest()}))' $port >/tmp/unans.srv 2>/tmp/unans.srv.err &
spid=$!
for i in $(seq 100); do grep -q listening /tmp/unans.srv.err 2>/dev/null && break; sleep 0.1; done
# 1 KB every 100 ms for 50 s (the connection is fully established with the first
# data, and only then does the client's path manager open the join)
ip netns exec cli python3 -c '
import hashlib, json, socket, sys, time
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
c.settimeout(60)
c.connect((sys.argv[1], int(sys.argv[2])))
h, n, block = hashlib.sha256(), 0, bytes(range(256)) * 4
end = time.monotonic() + 50
while time.monotonic() < end:
    block = hashlib.sha256(block[:32]).digest() + block[32:]
    c.sendall(block); h.update(block); n += len(block)
    time.sleep(0.1)
c.shutdown(socket.SHUT_WR)
c.recv(1)
print(json.dumps({"bytes": n, "sha256": h.hexdigest()}))' "$s1" $port >/tmp/unans.cli 2>&1 &
cpid=$!

# (ss's src filter misses a socket bound to a device, shown as ADDR%DEV)
joins() { ip netns exec "$1" ss -Htn state established | grep -cF "$c2" || true; }
rst0=$(mib cli MPTcpExtMPRstTx)
for i in $(seq 150); do
	(($(joins cli) == 1)) && break
	sleep 0.1
done
(($(joins cli) == 1)) || fail "no join established on the client within 15 s"
t0=$SECONDS
mib_at_least cli MPTcpExtMPJoinSynAckRx 1
mib_at_least srv MPTcpExtMPJoinAckRx 1
sleep 20
(($(joins cli) == 1)) || fail "the join went within 20 s: the third ACK is not resent long enough"
sleep 12
at32=$(joins cli)
((at32 == 0)) || fail "32 s on: the unanswered join is still established on the client: $(ip netns exec cli ss -Htni state established | grep -F -A1 "$c2")"
sleep 1
(($(joins srv) == 0)) || fail "the client's reset did not close the server's side of the join"
rst=$(($(mib cli MPTcpExtMPRstTx) - rst0))
((rst == 1)) || fail "client MPRstTx moved by $rst, not 1"
info "join established at $t0 s, still there 20 s later, reset by 32 s (client MPJoinSynAckRx $(mib cli MPTcpExtMPJoinSynAckRx), MPRstTx +$rst; server MPJoinAckRx $(mib srv MPTcpExtMPJoinAckRx))"
wait "$cpid" || fail "client: $(cat /tmp/unans.cli)"
wait "$spid" || fail "server: $(cat /tmp/unans.srv /tmp/unans.srv.err)"
python3 - /tmp/unans.cli /tmp/unans.srv <<'PY' || fail "data mismatch: $(cat /tmp/unans.cli /tmp/unans.srv)"
import json, sys
c = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
sys.exit(0 if c["bytes"] == s["bytes"] > 0 and c["sha256"] == s["sha256"] else 1)
PY
info "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes"])' /tmp/unans.cli) bytes over path 1, intact; dropped at the server on path 2: $(ip netns exec srv nft list chain inet synackonly out | grep -o 'packets [0-9]*' | head -1)"
dmesg_clean
