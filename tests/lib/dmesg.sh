# Kernel-log checks for guest tests and tests/guest/run-suite. Sourced.
# shellcheck shell=bash

# The kernel log since this test started (tests/guest/run-suite sets
# MPTCP_RS_DMESG_SINCE to the uptime at the start of each test), else all of it.
dmesg_since_start() {
	dmesg | awk -v since="${MPTCP_RS_DMESG_SINCE:-0}" '
		match($0, /^\[ *[0-9]+\.[0-9]+\]/) { t = substr($0, 2, RLENGTH - 2) + 0 }
		t >= since'
}

DMESG_BAD='WARNING:|BUG:|Oops|general protection|possible circular|possible recursive|inconsistent lock|sleeping function called from invalid context|unreferenced object|Call Trace|KFENCE:|UBSAN:|rust_panic|panicked at'

# dmesg_report: the first warning, bug, lockdep or leak report in the kernel log since
# the test started, with the lines that follow it (the whole trace), or nothing.
dmesg_report() {
	dmesg_since_start | awk -v re="$DMESG_BAD" '$0 ~ re && !n { n = 1 } n && n++ <= 70'
}
