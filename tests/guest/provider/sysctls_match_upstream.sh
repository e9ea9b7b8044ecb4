#!/usr/bin/env bash
# mptcp_rs's net.mptcp sysctls behave as upstream Linux's: the same defaults and the
# same accepted and rejected writes, compared with what the reference suite recorded
# on the reference kernel in this run (build/check/reference-sysctls.txt). One
# deliberate difference: mptcp_rs has two schedulers more, so its
# available_schedulers must be upstream's list followed by " roundrobin redundant"
# (and both names are accepted by net.mptcp.scheduler).
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
ref="$MPTCP_RS_REPO/build/check/reference-sysctls.txt"
[ -s "$ref" ] || fail "no reference recording at $ref (tests/check runs the reference suite first)"
mine=$("$MPTCP_RS_REPO/tests/tools/probe_mptcp_sysctls.sh") || fail "probe failed"
extra=" roundrobin redundant"
up=$(sed -n 's/^SYSCTL-PROBE available_schedulers value=//p' "$ref")
ours=$(echo "$mine" | sed -n 's/^SYSCTL-PROBE available_schedulers value=//p')
[ "$ours" = "$up$extra" ] || fail "available_schedulers: '$ours', expected upstream's '$up' then '$extra'"
mine=$(echo "$mine" | sed "s/^\(SYSCTL-PROBE available_schedulers value=.*\)$extra\$/\1/")
for s in roundrobin redundant default; do
	ip netns add sched-$$ && ip netns exec sched-$$ sysctl -qw net.mptcp.scheduler=$s &&
		[ "$(ip netns exec sched-$$ sysctl -n net.mptcp.scheduler)" = $s ] ||
		{ ip netns del sched-$$ 2>/dev/null; fail "net.mptcp.scheduler=$s refused"; }
	ip netns del sched-$$
done
if ! d=$(diff <(sort "$ref") <(echo "$mine" | grep '^SYSCTL-PROBE' | sort)); then
	fail "differences from upstream (< upstream, > mptcp_rs):
$d"
fi
info "$(wc -l <"$ref") observations identical to upstream's"
