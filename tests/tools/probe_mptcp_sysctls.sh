#!/usr/bin/env bash
# Probe the net.mptcp sysctls mptcp_rs implements (the path manager's included), in a
# fresh network namespace:
# default value, then for each probe write whether it was accepted and the value
# read back. Prints one "SYSCTL-PROBE ..." line per observation, so the output of
# upstream Linux and of mptcp_rs can be compared line by line.
set -u
ns=sysctl-probe-$$
ip netns add "$ns" || exit 1
trap 'ip netns del "$ns"' EXIT
probe() { # NAME VALUES...
	local name=$1 v
	shift
	echo "SYSCTL-PROBE $name default=$(ip netns exec "$ns" sysctl -n "net.mptcp.$name")"
	for v in "$@"; do
		if ip netns exec "$ns" sysctl -qw "net.mptcp.$name=$v" 2>/dev/null; then r=ok; else r=rejected; fi
		echo "SYSCTL-PROBE $name write=$v $r now=$(ip netns exec "$ns" sysctl -n "net.mptcp.$name")"
	done
}
probe enabled 0 1 2 -1
probe checksum_enabled 1 0 2
probe syn_retrans_before_tcp_fallback 0 255 256 7
probe close_timeout 0 30 120
# the path manager's sysctls (only stored by mptcp_rs until it has joins)
probe add_addr_timeout 0 30 120 -1
probe allow_join_initial_addr_port 0 1 2
probe stale_loss_cnt 0 1 4294967295 4294967296 -1 4
probe add_addr_v6_port_drop_ts 0 1 2
probe pm_type 1 0 2 -1
probe path_manager userspace kernel foo
probe scheduler foo default
# pm_type and path_manager name the same setting
for v in 1 0; do
	ip netns exec "$ns" sysctl -qw "net.mptcp.pm_type=$v"
	echo "SYSCTL-PROBE pm_type=$v path_manager=$(ip netns exec "$ns" sysctl -n net.mptcp.path_manager)"
done
for v in userspace kernel; do
	ip netns exec "$ns" sysctl -qw "net.mptcp.path_manager=$v"
	echo "SYSCTL-PROBE path_manager=$v pm_type=$(ip netns exec "$ns" sysctl -n net.mptcp.pm_type)"
done
# read-only lists
for name in available_path_managers available_schedulers; do
	echo "SYSCTL-PROBE $name value=$(ip netns exec "$ns" sysctl -n "net.mptcp.$name")"
	if ip netns exec "$ns" sysctl -qw "net.mptcp.$name=x" 2>/dev/null; then r=ok; else r=rejected; fi
	echo "SYSCTL-PROBE $name write=x $r"
done
