#!/usr/bin/env bash
# Churn on the debug kernel (lockdep, kmemleak, KFENCE, ...): 1,000 short MPTCP
# connections (20 KB each way, 4 at a time, tests/tools/churn.py) between mptcp_rs
# hosts over two paths, the client joining over path 2 from a "subflow" endpoint,
# while the paths flap at random (blackholed, netem loss 100 % at both ends, for
# 0.1-0.5 s at a time: path 1 rarely and briefly, path 2 often). Then: at least 90 % of the connections
# completed with their data intact and none delivered wrong data, joins happened,
# every socket closed, rmmod succeeds, kmemleak finds nothing, the kernel log is
# clean.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
conns=${MPTCP_RS_CHURN_CONNS:-1000}
ko="$MPTCP_RS_REPO/build/$MPTCP_RS_FLAVOUR/mptcp_rs.ko"
grep -q '^mptcp_rs ' /proc/modules || insmod "$ko" || fail "insmod failed"
echo scan >/sys/kernel/debug/kmemleak; echo clear >/sys/kernel/debug/kmemleak
dmesg -C
topo_new cli srv
topo_path cli srv 1
topo_path cli srv 2
for n in 1 2; do
	topo_shape cli "c$n" delay 2ms
	topo_shape srv "s$n" delay 2ms
done
c2=$(topo_addr4 c 2)
ip -n srv rule add to "$c2" table 102 pref 100
ip -n cli mptcp limits set subflows 1
ip -n srv mptcp limits set subflows 2
ip -n cli mptcp endpoint add "$c2" dev c2 subflow

ip netns exec srv python3 "$REPO/tests/tools/churn.py" server --port 7100 >/tmp/churn.srvlog 2>/tmp/churn.srv &
spid=$!
for i in $(seq 50); do grep -q listening /tmp/churn.srv 2>/dev/null && break; sleep 0.1; done
# MPTCP_RS_CHURN_PCAP=DIR (diagnosis): the client's TCP headers on both paths go to
# DIR/churn-c1.pcap and DIR/churn-c2.pcap
cap_pids=()
if [ -n "${MPTCP_RS_CHURN_PCAP:-}" ]; then
	for n in 1 2; do
		ip netns exec cli tcpdump -i "c$n" -nn -s 120 -U -w "$MPTCP_RS_CHURN_PCAP/churn-c$n.pcap" tcp 2>/dev/null &
		cap_pids+=($!)
	done
	sleep 1
fi
flap() {
	local n down
	while :; do
		if ((RANDOM % 5 == 0)); then n=1 down=0.1; else n=2 down=0.$((1 + RANDOM % 5)); fi
		topo_shape cli "c$n" delay 2ms loss 100%
		topo_shape srv "s$n" delay 2ms loss 100%
		sleep "$down"
		topo_shape cli "c$n" delay 2ms
		topo_shape srv "s$n" delay 2ms
		sleep 0.$((2 + RANDOM % 8))
	done
}
flap &
fpid=$!
ip netns exec cli python3 "$REPO/tests/tools/churn.py" client --connect "$(topo_addr4 s 1)" --port 7100 \
	--conns "$conns" --workers 4 --bytes 20000 --timeout 20 >/tmp/churn.out 2>/tmp/churn.err
rc=$?
kill "$fpid"; wait "$fpid" 2>/dev/null
for n in 1 2; do
	topo_shape cli "c$n" delay 2ms
	topo_shape srv "s$n" delay 2ms
done
kill "$spid"; wait "$spid" 2>/dev/null
((${#cap_pids[@]})) && { kill "${cap_pids[@]}"; wait "${cap_pids[@]}" 2>/dev/null; }
# how connections fell back, if any did (shown when the check below fails)
fallbacks=$(for ns in cli srv; do
	ip netns exec $ns nstat -az | awk -v ns=$ns '$1 ~ /Fallback|SYNTXDrop|InfiniteMap|DSSNotMatching|MPRstTx|MPRstRx|FastcloseRx/ && $2 > 0 { printf "%s %s=%s ", ns, $1, $2 }'
done)
((rc == 0)) || fail "churn client: $(tail -n 3 /tmp/churn.err)"
info "churn: $(cat /tmp/churn.out)"
[ -s /tmp/churn.srvlog ] && info "server gave up on: $(tr '\n' ' ' </tmp/churn.srvlog)"
grep -q unfinished /tmp/churn.srv && info "server still serving when stopped: $(grep unfinished /tmp/churn.srv | tr '\n' ' ')"
# a connection the server gave up on (its 30 s timeout, a reset) may end early at the
# client: that is a failure of the connection, not lost data; any other short
# connection lost data, and wrong bytes are never acceptable
if ! python3 - "$conns" /tmp/churn.out /tmp/churn.srvlog <<'PY'
import json, sys
n = int(sys.argv[1]); r = json.load(open(sys.argv[2]))
gave_up = {json.loads(l)["conn"] for l in open(sys.argv[3]) if l.strip()}
lost = [d for d in r["detail"] if d["kind"] == "short" and d["conn"] not in gave_up]
if r["short"] > len(r["detail"]):
    lost.append("more short connections than detailed")
bad = r["wrong"] > 0 or lost or r["ok"] < 0.9 * n or r["ok"] + r["failed"] + r["short"] != n
if bad:
    print("wrong:", r["wrong"], "short without a server error:", lost, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
then
	info "counters: $fallbacks"
	fail "churn: too few connections completed, or data lost or wrong"
fi
mib_at_least cli MPTcpExtMPJoinSynAckRx $((conns / 10))
# the last connections (a failed one's server side closes after its 30 s timeout)
# finish their FIN exchanges before the namespaces and their links go away
for i in $(seq 120); do
	left=$(for ns in cli srv; do ip netns exec $ns ss -Htan state all | grep -v -e TIME-WAIT -e LISTEN; done)
	[ -z "$left" ] && break
	sleep 0.5
done
[ -z "$left" ] || fail "sockets left 60 s after the churn: $left"
topo_cleanup
unload_clean 60 "the churn"
info "multipath churn on the debug kernel: no splat, no leak, module unloaded"
