#!/usr/bin/env bash
# The kernel tree's own MPTCP selftest mptcp_join.sh against mptcp_rs, for the
# subsets that must pass whole (the others are run by hand,
# tests/tools/diagnose/upstream_mptcp_join.sh; Documentation/mptcp-rs/testing.rst
# lists their state):
#   -l  link failures: transfers over three or four subflows (one a backup) while
#       server links go down; the data arrives, the backup carries data only once
#       the others died, stale subflows are counted (SubflowStale/SubflowRecover),
#       and mptcp_connect's poll loop never reads EAGAIN after POLLIN;
#   -z  MP_FASTCLOSE both ways;
#   -k  SYN cookies on the server: MP_CAPABLE, and MP_JOIN (the state its third
#       ACK needs is kept in a table at the SYN, as upstream's join_entries);
#   -F  DSS checksum failures (tc pedit): MP_FAIL and the infinite mapping with one
#       subflow, MP_FAIL with a reset once a join exists (the script marks both
#       flaky and would report a failure as "ok ... # IGNORE Flaky": that counts as
#       a failure here);
#   the four tests that change the fullmesh flag of endpoints on live connections
#   (their subflows close, RmSubflow, and open again as the flag says), and
#   "fullmesh 8x8": 63 joins on one connection (limits 64, as upstream's maximum).
# As in the other selftest wrappers, the selftest directory is copied to tmpfs and its
# helpers are compiled against the kernel's uapi headers.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
selftest_prepare mptcp_join.sh pm_nl_ctl mptcp_connect mptcp_sockopt mptcp_inq
run_join() {
	local out rc
	out=$(timeout 900 ./mptcp_join.sh "$@" 2>&1)
	rc=$?
	echo "$out" | grep -E '^(ok|not ok) [0-9]+ - mptcp_join|\[FAIL\]|exit code|read:|write:' | sed 's/^/  /' >&2
	local n_ok n_not
	n_ok=$(echo "$out" | grep -E '^ok [0-9]+ - mptcp_join' | grep -cv '# IGNORE')
	n_not=$(echo "$out" | grep -E '^(not ok [0-9]+ - mptcp_join|ok [0-9]+ - mptcp_join.*# IGNORE)' | grep -cv '# SKIP')
	info "mptcp_join.sh $*: $n_ok ok, $n_not not ok (exit $rc)"
	[ "$n_not" = 0 ] || fail "mptcp_join.sh $*: $n_not tests failed"
	[ "$rc" = 0 ] || fail "mptcp_join.sh $* exited $rc"
	[ "$n_ok" -ge "$expect" ] || fail "mptcp_join.sh $*: only $n_ok tests passed, expected $expect"
}
refs() { awk '$1 == "mptcp_rs" { print $3 }' /proc/modules; }
refs_before=$(refs)
expect=5 run_join -l
expect=2 run_join -z
expect=6 run_join -k
expect=2 run_join -F
expect=5 run_join -m "set fullmesh flag test" "set nofullmesh flag test" \
	"set backup,fullmesh flags test" "set nobackup,nofullmesh flags test" "fullmesh 8x8"
# The subflows of -l whose links went down are orphans in namespaces the script
# deleted: each keeps the module until its next retransmission timer finds the
# namespace gone (TCP closes it then), up to about three minutes after -l. None
# may stay.
for i in $(seq 300); do
	(($(refs) <= refs_before)) && break
	sleep 1
done
(($(refs) <= refs_before)) || fail "mptcp_rs still has $(refs) users 300 s after the tests (before: $refs_before)"
info "module users back to $(refs) (before: $refs_before) after ${i} s"
info "mptcp_join.sh link failure, fastclose, SYN cookie, MP_FAIL, fullmesh-flag and 8x8 subsets pass against mptcp_rs"
