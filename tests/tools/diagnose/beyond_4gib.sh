#!/usr/bin/env bash
# By hand (about 7 minutes per transfer under QEMU TCG, too long for make check):
#   scripts/vm --kernel custom --load mptcp_rs -- bash tests/tools/diagnose/beyond_4gib.sh
# Sequence numbers past 4 GiB: a subflow's 32-bit sequence space wraps every 4 GiB,
# the data sequence space (64 bits) does not. One unshaped path, 4.5 GiB one way
# with socat, the byte count and a CRC of what arrives checked (hashing gigabytes
# in Python under QEMU TCG takes minutes; a DSN that went 4 GiB back makes the
# receiver take the rest as old data: the transfer stalls or comes out short):
#  1. mptcp_rs -> mptcp_rs on one subflow (direct mode: each segment's DSN follows
#     its subflow sequence number, and must keep counting past the wrap);
#  2. a plain TCP client -> mptcp_rs server (fallback: the meta socket numbers the
#     subflow's bytes itself, past the wrap too).
# Clean kernel log.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
bytes=${MPTCP_RS_4GIB_BYTES:-$(((9 << 30) / 2))}
topo_new cli srv
topo_path cli srv 1
addr=$(topo_addr4 s 1)

# the stream: one 64-byte line over and over (`yes`); a piece lost, repeated or put
# elsewhere changes the count or the CRC (cksum) of what arrives
line=0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ=
expect=$(cksum < <(yes "$line" | head -c "$bytes"))
one_way() { # PORT CLIENT_PROTO SERVER_PROTO
	local port=$1 cproto=$2 sproto=$3 out cwrap="" swrap="" start got
	out=$(mktemp -d)
	[ "$cproto" = mptcp ] && cwrap="mptcpize run"
	[ "$sproto" = mptcp ] && swrap="mptcpize run"
	start=$(date +%s.%N)
	# shellcheck disable=SC2086
	ip netns exec srv $swrap socat -b 262144 -u "TCP-LISTEN:$port,reuseaddr" - 2>"$out/server.err" | cksum >"$out/server" &
	local spid=$!
	for i in $(seq 50); do ip netns exec srv ss -Hltn "sport = :$port" | grep -q . && break; sleep 0.1; done
	# shellcheck disable=SC2086
	timeout 900 ip netns exec cli $cwrap socat -b 262144 -u - "TCP:$addr:$port" 2>"$out/client.err" \
		< <(yes "$line" | head -c "$bytes") ||
		{ kill "$spid"; fail "$cproto client: $(tail -n 3 "$out/client.err")"; }
	wait "$spid" || fail "$sproto server: $(tail -n 3 "$out/server.err")"
	got=$(cat "$out/server")
	[ "$got" = "$expect" ] || fail "$cproto -> $sproto: received cksum/bytes $got, sent $expect"
	info "$cproto -> $sproto: $bytes bytes, cksum $got ($(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s)"
	rm -rf "$out"
}

one_way 7501 mptcp mptcp
expect_mptcp_used cli srv 1
one_way 7502 tcp mptcp
dmesg_clean
