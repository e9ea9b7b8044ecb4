#!/usr/bin/env bash
# close() with SO_LINGER on a connection that sends on two subflows (two paths of
# 1 Mbit/s, 10 ms each way; the client's "subflow" endpoint on path 2), as TCP's
# and upstream MPTCP's close(): the client writes 2 MB (tests/tools/linger_close.py)
# and closes
#  1. with SO_LINGER 30 s: close() returns once everything was delivered (not
#     before the server read its last byte, and after at least 0.3 s);
#  2. with SO_LINGER 1 s and both paths blackholed right before close(): close()
#     returns after about 1 s (0.8 to 2.5 s); the paths come back and the
#     connection still delivers the rest;
#  3. without SO_LINGER: close() returns at once (< 0.5 s), everything delivered.
# The server checks every byte in each case.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
LC="$MPTCP_RS_REPO/tests/tools/linger_close.py"
topo_two_paths delay 10ms rate 1mbit limit 200

blackhole="tc -n cli qdisc replace dev c1 root netem loss 100%; tc -n cli qdisc replace dev c2 root netem loss 100%"
restore="tc -n cli qdisc replace dev c1 root netem delay 10ms rate 1mbit limit 200; tc -n cli qdisc replace dev c2 root netem delay 10ms rate 1mbit limit 200"

# LINGER|none PORT [CLIENT OPTIONS...]
one() {
	local linger=$1 port=$2 out opt=("${@:3}")
	out=$(mktemp -d)
	[ "$linger" = none ] || opt+=(--linger "$linger")
	ip netns exec srv python3 "$LC" server --port "$port" >"$out/server" 2>"$out/server.err" &
	local spid=$! i
	for i in $(seq 50); do grep -q listening "$out/server.err" 2>/dev/null && break; sleep 0.1; done
	ip netns exec cli python3 "$LC" client --connect "$(topo_addr4 s 1)" --port "$port" \
		--bytes $((2 << 20)) "${opt[@]}" >"$out/client" 2>"$out/client.err" ||
		fail "client: $(tail -n 3 "$out/client.err")"
	wait "$spid" || fail "server: $(tail -n 3 "$out/server.err")"
	python3 - "$out/client" "$out/server" "$linger" <<'PY' || fail "close() with SO_LINGER $linger"
import json, sys
c = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2])); linger = sys.argv[3]
early = s["eof_at"] - c["closed_at"]
print("  SO_LINGER %s: joined %d, close() took %.2f s, returned %.2f s %s the server's EOF; %d bytes %s"
      % (linger, c["joined"], c["close_s"], abs(early), "before" if early > 0 else "after",
         s["received"], "intact" if s["intact"] else "CORRUPT"), file=sys.stderr)
ok = c["joined"] >= 1 and s["intact"] and s["received"] == 2 << 20
if linger == "30":
    ok = ok and early < 0.05 and c["close_s"] >= 0.3
elif linger == "1":
    ok = ok and 0.8 <= c["close_s"] <= 2.5 and early > 0.05
else:
    ok = ok and c["close_s"] < 0.5
sys.exit(0 if ok else 1)
PY
	rm -rf "$out"
}
one 30 6401
one 1 6402 --before-close "$blackhole" --after-close "$restore"
one none 6403
dmesg_clean
