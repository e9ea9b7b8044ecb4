#!/usr/bin/env bash
# MP_JOIN handshakes an mptcp_rs listener must refuse, crafted from a raw socket on the
# client's side (tests/tools/inject.py) next to a live connection of that listener:
#   - a SYN with MP_JOIN naming an unknown token: answered with a reset, no SYN/ACK
#     (MPJoinNoTokenFound);
#   - a SYN with MP_JOIN and the connection's token (from the server's key seen on the
#     handshake), then a third ACK with a wrong HMAC: the SYN/ACK carries MP_JOIN, the
#     third ACK is answered with a reset (MPJoinAckHMacFailure);
#   - the same with a third ACK that carries no MP_JOIN: a reset, counted as upstream
#     counts it (MPJoinAckHMacFailure).
# The connection itself carries on: its data arrives intact. No warning in the kernel
# log.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap 'topo_cleanup' EXIT
topo_new cli srv
topo_path cli srv 1
srv4=$(topo_addr4 s 1) cli4=$(topo_addr4 c 1)
INJ="$MPTCP_RS_REPO/tests/tools/inject.py"

# victim PORT MODE: a connection that sends 1000 bytes, idles while inject.py joins
# it from port PORT + 1001, then sends 100 KB more; both ends report what they saw
victim() {
	local port=$1 mode=$2
	ip netns exec srv python3 -c '
import hashlib, socket, sys, json
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", int(sys.argv[1]))); ls.listen(1); print("listening", file=sys.stderr, flush=True)
s, _ = ls.accept(); s.settimeout(30)
h, n, err = hashlib.sha256(), 0, None
try:
    while True:
        d = s.recv(65536)
        if not d: break
        h.update(d); n += len(d)
    s.sendall(b"done")
except OSError as e:
    err = e.__class__.__name__
print(json.dumps({"bytes": n, "sha256": h.hexdigest(), "error": err}))' "$port" >/tmp/victim.$mode 2>/tmp/victim.$mode.err &
	local spid=$!
	sleep 0.5
	# the client's kernel has no socket for the join's port: it must not reset the
	# SYN/ACK before the crafted third ACK goes out
	ip netns exec cli nft -f - <<NFT || fail "nft"
table inet joinrst {
	chain out {
		type filter hook output priority 0;
		tcp sport $((port + 1001)) tcp flags rst drop
	}
}
NFT
	ip netns exec cli python3 "$INJ" --dev c1 --src "$cli4:$((port + 1000))" --dst "$srv4:$port" \
		--mode "$mode" --sniff 3 >/tmp/inject.$mode 2>/tmp/inject.$mode.err &
	local ipid=$! i
	# the connection starts once the injector watches, and goes on once it is done
	rm -f /tmp/go.$mode
	for i in $(seq 100); do grep -q sniffing /tmp/inject.$mode.err 2>/dev/null && break; sleep 0.1; done
	ip netns exec cli python3 -c '
import hashlib, os, socket, sys, time, json
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
c.bind(("0.0.0.0", int(sys.argv[2]) + 1000)); c.settimeout(30)
c.connect((sys.argv[1], int(sys.argv[2])))
data = bytes(range(256)) * 400
h = hashlib.sha256()
c.sendall(data[:1000]); h.update(data[:1000])
for _ in range(600):  # until the injector is done (the test creates the file)
    if os.path.exists(sys.argv[3]): break
    time.sleep(0.1)
try:
    c.sendall(data[1000:]); h.update(data[1000:])
    c.shutdown(socket.SHUT_WR)
    while c.recv(65536): pass
    err = None
except OSError as e:
    err = e.__class__.__name__
print(json.dumps({"bytes": len(data), "sha256": h.hexdigest(), "error": err}))' "$srv4" "$port" /tmp/go.$mode \
		>/tmp/victim.$mode.client 2>&1 &
	local cpid=$!
	local irc=0
	wait "$ipid" || irc=$?
	touch /tmp/go.$mode
	wait "$cpid"
	((irc == 0)) || fail "inject.py $mode: $(cat /tmp/inject.$mode /tmp/inject.$mode.err)"
	wait "$spid"
	ip netns exec cli nft delete table inet joinrst
	info "$mode: injected $(cat /tmp/inject.$mode)"
	info "$mode: server $(cat /tmp/victim.$mode), client $(cat /tmp/victim.$mode.client)"
	python3 - /tmp/victim.$mode /tmp/victim.$mode.client <<'PY' || fail "$mode: the connection was disturbed"
import json, sys
s = json.load(open(sys.argv[1])); c = json.load(open(sys.argv[2]))
sys.exit(0 if s["error"] is None and c["error"] is None and s["sha256"] == c["sha256"]
         and s["bytes"] == c["bytes"] else 1)
PY
}

j() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "/tmp/inject.$1" "$2"; }

syn0=$(mib srv MPTcpExtMPJoinSynRx)
before=$(mib srv MPTcpExtMPJoinNoTokenFound)
victim 6401 join-token
after=$(mib srv MPTcpExtMPJoinNoTokenFound)
((after == before + 1)) || fail "MPJoinNoTokenFound did not move by 1 ($before -> $after)"
[ "$(j join-token rst)" = True ] || fail "no reset for an MP_JOIN SYN with an unknown token"
[ "$(j join-token synack)" = False ] || fail "a SYN/ACK for an MP_JOIN SYN with an unknown token"

# a third ACK the listener must reset: PORT MODE WHAT
for c in "6402 join-hmac a wrong HMAC" "6403 join-nompj no MP_JOIN"; do
	read -r port mode what <<<"$c"
	before=$(mib srv MPTcpExtMPJoinAckHMacFailure)
	victim "$port" "$mode"
	after=$(mib srv MPTcpExtMPJoinAckHMacFailure)
	((after == before + 1)) || fail "MPJoinAckHMacFailure did not move by 1 for a third ACK with $what ($before -> $after)"
	[ "$(j "$mode" synack_mp_join)" = True ] || fail "$mode: no SYN/ACK with MP_JOIN for a SYN with the connection's token"
	[ "$(j "$mode" rst)" = True ] || fail "no reset for a third ACK with $what"
done
syn1=$(mib srv MPTcpExtMPJoinSynRx)
((syn1 == syn0 + 3)) || fail "MPJoinSynRx moved by $((syn1 - syn0)), not 3"
(($(mib srv MPTcpExtMPJoinAckRx) == 0)) || fail "a join was accepted"
info "MPJoinSynRx +3, MPJoinNoTokenFound +1, MPJoinAckHMacFailure +2, MPJoinAckRx 0"
dmesg_clean
