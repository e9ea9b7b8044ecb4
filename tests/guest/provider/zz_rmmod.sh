#!/usr/bin/env bash
# Runs last in the provider suite: rmmod mptcp_rs succeeds with no MPTCP socket open,
# the dispatch layer reports the provider gone, the sysctls and MPTcpExt counters
# disappear from every namespace, and plain TCP keeps working.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
topo_new after
rmmod mptcp_rs || fail "rmmod mptcp_rs failed"
grep -q '^mptcp_rs ' /proc/modules && fail "mptcp_rs still listed"
dmesg | grep -q 'MPTCP: provider mptcp_rs unregistered' || fail "no unregistration message"
[ -e /proc/sys/net/mptcp ] && fail "/proc/sys/net/mptcp left behind"
ip netns exec after test -e /proc/sys/net/mptcp && fail "net.mptcp left behind in a namespace"
grep -q '^MPTcpExt:' /proc/net/netstat && fail "MPTcpExt counters still shown"
ip netns exec after grep -q '^MPTcpExt:' /proc/net/netstat && fail "MPTcpExt counters still shown in a namespace"
dmesg_clean
info "unloaded cleanly"
