#!/usr/bin/env bash
# The kernel tree's own MPTCP selftest mptcp_connect.sh, run from $KSRC against
# mptcp_rs: transfers between namespaces through netem (random delay, loss,
# reordering, offloads), MPTCP and TCP on either end, IPv4 and IPv6. Every subtest is
# reported; the transfer subtests must all pass. The selftest directory is copied to
# tmpfs and its mptcp_connect helper compiled against the kernel's uapi headers.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
src="$KSRC/tools/testing/selftests/net"
[ -f "$src/mptcp/mptcp_connect.sh" ] || fail "no selftests in $KSRC"
work=/tmp/selftests/net
mkdir -p "$work"
cp -r "$src/mptcp" "$src/lib.sh" "$src/lib" "$work/" 2>/dev/null || cp -r "$src/mptcp" "$src/lib.sh" "$work/"
[ -d "$src/../lib" ] && mkdir -p /tmp/selftests/lib && cp -r "$src/../lib/." /tmp/selftests/lib/ 2>/dev/null
[ -f "$src/../kselftest/ktap_helpers.sh" ] && mkdir -p /tmp/selftests/kselftest &&
	cp "$src/../kselftest/ktap_helpers.sh" /tmp/selftests/kselftest/
gcc -O2 -isystem "$KBUILD/usr/include" -I "$KSRC/tools/include" -o "$work/mptcp/mptcp_connect" \
	"$work/mptcp/mptcp_connect.c" || fail "cannot build mptcp_connect"
cd "$work/mptcp"
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
