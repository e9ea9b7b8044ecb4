#!/usr/bin/env bash
# mptcp_rs's net.mptcp sysctls behave as upstream Linux's: the same defaults and the
# same accepted and rejected writes, compared with what the reference suite recorded
# on the reference kernel in this run (build/check/reference-sysctls.txt).
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
ref="$MPTCP_RS_REPO/build/check/reference-sysctls.txt"
[ -s "$ref" ] || fail "no reference recording at $ref (tests/check runs the reference suite first)"
mine=$("$MPTCP_RS_REPO/tests/tools/probe_mptcp_sysctls.sh") || fail "probe failed"
if ! d=$(diff <(sort "$ref") <(echo "$mine" | grep '^SYSCTL-PROBE' | sort)); then
	fail "differences from upstream (< upstream, > mptcp_rs):
$d"
fi
info "$(wc -l <"$ref") observations identical to upstream's"
