#!/usr/bin/env bash
# mptcp_rs <-> mptcp_rs over one path with delay, 1% loss and reordering: 64 MB each
# way with a SHA-256 of every byte, IPv4 and IPv6, with and without DSS checksums.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
bytes=${MPTCP_RS_XFER_BYTES:-$((64 << 20))}
topo_new cli srv
topo_path cli srv 1
lossy_path cli srv 1
port=6000
for csum in 0 1; do
	for ns in cli srv; do ip netns exec $ns sysctl -qw net.mptcp.checksum_enabled=$csum; done
	for addr in "$(topo_addr4 s 1)" "$(topo_addr6 s 1)"; do
		port=$((port + 1))
		transfer cli srv "$addr" $port mptcp "$bytes"
		info "  (checksums $csum)"
	done
done
expect_mptcp_used cli srv 4
dmesg_clean
