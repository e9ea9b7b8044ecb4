#!/usr/bin/env bash
# mptcp_rs is loaded (scripts/vm --load mptcp_rs): it registered with the dispatch
# layer, pins nothing it should not, and created net.mptcp.enabled in every network
# namespace, each with its own value, with upstream's range check.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
grep -q '^mptcp_rs ' /proc/modules || fail "mptcp_rs not loaded"
dmesg | grep -q 'MPTCP: provider mptcp_rs registered' || fail "no registration message from the dispatch layer"
# connections of earlier tests may still be finishing (orphaned subflows' FIN
# exchanges, a close lingering up to net.mptcp.close_timeout, 60 s): each pins the
# module until it is done, then nothing may be left (the coupled congestion
# controls, loaded by earlier tests, hold a reference each: they go first)
for i in $(seq 90); do
	rmmod_cc
	refs=$(awk '$1 == "mptcp_rs" {print $3}' /proc/modules)
	[ "$refs" = 0 ] && break
	sleep 1
done
[ "$refs" = 0 ] || fail "mptcp_rs has $refs users with no MPTCP socket open (90 s after the last test)"

[ "$(cat /proc/sys/net/mptcp/enabled)" = 1 ] || fail "net.mptcp.enabled is not 1 in the initial namespace"
topo_new nsa nsb
for ns in nsa nsb; do
	[ "$(ip netns exec $ns sysctl -n net.mptcp.enabled)" = 1 ] || fail "net.mptcp.enabled is not 1 in $ns"
done
ip netns exec nsa sysctl -qw net.mptcp.enabled=0 || fail "cannot write net.mptcp.enabled"
[ "$(ip netns exec nsa sysctl -n net.mptcp.enabled)" = 0 ] || fail "write did not stick"
[ "$(ip netns exec nsb sysctl -n net.mptcp.enabled)" = 1 ] || fail "namespaces share the value"
[ "$(cat /proc/sys/net/mptcp/enabled)" = 1 ] || fail "initial namespace changed"
if ip netns exec nsb sysctl -qw net.mptcp.enabled=2 2>/dev/null; then
	fail "net.mptcp.enabled accepted 2"
fi
[ "$(ip netns exec nsb sysctl -n net.mptcp.enabled)" = 1 ] || fail "rejected write changed the value"
info "registered; net.mptcp.enabled per namespace with range 0..1"
