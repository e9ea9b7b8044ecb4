# Topologies and measurements for the coupled congestion control tests (lia, olia):
# sourced by guest scripts after tests/lib/topology.sh.
# shellcheck shell=bash
#
#   cc_load                          insmod mptcp_lia and mptcp_olia (after mptcp_rs,
#                                    whose mptcp_rs_cc_paths() they use)
#   cc_unload                        rmmod mptcp_lia and mptcp_olia, retrying for up
#                                    to 10 s while closing sockets still use them
#   cc_offloads_off NS DEV...        no TSO/GSO/GRO: one packet per skb, so that a
#                                    queue drops packets, not 64 KB bursts
#   cc_topo_shared RATE DELAY LIMIT  namespaces cli, rtr, srv: cli reaches rtr over
#                                    two links (c1 10.10.1.1, c2 10.10.2.1), rtr
#                                    reaches srv (10.10.0.2) over ONE link shaped to
#                                    RATE with DELAY each way: a shared bottleneck
#                                    ($CC_SHARED_EXTRA: more netem arguments for it)
#   cc_mptcp_endpoint ADDR DEV       client "subflow" endpoint, limits subflows 1
#   cc_iperf NS SERVER PORT SECS CC [mptcp] [BIND]
#                                    one upload with congestion control CC
#                                    (TCP_CONGESTION on the socket, MPTCP under
#                                    mptcpize); prints received bits/s after
#                                    the first 3 s

cc_load() {
	local algo
	for algo in lia olia; do
		grep -q "^mptcp_$algo " /proc/modules ||
			insmod "$MPTCP_RS_REPO/build/$MPTCP_RS_FLAVOUR/mptcp_$algo.ko" || return 1
	done
	local allowed
	allowed=$(cat /proc/sys/net/ipv4/tcp_allowed_congestion_control)
	sysctl -qw net.ipv4.tcp_allowed_congestion_control="$allowed lia olia"
}

cc_unload() {
	local algo i rc=0
	for algo in lia olia; do
		for i in $(seq 40); do
			grep -q "^mptcp_$algo " /proc/modules || break
			rmmod "mptcp_$algo" 2>/dev/null && break
			sleep 0.25
		done
		grep -q "^mptcp_$algo " /proc/modules && rc=1
	done
	return $rc
}

cc_offloads_off() {
	local ns=$1 dev
	shift
	for dev in "$@"; do
		ip -n "$ns" link set dev "$dev" gso_max_segs 1
		ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off >/dev/null 2>&1 || true
	done
}

cc_topo_shared() {
	local rate=$1 delay=$2 limit=$3 n
	topo_new cli rtr srv
	for n in 1 2; do
		ip link add "c$n" netns cli type veth peer name "r$n" netns rtr
		ip -n cli addr add "10.10.$n.1/24" dev "c$n"
		ip -n rtr addr add "10.10.$n.2/24" dev "r$n"
		ip -n cli link set "c$n" up
		ip -n rtr link set "r$n" up
		# traffic from a path's address leaves through that path
		ip -n cli rule add from "10.10.$n.1" table $((100 + n))
		ip -n cli route add default via "10.10.$n.2" dev "c$n" table $((100 + n))
	done
	ip -n cli route add default via 10.10.1.2 dev c1
	ip link add r0 netns rtr type veth peer name s0 netns srv
	ip -n rtr addr add 10.10.0.1/24 dev r0
	ip -n srv addr add 10.10.0.2/24 dev s0
	ip -n rtr link set r0 up
	ip -n srv link set s0 up
	ip -n srv route add default via 10.10.0.1
	ip netns exec rtr sysctl -qw net.ipv4.ip_forward=1
	cc_offloads_off cli c1 c2
	cc_offloads_off rtr r0 r1 r2
	cc_offloads_off srv s0
	# the bottleneck: the router's link to the server, both paths' data through it
	# shellcheck disable=SC2086
	ip netns exec rtr tc qdisc replace dev r0 root netem delay "$delay" rate "$rate" limit "$limit" ${CC_SHARED_EXTRA:-}
	ip netns exec srv tc qdisc replace dev s0 root netem delay "$delay" limit 10000
}

cc_mptcp_endpoint() {
	ip -n cli mptcp limits set subflows 1
	ip -n srv mptcp limits set subflows 1
	ip -n cli mptcp endpoint add "$1" dev "$2" subflow
}

cc_iperf() {
	local ns=$1 server=$2 port=$3 secs=$4 cc=$5 wrap="" bind=()
	[ "${6:-}" = mptcp ] && wrap="mptcpize run"
	[ -n "${7:-}" ] && bind=(-B "$7")
	# shellcheck disable=SC2086
	# -O 3: the first 3 s (slow start) are not counted
	ip netns exec "$ns" $wrap iperf3 -c "$server" -p "$port" -t "$secs" -O 3 -C "$cc" "${bind[@]}" -J |
		python3 -c 'import json, sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))'
}
