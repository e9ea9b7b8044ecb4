#!/usr/bin/env bash
# mptcp_rs against a plain TCP peer on a lossy path, 64 MB each way, IPv4 and IPv6:
# an MPTCP client falls back when the SYN/ACK has no MP_CAPABLE, an MPTCP listener
# serves a TCP client; the data arrives intact either way.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
bytes=${MPTCP_RS_XFER_BYTES:-$((64 << 20))}
topo_new cli srv
topo_path cli srv 1
lossy_path cli srv 1
transfer cli srv "$(topo_addr4 s 1)" 6101 mptcp "$bytes" tcp
transfer cli srv "$(topo_addr6 s 1)" 6102 mptcp "$bytes" tcp
expect_fallback_active cli 2
transfer cli srv "$(topo_addr4 s 1)" 6103 tcp "$bytes" mptcp
transfer cli srv "$(topo_addr6 s 1)" 6104 tcp "$bytes" mptcp
expect_no_mptcp_syn srv
dmesg_clean
