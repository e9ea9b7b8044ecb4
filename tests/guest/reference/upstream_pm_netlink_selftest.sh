#!/usr/bin/env bash
# The kernel tree's own MPTCP selftest pm_netlink.sh (the path manager's netlink API),
# run from $KSRC against the reference kernel: shows the peer suites run in this rig.
# The selftest directory is copied to tmpfs (the host's tree is read-only here) and its
# helper pm_nl_ctl is compiled against the kernel's own uapi headers.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
selftest_prepare pm_netlink.sh pm_nl_ctl
out=$(./pm_netlink.sh 2>&1)
rc=$?
echo "$out" | sed 's/^/  /' >&2
[ "$rc" = 0 ] || fail "pm_netlink.sh exited $rc"
n_ok=$(echo "$out" | grep -c '\[ *OK *\]')
n_bad=$(echo "$out" | grep -cE '\[ *FAIL *\]')
[ "$n_ok" -ge 10 ] && [ "$n_bad" = 0 ] || fail "pm_netlink.sh: $n_ok OK, $n_bad FAIL"
info "pm_netlink.sh: $n_ok subtests OK"
