#!/usr/bin/env bash
# Diagnosis (not part of make check): where single-path MPTCP throughput goes, next to
# plain TCP in the same guest. For each configuration named (tcp, mptcp; default
# both) one iperf3 run over the unshaped veth path of tests/bench/guest-throughput,
# and during it: the sender's and receiver's sockets (`ss -tnim`, and `ss -Mm` for
# MPTCP) sampled every SAMPLE_MS, a `perf record -a` of PERF_S seconds (the top
# symbols, flat), and the receiver's window counters (TcpExt*ZeroWindow*). Needs
# perf and iperf3 on the host (the guest runs the host's userspace).
#   scripts/vm --kernel custom --load mptcp_rs -- tests/tools/diagnose/single_path_profile.sh [CONFIG...]
#   scripts/vm --kernel reference -- tests/tools/diagnose/single_path_profile.sh mptcp
set -u
. "$MPTCP_RS_REPO/tests/lib/topology.sh"
SECS=${SECS:-8} PERF_S=${PERF_S:-4} SAMPLE_MS=${SAMPLE_MS:-500}
trap topo_cleanup EXIT
topo_new cli srv
topo_path cli srv 1
server=$(topo_addr4 s 1)
sysctl -qw kernel.kptr_restrict=0 kernel.perf_event_paranoid=-1
[ $# -gt 0 ] || set -- tcp mptcp
for cfg in "$@"; do
	case $cfg in
	tcp) wrap="" ;;
	mptcp) wrap="mptcpize run" ;;
	*) echo "unknown configuration $cfg" >&2; exit 2 ;;
	esac
	for n in cli srv; do ip netns exec $n nstat -n; done
	ip netns exec srv $wrap iperf3 -s -1 -B "$server" >/dev/null 2>&1 &
	sleep 0.5
	ip netns exec cli $wrap iperf3 -c "$server" -t "$SECS" -J >"/tmp/iperf-$cfg.json" &
	cpid=$!
	sleep 1.5
	perf record -q -a -g -e cpu-clock -o "/tmp/perf-$cfg.data" -- sleep "$PERF_S" 2>/dev/null &
	ppid=$!
	while kill -0 $ppid 2>/dev/null; do
		echo "== $cfg sample $(date +%s.%N | cut -c1-14)"
		ip netns exec cli ss -tnim dst "$server" | tr -s ' ' | grep -v '^State'
		ip netns exec srv ss -tnim src "$server" | tr -s ' ' | grep -v '^State'
		[ "$cfg" = mptcp ] && ip netns exec srv ss -nMm | tr -s ' ' | grep -v '^State'
		sleep "$(awk -v m="$SAMPLE_MS" 'BEGIN {print m / 1000}')"
	done
	wait $cpid
	python3 -c "
import json, sys
r = json.load(open('/tmp/iperf-$cfg.json'))
print('RATE $cfg %d Mbit/s' % (r['end']['sum_received']['bits_per_second'] / 1e6))"
	echo "== $cfg perf (flat, top 40)"
	perf report -q -i "/tmp/perf-$cfg.data" --no-children --sort symbol -g none 2>/dev/null |
		grep -v '^$' | head -40
	echo "== $cfg counters"
	for n in cli srv; do
		ip netns exec $n nstat | grep -E 'Tcp(In|Out)Segs|ZeroWindow|Prune|Collapse|BacklogDrop' |
			sed "s/^/$n /"
	done
done
