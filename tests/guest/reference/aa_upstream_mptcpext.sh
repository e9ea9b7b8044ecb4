#!/usr/bin/env bash
# Records upstream Linux's MPTcpExt counters as /proc/net/netstat shows them in a fresh
# namespace (names in order, place in the file, values, the exact bytes); tests/check
# keeps these lines as the reference the provider suite compares mptcp_rs with.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
out=$("$MPTCP_RS_REPO/tests/tools/probe_mptcpext.sh") || fail "probe failed"
n=$(echo "$out" | grep -c '^MPTCPEXT-PROBE name ')
[ "$n" -ge 70 ] || fail "only $n MPTcpExt counters: $(echo "$out" | head -n 3)"
echo "$out" | grep -qx 'MPTCPEXT-PROBE values [0-9]* nonzero 0' || fail "a fresh namespace has non-zero MPTcpExt counters"
# the lines go to the console (stdout of the suite), where tests/check collects them
echo "$out"
info "$n MPTcpExt counters recorded"
