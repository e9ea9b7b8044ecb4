#!/usr/bin/env bash
# On the debug kernel (lockdep, DEBUG_ATOMIC_SLEEP, kmemleak, KFENCE, DEBUG_OBJECTS):
# load and unload mptcp_rs 100 times, with network namespaces created, their sysctls
# written, path manager endpoints added (there and in the initial namespace) and
# MPTcpExt counters read, and destroyed while it is loaded and, every
# tenth time, mptcp_lia and mptcp_olia loaded, used by a socket and unloaded; then
# require a clean kernel log and no kmemleak report.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
ko="$MPTCP_RS_REPO/build/$MPTCP_RS_FLAVOUR/mptcp_rs.ko"
[ -f "$ko" ] || fail "no module at $ko"
grep -q '^mptcp_rs ' /proc/modules && { rmmod mptcp_rs || fail "initial rmmod failed"; }
[ -e /sys/kernel/debug/kmemleak ] || fail "kmemleak not available on this kernel"
grep -q 'CONFIG_PROVE_LOCKING=y' "$KBUILD/.config" || fail "not a lockdep kernel"
# forget leaks reported before this test (boot-time noise is not ours)
echo scan >/sys/kernel/debug/kmemleak; echo clear >/sys/kernel/debug/kmemleak
dmesg -C
for i in $(seq 100); do
	insmod "$ko" || fail "insmod #$i failed"
	[ "$(cat /proc/sys/net/mptcp/enabled)" = 1 ] || fail "no sysctl after insmod #$i"
	# path manager endpoints left in the initial namespace: freed by rmmod
	ip mptcp endpoint add 10.1.0.1 subflow && ip mptcp endpoint add 10.1.0.2 id 200 signal ||
		fail "ip mptcp endpoint add #$i failed"
	if ((i % 10 == 0)); then
		ip netns add leak$i && ip netns exec leak$i sysctl -qw net.mptcp.enabled=0 &&
			ip netns exec leak$i sysctl -qw net.mptcp.path_manager=userspace &&
			ip -n leak$i mptcp endpoint add 10.0.0.$i signal && ip -n leak$i mptcp limits set subflows 4 &&
			ip netns exec leak$i grep -q '^MPTcpExt: MPCapableSYNRX ' /proc/net/netstat && ip netns del leak$i ||
			fail "namespace round trip #$i failed"
		# the congestion control modules too, each with a socket using it
		for algo in lia olia; do
			insmod "$MPTCP_RS_REPO/build/$MPTCP_RS_FLAVOUR/mptcp_$algo.ko" || fail "insmod mptcp_$algo #$i failed"
			python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, sys.argv[1].encode())
s.close()' "$algo" || fail "TCP_CONGESTION $algo #$i failed"
			rmmod "mptcp_$algo" || fail "rmmod mptcp_$algo #$i failed"
		done
	fi
	rmmod mptcp_rs || fail "rmmod #$i failed"
done
ip netns add keep && ip netns del keep
echo scan >/sys/kernel/debug/kmemleak
sleep 1
echo scan >/sys/kernel/debug/kmemleak
leaks=$(cat /sys/kernel/debug/kmemleak)
[ -z "$leaks" ] || fail "kmemleak reports:
$(echo "$leaks" | head -n 30)"
[ "$(dmesg | grep -c 'provider mptcp_rs registered')" = 100 ] || fail "expected 100 registrations in dmesg"
dmesg_clean
info "100 load/unload cycles: no leak, no warning"
