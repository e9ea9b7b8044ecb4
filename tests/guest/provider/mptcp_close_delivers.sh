#!/usr/bin/env bash
# close() right after the last write, on a connection sending over two subflows
# (mptcp_rs to mptcp_rs; 30 Mbit/s, 5 ms and 10 Mbit/s, 15 ms; the client joins
# over path 2). What the application wrote is delivered although it is gone:
#   delivery  the client writes 16 MB, closes, and path 2 is blackholed at once,
#             with data of the client still in flight on it. The orphaned
#             connection sends that again on path 1: the server receives every
#             byte (SHA-256 checked) and the DATA_FIN, with each scheduler; then
#             the connection releases its subflows.
#   timeout   the client writes 8 MB, both paths are blackholed, then the client
#             closes: the connection keeps its subflows (each still has its
#             struct socket, ss shows an inode) until net.mptcp.close_timeout
#             (2 s here) passes, then aborts as upstream does: MP_FASTCLOSE
#             (MPFastcloseTx) and every subflow reset, none left behind while
#             the paths are still dead.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
topo_new cli srv
topo_path cli srv 1
topo_path cli srv 2
shape() {
	topo_shape cli c1 delay 5ms rate 30mbit limit 200
	topo_shape srv s1 delay 5ms rate 30mbit limit 200
	topo_shape cli c2 delay 15ms rate 10mbit limit 200
	topo_shape srv s2 delay 15ms rate 10mbit limit 200
}
shape
c2=$(topo_addr4 c 2)
s1=$(topo_addr4 s 1)
ip -n srv rule add to "$c2" table 102 pref 100
ip -n cli mptcp limits set subflows 1
ip -n srv mptcp limits set subflows 1
ip -n cli mptcp endpoint add "$c2" dev c2 subflow
out=$(mktemp -d)

# the client's subflows to port $1 that the connection still holds (with a socket
# inode: an orphaned, released TCP socket has none)
held() { ip netns exec cli ss -Htne state all "dport = :$1" | grep -c 'ino:[1-9]'; }

# client PORT BYTES after|before[:SECS] PATHS...: connects, waits for the join,
# writes BYTES of random data, closes and blackholes PATHS (1, 2) right after the
# close, or right before it (then nothing written can still arrive, however fast the
# host; SECS later, if given); prints the data's SHA-256
client() {
	ip netns exec cli python3 - "$s1" "$@" <<'PY'
import hashlib, os, socket, subprocess, sys, time
addr, port, n, when, paths = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5:]
when, _, pause = when.partition(":")
data = os.urandom(n)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
s.connect((addr, port))
time.sleep(1)  # the join over path 2
s.sendall(data)


def blackhole():
    for p in paths:
        for ns, dev in (("cli", "c" + p), ("srv", "s" + p)):
            subprocess.run(["tc", "-n", ns, "qdisc", "replace", "dev", dev, "root", "netem",
                            "loss", "100%"], check=True)


if when == "before":
    blackhole()
    time.sleep(float(pause or 0))
s.close()
if when == "after":
    blackhole()
print(hashlib.sha256(data).hexdigest())
PY
}

# server PORT TIMEOUT: receives one connection's data (xfer.py) into $out/server
server() {
	ip netns exec srv python3 "$XFER" server --bind 0.0.0.0 --port "$1" --proto mptcp \
		--timeout "$2" >"$out/server" 2>"$out/server.err" &
	spid=$!
	for i in $(seq 50); do grep -q listening "$out/server.err" 2>/dev/null && break; sleep 0.1; done
}

port=6400
bytes=$((16 << 20))
for s in default roundrobin; do
	for ns in cli srv; do ip netns exec $ns sysctl -qw net.mptcp.scheduler=$s; done
	port=$((port + 1))
	server $port 60
	t0=$(date +%s.%N)
	sha=$(client $port $bytes after 2) || fail "$s: client failed"
	t1=$(date +%s.%N)
	wait $spid || fail "$s: server failed (data lost after close()?): $(tail -n 3 "$out/server.err")"
	t2=$(date +%s.%N)
	python3 - "$out/server" "$bytes" "$sha" <<'PY' || fail "$s: data lost after close()"
import json, sys
s = json.load(open(sys.argv[1]))
if s["received"] != int(sys.argv[2]) or s["received_sha256"] != sys.argv[3]:
    print("server", s, file=sys.stderr)
    sys.exit(1)
PY
	info "$s: client closed $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}') s after connecting," \
		"path 2 blackholed; the server had all $bytes bytes (SHA-256 match) and the DATA_FIN" \
		"$(awk -v a="$t1" -v b="$t2" 'BEGIN {printf "%.2f", b - a}') s later"
	for i in $(seq 50); do [ "$(held $port)" = 0 ] && break; sleep 0.1; done
	[ "$(held $port)" = 0 ] ||
		fail "$s: the closed connection still holds subflows 5 s after its data arrived:
$(ip netns exec cli ss -tne "dport = :$port")"
	shape
done

# timeout: nothing gets through after close(); the connection ends after 2 s
ip netns exec cli sysctl -qw net.mptcp.close_timeout=2
ip netns exec srv sysctl -qw net.mptcp.close_timeout=2
ip netns exec cli sysctl -qw net.mptcp.scheduler=default
# timeout_case [SECS]: the paths die before close() (SECS earlier: the MPTCP-level
# retransmission timer has backed off, up to 16 s, by then)
timeout_case() {
	local what=timeout n left fc fc0
	[ -n "${1:-}" ] && what="timeout after a ${1} s outage"
	shape
	port=$((port + 1))
	server $port 30
	fc0=$(mib cli MPTcpExtMPFastcloseTx)
	client $port $((8 << 20)) "before${1:+:$1}" 1 2 >/dev/null || fail "$what: client failed"
	sleep 0.5
	n=$(held $port)
	[ "$n" = 2 ] || fail "$what: the connection holds $n subflows right after close(), not 2 (it did not linger):
	$(ip netns exec cli ss -tne "dport = :$port")"
	sleep 3
	n=$(held $port)
	[ "$n" = 0 ] || fail "$what: the connection still holds $n subflows 3.5 s after close() (close_timeout 2 s)"
	left=$(ip netns exec cli ss -Htn state all "dport = :$port" | grep -v TIME-WAIT)
	[ -z "$left" ] || fail "$what: subflows left as orphans after close_timeout, the paths still dead (no reset?):
	$left"
	fc=$(($(mib cli MPTcpExtMPFastcloseTx) - fc0))
	((fc >= 1)) || fail "$what: no MP_FASTCLOSE sent at close_timeout (MPFastcloseTx +$fc)"
	info "$what: the closed connection held its 2 subflows, none 3.5 s later (close_timeout 2 s): MP_FASTCLOSE on $fc, no orphan left"
	# the server's end (its close lingers too, the client's DATA_FIN never came): gone
	# after its close_timeout as well
	kill $spid 2>/dev/null
	wait $spid 2>/dev/null
	for i in $(seq 100); do
		left=$(ip netns exec srv ss -Htn state all "sport = :$port" | grep -v -e TIME-WAIT -e LISTEN)
		[ -z "$left" ] && break
		sleep 0.1
	done
	[ -z "$left" ] || fail "$what: the server's subflows left 10 s after its close (close_timeout 2 s):
	$left
	$(ip netns exec srv ss -Htnoie state all "sport = :$port")
	MPTCP sockets: $(ip netns exec srv ss -HMnai) $(ip netns exec srv nstat -az | awk '/MPTcpExt/ && $2 != 0 {printf "%s=%s ", $1, $2}')"
}
timeout_case
# close_timeout holds although the retransmission timer would fire much later
timeout_case 20
dmesg_clean
