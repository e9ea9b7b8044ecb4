#!/usr/bin/env bash
# Diagnosis (not part of make check): two configurations compared in one guest,
# single-connection iperf3 goodput over the unshaped veth path of
# tests/bench/guest-throughput, run in turn (ABAB..., the first of each round
# alternating) so that the emulator's slow phases hit both alike. A configuration is
# a module file (loaded for its runs, iperf3 under mptcpize), "tcp" (plain TCP, no
# provider) or "kernel" (the kernel's own MPTCP: upstream's on the reference
# kernel). Prints one AB line per run with each CPU's busy and softirq shares, the
# median, min and max per configuration at the end, and B's median over A's.
#   scripts/vm --kernel custom --cpus 2 --timeout 1200 -- env PIN=1 \
#       tests/tools/diagnose/ab_modules.sh /tmp/a.ko /tmp/b.ko
#   scripts/vm --kernel reference --cpus 2 -- env PIN=1 \
#       tests/tools/diagnose/ab_modules.sh tcp kernel
# ROUNDS (default 8) runs of SECS (default 5) seconds each per configuration.
# PIN=1 pins the server to CPU 0 and the client to CPU 1 (else the scheduler may
# put both on one CPU for a whole run, which moves a run's figure by 20% either
# way). PERF=1 profiles the last round's runs (perf record -a; PERF_TOP lines by
# CPU and symbol are printed at the end). PERF=switch records instead where the
# last round's iperf3 threads leave the CPU (the software event context-switches,
# every one, with kernel call chains: these kernels have no scheduler
# tracepoints) and prints, per configuration, the PERF_TOP most frequent stacks
# (perf_switch_stacks.py). IPERF_ARGS are added to the client's iperf3 options
# (e.g. -w 12M).
set -euo pipefail
. "$MPTCP_RS_REPO/tests/lib/topology.sh"
a=$1 b=$2
ROUNDS=${ROUNDS:-8} SECS=${SECS:-5} PIN=${PIN:-0} PERF=${PERF:-0} IPERF_ARGS=${IPERF_ARGS:-} PERF_TOP=${PERF_TOP:-45}
pin_srv=() pin_cli=()
if [ "$PIN" = 1 ]; then pin_srv=(taskset -c 0) pin_cli=(taskset -c 1); fi
trap topo_cleanup EXIT
topo_new cli srv
topo_path cli srv 1
server=$(topo_addr4 s 1)
# (room for buffer sizes IPERF_ARGS may ask for)
sysctl -qw net.core.rmem_max=67108864 net.core.wmem_max=67108864
[ "$PERF" = 0 ] || sysctl -qw kernel.kptr_restrict=0 kernel.perf_event_paranoid=-1

unload() {
	grep -q '^mptcp_rs ' /proc/modules || return 0
	for _ in $(seq 100); do rmmod mptcp_rs 2>/dev/null && return 0; sleep 0.2; done
	echo "AB-ERROR rmmod failed" >&2
	exit 1
}

# one run with module file $2 (or plain TCP without a provider for "tcp", or the
# kernel's own MPTCP for "kernel": upstream's on the reference kernel), labelled
# $1: prints its goodput in Mbit/s
run() {
	local wrap=(mptcpize run)
	unload
	case $2 in
	tcp) wrap=() ;;
	kernel) ;;
	*) insmod "$2" ;;
	esac
	ip netns exec srv "${pin_srv[@]}" "${wrap[@]}" iperf3 -s -1 -B "$server" >/dev/null 2>&1 &
	local spid=$!
	sleep 0.5
	local out
	grep '^cpu[0-9]' /proc/stat >/tmp/ab-stat0
	local perf_pid=""
	if [ "$PERF" != 0 ] && [ "$i" = "$ROUNDS" ]; then
		# the last round is profiled: both CPUs, SECS - 2 seconds from the run's second
		local ev=(-e cpu-clock)
		[ "$PERF" = switch ] && ev=(-e context-switches -c 1 -g)
		(sleep 1; exec perf record -q -a "${ev[@]}" -o "/tmp/ab-perf-$1.data" -- sleep $((SECS - 2))) \
			>/dev/null 2>&1 &
		perf_pid=$!
	fi
	out=$(ip netns exec cli "${pin_cli[@]}" "${wrap[@]}" iperf3 -c "$server" -t "$SECS" -J $IPERF_ARGS)
	grep '^cpu[0-9]' /proc/stat >/tmp/ab-stat1
	if [ -n "$perf_pid" ]; then
		wait "$perf_pid" || true
		# now, while the module is loaded where the samples found it
		if [ "$PERF" = switch ]; then
			perf script -F comm,tid,cpu,ip,sym -i "/tmp/ab-perf-$1.data" 2>/dev/null |
				python3 "$(dirname "$0")/perf_switch_stacks.py" "$PERF_TOP" >"/tmp/ab-report-$1" || true
		else
			perf report -q -i "/tmp/ab-perf-$1.data" --no-children --sort cpu,symbol 2>/dev/null |
				grep -v '^$' | sed 's/ \{3,\}/ /g' | head -"$PERF_TOP" >"/tmp/ab-report-$1" || true
		fi
	fi
	wait "$spid" || true
	if [ "$2" != tcp ]; then
		# MP_CAPABLE happened (the module's counters go with it: before rmmod)
		local n
		n=$(ip netns exec cli cat /proc/net/netstat | awk '
			/^MPTcpExt:/ && !h { for (i = 2; i <= NF; i++) if ($i == "MPCapableSYNACKRX") c = i; h = 1; next }
			/^MPTcpExt:/ && h { print $c }')
		[ "${n:-0}" -ge 1 ] || { echo "AB-ERROR the run did not use MPTCP" >&2; exit 1; }
	fi
	echo "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
busy = []
for l0, l1 in zip(open("/tmp/ab-stat0"), open("/tmp/ab-stat1")):
    a, b = l0.split(), l1.split()
    d = [int(y) - int(x) for x, y in zip(a[1:], b[1:])]
    idle = d[3] + d[4]
    busy.append("%s:%.0f%%(si %.0f%%)" % (a[0], 100 * (sum(d) - idle) / max(sum(d), 1),
                                         100 * d[6] / max(sum(d), 1)))
print("AB %s %.0f" % (sys.argv[1], r["end"]["sum_received"]["bits_per_second"] / 1e6),
      " ".join(busy))' "$1"
}

results=$(mktemp)
for i in $(seq "$ROUNDS"); do
	if [ $((i % 2)) -eq 1 ]; then
		run A "$a" | tee -a "$results"
		run B "$b" | tee -a "$results"
	else
		run B "$b" | tee -a "$results"
		run A "$a" | tee -a "$results"
	fi
done
unload
python3 - "$results" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    _, name, mbps = line.split()[:3]
    runs.setdefault(name, []).append(float(mbps))
for name in sorted(runs):
    v = runs[name]
    print("AB-SUMMARY %s median %.0f min %.0f max %.0f n %d"
          % (name, statistics.median(v), min(v), max(v), len(v)))
print("AB-RATIO B/A %.3f" % (statistics.median(runs["B"]) / statistics.median(runs["A"])))
EOF
if [ "$PERF" != 0 ]; then
	for x in A B; do
		echo "== perf $x ($([ "$PERF" = switch ] && echo "where iperf3 leaves the CPU" || echo "by CPU and symbol"), top $PERF_TOP)"
		cat "/tmp/ab-report-$x" 2>/dev/null || echo "(no profile)"
	done
fi
