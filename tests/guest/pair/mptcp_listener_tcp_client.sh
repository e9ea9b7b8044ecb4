#!/usr/bin/env bash
# Fallback: a client without MPTCP (the custom kernel with no provider loaded, where
# IPPROTO_MPTCP is unsupported) connects with plain TCP to an MPTCP listener (the
# reference kernel). 16 MB each way over IPv4 and then IPv6 through netem on both sides
# arrive intact (SHA-256 on both ends), and the server's counters show the connections
# were plain TCP: passive opens, but no MP_CAPABLE SYN or third ACK.
#   run by tests/lib/pair.sh: SCRIPT server | SCRIPT client (guests), SCRIPT check SHARE (host)
set -euo pipefail
role=$1 bytes=$((16 << 20))
netem=(delay 5ms reorder 10% 50% loss 1%)
if [ "$role" = check ]; then
	PAIR_SHARE=$2
	. "$(dirname "$0")/../../lib/pair.sh"
else
	. "$MPTCP_RS_REPO/tests/tools/pair-guest.sh"
fi

case "$role" in
server)
	pair_link_up
	pair_netem "${netem[@]}"
	pair_nstat nstat.before
	pair_xfer_server v4 mptcp "$bytes" 4
	pair_xfer_server v6 mptcp "$bytes" 6
	pair_nstat nstat.after
	pair_qdisc_save
	;;
client)
	python3 - <<'PY' || fail "this client kernel provides MPTCP: not a fallback test"
import errno, socket, sys
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262).close()
except OSError as e:
    print("  client: IPPROTO_MPTCP:", errno.errorcode.get(e.errno), file=sys.stderr)
    sys.exit(0 if e.errno == errno.EPROTONOSUPPORT else 1)
sys.exit(1)
PY
	pair_link_up
	pair_netem "${netem[@]}"
	pair_xfer_client v4 tcp "$bytes" 4
	pair_xfer_client v6 tcp "$bytes" 6
	pair_qdisc_save
	;;
check)
	pair_check_xfer v4 "$bytes"
	pair_check_xfer v6 "$bytes"
	d() { pair_delta nstat.before nstat.after "$1"; }
	echo "  server: TcpPassiveOpens +$(d TcpPassiveOpens)" \
		"MPTcpExtMPCapableSYNRX +$(d MPTcpExtMPCapableSYNRX)" \
		"MPTcpExtMPCapableACKRX +$(d MPTcpExtMPCapableACKRX)" \
		"TcpRetransSegs +$(d TcpRetransSegs)"
	pair_netem_stats server
	pair_netem_stats client
	(($(d TcpPassiveOpens) >= 2)) || { echo "FAIL: the server accepted fewer than 2 connections" >&2; exit 1; }
	(($(d MPTcpExtMPCapableSYNRX) == 0 && $(d MPTcpExtMPCapableACKRX) == 0)) ||
		{ echo "FAIL: the server saw MP_CAPABLE from a client that has no MPTCP" >&2; exit 1; }
	grep -q '^MPTcpExtMPCapableSYNRX ' "$PAIR_SHARE/nstat.after" ||
		{ echo "FAIL: the server has no MPTcpExt counters (not an MPTCP kernel)" >&2; exit 1; }
	(($(d TcpRetransSegs) > 0)) || { echo "FAIL: no retransmission: netem's loss was not in the way" >&2; exit 1; }
	;;
*) echo "usage: $0 server|client|check SHARE" >&2; exit 2 ;;
esac
