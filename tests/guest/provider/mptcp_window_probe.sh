#!/usr/bin/env bash
# A sender whose peer closed the connection's window, with everything it sent
# acknowledged, probes the window when no update comes (RFC 8684 3.3.6: the
# subflows share the connection's window; TCP's own persist timer sees no unsent
# data on a subflow, as the data waits at the connection level). The client writes
# 4 MB over two subflows to a server with a 256 KB receive buffer that stops
# reading at 512 KB for 2 s (the window closes, the writer waits in poll), then
# loses everything it sends for 3 s while it reads what it holds: its window
# updates are lost, and nothing of the client's is in flight to be answered. After
# that, only a probe of the client's (1 byte at DSN snd_una - 1 on a subflow, as
# upstream sends one) brings the open window back. Checks: the transfer completes
# within 30 s with every byte (SHA-256), and the client counted MPTcpExtWinProbe.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
shape="delay 10ms rate 20mbit limit 200"
# shellcheck disable=SC2086 # netem's words
topo_two_paths $shape
ip netns exec srv sysctl -qw net.ipv4.tcp_rmem="4096 65536 262144"
bytes=$((4 << 20)) port=6901 dir=$(mktemp -d)
probes=$(mib cli MPTcpExtWinProbe)
cut="sleep 2; for d in s1 s2; do tc qdisc replace dev \$d root netem $shape loss 100%; done;
	(sleep 3; for d in s1 s2; do tc qdisc replace dev \$d root netem $shape; done) &"
xfer_server srv "$dir" --port $port --proto mptcp --timeout 30 --cut-at $((512 << 10)) --cut-cmd "$cut"
ip netns exec cli python3 "$XFER" client --connect "$(topo_addr4 s 1)" --port $port --proto mptcp \
	--send $bytes --send-after 1 --timeout 30 >"$dir/client" 2>"$dir/client.err" ||
	fail "client: $(tail -n 2 "$dir/client.err")"
wait "$spid" || fail "server: $(tail -n 2 "$dir/server.err")"
python3 - "$dir/client" "$dir/server" $bytes <<'PY' || fail "data mismatch"
import json, sys
c = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
sys.exit(0 if c["sent"] == s["received"] == int(sys.argv[3]) and c["sent_sha256"] == s["received_sha256"] else 1)
PY
probes=$(mib_delta cli MPTcpExtWinProbe "${probes:-0}")
info "$bytes bytes arrived intact in $(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["seconds"])' "$dir/server") s; client MPTcpExtWinProbe +$probes"
((probes > 0)) || fail "the client sent no window probe"
rm -rf "$dir"
