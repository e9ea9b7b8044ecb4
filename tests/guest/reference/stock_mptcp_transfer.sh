#!/usr/bin/env bash
# The reference kernel (same source and config, stock built-in MPTCP) is a working
# MPTCP peer in this rig: an MPTCP transfer through a netem-shaped path completes
# with matching hashes, and upstream's MPTcpExt counters prove MP_CAPABLE was used.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
grep -q CONFIG_MPTCP_PLUGGABLE=y "$KBUILD/.config" && fail "this is not the reference kernel"
[ "$(cat /proc/sys/net/mptcp/enabled)" = 1 ] || fail "stock MPTCP not enabled"
topo_new cli srv
topo_path cli srv 1
topo_shape cli c1 delay 5ms loss 0.5% rate 200mbit limit 1000
topo_shape srv s1 delay 5ms loss 0.5% rate 200mbit limit 1000
transfer cli srv "$(topo_addr4 s 1)" 6001 mptcp $((4 << 20))
transfer cli srv "$(topo_addr6 s 1)" 6002 mptcp $((4 << 20))
syn_rx=$(mib srv MPTcpExtMPCapableSYNRX)
synack_rx=$(mib cli MPTcpExtMPCapableSYNACKRX)
info "server MPCapableSYNRX=$syn_rx client MPCapableSYNACKRX=$synack_rx"
[ "${syn_rx:-0}" -ge 2 ] || fail "server saw ${syn_rx:-0} MP_CAPABLE SYNs, expected 2"
[ "${synack_rx:-0}" -ge 2 ] || fail "client saw ${synack_rx:-0} MP_CAPABLE SYN/ACKs, expected 2"
