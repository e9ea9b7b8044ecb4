#!/usr/bin/env bash
# A send that waits for room on the connection's only subflow holds nothing else up,
# as TCP's send waits with its socket released:
#   reader   another thread of the application receives, on the same socket, what
#            the peer sends meanwhile (within 3 s), and `ss -Mi` (which locks the
#            socket for its MPTCP_INFO) answers at once (within 2 s) and lists the
#            connection's token
#   duplex   both ends send 24 MB in a single blocking send() while another thread
#            of each reads: both streams arrive whole (SHA-256) within 90 s. (A send
#            that kept the socket owned while it waited kept its own reader out: the
#            subflow's receive buffer fills, the peer's send waits on it, and with
#            both ends doing so, neither moves again.)
#   unspec   connect(AF_UNSPEC) from another thread ends the waiting send at once
#            (within 3 s), with what the same kernel's TCP gives
# The peer is mptcp_rs on the same kernel, over one path with 5 ms delay.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
topo_new cli srv
topo_path cli srv 1
topo_shape cli c1 delay 5ms limit 10000
topo_shape srv s1 delay 5ms limit 10000
work=$(mktemp -d)
addr=$(topo_addr4 s 1)

# ROLE PORT MODE BYTES: MODE reader: the server waits 10 s before it reads (the
# client's send waits meanwhile) but sends "ping" after 1 s; the client sends BYTES
# in one send() and prints when another thread got the ping. MODE duplex: each end
# sends BYTES in one send() while a thread reads; prints the SHA-256 of both ways.
cat >"$work/peer.py" <<'EOF'
import hashlib, json, os, socket, sys, threading, time
role, addr, port, mode, nbytes = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
proto = 0 if os.environ.get("PEER_PROTO") == "tcp" else 262
if role == "server":
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    print("listening", file=sys.stderr, flush=True)
    s, _ = ls.accept()
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    s.connect((addr, port))
    print("connected", file=sys.stderr, flush=True)
# blocking sockets throughout: the sends wait in the kernel (a timeout of Python's
# would make them wait in poll())
data = os.urandom(nbytes)
result = {"sent_sha256": hashlib.sha256(data).hexdigest()}
t0 = time.monotonic()


def read_all():
    h, n = hashlib.sha256(), 0
    while True:
        b = s.recv(1 << 16)
        if not b:
            break
        if mode == "reader" and role == "client" and b"ping" in b and "ping_at" not in result:
            result["ping_at"] = round(time.monotonic() - t0, 2)
            print("ping", file=sys.stderr, flush=True)
        h.update(b)
        n += len(b)
    result["received"] = n
    result["received_sha256"] = h.hexdigest()


if mode == "unspec" and role == "server":
    time.sleep(10)
    s.close()
elif mode == "unspec":
    # a thread's send waits (the server does not read); connect(AF_UNSPEC) ends it
    import ctypes, errno

    def send():
        try:
            s.sendall(data)
            result["send"] = "sent"
        except OSError as e:
            result["send"] = errno.errorcode.get(e.errno, str(e.errno))
        result["send_end"] = time.monotonic()

    w = threading.Thread(target=send)
    w.start()
    time.sleep(2)
    unspec = ctypes.create_string_buffer(16)  # sa_family 0
    ctypes.CDLL(None, use_errno=True).connect(s.fileno(), unspec, 16)
    t1 = time.monotonic()
    w.join(10)
    result["send_took"] = round(result.get("send_end", time.monotonic() + 99) - t1, 2)
elif mode == "reader" and role == "server":
    time.sleep(1)
    s.sendall(b"ping")
    time.sleep(9)
    read_all()
    s.close()
else:
    r = threading.Thread(target=read_all)
    r.start()
    s.sendall(data)
    result["send_done"] = round(time.monotonic() - t0, 2)
    s.shutdown(socket.SHUT_WR)
    r.join()
    result["done"] = round(time.monotonic() - t0, 2)
print(json.dumps(result), flush=True)
EOF

# run PORT MODE BYTES: server and client, each bounded by 90 s
run() {
	local port=$1 mode=$2 bytes=$3 i
	ip netns exec srv timeout 90 python3 "$work/peer.py" server "$addr" "$port" "$mode" "$bytes" \
		>"$work/s.out" 2>"$work/s.err" &
	spid=$!
	for i in $(seq 100); do grep -q listening "$work/s.err" 2>/dev/null && break; sleep 0.1; done
	ip netns exec cli timeout 90 python3 "$work/peer.py" client "$addr" "$port" "$mode" "$bytes" \
		>"$work/c.out" 2>"$work/c.err" &
	cpid=$!
}

# reader: the ping arrives while the send waits; ss -Mi answers meanwhile
run 6601 reader $((24 << 20))
for i in $(seq 100); do grep -q connected "$work/c.err" 2>/dev/null && break; sleep 0.1; done
sleep 2.5 # the client's send waits for the server, which reads only after 10 s
t0=$(date +%s.%N)
diag=$(ip netns exec cli timeout 10 ss -nMiH state established dport = :6601)
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
awk -v t="$took" 'BEGIN {exit !(t <= 2)}' || fail "reader: ss -Mi took $took s while a send waited"
echo "$diag" | grep -q "token:" || fail "reader: ss -Mi lists no MPTCP connection with a token: $diag"
wait $cpid || fail "reader: client: $(cat "$work/c.err")"
wait $spid || fail "reader: server: $(cat "$work/s.err")"
python3 - "$work/c.out" "$work/s.out" <<'PY' || fail "reader: $(cat "$work/c.out" "$work/s.out")"
import json, sys
c, s = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert c["ping_at"] < c["send_done"], "the ping (sent after 1 s) was read only after the send returned, at %.1f s" % c["ping_at"]
assert c["ping_at"] <= 4, "the ping (sent after 1 s) was read after %.1f s" % c["ping_at"]
assert s["received_sha256"] == c["sent_sha256"], "the client's stream arrived changed"
PY
info "reader: ping read at $(python3 -c "import json; print(json.load(open('$work/c.out'))['ping_at'])") s while the send waited; ss -Mi answered in $took s"

# duplex: both ends send at once in one call each
run 6602 duplex $((24 << 20))
wait $cpid || fail "duplex: client (status $?, 124: did not end in 90 s): $(cat "$work/c.err")"
wait $spid || fail "duplex: server (status $?): $(cat "$work/s.err")"
python3 - "$work/c.out" "$work/s.out" <<'PY' || fail "duplex: $(cat "$work/c.out" "$work/s.out")"
import json, sys
c, s = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert c["received"] == s["received"] == 24 << 20, "short streams"
assert c["received_sha256"] == s["sent_sha256"] and s["received_sha256"] == c["sent_sha256"], "data changed"
PY
info "duplex: 24 MB each way in one send() per end, SHA-256 match ($(python3 -c "import json; print(json.load(open('$work/c.out'))['done'])") s)"
# unspec: TCP first, then MPTCP, the same outcome
for proto in tcp mptcp; do
	export PEER_PROTO=$proto
	run $((6603 + ${#proto})) unspec $((24 << 20))
	wait $cpid || fail "unspec ($proto): client: $(cat "$work/c.err")"
	wait $spid
	got=$(python3 -c "import json; r = json.load(open('$work/c.out')); print(r['send'], r['send_took'])") ||
		fail "unspec ($proto): $(cat "$work/c.out" "$work/c.err")"
	read -r how took <<<"$got"
	awk -v t="$took" 'BEGIN {exit !(t <= 3)}' ||
		fail "unspec ($proto): the waiting send ended $took s after connect(AF_UNSPEC) ($how)"
	[ "$proto" = tcp ] && tcp_how=$how
done
[ "$how" = "$tcp_how" ] || fail "unspec: the waiting send ended with $how; TCP's with $tcp_how"
info "unspec: connect(AF_UNSPEC) ended the waiting send in $took s with $how, as TCP's"
rm -rf "$work"
dmesg_clean
