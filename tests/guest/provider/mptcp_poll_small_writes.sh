#!/usr/bin/env bash
# A writer waiting in poll() sees the room ACKs make, also when it comes from the
# send maps: each subflow records at most 128 extents (DSN ranges) of what it has in
# flight (rust/proto/sndmap.rs), and a subflow whose map is full takes no data, so
# poll reports no POLLOUT. Small TCP_NODELAY writes placed in turn on two subflows
# (`roundrobin`) make an extent each, and two wide paths (100 Mbit/s, 25 ms each
# way) hold more than 128 of them in flight. Before the subflows' write_space
# forgot the extents their ACKs covered (rust/subflow.rs), only a push did, and
# there was nothing left to push: the writer (tests/tools/pollwrite.c, 300-byte
# non-blocking writes, poll for POLLOUT after EAGAIN) waited in poll forever, in 3
# of 3 rounds after 1.0-1.8 of 8 MB. Two rounds of 8 MB: the writer is never
# refused POLLOUT for 10 s, the server receives every byte, and both paths carry
# data.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
tool=/tmp/pollwrite
gcc -O2 -Wall -o "$tool" "$MPTCP_RS_REPO/tests/tools/pollwrite.c" || fail "cannot build pollwrite"
bytes=8000000
topo_two_paths delay 25ms rate 100mbit limit 2000
for ns in cli srv; do ip netns exec $ns sysctl -qw net.mptcp.scheduler=roundrobin; done
b() { ip netns exec srv cat "/sys/class/net/s$1/statistics/rx_bytes"; }
for round in 1 2; do
	port=$((7100 + round)) out=$(mktemp)
	r1=$(b 1) r2=$(b 2)
	ip netns exec srv timeout 120 "$tool" server $port >"$out" 2>"$out.err" &
	srv=$!
	for _ in $(seq 50); do grep -q listening "$out.err" && break; sleep 0.1; done
	res=$(ip netns exec cli timeout 120 "$tool" client "$(topo_addr4 s 1)" $port $bytes 300) && rc=0 || rc=$?
	wait $srv || fail "round $round: server failed ($(cat "$out"))"
	got=$(awk '/^received/ { print $2 }' "$out")
	r1=$(($(b 1) - r1)) r2=$(($(b 2) - r2))
	info "round $round: $res; server received $got bytes, path 1 $r1, path 2 $r2 bytes"
	((rc == 0)) || fail "round $round: writer exit $rc: $res"
	[ "$got" = $bytes ] || fail "round $round: server received $got of $bytes bytes"
	((r1 > bytes / 20 && r2 > bytes / 20)) || fail "round $round: a path carried under 5 % of the bytes"
done
info "a writer in poll saw the room of full send maps"
