#!/usr/bin/env bash
# The kernel tree's own MPTCP selftest mptcp_connect.sh, run from $KSRC against
# mptcp_rs: transfers between namespaces through netem (random delay, loss,
# reordering, offloads), MPTCP and TCP on either end, IPv4 and IPv6. Every subtest is
# reported; the transfer subtests must all pass. The selftest directory is copied to
# tmpfs and its mptcp_connect helper compiled against the kernel's uapi headers.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
selftest_prepare mptcp_connect.sh mptcp_connect
# the selftest's own random choices, but a fixed transfer size keeps TCG runs short
out=$(timeout 1200 ./mptcp_connect.sh -f "${MPTCP_RS_SELFTEST_BYTES:-1000000}" 2>&1)
rc=$?
echo "$out" | sed 's/^/  /' >&2
n_ok=$(echo "$out" | grep -cE '\[ *OK *\]')
n_fail=$(echo "$out" | grep -cE '\[ *FAIL *\]')
n_skip=$(echo "$out" | grep -cE '\[ *SKIP *\]')
info "mptcp_connect.sh: $n_ok OK, $n_fail FAIL, $n_skip SKIP (exit $rc)"
# transfer subtests look like "ns1 MPTCP -> ns2 (10.0.1.2:10001) MPTCP ..."
bad=$(echo "$out" | grep -E '(MPTCP|TCP) +-> .*\[ *FAIL *\]' | head -n 20)
[ -z "$bad" ] || fail "transfer subtests failed:
$bad"
[ "$n_ok" -ge 20 ] || fail "only $n_ok subtests passed"
