#!/usr/bin/env bash
# The kernel tree's own MPTCP selftest mptcp_sockopt.sh on the reference kernel:
# records which of its subtests upstream passes here (transfers with SO_MARK on every
# packet and the TIMESTAMPNS/TCP_INQ control messages, IPv4 and IPv6; mptcp_sockopt's
# SOL_MPTCP getsockopts; mptcp_inq's TCP_INQ cmsgs and ioctls). tests/check keeps the
# "SOCKOPT-SELFTEST" lines (build/check/reference-sockopt.txt); the provider suite's
# upstream_sockopt_selftest.sh fails on any subtest passed here that mptcp_rs fails.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
out=$("$MPTCP_RS_REPO/tests/tools/sockopt_selftest.sh") || fail "cannot run mptcp_sockopt.sh"
n_ok=$(echo "$out" | grep -c '^SOCKOPT-SELFTEST ok ')
n_fail=$(echo "$out" | grep -c '^SOCKOPT-SELFTEST fail ')
n_skip=$(echo "$out" | grep -c '^SOCKOPT-SELFTEST skip ')
# the lines go to the console (stdout of the suite), where tests/check collects them
echo "$out" | grep -v '^SOCKOPT-SELFTEST exit'
info "mptcp_sockopt.sh on upstream: $n_ok passed, $n_fail failed, $n_skip skipped ($(echo "$out" | sed -n 's/^SOCKOPT-SELFTEST exit /exit /p'))"
[ "$n_ok" -ge 1 ] || fail "no subtest passed on the reference kernel"
