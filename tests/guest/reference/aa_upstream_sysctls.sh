#!/usr/bin/env bash
# Records how upstream Linux's net.mptcp sysctls behave (defaults, accepted and
# rejected writes); tests/check keeps these lines as the reference that the provider
# suite's sysctl test compares mptcp_rs with. Runs first in the reference suite.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
out=$("$MPTCP_RS_REPO/tests/tools/probe_mptcp_sysctls.sh") || fail "probe failed"
n=$(echo "$out" | grep -c '^SYSCTL-PROBE')
[ "$n" -ge 55 ] || fail "only $n probe lines"
# the lines go to the console (stdout of the suite), where tests/check collects them
echo "$out"
info "$n observations of upstream's sysctls"
