#!/usr/bin/env bash
# The link's capacity under emulation: plain TCP, iperf3 for 10 s (client to server)
# over the unshaped link. Fails only if the measurement fails; the rate is reported.
#   run by tests/lib/pair.sh: SCRIPT server | SCRIPT client (guests), SCRIPT check SHARE (host)
set -euo pipefail
role=$1 secs=${MPTCP_RS_PAIR_IPERF_SECONDS:-10}
if [ "$role" = check ]; then
	PAIR_SHARE=$2
	. "$(dirname "$0")/../../lib/pair.sh"
else
	. "$MPTCP_RS_REPO/tests/tools/pair-guest.sh"
fi

case "$role" in
server)
	pair_link_up
	iperf3 -s -1 -B "$SELF4" -p 5201 >"$SHARE/iperf3.server.log" 2>&1 &
	pid=$!
	for i in $(seq 50); do ss -Hltn 'sport = :5201' | grep -q . && break; sleep 0.1; done
	pair_signal iperf3.ready
	wait "$pid" || fail "iperf3 server: $(tail -n 3 "$SHARE/iperf3.server.log")"
	;;
client)
	pair_link_up
	pair_wait iperf3.ready >/dev/null
	iperf3 -c "$PEER4" -p 5201 -t "$secs" -J >"$SHARE/iperf3.json" || fail "iperf3 client failed"
	;;
check)
	python3 - "$PAIR_SHARE/iperf3.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
if "error" in r:
    sys.exit("FAIL: iperf3: " + r["error"])
s, d = r["end"]["sum_sent"], r["end"]["sum_received"]
print(f"  plain TCP, one connection, client to server: sent {s['bits_per_second'] / 1e6:.0f} Mbit/s over {s['seconds']:.1f} s, "
      f"received {d['bytes'] * 8 / s['seconds'] / 1e6:.0f} Mbit/s ({d['bytes'] / 2**20:.0f} MB; receiver's own clock: "
      f"{d['bits_per_second'] / 1e6:.0f} Mbit/s over {d['seconds']:.1f} s), {s.get('retransmits', 0)} retransmits")
if d["bytes"] <= 0:
    sys.exit("FAIL: nothing received")
PY
	;;
*) echo "usage: $0 server|client|check SHARE" >&2; exit 2 ;;
esac
