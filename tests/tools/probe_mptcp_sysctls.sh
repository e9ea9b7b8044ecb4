#!/usr/bin/env bash
# Probe the net.mptcp sysctls mptcp_rs implements, in a fresh network namespace:
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
