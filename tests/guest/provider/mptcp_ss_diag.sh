#!/usr/bin/env bash
# `ss -M` (sock_diag for IPPROTO_MPTCP): an MPTCP listener and both ends of an
# established connection are listed, in this namespace only, with upstream's
# INET_DIAG_INFO (struct mptcp_info): `ss -Mi` shows each end's token, equal to what
# getsockopt(MPTCP_INFO) reports; filters by port work; closed sockets disappear.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
topo_new diag other
out=$(mktemp)
ip netns exec diag python3 - >"$out" 2>&1 <<'PY' &
import socket, struct, time
SOL_MPTCP, MPTCP_INFO = 284, 1
def token(s):
    return struct.unpack_from("=12xI", s.getsockopt(SOL_MPTCP, MPTCP_INFO, 96))[0]
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
l.bind(("127.0.0.1", 7300)); l.listen(4)
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
c.connect(("127.0.0.1", 7300))
s, _ = l.accept()
c.sendall(b"x" * 1000); s.recv(1000)
print("tokens %x %x" % (token(c), token(s)), flush=True)  # as ss prints them
time.sleep(6)
PY
pid=$!
for i in $(seq 50); do grep -q tokens "$out" && break; sleep 0.1; done
grep -q tokens "$out" || fail "the MPTCP connection did not come up: $(cat "$out")"
read -r _ tc ts < <(grep tokens "$out")
all=$(ip netns exec diag ss -nMai)
echo "$all" | sed 's/^/    /' >&2
est=$(ip netns exec diag ss -nMH state established)
[ "$(echo "$est" | grep -c ':7300')" = 2 ] || fail "ss -M does not list both ends of the connection:
$est"
ip netns exec diag ss -nMlH | grep -q '127.0.0.1:7300' || fail "ss -Ml does not list the listener"
for t in "$tc" "$ts"; do
	echo "$all" | grep -q "token:$t" || fail "ss -Mi shows no token:$t (MPTCP_INFO's)"
done
[ "$(ip netns exec diag ss -nMH state established '( sport = :7300 )' | wc -l)" = 1 ] ||
	fail "a port filter does not select the server end"
[ -z "$(ip netns exec other ss -nMaH)" ] || fail "another namespace sees these MPTCP sockets"
wait $pid
[ -z "$(ip netns exec diag ss -nMaH | grep -v TIME-WAIT)" ] ||
	fail "closed MPTCP sockets still listed: $(ip netns exec diag ss -nMa)"
info "ss -M: listener and both ends listed, tokens $tc $ts as MPTCP_INFO, port filter, per namespace"
dmesg_clean
