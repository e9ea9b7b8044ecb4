#!/usr/bin/env bash
# An unchanged TCP program (iperf3, which has no MPTCP option in this version) run
# under mptcpize on both ends uses MPTCP through mptcp_rs: the counters of both
# namespaces show the MP_CAPABLE handshake, and data flowed.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
command -v mptcpize >/dev/null || fail "mptcpize not installed (scripts/setup-deps)"
topo_new cli srv
topo_path cli srv 1
before_c=$(mib cli MPTcpExtMPCapableSYNTX) before_s=$(mib srv MPTcpExtMPCapableSYNRX)
ip netns exec srv mptcpize run iperf3 -s -1 -p 5201 >/tmp/iperf-s.log 2>&1 &
spid=$!
for i in $(seq 50); do ip netns exec srv ss -ltn | grep -q ':5201' && break; sleep 0.1; done
out=$(ip netns exec cli mptcpize run iperf3 -c "$(topo_addr4 s 1)" -p 5201 -t 2 -J 2>&1) ||
	fail "iperf3 under mptcpize failed: $(echo "$out" | tail -n 5)"
wait "$spid"
bytes=$(echo "$out" | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bytes"]))')
[ "$bytes" -gt 1000000 ] || fail "iperf3 moved only $bytes bytes"
after_c=$(mib cli MPTcpExtMPCapableSYNTX) after_s=$(mib srv MPTcpExtMPCapableSYNRX)
# iperf3 opens a control connection and a data connection: both MPTCP
((after_c - before_c >= 2)) || fail "MPCapableSYNTX moved by $((after_c - before_c)) in the client namespace"
((after_s - before_s >= 2)) || fail "MPCapableSYNRX moved by $((after_s - before_s)) in the server namespace"
mib_at_least cli MPTcpExtMPCapableSYNACKRX 2
mib_at_least srv MPTcpExtMPCapableACKRX 2
info "iperf3 under mptcpize: $bytes bytes over MPTCP, $((after_c - before_c)) MPTCP connections"
dmesg_clean
