#!/usr/bin/env bash
# ADD_ADDR with a port, mptcp_rs to mptcp_rs: the server's "signal" endpoints on its
# path-2 addresses carry port 10100 (`ip mptcp endpoint add ADDR dev s2 signal port
# 10100`), so the server listens there (an MPTCP listening socket per endpoint,
# as upstream); the client has `limits add_addr_accepted 1 subflows 1`. Two paths of
# 10 Mbit/s. For IPv4, then IPv6, 4 MB each way (SHA-256): the client receives the
# announcement with its port (PortAdd) and joins that address and port; the server
# takes the join on the endpoint's listener (MPJoinPortSynRx, MPJoinAckRx, no
# MismatchPortSynRx); path 2 carries a real share both ways. An endpoint whose
# address is not local is refused ("create listen socket error"); a new TCP or
# MPTCP connection to the endpoint's port is reset (joins only); deleting the
# endpoints closes their listeners. Clean kernel log.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
bytes=$((4 << 20))
lport=10100
two_paths_10mbit cli srv
s2_4=$(topo_addr4 s 2) s2_6=$(topo_addr6 s 2)
ip -n cli mptcp limits set add_addr_accepted 1 subflows 1
ip -n srv mptcp limits set subflows 2
ip -n srv mptcp endpoint add "$s2_4" dev s2 signal port $lport || fail "cannot add $s2_4 port $lport"
ip -n srv mptcp endpoint add "$s2_6" dev s2 signal port $lport || fail "cannot add $s2_6 port $lport"
info "endpoints: $(ip -n srv mptcp endpoint show | tr '\n' ';')"
listening=$(ip netns exec srv ss -Hltn "( sport = :$lport )")
[ "$(echo "$listening" | grep -c LISTEN)" = 2 ] || fail "the server does not listen on both endpoints: $listening"
if out=$(ip -n srv mptcp endpoint add 198.51.100.1 signal port $lport 2>&1); then
	fail "an endpoint on an address that is not local was accepted"
fi
info "not local: $out"
# the endpoint's listener takes joins only: a new connection there is reset
for proto in tcp mptcp; do
	if ip netns exec cli python3 - "$s2_4" $lport $proto <<'PY'; then
import socket, sys
p = socket.IPPROTO_TCP if sys.argv[3] == "tcp" else 262
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, p)
s.settimeout(5)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
except OSError as e:
    print(f"  {sys.argv[3]} connect to the endpoint's port: {e}", file=sys.stderr)
    sys.exit(1)
PY
		fail "a $proto connection to the endpoint's listener was accepted"
	fi
done

port=6501
for addr in "$(topo_addr4 s 1)" "$(topo_addr6 s 1)"; do
	p0=$(mib cli MPTcpExtPortAdd) j0=$(mib srv MPTcpExtMPJoinPortSynRx) a0=$(mib srv MPTcpExtMPJoinAckRx)
	c2rx0=$(bytes_on cli c2 rx) c2tx0=$(bytes_on cli c2 tx)
	transfer cli srv "$addr" "$port" mptcp "$bytes"
	c2rx=$(($(bytes_on cli c2 rx) - c2rx0)) c2tx=$(($(bytes_on cli c2 tx) - c2tx0))
	info "$addr: PortAdd +$(($(mib cli MPTcpExtPortAdd) - p0)), MPJoinPortSynRx +$(($(mib srv MPTcpExtMPJoinPortSynRx) - j0)), MPJoinAckRx +$(($(mib srv MPTcpExtMPJoinAckRx) - a0)); path 2: $c2rx in, $c2tx out at the client"
	(($(mib cli MPTcpExtPortAdd) > p0)) || fail "$addr: no ADD_ADDR with a port reached the client"
	(($(mib srv MPTcpExtMPJoinPortSynRx) > j0)) || fail "$addr: no join arrived at port $lport"
	(($(mib srv MPTcpExtMPJoinAckRx) > a0)) || fail "$addr: the server accepted no join"
	((c2rx > bytes / 10 && c2tx > bytes / 10)) || fail "$addr: path 2 carried too little: $c2rx in, $c2tx out"
	port=$((port + 1))
done
for m in MismatchPortSynRx MPJoinRejected; do
	v=$(mib srv "MPTcpExt$m")
	[ "${v:-0}" = 0 ] || fail "$m in srv is $v"
done
ip -n srv mptcp endpoint flush
sleep 0.5
listening=$(ip netns exec srv ss -Hltn "( sport = :$lport )")
[ -z "$listening" ] || fail "listeners left after flush: $listening"
dmesg_clean
