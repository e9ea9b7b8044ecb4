#!/usr/bin/env bash
# mptcpd (Debian's 0.12, unchanged) drives mptcp_rs's path manager: its address
# advertiser plugin (addr_adv, --addr-flags=subflow) finds the client's addresses
# over rtnetlink and adds them as "subflow" endpoints through the generic netlink
# family mptcp_pm; a connection over path 1 then joins from path 2's address, and
# path 2 carries a real share of a 4 MB transfer each way (SHA-256). Two 10 Mbit/s
# paths, as mptcp_join_active.sh.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
mptcpd=/usr/libexec/mptcpd
plugins=/usr/lib/x86_64-linux-gnu/mptcpd
[ -x "$mptcpd" ] && [ -f "$plugins/addr_adv.so" ] || fail "mptcpd or its plugins missing (scripts/setup-deps installs them)"
dpid=
cleanup() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null
	topo_cleanup
}
trap cleanup EXIT
log=$(mktemp)
bytes=$((4 << 20))
two_paths_10mbit cli srv
c2=$(topo_addr4 c 2) s1=$(topo_addr4 s 1)
ip -n cli mptcp limits set subflows 2
ip -n srv mptcp limits set subflows 2
ip netns exec cli "$mptcpd" --log=stderr --plugin-dir="$plugins" --path-manager=addr_adv \
	--load-plugins=addr_adv --addr-flags=subflow \
	--notify-flags=existing,skip_link_local,skip_loopback >"$log" 2>&1 &
dpid=$!
eps=
for _ in $(seq 50); do
	eps=$(ip -n cli mptcp endpoint show)
	[[ $eps == *"$c2 "*subflow* ]] && break
	sleep 0.2
done
info "endpoints mptcpd added: $(echo "$eps" | tr '\n' ';')"
[[ $eps == *"$c2 "*subflow* ]] || fail "mptcpd added no subflow endpoint for $c2: $eps; log: $(cat "$log")"
rx2() { ip netns exec srv cat /sys/class/net/s2/statistics/rx_bytes; }
tx2() { ip netns exec srv cat /sys/class/net/s2/statistics/tx_bytes; }
before_rx=$(rx2) before_tx=$(tx2)
transfer cli srv "$s1" 7100 mptcp "$bytes"
d_rx=$(($(rx2) - before_rx)) d_tx=$(($(tx2) - before_tx))
info "path 2 at the server: $d_rx bytes in, $d_tx out (of $bytes each way)"
mib_at_least cli MPTcpExtMPJoinSynTx 1
mib_at_least srv MPTcpExtMPJoinAckRx 1
((d_rx > bytes / 10 && d_tx > bytes / 10)) || fail "path 2 carried too little: $d_rx bytes in, $d_tx out"
kill "$dpid"
wait "$dpid" 2>/dev/null
dpid=
dmesg_clean
