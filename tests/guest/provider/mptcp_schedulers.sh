#!/usr/bin/env bash
# The schedulers net.mptcp.scheduler selects (rust/sendq.rs), mptcp_rs to mptcp_rs
# over two paths (30 Mbit/s, 10 ms and 10 Mbit/s, 30 ms; the client joins over path
# 2), 4 MB each way per transfer, SHA-256 of every byte checked:
#   roundrobin  both paths carry data (each > 5 % of the bytes each way);
#   default     the same, with path 2 reshaped like path 1 first (on these unequal
#               paths it put under 2 % on path 2 on a slow TCG host: see
#               multipath.rst; its split on unequal paths is a make bench figure);
#   redundant   (paths still equal) every byte goes on every
#               path unless the peer acknowledged it before its copy could be
#               queued: both paths together carry more than 1.15 times the bytes
#               each way (the default carries each byte once: 1.0-1.05 with
#               headers), and the server counts duplicate data. (Observed
#               1.22-2.04: once one path's copies fall behind the DATA_ACK the
#               other path earned, they are skipped; 1.22 in a CI run beside
#               another guest, 1.30-2.04 in 8 runs alone on 2026-12-06.)
# Both ends write only once the join is up (a second): what a connection writes
# while it has one subflow is not copied, nor shared (that subflow carries it
# before the join exists).
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
bytes=$((4 << 20))
topo_new cli srv
topo_path cli srv 1
topo_path cli srv 2
topo_shape cli c1 delay 5ms rate 30mbit limit 200
topo_shape srv s1 delay 5ms rate 30mbit limit 200
topo_shape cli c2 delay 15ms rate 10mbit limit 200
topo_shape srv s2 delay 15ms rate 10mbit limit 200
c2=$(topo_addr4 c 2)
ip -n srv rule add to "$c2" table 102 pref 100
ip -n cli mptcp limits set subflows 1
ip -n srv mptcp limits set subflows 1
ip -n cli mptcp endpoint add "$c2" dev c2 subflow
b() { ip netns exec srv cat "/sys/class/net/s$1/statistics/$2_bytes"; }
port=6300
for s in roundrobin default redundant; do
	for ns in cli srv; do ip netns exec $ns sysctl -qw net.mptcp.scheduler=$s; done
	if [ $s = default ]; then
		topo_shape cli c2 delay 5ms rate 30mbit limit 200
		topo_shape srv s2 delay 5ms rate 30mbit limit 200
	fi
	r1=$(b 1 rx) r2=$(b 2 rx) t1=$(b 1 tx) t2=$(b 2 tx)
	dup0=$(mib srv MPTcpExtDuplicateData)
	port=$((port + 1))
	# both ends write once the join is up: a transfer that ends before it (a slow
	# host) leaves path 2 nothing to carry, whatever the scheduler
	XFER_OPTS="--send-after 1" transfer cli srv "$(topo_addr4 s 1)" $port mptcp "$bytes"
	r1=$(($(b 1 rx) - r1)) r2=$(($(b 2 rx) - r2)) t1=$(($(b 1 tx) - t1)) t2=$(($(b 2 tx) - t2))
	info "$s: server received path 1 $r1, path 2 $r2 bytes; sent path 1 $t1, path 2 $t2"
	case $s in
	redundant)
		# without copies both paths together carry each byte once (plus headers)
		((r1 + r2 > bytes * 23 / 20)) || fail "$s: the paths received $((r1 + r2)) bytes in all, not copies"
		((t1 + t2 > bytes * 23 / 20)) || fail "$s: the paths sent $((t1 + t2)) bytes in all, not copies"
		dup=$(($(mib srv MPTcpExtDuplicateData) - ${dup0:-0}))
		((dup > 0)) || fail "$s: the server counted no duplicate data"
		info "$s: MPTcpExtDuplicateData +$dup at the server"
		;;
	*)
		for v in $r1 $r2 $t1 $t2; do
			((v > bytes / 20)) || fail "$s: a path carried only $v bytes"
		done
		;;
	esac
done
dmesg_clean
