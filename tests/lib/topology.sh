# Network topologies for guest tests: namespaces joined by veth pairs, each pair a
# "path" with its own addresses and tc shaping. Sourced by tests running inside a
# guest (scripts/vm); nothing here touches a real network.
#
#   topo_new CLIENT SERVER           two fresh namespaces, loopback up
#   topo_path CLIENT SERVER N        veth pair number N between them:
#                                      client c$N 192.0.2.(N*4+1) / 2001:db8:N::1
#                                      server s$N 192.0.2.(N*4+2) / 2001:db8:N::2
#                                    with source routing: traffic from a path's address
#                                    leaves through that path's device, whatever
#                                    the destination (what multipath needs)
#   topo_shape NS DEV NETEM...       replace DEV's root qdisc by netem with those args
#   topo_addr4 SIDE N / topo_addr6 SIDE N    the address of side c|s on path N
#   topo_cleanup                     delete every namespace created here
#   topo_two_paths NETEM...          cli and srv on two shaped paths, the client with
#                                    a `subflow` endpoint on path 2 (see below)
# shellcheck shell=bash

TOPO_NAMESPACES=()

topo_new() {
	local ns
	for ns in "$@"; do
		ip netns del "$ns" 2>/dev/null || true
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		# no IPv6 duplicate address detection delay in tests
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
		TOPO_NAMESPACES+=("$ns")
	done
}

topo_addr4() { echo "192.0.2.$(($2 * 4 + $([ "$1" = c ] && echo 1 || echo 2)))"; }
topo_addr6() { echo "2001:db8:$2::$([ "$1" = c ] && echo 1 || echo 2)"; }

topo_path() {
	local client=$1 server=$2 n=$3
	ip link add "c$n" netns "$client" type veth peer name "s$n" netns "$server"
	ip -n "$client" addr add "$(topo_addr4 c "$n")/30" dev "c$n"
	ip -n "$server" addr add "$(topo_addr4 s "$n")/30" dev "s$n"
	ip -n "$client" addr add "$(topo_addr6 c "$n")/64" dev "c$n" nodad
	ip -n "$server" addr add "$(topo_addr6 s "$n")/64" dev "s$n" nodad
	ip -n "$client" link set "c$n" up
	ip -n "$server" link set "s$n" up
	local ns dev side
	for side in c s; do
		if [ $side = c ]; then ns=$client dev=c$n; else ns=$server dev=s$n; fi
		ip -n "$ns" rule add from "$(topo_addr4 $side "$n")" table $((100 + n))
		ip -n "$ns" route add default dev "$dev" table $((100 + n))
		ip -n "$ns" -6 rule add from "$(topo_addr6 $side "$n")" table $((100 + n))
		ip -n "$ns" -6 route add default dev "$dev" table $((100 + n))
	done
}

topo_shape() {
	local ns=$1 dev=$2
	shift 2
	ip netns exec "$ns" tc qdisc replace dev "$dev" root netem "$@"
}

topo_cleanup() {
	local ns
	for ns in "${TOPO_NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
	TOPO_NAMESPACES=()
}

# topo_two_paths NETEM...: namespaces cli and srv joined by paths 1 and 2, every
# device shaped with netem NETEM (both ends), the server answering the client's path-2
# address on path 2, limits of one extra subflow at both ends and a `subflow`
# endpoint on the client's path-2 address: an MPTCP connection to the server's
# path-1 address gets a second subflow over path 2.
topo_two_paths() {
	local n
	topo_new cli srv
	topo_path cli srv 1
	topo_path cli srv 2
	for n in 1 2; do
		topo_shape cli "c$n" "$@"
		topo_shape srv "s$n" "$@"
	done
	ip -n srv rule add to "$(topo_addr4 c 2)" table 102 pref 100
	ip -n cli mptcp limits set subflows 1
	ip -n srv mptcp limits set subflows 1
	ip -n cli mptcp endpoint add "$(topo_addr4 c 2)" dev c2 subflow
}
