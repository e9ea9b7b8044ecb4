#!/usr/bin/env bash
# With no MPTCP provider registered the custom kernel behaves as CONFIG_MPTCP=n towards
# applications: socket(..., IPPROTO_MPTCP) fails with EPROTONOSUPPORT, there is no
# net.mptcp sysctl tree and no MPTcpExt counters.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
grep -q '^mptcp_rs ' /proc/modules && fail "mptcp_rs is loaded"
for fam in AF_INET AF_INET6; do
	python3 - "$fam" <<'PY' || fail "socket($fam, SOCK_STREAM, IPPROTO_MPTCP) did not fail with EPROTONOSUPPORT"
import errno, socket, sys
fam = getattr(socket, sys.argv[1])
try:
    socket.socket(fam, socket.SOCK_STREAM, 262).close()
except OSError as e:
    print("  errno", errno.errorcode.get(e.errno), file=sys.stderr)
    sys.exit(0 if e.errno == errno.EPROTONOSUPPORT else 1)
print("  socket was created", file=sys.stderr)
sys.exit(1)
PY
done
[ -e /proc/sys/net/mptcp ] && fail "/proc/sys/net/mptcp exists without a provider"
grep -q MPTcpExt /proc/net/netstat && fail "MPTcpExt counters shown without a provider"
info "EPROTONOSUPPORT for AF_INET and AF_INET6, no sysctls, no counters"
