#!/usr/bin/env bash
# mptcp_lia.ko and mptcp_olia.ko register the congestion controls "lia" and "olia":
# each needs mptcp_rs.ko (they read a connection's subflows through its exported
# mptcp_rs_cc_paths(), so mptcp_rs lists them as holders), is listed, selectable per
# socket (TCP_CONGESTION) and per namespace, pins its module while a socket or a
# namespace default uses it, carries a transfer intact over a lossy path (a plain
# TCP socket is not an MPTCP subflow: there the algorithm is Reno, and the losses
# made it set ssthresh), and unloads afterwards. The coupling across the subflows
# of an MPTCP connection is measured by cc_shared_bottleneck.sh.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap 'topo_cleanup; rmmod mptcp_lia mptcp_olia 2>/dev/null' EXIT

unload() { # MODULE: retry while the last sockets go away
	local i
	for i in $(seq 20); do rmmod "$1" 2>/dev/null && return 0; sleep 0.2; done
	return 1
}

port=5100
for algo in lia olia; do
	port=$((port + 1))
	mod=mptcp_$algo
	ko="$MPTCP_RS_REPO/build/$MPTCP_RS_FLAVOUR/$mod.ko"
	# an earlier test's sockets may still hold it for a moment
	if grep -q "^$mod " /proc/modules; then
		unload "$mod" || fail "$mod loaded and busy before the test"
	fi
	insmod "$ko" || fail "insmod $mod"
	grep -qw "$algo" /proc/sys/net/ipv4/tcp_available_congestion_control || fail "$algo not available"
	[ -e "/sys/module/mptcp_rs/holders/$mod" ] || fail "$mod does not use mptcp_rs's exported accessor"

	# a socket using the algorithm pins the module; closing it releases the module
	python3 - "$algo" "$mod" <<'PY' || fail "$algo: per-socket selection and pinning"
import socket, subprocess, sys
algo = sys.argv[1].encode()
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
c = socket.socket()
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, algo)
assert c.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0") == algo
c.connect(l.getsockname())
a, _ = l.accept()
r = subprocess.run(["rmmod", sys.argv[2]], capture_output=True)
assert r.returncode != 0, "rmmod succeeded while a socket used the algorithm"
c.close(); a.close(); l.close()
PY
	unload "$mod" || fail "$mod still pinned after the socket closed"
	insmod "$ko" || fail "insmod $mod again"

	# namespace default, over a lossy path
	topo_new cli srv
	topo_path cli srv 1
	topo_shape cli c1 delay 10ms loss 1% rate 50mbit limit 1000
	# netem drops per skb, and TCP builds GSO skbs even with offloads off (they are
	# segmented after the qdisc): one segment per skb makes the loss per packet (with
	# 64 KB skbs an 8 MB transfer saw no loss at all about one run in five)
	ip -n cli link set dev c1 gso_max_segs 1 || fail "gso_max_segs on c1"
	ip netns exec cli ethtool -K c1 tso off gso off >/dev/null || fail "ethtool -K c1"
	# a namespace other than the initial one may pick only an allowed algorithm
	allowed=$(cat /proc/sys/net/ipv4/tcp_allowed_congestion_control)
	sysctl -qw net.ipv4.tcp_allowed_congestion_control="$allowed $algo"
	ip netns exec cli sysctl -qw net.ipv4.tcp_congestion_control="$algo" ||
		fail "cannot select $algo in a namespace"
	transfer cli srv "$(topo_addr4 s 1)" "$port" tcp $((8 << 20)) &
	xfer=$!
	seen=""
	for i in $(seq 60); do
		sleep 0.25
		line=$(ip netns exec cli ss -tin dst "$(topo_addr4 s 1)" 2>/dev/null | grep -E " $algo " | head -n 1)
		[ -n "$line" ] && seen=$line
		[[ $seen == *" ssthresh:"* ]] && break
	done
	wait "$xfer" || fail "transfer with $algo failed"
	[ -n "$seen" ] || fail "no socket showed congestion control $algo in ss -ti"
	[[ $seen == *" ssthresh:"* ]] || fail "$algo: no loss response seen (ssthresh unset): $seen"
	info "ss: $(echo "$seen" | grep -oE " ($algo|cwnd:[0-9]+|ssthresh:[0-9]+)" | tr -d '\n')"
	rmmod "$mod" 2>/dev/null && fail "$mod unloaded while a namespace defaults to it"
	ip netns exec cli sysctl -qw net.ipv4.tcp_congestion_control=reno
	unload "$mod" || fail "$mod cannot be unloaded after use"
	info "$algo selectable per socket and namespace, pinned while used, unloaded cleanly"
	topo_cleanup
done
dmesg_clean
