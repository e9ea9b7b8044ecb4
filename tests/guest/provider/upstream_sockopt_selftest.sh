#!/usr/bin/env bash
# The kernel tree's own MPTCP selftest mptcp_sockopt.sh against mptcp_rs: transfers
# between namespaces with SO_MARK (iptables drops unmarked packets), SO_TIMESTAMPNS and
# TCP_INQ control messages on every read, IPv4 and IPv6; mptcp_sockopt (MPTCP_INFO,
# MPTCP_TCPINFO, MPTCP_SUBFLOW_ADDRS, MPTCP_FULL_INFO with their size negotiation, IP_TOS);
# mptcp_inq (TCP_INQ cmsgs, SIOCINQ/SIOCOUTQ/SIOCOUTQNSD, against TCP peers too).
# Every subtest is reported. Compared with what the reference suite recorded on
# upstream in this run (build/check/reference-sockopt.txt): any subtest passed there and
# not here fails the test, as does a failed subtest.
#
# The selftest looks for upstream's function names mptcp_diag_fill_info and
# mptcp_ioctl in /proc/kallsyms to decide whether to run its SOL_MPTCP and TCP_INQ
# subtests; a module has other names, so the runner declares those two features
# (tests/tools/sockopt_selftest.sh --feature) instead of letting them skip.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
ref="$MPTCP_RS_REPO/build/check/reference-sockopt.txt"
[ -s "$ref" ] || fail "no reference recording at $ref (tests/check runs the reference suite first)"
out=$("$MPTCP_RS_REPO/tests/tools/sockopt_selftest.sh" --feature mptcp_diag_fill_info \
	--feature mptcp_ioctl) || fail "cannot run mptcp_sockopt.sh"
echo "$out" | grep '^SOCKOPT-SELFTEST' | sed 's/^/  /' >&2
n_ok=$(echo "$out" | grep -c '^SOCKOPT-SELFTEST ok ')
n_fail=$(echo "$out" | grep -c '^SOCKOPT-SELFTEST fail ')
n_skip=$(echo "$out" | grep -c '^SOCKOPT-SELFTEST skip ')
info "mptcp_sockopt.sh on mptcp_rs: $n_ok passed, $n_fail failed, $n_skip skipped ($(echo "$out" | sed -n 's/^SOCKOPT-SELFTEST exit /exit /p'))"
info "on upstream: $(grep -c '^SOCKOPT-SELFTEST ok ' "$ref") passed, $(grep -c '^SOCKOPT-SELFTEST fail ' "$ref") failed, $(grep -c '^SOCKOPT-SELFTEST skip ' "$ref") skipped"
worse=""
while read -r _ res name; do
	[ "$res" = ok ] || continue
	echo "$out" | grep -qxF "SOCKOPT-SELFTEST ok $name" && continue
	mine=$(echo "$out" | grep -F " $name" | sed -n "s/^SOCKOPT-SELFTEST \([a-z]*\) .*/\1/p" | head -n 1)
	worse+="
  $name: ${mine:-not run}"
done <"$ref"
[ -z "$worse" ] || fail "subtests upstream passes and mptcp_rs does not:$worse"
[ "$n_fail" = 0 ] || fail "$n_fail subtests failed"
[ "$n_ok" -ge 1 ] || fail "no subtest passed"
dmesg_clean
