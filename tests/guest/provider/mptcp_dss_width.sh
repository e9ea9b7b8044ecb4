#!/usr/bin/env bash
# The DSS that mptcp_rs sends: mappings with 32-bit DSNs and, toward a peer that
# sends 32-bit DSNs, 32-bit DATA_ACKs (RFC 8684 3.3), so a data segment's DSS takes
# 18 bytes (20 with a DSS checksum; both 20 once aligned) and TCP's MSS grows by
# the 8 bytes saved: 1,428 payload bytes on a 1,500-byte path with timestamps.
# mptcp_rs at both ends, 4 MB each way, IPv4 and IPv6, without and with checksums;
# the first segments captured (TSO and GSO off, so the capture shows every segment)
# and read by tests/tools/dss_widths.py; then a fast connection, whose DSNs must be
# 64-bit. The 64-bit DATA_ACK a peer with 64-bit DSNs gets is checked against
# upstream (pair tests rs_to_ref, ref_to_rs).
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
bytes=$((4 << 20))
topo_new cli srv
topo_path cli srv 1
ip netns exec cli ethtool -K c1 tso off gso off >/dev/null || fail "ethtool cannot turn TSO off"
ip netns exec srv ethtool -K s1 tso off gso off >/dev/null || fail "ethtool cannot turn TSO off"
pcap=$(mktemp -d)
port=6500
for csum in 0 1; do
	for ns in cli srv; do ip netns exec $ns sysctl -qw net.mptcp.checksum_enabled=$csum; done
	len=$((csum ? 20 : 18))
	for v in 4 6; do
		c=$(topo_addr$v c 1) s=$(topo_addr$v s 1)
		# 1,500 bytes less the IP header, TCP's 20 and 12 of timestamps, and the DSS
		mss=$((1500 - (v == 6 ? 40 : 20) - 20 - 12 - 20))
		port=$((port + 1))
		ip netns exec cli tcpdump -Z root -i c1 -nn -s 200 -U -c 3000 -w "$pcap/$port.pcap" "tcp port $port" 2>"$pcap/tcpdump.err" &
		dump=$!
		sleep 1
		transfer cli srv "$s" $port mptcp "$bytes"
		kill "$dump" 2>/dev/null
		wait "$dump" 2>/dev/null
		[ -s "$pcap/$port.pcap" ] || fail "tcpdump captured nothing: $(cat "$pcap/tcpdump.err")"
		out=$(python3 "$MPTCP_RS_REPO/tests/tools/dss_widths.py" "$pcap/$port.pcap" \
			--dsn32 "$c" --dsn32 "$s" --ack32 "$c" --ack32 "$s" \
			--data-len "$c=$len" --data-len "$s=$len" --mss "$c=$mss" --mss "$s=$mss" 2>&1) ||
			fail "DSS widths (checksums $csum, IPv$v): $out"
		info "checksums $csum, IPv$v:"
		sed 's/^/  /' <<<"$out" >&2
	done
done

# A connection that sends fast enough for 32-bit DSNs to wrap within TCP's maximum
# segment lifetime (RFC 8684 3.3; mptcp_rs switches at half that rate, about 143
# Mbit/s, measured over 250 ms) sends 64-bit DSNs, and the server's DATA_ACKs are
# 64-bit then: iperf3 under mptcpize, one way (no mapping from the server, so the
# client's DATA_ACKs stay 32-bit: a 22-byte DSS), segments captured from its third
# second on. A 4 MB transfer, as above, cannot reach that rate over
# 250 ms, so those stay 32-bit whatever the host's speed.
ip netns exec cli ethtool -K c1 tso on gso on >/dev/null
ip netns exec srv ethtool -K s1 tso on gso on >/dev/null
for ns in cli srv; do ip netns exec $ns sysctl -qw net.mptcp.checksum_enabled=0; done
c=$(topo_addr4 c 1) s=$(topo_addr4 s 1)
ip netns exec srv mptcpize run iperf3 -s -1 -p 5210 >"$pcap/iperf-s.log" 2>&1 &
srv=$!
sleep 1
ip netns exec cli mptcpize run iperf3 -c "$s" -p 5210 -t 5 -J >"$pcap/iperf.json" 2>&1 &
cli=$!
sleep 3
ip netns exec cli tcpdump -Z root -i c1 -nn -s 200 -U -c 1000 -w "$pcap/fast.pcap" "tcp port 5210" 2>"$pcap/tcpdump.err" &
dump=$!
wait "$cli" || fail "iperf3 client: $(tail -n 3 "$pcap/iperf.json")"
wait "$srv" || true
kill "$dump" 2>/dev/null
wait "$dump" 2>/dev/null
mbps=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6))' "$pcap/iperf.json")
[ -s "$pcap/fast.pcap" ] || fail "tcpdump captured nothing: $(cat "$pcap/tcpdump.err")"
out=$(python3 "$MPTCP_RS_REPO/tests/tools/dss_widths.py" "$pcap/fast.pcap" --dsn64 "$c" --ack32 "$c" --ack64 "$s" --data-len "$c=22" 2>&1)
ok=$?
info "iperf3 at $mbps Mbit/s, from its third second on:"
sed 's/^/  /' <<<"$out" >&2
if ((mbps >= 300)); then
	((ok == 0)) || fail "DSS widths at $mbps Mbit/s"
else
	info "(too slow here, $mbps Mbit/s, for the 64-bit DSNs to be required: not checked)"
fi
rm -rf "$pcap"
expect_mptcp_used cli srv 4
dmesg_clean
