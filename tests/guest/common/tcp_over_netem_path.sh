#!/usr/bin/env bash
# Plain TCP through one veth path shaped by netem (delay, jitter, loss, rate), IPv4 and
# IPv6, 8 MB each way with an end-to-end hash: the TCP stack must be unaffected by the
# MPTCP dispatch layer, with or without a provider loaded.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
topo_new cli srv
topo_path cli srv 1
topo_shape cli c1 delay 5ms 1ms loss 0.5% rate 200mbit limit 1000
topo_shape srv s1 delay 5ms 1ms loss 0.5% rate 200mbit limit 1000
ip netns exec cli tc qdisc show dev c1 | grep -q netem || fail "netem not installed on the path"
# the path is lossy: one reply out of five is enough
ip netns exec cli ping -c5 -i0.2 -W2 -q "$(topo_addr4 s 1)" >/dev/null || fail "path 1 not reachable"
transfer cli srv "$(topo_addr4 s 1)" 5001 tcp $((8 << 20))
transfer cli srv "$(topo_addr6 s 1)" 5002 tcp $((8 << 20))
# the shaping was really in the way: netem counted the packets it delayed
sent=$(ip netns exec cli tc -s qdisc show dev c1 | awk '/Sent/ {print $4; exit}')
[ "${sent:-0}" -gt 1000 ] || fail "netem on c1 saw only ${sent:-0} packets"
info "netem on c1 carried $sent packets"
