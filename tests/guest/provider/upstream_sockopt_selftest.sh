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
	mine=$(echo "$out" | awk -v n="$name" '$1 == "SOCKOPT-SELFTEST" && substr($0, length($1 $2) + 3) == n {print $2; exit}')
	worse+="
  $name: ${mine:-not run}"
done <"$ref"
if [ -n "$worse" ] && echo "$out" | grep -q '^SOCKOPT-SELFTEST fail sockopt v4$'; then
	# Known difference (socket.rst): our DATA_FIN rides on the subflow's FIN, so when
	# the peer has read EOF its subflow counted the FIN in tcpi_bytes_received, which
	# mptcp_sockopt's last MPTCP_TCPINFO check compares with the bytes read (upstream
	# sends the DATA_FIN on an ACK and the subflow's FIN later). Diagnosis only: the
	# same program with that one comparison tolerating the FIN, to show whether
	# anything else differs. The test still fails.
	diag=/tmp/selftests/sockopt-fin
	mkdir -p "$diag"
	sed 's/ti.ti\[0\].tcpi_bytes_received == r)/(ti.ti[0].tcpi_bytes_received == r || ti.ti[0].tcpi_bytes_received == r + 1))/' \
		"$KSRC/tools/testing/selftests/net/mptcp/mptcp_sockopt.c" >"$diag/mptcp_sockopt.c"
	if grep -q 'r + 1))' "$diag/mptcp_sockopt.c" &&
		gcc -O2 -isystem "$KBUILD/usr/include" -I "$KSRC/tools/include" -o "$diag/mptcp_sockopt" \
			"$diag/mptcp_sockopt.c" 2>/dev/null; then
		ip netns add sockopt-fin && ip -n sockopt-fin link set lo up
		for a in "" -6; do
			ip netns exec sockopt-fin "$diag/mptcp_sockopt" $a >/dev/null 2>&1
			info "diagnosis: mptcp_sockopt $a with the subflow FIN tolerated: exit $?"
		done
		ip netns del sockopt-fin
	fi
fi
[ -z "$worse" ] || fail "subtests upstream passes and mptcp_rs does not:$worse"
[ "$n_fail" = 0 ] || fail "$n_fail subtests failed"
[ "$n_ok" -ge 1 ] || fail "no subtest passed"
dmesg_clean
