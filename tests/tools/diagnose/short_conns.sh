#!/usr/bin/env bash
# Diagnosis (not part of make check): N concurrent short request/response MPTCP
# connections in one namespace (the kernel selftests' mptcp_connect, as diag.sh's
# "many msk" step), captured on lo with tcpdump into $VM_SHARE/short_conns.pcap;
# prints the namespace's retransmission counters. Analyse with ack_delay.py. Needs tcpdump
# on the host (apt-get install tcpdump; not installed by scripts/setup-deps).
#   scripts/vm --share DIR [--kernel reference | --load mptcp_rs] -- tests/tools/diagnose/short_conns.sh [N]
set -u
N=${1:-40}
src="$KSRC/tools/testing/selftests/net"
work=/tmp/short_conns
mkdir -p "$work" && cp -r "$src"/mptcp/* "$work"/ && cd "$work" || exit 1
gcc -O2 -isystem "$KBUILD/usr/include" -I "$KSRC/tools/include" -o mptcp_connect mptcp_connect.c || exit 1
ip netns add sc && ip -n sc link set lo up
for i in $(seq "$N"); do
	echo a | timeout 61 ip netns exec sc ./mptcp_connect -p $((i + 10001)) -l -w 5 -t 30 0.0.0.0 >/dev/null 2>&1 &
done
sleep 10
ip netns exec sc tcpdump -i lo -nn -s 200 -w "${VM_SHARE:-/tmp}/short_conns.pcap" 2>/dev/null &
sleep 2
for i in $(seq "$N"); do
	echo b | timeout 61 ip netns exec sc ./mptcp_connect -p $((i + 10001)) -w 5 -t 30 127.0.0.1 >/dev/null 2>&1 &
done
sleep 15
pkill tcpdump
sleep 1
ip netns exec sc nstat -a | grep -E 'Retrans|Timeouts|DelayedACK'
