#!/usr/bin/env bash
# Two-path goodput between two kernels (interop): both links shaped at each end
# (netem: 20 Mbit/s, 10 ms each way, 100 packets); the client has a "subflow"
# endpoint on its second link (source routing as in mptcp_join.sh), both ends
# "limits subflows 1". The client runs iperf3 against the server for
# MPTCP_RS_PAIR_SECONDS (8) each: plain TCP over link 1 alone and over link 2 alone,
# then MPTCP under mptcpize over both, uploading (the client's scheduler) and
# downloading (-R: the server's scheduler). The check prints each MPTCP goodput as a
# ratio of the sum of the two TCP goodputs of the same direction and fails below
# MPTCP_RS_PAIR_MIN_RATIO (0.9; the target of issue 5 is 0.97, upstream reaches
# about 0.98 between two upstream kernels) or when a link carried under 5 % of the
# MPTCP bytes.
# Two guests under TCG share the host's cores, and a busy host bends the guests'
# clocks: a CI run once measured plain TCP at 23.9 Mbit/s over the 20 Mbit/s link,
# which made an ordinary MPTCP run look like 0.825 of the sum. So the client measures
# one direction at a time and measures a direction once more when a TCP reading
# exceeds the link's rate by over 10 % (20.5 Mbit/s was seen on a quiet host, and
# 23.9 is not possible with a true clock) or the ratio is below the floor; the
# check uses the last attempt and says when there were two.
#   run by tests/lib/pair.sh: SCRIPT server | SCRIPT client (guests), SCRIPT check SHARE (host)
set -euo pipefail
role=$1 secs=${MPTCP_RS_PAIR_SECONDS:-8}
if [ "$role" = check ]; then
	PAIR_SHARE=$2
	. "$(dirname "$0")/../../lib/pair.sh"
else
	. "$MPTCP_RS_REPO/tests/tools/pair-guest.sh"
fi

setup() {
	pair_two_links 10ms 20mbit 100
	ip mptcp limits set subflows 1
}

bytes_of() { # DEV rx|tx
	cat "/sys/class/net/$1/statistics/$2_bytes"
}

case "$role" in
server)
	setup
	iperf3 -s -p 5201 >/dev/null 2>&1 &
	p1=$!
	mptcpize run iperf3 -s -p 5202 >/dev/null 2>&1 &
	p2=$!
	sleep 1
	pair_signal ready
	pair_wait client-done 600 >/dev/null
	kill "$p1" "$p2" 2>/dev/null || true
	pair_nstat server.nstat
	;;
client)
	setup
	ip mptcp endpoint add "$SELF4_2" dev "$PAIR_DEV2" subflow
	ip rule add from "$SELF4_2" table 100
	ip route add "$PEER4/32" via "$PEER4_2" dev "$PAIR_DEV2" table 100
	pair_wait ready >/dev/null
	run() { # NAME ADDR PORT [iperf3 options] (wrapper from $wrap)
		local name=$1 addr=$2 port=$3 b1 b2 out
		shift 3
		b1=$(($(bytes_of "$PAIR_DEV" rx) + $(bytes_of "$PAIR_DEV" tx)))
		b2=$(($(bytes_of "$PAIR_DEV2" rx) + $(bytes_of "$PAIR_DEV2" tx)))
		out=$($wrap iperf3 -c "$addr" -p "$port" -t "$secs" -J "$@") || fail "iperf3 $name failed"
		echo "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(json.dumps({"name": sys.argv[1], "bps": r["end"]["sum_received"]["bits_per_second"],
                  "link1": int(sys.argv[2]), "link2": int(sys.argv[3]),
                  "mbps": [round(i["sum"]["bits_per_second"] / 1e6, 1) for i in r["intervals"]]}))' "$name" \
			$(($(bytes_of "$PAIR_DEV" rx) + $(bytes_of "$PAIR_DEV" tx) - b1)) \
			$(($(bytes_of "$PAIR_DEV2" rx) + $(bytes_of "$PAIR_DEV2" tx) - b2)) >>"$SHARE/goodput.jsonl"
		sleep 1
	}
	direction() { # up|down [-R]: both TCP baselines, then MPTCP
		wrap=""
		run "tcp1-$1" "$PEER4" 5201 "${@:2}"
		run "tcp2-$1" "$PEER4_2" 5201 "${@:2}"
		wrap="mptcpize run"
		run "mptcp-$1" "$PEER4" 5202 "${@:2}"
	}
	suspect() { # up|down: why the last attempt needs another, or nothing
		python3 - "$SHARE/goodput.jsonl" "$1" "${MPTCP_RS_PAIR_MIN_RATIO:-0.9}" <<'PY'
import json, sys
r = {j["name"]: j for j in map(json.loads, open(sys.argv[1])) if "name" in j}
d, floor = sys.argv[2], float(sys.argv[3])
tcp = [r["tcp%d-%s" % (i, d)]["bps"] for i in (1, 2)]
if max(tcp) > 22e6:
    print("plain TCP measured %.1f Mbit/s over a 20 Mbit/s link" % (max(tcp) / 1e6))
elif r["mptcp-" + d]["bps"] / sum(tcp) < floor:
    print("%.3f of the sum, below %.2f" % (r["mptcp-" + d]["bps"] / sum(tcp), floor))
PY
	}
	: >"$SHARE/goodput.jsonl"
	for d in up down; do
		opt=()
		[ "$d" = down ] && opt=(-R)
		direction "$d" "${opt[@]}"
		why=$(suspect "$d")
		if [ -n "$why" ]; then
			info "$d: measuring again: $why"
			echo "{\"retry\": \"$d\", \"why\": \"$why\"}" >>"$SHARE/goodput.jsonl"
			direction "$d" "${opt[@]}"
		fi
	done
	info "goodput: $(tr '\n' ' ' <"$SHARE/goodput.jsonl")"
	pair_nstat client.nstat
	pair_signal client-done
	;;
check)
	python3 - "$PAIR_SHARE/goodput.jsonl" "${MPTCP_RS_PAIR_MIN_RATIO:-0.9}" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
r = {j["name"]: j for j in lines if "name" in j}  # the last attempt of each
floor = float(sys.argv[2])
bad = False
for d in ("up", "down"):
    for j in lines:
        if j.get("retry") == d:
            print("  %-4s measured twice; the first attempt: %s" % (d, j["why"]))
    t = r["tcp1-" + d]["bps"] + r["tcp2-" + d]["bps"]
    m = r["mptcp-" + d]
    ratio = m["bps"] / t
    share = m["link1"] / max(1, m["link1"] + m["link2"])
    print("  %-4s TCP link 1 %.1f + link 2 %.1f Mbit/s; MPTCP %.1f Mbit/s: %.3f of the sum; "
          "link 1 carried %.0f %% of the MPTCP bytes" % (
              d, r["tcp1-" + d]["bps"] / 1e6, r["tcp2-" + d]["bps"] / 1e6, m["bps"] / 1e6,
              ratio, 100 * share))
    # each second as the client's iperf3 measured it: a stall shows as a dip
    print("       MPTCP each second (Mbit/s): %s" % " ".join("%g" % v for v in m.get("mbps", [])))
    if ratio < floor:
        print("FAIL: %s: %.3f of the sum of the paths, below %.2f" % (d, ratio, floor), file=sys.stderr)
        bad = True
    if not 0.05 < share < 0.95:
        print("FAIL: %s: one link carried almost everything" % d, file=sys.stderr)
        bad = True
sys.exit(1 if bad else 0)
PY
	rc=$?
	for side in client server; do
		echo "  $side: MPTcpExtMPTCPRetrans $(pair_counter "$side.nstat" MPTcpExtMPTCPRetrans)" \
			"MPTcpExtDuplicateData $(pair_counter "$side.nstat" MPTcpExtDuplicateData)" \
			"MPTcpExtNoDSSInWindow $(pair_counter "$side.nstat" MPTcpExtNoDSSInWindow)"
	done
	exit $rc
	;;
*) echo "usage: $0 server|client|check SHARE" >&2; exit 2 ;;
esac
