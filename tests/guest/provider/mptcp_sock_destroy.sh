#!/usr/bin/env bash
# Destroying MPTCP connections from outside (SOCK_DESTROY), judged against what the
# same kernel does to TCP under `ss -K`: a client blocked in recv() is destroyed,
# and the calls it makes afterwards must return what TCP's return (ECONNABORTED,
# then end of file and EPIPE), while its peer's read ends with ECONNRESET.
#   destroy  SOCK_DESTROY of the MPTCP socket itself (tests/tools/mptcp_destroy.py:
#            ss -K -M cannot, see there): MP_FASTCLOSE to the peer (MPFastcloseTx
#            and Rx move); the connection leaves ss -M and no subflow of it is left
#   subflow  `ss -K -t` on its subflow (what a stock ss reaches): the connection
#            ends with the subflow's error, as upstream's
#   listener SOCK_DESTROY of an MPTCP listener is refused (ENOENT: not looked
#            for, as upstream refuses to abort a listening subflow): it still
#            accepts afterwards
# IPv4 and IPv6, the client waiting in recv(); then waiting in send() (IPv4, both
# ways of destroying).
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
topo_new cli srv
topo_path cli srv 1
work=$(mktemp -d)

# the peer (PROTO ADDR PORT MODE): accepts a connection on a listener it keeps,
# reads until its read ends (with MODE writer, after 12 s), prints how ("first EOF"
# or the errno's name); then the same for a second connection on that listener
cat >"$work/server.py" <<'EOF'
import errno, socket, sys, time
proto, addr, port, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
ls = socket.socket(fam, socket.SOCK_STREAM, 262 if proto == "mptcp" else 0)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((addr, port))
ls.listen(4)
ls.settimeout(30)
print("listening", file=sys.stderr, flush=True)
for n in ("first", "second"):
    s, _ = ls.accept()
    s.settimeout(30)
    if n == "first" and mode == "writer":
        # the client's writes fill the buffers: its send waits until it is
        # destroyed (a destroy that waited for this read would take 12 s)
        time.sleep(12)
    how = "EOF"
    try:
        while s.recv(65536):
            pass
    except OSError as e:
        how = errno.errorcode.get(e.errno, str(e.errno))
    print(n, how, flush=True)
    s.close()
EOF
# the victim: connects, then blocks in recv() (MODE reader; it wrote a little
# first) or in send() (writer: the peer does not read) until it is destroyed, then
# tries recv() and send() once more; prints the outcomes on one line
cat >"$work/client.py" <<'EOF'
import errno, socket, struct, sys, time
proto, addr, port, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM, 262 if proto == "mptcp" else 0)
s.connect((addr, port))
s.sendall(b"x" * 10000)
print("connected", file=sys.stderr, flush=True)
s.settimeout(20)


def fill():
    # a blocking send that waits in the kernel (a timeout of Python's would wait
    # in poll() instead), for 20 s at most
    s.settimeout(None)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 20, 0))
    while True:
        s.send(b"x" * 65536)


calls = [lambda: s.recv(100), lambda: s.send(b"y")]
calls.insert(0, fill if mode == "writer" else calls[0])
out = []
for call in calls:
    try:
        r = call()
        out.append("EOF" if r in (b"", 0) else "data")
    except socket.timeout:
        out.append("timeout")
    except OSError as e:
        out.append("timeout" if e.errno == errno.EAGAIN else errno.errorcode.get(e.errno, str(e.errno)))
print(" ".join(out), flush=True)
# the socket stays open a while: the test looks at what is left of the connection
time.sleep(3)
EOF

port=6500
DESTROY="$MPTCP_RS_REPO/tests/tools/mptcp_destroy.py"
# kill_one PROTO ADDR HOW [MODE]: one connection, destroyed at the client (HOW: ss,
# the ss -K -t of its TCP socket or subflow; destroy, mptcp_destroy.py) while it
# waits in recv() (MODE reader) or send() (writer); its outcome ("CLIENT | SERVER")
# in $outcome
kill_one() {
	local proto=$1 addr=$2 how=$3 mode=${4:-reader} i left
	port=$((port + 1))
	ip netns exec srv python3 "$work/server.py" "$proto" "$addr" $port $mode >"$work/s.out" 2>"$work/s.err" &
	local spid=$!
	for i in $(seq 50); do grep -q listening "$work/s.err" 2>/dev/null && break; sleep 0.1; done
	ip netns exec cli python3 "$work/client.py" "$proto" "$addr" $port $mode >"$work/c.out" 2>"$work/c.err" &
	local cpid=$!
	for i in $(seq 50); do grep -q connected "$work/c.err" 2>/dev/null && break; sleep 0.1; done
	grep -q connected "$work/c.err" || fail "$proto [$addr]:$port: no connection: $(cat "$work/c.err")"
	[ "$mode" = writer ] && sleep 2 # until the writes wait
	case $how in
	ss) [ -n "$(ip netns exec cli ss -HK -t dport = :$port)" ] ||
		fail "$proto: ss -K -t dport = :$port destroyed nothing" ;;
	destroy)
		local t0=$SECONDS
		ip netns exec cli python3 "$DESTROY" --port $port >"$work/d.out" ||
			fail "$proto: SOCK_DESTROY: $(cat "$work/d.out")"
		((SECONDS - t0 <= 5)) || fail "$proto ($mode): SOCK_DESTROY took $((SECONDS - t0)) s" ;;
	esac
	for i in $(seq 100); do [ -s "$work/c.out" ] && break; sleep 0.1; done
	[ -s "$work/c.out" ] || fail "$proto ($how): the client still waits after the destroy"
	# while the client still holds its socket, the connection is gone from its
	# namespace: the MPTCP socket from ss -M, its subflows (or TCP's socket) from
	# ss -t, TIME-WAIT aside
	for i in $(seq 20); do
		left=$(ip netns exec cli ss -HtanM state connected dport = :$port | grep -v TIME-WAIT || true)
		[ -z "$left" ] && break
		sleep 0.1
	done
	[ -z "$left" ] || fail "$proto ($how): the destroyed connection is still there: $left"
	wait $cpid || fail "$proto client: $(cat "$work/c.err")"
	if [ "$proto" = mptcp ]; then
		ip netns exec srv python3 "$DESTROY" --port $port --listeners --expect ENOENT >"$work/d.out" ||
			fail "SOCK_DESTROY of the listener: $(cat "$work/d.out")"
	fi
	# the listener serves a second connection
	ip netns exec cli python3 -c "
import socket
s = socket.socket(socket.AF_INET6 if ':' in '$addr' else socket.AF_INET, socket.SOCK_STREAM, 262 if '$proto' == 'mptcp' else 0)
s.settimeout(10); s.connect(('$addr', $port)); s.sendall(b'z'); s.close()" ||
		fail "$proto: no second connection to the listener"
	wait $spid || fail "$proto server: $(cat "$work/s.err")"
	outcome="$(cat "$work/c.out") | $(tr '\n' ' ' <"$work/s.out")"
	info "$proto, $how, $mode [$addr]:$port: client: $(cat "$work/c.out"); server: $(tr '\n' ' ' <"$work/s.out")"
}

for addr in "$(topo_addr4 s 1)" "$(topo_addr6 s 1)"; do
	kill_one tcp "$addr" ss
	tcp=$outcome
	[[ "$tcp" == "ECONNABORTED "* ]] ||
		fail "TCP's reference outcome is not an abort ($tcp): is CONFIG_INET_DIAG_DESTROY set?"
	ftx=$(mib cli MPTcpExtMPFastcloseTx) frx=$(mib srv MPTcpExtMPFastcloseRx)
	kill_one mptcp "$addr" destroy
	[ "$outcome" = "$tcp" ] || fail "[$addr]: MPTCP after SOCK_DESTROY: $outcome; TCP: $tcp"
	(($(mib cli MPTcpExtMPFastcloseTx) > ftx)) || fail "no MP_FASTCLOSE sent on SOCK_DESTROY"
	(($(mib srv MPTcpExtMPFastcloseRx) > frx)) || fail "the peer received no MP_FASTCLOSE"
	kill_one mptcp "$addr" ss
	[ "$outcome" = "$tcp" ] || fail "[$addr]: MPTCP after ss -K -t on its subflow: $outcome; TCP: $tcp"
done
# a writer waiting in send() (for room on its only subflow) gets the abort there,
# as TCP's, whether the connection or its subflow is destroyed
addr=$(topo_addr4 s 1)
kill_one tcp "$addr" ss writer
tcp=$outcome
[[ "$tcp" == "ECONNABORTED "* ]] || fail "TCP's blocked writer: $tcp"
kill_one mptcp "$addr" destroy writer
[ "$outcome" = "$tcp" ] || fail "MPTCP's blocked writer after SOCK_DESTROY: $outcome; TCP: $tcp"
kill_one mptcp "$addr" ss writer
[ "$outcome" = "$tcp" ] || fail "MPTCP's blocked writer after ss -K -t on its subflow: $outcome; TCP: $tcp"
rm -rf "$work"
dmesg_clean
