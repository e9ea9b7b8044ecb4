# Kernel-log checks for guest tests and tests/guest/run-suite. Sourced.
# shellcheck shell=bash

# The kernel log since this test started: after the line tests/guest/run-suite writes
# to /dev/kmsg at the start of each test ($MPTCP_RS_DMESG_MARK; a marker, not a
# timestamp, so the log clock and the uptime need not agree), else all of it.
dmesg_since_start() {
	dmesg | awk -v mark="${MPTCP_RS_DMESG_MARK:-}" '
		{ line[NR] = $0 }
		mark != "" && index($0, mark) { from = NR }
		END { for (i = from + 1; i <= NR; i++) print line[i] }'
}

DMESG_BAD='WARNING:|BUG:|Oops|general protection|possible circular|possible recursive|inconsistent lock|sleeping function called from invalid context|unreferenced object|Call Trace|KFENCE:|UBSAN:|rust_panic|panicked at'

# dmesg_report: the first warning, bug, lockdep or leak report in the kernel log since
# the test started, with the lines that follow it (the whole trace), or nothing.
dmesg_report() {
	dmesg_since_start | awk -v re="$DMESG_BAD" '$0 ~ re && !n { n = 1 } n && n++ <= 70'
}
