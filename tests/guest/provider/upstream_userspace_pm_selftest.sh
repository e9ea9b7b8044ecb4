#!/usr/bin/env bash
# The kernel tree's own MPTCP selftest userspace_pm.sh against mptcp_rs: with
# net.mptcp.pm_type=1 its pm_nl_ctl drives two connections (IPv4, IPv6) by token:
# ADD_ADDR and REMOVE_ADDR both ways (checked through the peer's ANNOUNCED and
# REMOVED events), joins opened and destroyed from either side to announced
# addresses and ports (SUB_ESTABLISHED / SUB_CLOSED events with addresses, ports and
# ids), an IPv4 subflow on the IPv6 connection, MP_PRIO (MPPrioTx/Rx counters), and
# the MP_CAPABLE "C" flag (allow_join_initial_addr_port=0 shows as deny_join_id0 in
# the server's CREATED event). As in the reference suite, the selftest directory is
# copied to tmpfs and its helpers are compiled against the kernel's uapi headers.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
selftest_prepare userspace_pm.sh pm_nl_ctl mptcp_connect
out=$(timeout 600 ./userspace_pm.sh 2>&1)
rc=$?
echo "$out" | sed 's/^/  /' >&2
n_ok=$(echo "$out" | grep -cE '\[ *OK *\]')
n_fail=$(echo "$out" | grep -cE '\[ *FAIL *\]')
n_skip=$(echo "$out" | grep -cE '\[ *SKIP *\]')
info "userspace_pm.sh: $n_ok OK, $n_fail FAIL, $n_skip SKIP (exit $rc)"
# the one case it may skip: the listener events, which it looks for as a symbol of
# the built-in MPTCP in /proc/kallsyms (mptcp_rs's are a module's); pm_events.sh
# checks LISTENER_CREATED/CLOSED instead
other_skip=$(echo "$out" | grep -E '\[ *SKIP *\]' | grep -viE 'listener' | head -n 5)
[ -z "$other_skip" ] || fail "skipped: $other_skip"
[ "$n_fail" = 0 ] || fail "$n_fail subtests failed"
[ "$rc" = 0 ] || fail "userspace_pm.sh exited $rc"
[ "$n_ok" -ge 35 ] || fail "only $n_ok subtests passed"
