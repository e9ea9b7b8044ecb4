#!/usr/bin/env bash
# The kernel tree's own MPTCP selftest pm_netlink.sh (the path manager's netlink API),
# run from $KSRC against the reference kernel: shows the peer suites run in this rig.
# The selftest directory is copied to tmpfs (the host's tree is read-only here) and its
# helper pm_nl_ctl is compiled against the kernel's own uapi headers.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
src="$KSRC/tools/testing/selftests/net"
[ -f "$src/mptcp/pm_netlink.sh" ] || fail "no selftests in $KSRC"
work=/tmp/selftests/net
mkdir -p "$work"
cp -r "$src/mptcp" "$src/lib.sh" "$src/lib" "$work/" 2>/dev/null || cp -r "$src/mptcp" "$src/lib.sh" "$work/"
[ -d "$src/../lib" ] && mkdir -p /tmp/selftests/lib && cp -r "$src/../lib/." /tmp/selftests/lib/ 2>/dev/null
[ -f "$src/../kselftest/ktap_helpers.sh" ] && mkdir -p /tmp/selftests/kselftest && cp "$src/../kselftest/ktap_helpers.sh" /tmp/selftests/kselftest/
gcc -O2 -isystem "$KBUILD/usr/include" -I "$KSRC/tools/include" -o "$work/mptcp/pm_nl_ctl" \
	"$work/mptcp/pm_nl_ctl.c" || fail "cannot build pm_nl_ctl"
cd "$work/mptcp"
out=$(./pm_netlink.sh 2>&1)
rc=$?
echo "$out" | sed 's/^/  /' >&2
[ "$rc" = 0 ] || fail "pm_netlink.sh exited $rc"
n_ok=$(echo "$out" | grep -c '\[ *OK *\]')
n_bad=$(echo "$out" | grep -cE '\[ *FAIL *\]')
[ "$n_ok" -ge 10 ] && [ "$n_bad" = 0 ] || fail "pm_netlink.sh: $n_ok OK, $n_bad FAIL"
info "pm_netlink.sh: $n_ok subtests OK"
