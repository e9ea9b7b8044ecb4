#!/usr/bin/env bash
# The kernel tree's mptcp_join.sh against mptcp_rs, by hand (not in make check: its
# subsets take minutes each under TCG). Inside a custom-kernel guest with the module:
#   scripts/vm --kernel custom --load mptcp_rs --timeout 1100 -- \
#       env JOIN_ARGS="-f -s" bash tests/tools/diagnose/upstream_mptcp_join.sh
# JOIN_ARGS: mptcp_join.sh's subset flags (-f subflows, -s signal, -r remove, -b backup,
# -p ports, -I endpoints, ... see its -h); JOIN_TIMEOUT: seconds (default 1000). Prints
# the last 400 lines (the per-subtest checks of failures, then the TAP summary).
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
selftest_prepare mptcp_join.sh pm_nl_ctl mptcp_connect mptcp_sockopt mptcp_inq
# shellcheck disable=SC2086
timeout "${JOIN_TIMEOUT:-1000}" ./mptcp_join.sh ${JOIN_ARGS:--f} 2>&1 | grep -vE '^\s*$' | tail -n 400
