#!/usr/bin/env bash
# Joins to a local address the connection did not announce (in-kernel path manager at
# the server, mptcp_rs at both ends, two 10 Mbit/s paths). The client's userspace path
# manager (pm_nl_ctl csf) opens a subflow from its path-2 address to the server's
# path-2 address, which the server never announced:
#   1. the server has an endpoint for that address with no flags (id 7): the join is
#      taken at once with address id 7 (the client's SUB_ESTABLISHED says rem_id 7),
#      and path 2 carries a share of the transfer;
#   2. with that endpoint deleted, no endpoint has the address: as upstream's
#      mptcp_pm_nl_get_local_id(), the server makes an "implicit" endpoint for it
#      (`ip mptcp endpoint show` lists it) and the join gets its id. mptcp_rs makes it
#      in process context, so the join's first SYN is dropped and a later one taken.
# Neither join is refused (MPJoinRejected stays 0 at the server).
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
tools=/tmp/join_implicit
trap pm_cleanup EXIT
pm_tools "$tools"
bytes=$((4 << 20))
two_paths_10mbit cli srv
c2=$(topo_addr4 c 2) s1=$(topo_addr4 s 1) s2=$(topo_addr4 s 2)
ip netns exec cli sysctl -qw net.mptcp.path_manager=userspace
ip -n srv mptcp limits set subflows 2
pm_events cli
sleep 0.5

# join_to_s2 PORT: a transfer to s1:PORT whose connection gets a subflow c2 -> s2;
# prints the client's SUB_ESTABLISHED event of it
join_to_s2() {
	local port=$1 rx0 rx ev
	: >"$tools/cli.ev"
	(
		tok=$(pm_token cli) || exit 1
		pm cli csf lip "$c2" lid 5 rip "$s2" rport "$port" token "$tok"
	) 2>"$tools/csf.err" &
	local csf=$!
	rx0=$(ip netns exec srv cat /sys/class/net/s2/statistics/rx_bytes)
	XFER_OPTS="--send-after 4" transfer cli srv "$s1" "$port" mptcp "$bytes"
	wait "$csf" || fail "SUBFLOW_CREATE to $s2 failed: $(cat "$tools/csf.err")"
	rx=$(($(ip netns exec srv cat /sys/class/net/s2/statistics/rx_bytes) - rx0))
	ev=$(grep '^type:10,' "$tools/cli.ev" | head -n 1)
	[ -n "$ev" ] || fail "port $port: no SUB_ESTABLISHED at the client (join to $s2 refused?); server MPJoinRejected $(mib srv MPTcpExtMPJoinRejected)"
	info "port $port: path 2 at the server received $rx bytes; client SUB_ESTABLISHED: $ev"
	((rx > bytes / 10)) || fail "port $port: path 2 carried too little: $rx bytes"
	for want in "saddr4:$c2" "daddr4:$s2" "loc_id:5"; do
		[[ ",$ev," == *",$want,"* ]] || fail "SUB_ESTABLISHED lacks $want: $ev"
	done
	echo "$ev"
}

# 1. an endpoint without flags has the address: its id
ip -n srv mptcp endpoint add "$s2" id 7
ev=$(join_to_s2 6301) || exit 1
[[ ",$ev," == *",rem_id:7,"* ]] || fail "the join to $s2 did not get the endpoint's id 7: $ev"
mib_at_least srv MPTcpExtMPJoinAckRx 1

# 2. no endpoint has it: an implicit one is made
ip -n srv mptcp endpoint delete id 7
[ -z "$(ip -n srv mptcp endpoint show)" ] || fail "endpoints left: $(ip -n srv mptcp endpoint show)"
syn0=$(mib srv MPTcpExtMPJoinSynRx)
ev=$(join_to_s2 6302) || exit 1
show=$(ip -n srv mptcp endpoint show)
info "server endpoints after the join: $show"
# iproute2 names the flag "implicit", or shows it as rawflags (0x10) when it predates it
id=$(echo "$show" | awk -v a="$s2" '$1 == a {
	imp = / implicit( |$)/
	for (i = 1; i < NF; i++) {
		if ($i == "id") id = $(i + 1)
		if ($i == "rawflags" && int(sprintf("%d", "0x" $(i + 1))) % 32 >= 16) imp = 1
	}
	if (imp) print id }')
[ -n "$id" ] || fail "no implicit endpoint for $s2 at the server: $show"
[[ ",$ev," == *",rem_id:$id,"* ]] || fail "the join did not get the implicit endpoint's id $id: $ev"
syns=$(($(mib srv MPTcpExtMPJoinSynRx) - syn0))
info "join SYNs received for it: $syns (the first one dropped while the endpoint was made)"
((syns >= 2)) || fail "only $syns join SYN: the first should have been dropped"
v=$(mib srv MPTcpExtMPJoinRejected)
[ "${v:-0}" = 0 ] || fail "MPJoinRejected at the server is $v"
dmesg_clean
