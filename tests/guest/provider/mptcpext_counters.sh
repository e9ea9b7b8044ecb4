#!/usr/bin/env bash
# mptcp_rs's MPTcpExt counters in /proc/net/netstat: the same names in the same order,
# in the same place and byte for byte the same lines in a fresh namespace as upstream
# Linux's, recorded by the reference suite in this run
# (build/check/reference-mptcpext.txt); all zero in the initial namespace and in new
# ones, one block per namespace (also for namespaces that existed before the module
# loaded), moved only by the namespace's own connections; every counter listed by
# nstat.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap 'topo_cleanup' EXIT
ref="$MPTCP_RS_REPO/build/check/reference-mptcpext.txt"
[ -s "$ref" ] || fail "no reference recording at $ref (tests/check runs the reference suite first)"
grep -q '^mptcp_rs ' /proc/modules || fail "mptcp_rs not loaded"

mine=$("$MPTCP_RS_REPO/tests/tools/probe_mptcpext.sh") || fail "probe failed"
if ! d=$(diff "$ref" <(echo "$mine" | grep '^MPTCPEXT-PROBE')); then
	fail "differences from upstream (< upstream, > mptcp_rs):
$d"
fi
n=$(grep -c '^MPTCPEXT-PROBE name ' "$ref")

# values: one per name, all zero where no MPTCP socket ever existed
values_ok() { # [NS]: the MPTcpExt values line (of NS, else of the initial namespace) is n zeros
	${1:+ip netns exec "$1"} awk -v n="$n" '/^MPTcpExt:/ && ++k == 2 {
		ok = (NF - 1 == n)
		for (i = 2; i <= NF; i++) if ($i != "0") ok = 0 }
		END { exit !ok }' /proc/net/netstat
}
values_ok || fail "initial namespace: MPTcpExt values are not $n zeros"

# nstat (iproute2) parses them: every counter, in the initial namespace and a new one
topo_new fresh1 fresh2
for ns in "" fresh1; do
	listed=$(${ns:+ip netns exec $ns} nstat -saz | awk '$1 ~ /^MPTcpExt/ { print $1 " " $2 }')
	echo "$listed" | grep -qx 'MPTcpExtMPCapableSYNTX 0' || fail "nstat -az ${ns:+in $ns }does not list MPTcpExtMPCapableSYNTX 0"
	[ "$(echo "$listed" | grep -c ' 0$')" = "$n" ] || fail "nstat -az ${ns:+in $ns }lists $(echo "$listed" | grep -c .) MPTcpExt counters, not $n zeros"
done

# per namespace: each new namespace starts at zero with a block of its own
for ns in fresh1 fresh2; do values_ok $ns || fail "$ns: MPTcpExt values are not $n zeros"; done
# namespaces that predate the module get counters when it loads, lose them when it goes
ko="$MPTCP_RS_REPO/build/$MPTCP_RS_FLAVOUR/mptcp_rs.ko"
# subflows of earlier tests may still finish their FIN exchanges as orphans (each
# pins the module for that long); the coupled congestion controls use it and go first
for i in $(seq 100); do
	rmmod_cc
	rmmod mptcp_rs 2>/dev/null && break
	sleep 0.2
done
grep -q '^mptcp_rs ' /proc/modules && fail "rmmod mptcp_rs: $(rmmod mptcp_rs 2>&1)"
ip netns exec fresh1 grep -q '^MPTcpExt:' /proc/net/netstat && fail "MPTcpExt still shown after rmmod"
topo_new before
insmod "$ko" || fail "insmod $ko"
for ns in before fresh1 fresh2; do values_ok $ns || fail "after reload, $ns: MPTcpExt values are not $n zeros"; done
topo_new after
values_ok after || fail "after reload, a new namespace: MPTcpExt values are not $n zeros"

# per namespace, counting: an MPTCP connection in one namespace (to a plain TCP
# listener, so it falls back) moves that namespace's counters and no other's
topo_new count other
ip netns exec count python3 - <<'PY' || fail "MPTCP connection in namespace count failed"
import socket
l = socket.socket()
l.bind(("127.0.0.1", 7100)); l.listen(1)
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
c.settimeout(10)
c.connect(l.getsockname())
a, _ = l.accept()
c.sendall(b"x")
assert a.recv(1) == b"x"
c.close(); a.close(); l.close()
PY
syn_tx=$(mib count MPTcpExtMPCapableSYNTX)
[ "${syn_tx:-0}" -ge 1 ] || fail "MPCapableSYNTX is ${syn_tx:-empty} in the namespace that connected"
values_ok other || fail "a connection in namespace count moved the counters of namespace other"
values_ok || fail "a connection in namespace count moved the counters of the initial namespace"
dmesg_clean
info "$n counters as upstream's (names, order, bytes); per namespace (MPCapableSYNTX=$syn_tx where a connection was made, zeros elsewhere); nstat lists them"
