#!/usr/bin/env bash
# Runs last in the provider suite: rmmod mptcp_rs succeeds with no MPTCP socket open,
# the dispatch layer reports the provider gone, the sysctls and MPTcpExt counters
# disappear from every namespace, and plain TCP keeps working.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
topo_new after
# an open MPTCP socket pins the module
python3 -c 'import socket, time; s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262); print("open", flush=True); time.sleep(30)' >/tmp/holder.out &
holder=$!
for i in $(seq 50); do grep -q open /tmp/holder.out 2>/dev/null && break; sleep 0.1; done
grep -q open /tmp/holder.out || fail "could not open an MPTCP socket"
rmmod mptcp_rs 2>/dev/null && fail "rmmod mptcp_rs succeeded with an MPTCP socket open"
info "rmmod refused while an MPTCP socket is open"
kill "$holder"; wait "$holder" 2>/dev/null
# subflows of earlier tests finish their FIN exchanges as orphans (each pins the module)
for i in $(seq 100); do
	rmmod_cc
	rmmod mptcp_rs 2>/dev/null && break
	sleep 0.2
done
grep -q '^mptcp_rs ' /proc/modules && fail "rmmod mptcp_rs failed: $(rmmod mptcp_rs 2>&1)"
grep -q '^mptcp_rs ' /proc/modules && fail "mptcp_rs still listed"
dmesg | grep -q 'MPTCP: provider mptcp_rs unregistered' || fail "no unregistration message"
[ -e /proc/sys/net/mptcp ] && fail "/proc/sys/net/mptcp left behind"
ip netns exec after test -e /proc/sys/net/mptcp && fail "net.mptcp left behind in a namespace"
grep -q '^MPTcpExt:' /proc/net/netstat && fail "MPTcpExt counters still shown"
ip netns exec after grep -q '^MPTcpExt:' /proc/net/netstat && fail "MPTcpExt counters still shown in a namespace"
dmesg_clean
info "unloaded cleanly"
