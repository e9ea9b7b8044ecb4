#!/usr/bin/env bash
# Malformed input into live MPTCP connections, from a raw socket on the sending host
# (tests/tools/inject.py), while a bystander connection runs a transfer:
#   - MPTCP options of random bytes on in-sequence ACKs: ignored, the connection
#     carries on and its data arrives intact;
#   - a data segment outside its DSS mapping: the connection is reset
#     (DSSNotMatching moves), RFC 8684 3.3.5;
#   - MP_FASTCLOSE with the receiver's key: the connection is closed (MPFastcloseRx);
#   - a DATA_ACK for data the receiver never sent: ignored (as upstream);
#   - with DSS checksums, a mapping sent as two overlapping segments: checked all the
#     same (a right checksum passes, a wrong one moves DataCsumErr);
# and option bytes from the fuzzer's corpus never reach the kernel unparsed: the
# kernel's parser is the fuzzed one. No warning in the kernel log, the bystander's
# transfer is intact.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap 'kill $bystander 2>/dev/null; topo_cleanup' EXIT
topo_new cli srv
topo_path cli srv 1
srv4=$(topo_addr4 s 1) cli4=$(topo_addr4 c 1)
INJ="$MPTCP_RS_REPO/tests/tools/inject.py"

# the bystander: 32 MB each way on its own connection for the whole test
( transfer cli srv "$srv4" 6300 mptcp $((32 << 20)) ) >/tmp/bystander.out 2>&1 &
bystander=$!

# victim PORT MODE: a connection that sends 1000 bytes, idles while inject.py works,
# then sends 100 KB more and closes; the server prints what it received or its error
victim() {
	local port=$1 mode=$2
	ip netns exec srv python3 -c '
import hashlib, socket, sys, json
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", int(sys.argv[1]))); ls.listen(1); print("listening", file=sys.stderr, flush=True)
s, _ = ls.accept(); s.settimeout(30)
h, n, err = hashlib.sha256(), 0, None
try:
    while True:
        d = s.recv(65536)
        if not d: break
        h.update(d); n += len(d)
except OSError as e:
    err = e.__class__.__name__
print(json.dumps({"bytes": n, "sha256": h.hexdigest(), "error": err}))' "$port" >/tmp/victim.$mode 2>/tmp/victim.$mode.err &
	local spid=$!
	sleep 0.5
	ip netns exec cli python3 "$INJ" --dev c1 --src "$cli4:$((port + 1000))" --dst "$srv4:$port" \
		--mode "$mode" --sniff 3 >/tmp/inject.$mode 2>/tmp/inject.$mode.err &
	local ipid=$! i
	# the connection starts once the injector watches, and goes on once it is done
	rm -f /tmp/go.$mode
	for i in $(seq 100); do grep -q sniffing /tmp/inject.$mode.err 2>/dev/null && break; sleep 0.1; done
	ip netns exec cli python3 -c '
import hashlib, os, socket, sys, time, json
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
c.bind(("0.0.0.0", int(sys.argv[2]) + 1000)); c.settimeout(30)
c.connect((sys.argv[1], int(sys.argv[2])))
data = bytes(range(256)) * 400
h = hashlib.sha256()
c.sendall(data[:1000]); h.update(data[:1000])
for _ in range(600):  # until the injector is done (the test creates the file)
    if os.path.exists(sys.argv[3]): break
    time.sleep(0.1)
try:
    c.sendall(data[1000:]); h.update(data[1000:])
    c.shutdown(socket.SHUT_WR)
    while c.recv(65536): pass
    err = None
except OSError as e:
    err = e.__class__.__name__
print(json.dumps({"bytes": len(data), "sha256": h.hexdigest(), "error": err}))' "$srv4" "$port" /tmp/go.$mode \
		>/tmp/victim.$mode.client 2>&1 &
	local cpid=$!
	local irc=0
	wait "$ipid" || irc=$?
	# the server's counters after the injection, before the client sends again
	sleep 0.3
	ip netns exec srv cat /proc/net/netstat >/tmp/netstat.injected.$mode
	touch /tmp/go.$mode
	wait "$cpid"
	((irc == 0)) || fail "inject.py $mode: $(cat /tmp/inject.$mode /tmp/inject.$mode.err)"
	wait "$spid"
	info "$mode: injected $(cat /tmp/inject.$mode)"
	info "$mode: server $(cat /tmp/victim.$mode), client $(cat /tmp/victim.$mode.client)"
}

# intact MODE: the victim of MODE ended without an error at either end, and the
# server's bytes are the client's (SHA-256)
intact() {
	python3 - "/tmp/victim.$1" "/tmp/victim.$1.client" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); c = json.load(open(sys.argv[2]))
sys.exit(0 if s["error"] is None and c["error"] is None and s["sha256"] == c["sha256"] else 1)
PY
}

victim 6301 garbage
intact garbage || fail "random MPTCP options disturbed the connection"

# a DATA_ACK for 3 GiB the server never sent (it sends nothing): ignored, as
# upstream ignores it, and the connection carries on intact. (Before, the server
# took it: the client's data arrived, but its wait for the server's close timed out.)
victim 6306 ackahead
intact ackahead || fail "a DATA_ACK for data never sent disturbed the connection"

before=$(mib srv MPTcpExtDSSNotMatching)
victim 6302 badmap
after=$(mib srv MPTcpExtDSSNotMatching)
((after > before)) || fail "DSSNotMatching did not move ($before -> $after)"
grep -q '"error": null' /tmp/victim.badmap && [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes"])' /tmp/victim.badmap)" = 102400 ] &&
	fail "the connection survived a segment outside its mapping"

before=$(mib srv MPTcpExtMPFastcloseRx)
victim 6303 fastclose
after=$(mib srv MPTcpExtMPFastcloseRx)
((after > before)) || fail "MPFastcloseRx did not move ($before -> $after)"
grep -q '"error": null' /tmp/victim.fastclose && [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes"])' /tmp/victim.fastclose)" = 102400 ] &&
	fail "the connection survived MP_FASTCLOSE"

# DSS checksums on: a mapping whose second segment repeats part of the first (a
# retransmission that joined an arrived segment to a lost one). Its checksum is
# still checked: right, the connection carries on intact; wrong in the bytes after
# the repeated part, DataCsumErr moves (MP_FAIL, then fallback to TCP: the
# connection carries on).
for ns in cli srv; do ip netns exec $ns sysctl -qw net.mptcp.checksum_enabled=1; done
before=$(mib srv MPTcpExtDataCsumErr)
victim 6304 overlap
after=$(mib srv MPTcpExtDataCsumErr)
((after == before)) || fail "DataCsumErr moved ($before -> $after) for a right checksum"
python3 - /tmp/victim.overlap /tmp/victim.overlap.client <<'PY' || fail "the overlapping segments disturbed the connection"
import json, sys
s = json.load(open(sys.argv[1])); c = json.load(open(sys.argv[2]))
sys.exit(0 if s["error"] is None and c["error"] is None and s["sha256"] == c["sha256"] else 1)
PY
ip netns exec srv cat /proc/net/netstat >/tmp/netstat.before
victim 6305 overlap-bad
# moved NAME: how much counter NAME moved with the injection (before the client went on)
moved() {
	echo $(($(mib_in "$1" </tmp/netstat.injected.overlap-bad) - $(mib_in "$1" </tmp/netstat.before)))
}
n=$(moved MPTcpExtDataCsumErr)
((n == 1)) || fail "DataCsumErr moved by $n (not 1) with the injection: the mapping went unchecked"
n=$(moved MPTcpExtMPFailTx)
((n == 1)) || fail "MPFailTx moved by $n (not 1) with the injection"
grep -q '"error": null' /tmp/victim.overlap-bad ||
	fail "the connection did not survive the checksum failure: $(cat /tmp/victim.overlap-bad)"
for ns in cli srv; do ip netns exec $ns sysctl -qw net.mptcp.checksum_enabled=0; done

wait "$bystander" || fail "the bystander connection failed: $(cat /tmp/bystander.out)"
info "bystander: $(tail -n 1 /tmp/bystander.out)"
dmesg_clean
