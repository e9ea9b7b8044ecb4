#!/usr/bin/env bash
# The kernel tree's own MPTCP selftest pm_netlink.sh (the path manager's netlink API:
# endpoints, ids, limits, flags) against mptcp_rs, run twice: with its helper
# pm_nl_ctl and with iproute2's `ip mptcp` (-i). As in the reference suite, the
# selftest directory is copied to tmpfs and pm_nl_ctl is compiled against the kernel's
# uapi headers. SELFTESTS_MPTCP_LIB_EXPECT_ALL_FEATURES=1: a feature the selftest
# would skip as missing (default limits, fullmesh) is a failure here.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
selftest_prepare pm_netlink.sh pm_nl_ctl
export SELFTESTS_MPTCP_LIB_EXPECT_ALL_FEATURES=1
total_ok=0
for mode in pm_nl_ctl ip; do
	args=()
	[ "$mode" = ip ] && args=(-i)
	out=$(./pm_netlink.sh "${args[@]}" 2>&1)
	rc=$?
	echo "$out" | sed "s/^/  [$mode] /" >&2
	n_ok=$(echo "$out" | grep -c '\[ *OK *\]')
	n_bad=$(echo "$out" | grep -cE '\[ *FAIL *\]')
	n_skip=$(echo "$out" | grep -cE '\[ *SKIP *\]')
	info "pm_netlink.sh ($mode): $n_ok OK, $n_bad FAIL, $n_skip SKIP (exit $rc)"
	[ "$rc" = 0 ] && [ "$n_ok" -ge 20 ] && [ "$n_bad" = 0 ] && [ "$n_skip" = 0 ] ||
		fail "pm_netlink.sh ($mode): $n_ok OK, $n_bad FAIL, $n_skip SKIP, exit $rc"
	total_ok=$((total_ok + n_ok))
done
info "pm_netlink.sh: $total_ok subtests OK in both modes"
