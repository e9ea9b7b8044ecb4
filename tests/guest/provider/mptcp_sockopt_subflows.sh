#!/usr/bin/env bash
# Socket options set on an MPTCP socket reach its joined subflows, those created
# after the option was set and those that existed before. Two paths of 25 ms each
# way (no rate limit), the client's "subflow" endpoint on path 2, roundrobin at
# both ends so that path 2 carries every other write. Each end sets TCP_NODELAY
# and IP_TOS 0x28 and writes 400 one-byte messages 2 ms apart
# (tests/tools/tinywrites.py), which both count on path 2:
#  1. client: options set before connect(), so its joined subflow is created after
#     them (active join); server: options set once the join is up (live subflows);
#  2. the other way round: the server's joined subflow is created after its options
#     (passive join, in softirq), the client's are set on live subflows.
# Path 2's data segments must all carry TOS 0x28 (before the options were
# carried, a joined subflow sent with TOS 0), and, Nagle being off, one message
# each on average (at most 2 bytes).
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
TW="$MPTCP_RS_REPO/tests/tools/tinywrites.py"
topo_two_paths delay 25ms
for ns in cli srv; do
	ip netns exec "$ns" sysctl -qw net.mptcp.scheduler=roundrobin 2>/dev/null ||
		info "$ns: no roundrobin scheduler here, the default one decides"
done

# CLIENT_SET SERVER_SET PORT: one connection, checked at both ends
round() {
	local cset=$1 sset=$2 port=$3 out
	out=$(mktemp -d)
	info "client sets its options $cset, server $sset:"
	ip netns exec srv python3 "$TW" server --port "$port" --sniff s2 --set "$sset" \
		>"$out/server" 2>"$out/server.err" &
	local spid=$! i
	for i in $(seq 50); do grep -q listening "$out/server.err" 2>/dev/null && break; sleep 0.1; done
	ip netns exec cli python3 "$TW" client --connect "$(topo_addr4 s 1)" --port "$port" --sniff c2 \
		--set "$cset" >"$out/client" 2>"$out/client.err" || fail "client: $(tail -n 3 "$out/client.err")"
	wait "$spid" || fail "server: $(tail -n 3 "$out/server.err")"
	python3 - "$out/client" "$out/server" <<'PY' || fail "socket options did not reach the joined subflows"
import json, sys
ok = True
for side, path in (("client", sys.argv[1]), ("server", sys.argv[2])):
    r = json.load(open(path))
    segs, payload, tos = r["segments"], r["payload"], r["tos"]
    avg = payload / segs if segs else 0
    print("    %s: joined %d, received %d; path 2: %d data segments, %d bytes (%.2f per segment), TOS %s"
          % (side, r["joined"], r["received"], segs, payload, avg, [hex(t) for t in tos]),
          file=sys.stderr)
    checks = [
        (r["joined"] >= 1, "no joined subflow before writing"),
        (r["received"] == 400, "received %d of 400 bytes" % r["received"]),
        (segs >= 50, "path 2 carried only %d data segments" % segs),
        (tos == [0x28], "path 2's data segments carried TOS %s, not 0x28" % tos),
        (avg <= 2, "path 2's segments carried %.1f messages each" % avg),
    ]
    for good, why in checks:
        if not good:
            print("    %s: %s" % (side, why), file=sys.stderr)
            ok = False
sys.exit(0 if ok else 1)
PY
	rm -rf "$out"
}
# active join created after the client's options, server's set on live subflows
round early live 6301
# passive join created after the server's options, client's set on live subflows
round live early 6302
dmesg_clean
