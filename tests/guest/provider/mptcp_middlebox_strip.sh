#!/usr/bin/env bash
# A middlebox that strips MPTCP options (nftables resetting TCP option 30) between two
# mptcp_rs hosts: from the first segment (the SYN/ACK has no MP_CAPABLE) and only
# after the handshake (the third ACK and every later segment lose theirs). Both
# connections fall back to TCP transparently and the data arrives intact.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
bytes=${MPTCP_RS_MB_XFER_BYTES:-$((16 << 20))}
topo_new cli srv
topo_path cli srv 1
strip() { # strip NS DEV FLAGS-EXPR: reset option 30 on packets leaving DEV
	ip netns exec "$1" nft -f - <<NFT || fail "nft cannot reset TCP options here"
table inet middlebox {
	chain out {
		type filter hook postrouting priority 0; policy accept;
		oifname "$2" $3 reset tcp option mptcp
	}
}
NFT
}
unstrip() { ip netns exec "$1" nft delete table inet middlebox; }

# 1. everything stripped: plain TCP from the SYN on
strip cli c1 "tcp flags syn"
strip srv s1 "tcp flags syn"
transfer cli srv "$(topo_addr4 s 1)" 6201 mptcp "$bytes"
expect_fallback_active cli 1 || true
unstrip cli; unstrip srv

# 2. the handshake passes, every later segment is stripped
strip cli c1 "tcp flags & syn == 0"
strip srv s1 "tcp flags & syn == 0"
transfer cli srv "$(topo_addr4 s 1)" 6202 mptcp "$bytes"
transfer cli srv "$(topo_addr6 s 1)" 6203 mptcp "$bytes"
mib_at_least srv MPTcpExtMPCapableFallbackACK 2
mib_at_least cli MPTcpExtDssFallback 2
dmesg_clean
