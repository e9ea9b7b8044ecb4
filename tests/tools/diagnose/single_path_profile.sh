#!/usr/bin/env bash
# Diagnosis (not part of make check): where single-path MPTCP throughput goes, next to
# plain TCP in the same guest. For each configuration named (tcp, mptcp; default
# both) one iperf3 run over the unshaped veth path of tests/bench/guest-throughput,
# and during it: the sender's and receiver's sockets (`ss -tnim`, and `ss -Mm` for
# MPTCP) sampled every SAMPLE_MS, a `perf record -a` of PERF_S seconds (0: none; the top
# symbols, flat), and the receiver's window counters (TcpExt*ZeroWindow*). Needs
# perf and iperf3 on the host (the guest runs the host's userspace).
#   scripts/vm --kernel custom --load mptcp_rs -- tests/tools/diagnose/single_path_profile.sh [CONFIG...]
#   scripts/vm --kernel reference -- tests/tools/diagnose/single_path_profile.sh mptcp
set -u
. "$MPTCP_RS_REPO/tests/lib/topology.sh"
SECS=${SECS:-8} PERF_S=${PERF_S:-4} SAMPLE_MS=${SAMPLE_MS:-500}
# PERF_SORT=comm,symbol splits the profile by process (the sampling's ss runs
# show up as their own commands then); PERF_TOP lines of it are printed.
PERF_SORT=${PERF_SORT:-symbol} PERF_TOP=${PERF_TOP:-40}
# PERF_CHILDREN=1: each symbol with what it calls (inclusive), not its own time only
PERF_CHILDREN=${PERF_CHILDREN:-0}
# which counters of the two namespaces are printed (an extended regex; . for all)
COUNTERS=${COUNTERS:-'Tcp(In|Out)Segs|ZeroWindow|Prune|Collapse|BacklogDrop'}
trap topo_cleanup EXIT
topo_new cli srv
topo_path cli srv 1
server=$(topo_addr4 s 1)
sysctl -qw kernel.kptr_restrict=0 kernel.perf_event_paranoid=-1
[ $# -gt 0 ] || set -- tcp mptcp

# /proc/PID/io of the server (read calls and bytes), empty if it is gone
io_snapshot() {
	cat "/proc/$1/io" 2>/dev/null || true
}

# NAME COUNT lines: each softirq and interrupt kind summed over the CPUs, and the
# context switches
events_snapshot() {
	awk 'NR > 1 { n = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i; print "softirq-" $1, n }' /proc/softirqs
	awk 'NR > 1 && $1 ~ /^[A-Z]+:$/ { n = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i; print "irq-" $1, n }' /proc/interrupts
	awk '$1 == "ctxt" { print "ctxt", $2 }' /proc/stat
}
for cfg in "$@"; do
	case $cfg in
	tcp) wrap="" ;;
	mptcp) wrap="mptcpize run" ;;
	*) echo "unknown configuration $cfg" >&2; exit 2 ;;
	esac
	# nstat keeps one history file per user, not per netns: one each
	for n in cli srv; do NSTAT_HISTORY=/tmp/nstat-$n ip netns exec $n nstat -n; done
	ip netns exec srv $wrap iperf3 -s -1 -B "$server" >/dev/null 2>&1 &
	sleep 0.5
	ip netns exec cli $wrap iperf3 -c "$server" -t "$SECS" -J >"/tmp/iperf-$cfg.json" &
	cpid=$!
	sleep 1.5
	if [ "$PERF_S" = 0 ]; then
		# no profile (it slows TCP more than MPTCP): sample for the run's middle
		sleep $((SECS - 3)) &
	else
		perf record -q -a -g -e cpu-clock -o "/tmp/perf-$cfg.data" -- sleep "$PERF_S" 2>/dev/null &
	fi
	ppid=$!
	read -r _ u0 n0 s0 i0 w0 q0 sq0 _ </proc/stat
	events_snapshot >/tmp/events0
	spid=$(pgrep -f "iperf3 -s -1 -B $server" | head -1)
	io_snapshot "$spid" >/tmp/io0
	while kill -0 $ppid 2>/dev/null; do
		echo "== $cfg sample $(date +%s.%N | cut -c1-14)"
		ip netns exec cli ss -tnim dst "$server" | tr -s ' ' | grep -v '^State'
		ip netns exec srv ss -tnim src "$server" | tr -s ' ' | grep -v '^State'
		[ "$cfg" = mptcp ] && ip netns exec srv ss -nMm | tr -s ' ' | grep -v '^State'
		# the busiest threads and the CPU each was last on
		ps -eLo tid,psr,pcpu,comm --sort=-pcpu | head -8 | sed 's/^/THREADS /'
		# until the next sample or the end of the profiled time, whichever first
		for _ in $(seq $(((SAMPLE_MS + 99) / 100))); do
			kill -0 $ppid 2>/dev/null || break
			sleep 0.1
		done
	done
	read -r _ u1 n1 s1 i1 w1 q1 sq1 _ </proc/stat
	events_snapshot >/tmp/events1
	io_snapshot "$spid" >/tmp/io1
	# the reader's read() calls: how many, and how much each returned on average
	awk -v cfg="$cfg" 'NR == FNR { a[$1] = $2; next } { b[$1] = $2 }
		END { n = b["syscr:"] - a["syscr:"]; if (n > 0)
			printf "READS %s %d calls, %.0f bytes each\n", cfg, n, (b["rchar:"] - a["rchar:"]) / n }' \
		/tmp/io0 /tmp/io1
	# per second of the profiled time: interrupts, softirqs, context switches
	awk -v cfg="$cfg" -v secs="$([ "$PERF_S" = 0 ] && echo $((SECS - 3)) || echo "$PERF_S")" '
		NR == FNR { a[$1] = $2; next }
		{ printf "EVENTS %s %s %.0f/s\n", cfg, $1, ($2 - a[$1]) / secs }' /tmp/events0 /tmp/events1
	# where the CPUs' time went while sampling (the sampling's own processes included)
	awk -v u=$((u1 - u0 + n1 - n0)) -v s=$((s1 - s0)) -v i=$((i1 - i0 + w1 - w0)) \
		-v q=$((q1 - q0)) -v sq=$((sq1 - sq0)) -v cfg="$cfg" 'BEGIN {
		t = u + s + i + q + sq
		printf "CPU %s user %.0f%% system %.0f%% softirq %.0f%% irq %.0f%% idle %.0f%%\n",
			cfg, 100 * u / t, 100 * s / t, 100 * sq / t, 100 * q / t, 100 * i / t }'
	wait $cpid
	python3 -c "
import json, sys
r = json.load(open('/tmp/iperf-$cfg.json'))
print('RATE $cfg %d Mbit/s' % (r['end']['sum_received']['bits_per_second'] / 1e6))"
	[ "$PERF_S" = 0 ] || echo "== $cfg perf (flat, by $PERF_SORT, top $PERF_TOP)"
	[ "$PERF_S" = 0 ] || perf report -q -i "/tmp/perf-$cfg.data" \
		"$([ "$PERF_CHILDREN" = 1 ] && echo --children || echo --no-children)" \
		--sort "$PERF_SORT" -g none 2>/dev/null |
		grep -v '^$' | head -"$PERF_TOP"
	echo "== $cfg counters"
	for n in cli srv; do
		NSTAT_HISTORY=/tmp/nstat-$n ip netns exec $n nstat | grep -E "$COUNTERS" |
			sed "s/^/$n /"
	done
done
