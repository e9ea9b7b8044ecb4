#!/usr/bin/env bash
# The userspace path manager (net.mptcp.path_manager=userspace) driven by the kernel
# selftests' pm_nl_ctl, mptcp_rs at both ends, two 10 Mbit/s paths:
#   1. a transfer (4 MB each way, SHA-256) on a connection the client's PM gives a
#      second subflow over path 2 (SUBFLOW_CREATE, local id 5) while it waits to
#      send: path 2 carries a real share both ways, the SUB_ESTABLISHED event has the
#      addresses and ids; the namespaces' in-kernel endpoints (signal, subflow) are
#      ignored (no ADD_ADDR, one join); `dump token` lists the local address;
#      SUBFLOW_DESTROY closes a join of another connection (SUB_CLOSED, RmSubflow).
#   2. commands that must fail, with upstream's extack messages (sent with the
#      kernel tree's YNL client, tools/net/ynl): an unknown token, a connection of
#      the in-kernel PM, address id 0, an address announced again with another id,
#      REMOVE of an unknown id; the YNL dump of the connection's addresses.
#      SUBFLOW_CREATE with a local port (YNL) opens the join from that port.
#   3. with nobody listening to the events, the server neither echoes the client's
#      ADD_ADDR (AddAddrDrop, no EchoAdd at the client) nor accepts its join
#      (MPJoinRejected), as upstream. REMOVE of the address of a refused join (not
#      announced, no subflow) sends no REMOVE_ADDR (RmAddrTx), of the announced
#      one, one.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
tools=/tmp/pm_userspace
trap pm_cleanup EXIT
pm_tools "$tools"
bytes=$((4 << 20))
two_paths_10mbit cli srv
c2=$(topo_addr4 c 2) s1=$(topo_addr4 s 1) s2=$(topo_addr4 s 2)
for ns in cli srv; do
	ip netns exec "$ns" sysctl -qw net.mptcp.path_manager=userspace
	[ "$(ip netns exec "$ns" sysctl -n net.mptcp.pm_type)" = 1 ] || fail "pm_type is not 1 in $ns"
	# in-kernel endpoints the userspace PM's connections must ignore
	ip -n "$ns" mptcp limits set subflows 4 add_addr_accepted 4
done
ip -n srv mptcp endpoint add "$s2" dev s2 signal
ip -n cli mptcp endpoint add "$c2" dev c2 subflow

pm_events cli
pm_events srv
sleep 0.5

# --- 1. a subflow of the userspace PM carries data -------------------------------
port=6201
(
	tok=$(pm_token cli) || exit 1
	pm cli csf lip "$c2" lid 5 rip "$s1" rport $port token "$tok" || exit 1
	sleep 1
	pm cli dump token "$tok" >"$tools/dump.out" || echo "dump failed: $?" >>"$tools/dump.out"
) 2>"$tools/csf.err" &
csf_pid=$!
rx2() { ip netns exec srv cat /sys/class/net/s2/statistics/rx_bytes; }
tx2() { ip netns exec srv cat /sys/class/net/s2/statistics/tx_bytes; }
before_rx=$(rx2) before_tx=$(tx2)
XFER_OPTS="--send-after 3" transfer cli srv "$s1" $port mptcp "$bytes"
wait "$csf_pid" || fail "SUBFLOW_CREATE failed: $(cat "$tools/csf.err")"
d_rx=$(($(rx2) - before_rx)) d_tx=$(($(tx2) - before_tx))
info "path 2 at the server: $d_rx bytes in, $d_tx out (of $bytes each way)"
((d_rx > bytes / 10 && d_tx > bytes / 10)) || fail "path 2 carried too little: $d_rx bytes in, $d_tx out"
ev=$(grep '^type:10,' "$tools/cli.ev" | head -n 1)
info "client SUB_ESTABLISHED: $ev"
for want in "saddr4:$c2" "daddr4:$s1" "dport:$port" "loc_id:5" "rem_id:0"; do
	[[ ",$ev," == *",$want,"* ]] || fail "SUB_ESTABLISHED lacks $want: $ev"
done
grep -q "id 5 .*$c2" "$tools/dump.out" || fail "dump token does not list id 5 $c2: $(cat "$tools/dump.out")"
info "dump token: $(tr '\n' ' ' <"$tools/dump.out")"
v=$(mib cli MPTcpExtMPJoinSynTx)
[ "$v" = 1 ] || fail "MPJoinSynTx in cli is $v: expected exactly the one join asked for"
for ns_m in "srv MPTcpExtAddAddrTx" "cli MPTcpExtAddAddr" "srv MPTcpExtMPJoinRejected"; do
	set -- $ns_m
	v=$(mib "$1" "$2")
	[ "${v:-0}" = 0 ] || fail "$2 in $1 is $v, expected 0 (in-kernel endpoints used?)"
done
mib_at_least srv MPTcpExtMPJoinAckRx 1

# SUBFLOW_DESTROY of a live join (a connection that waits 5 s before sending)
port=6202
: >"$tools/cli.ev"
(
	tok=$(pm_token cli) || exit 1
	pm cli csf lip "$c2" lid 6 rip "$s1" rport $port token "$tok" || exit 1
	sleep 1.5
	sport=$(grep '^type:10,' "$tools/cli.ev" | tail -n 1 | sed -n 's/.*sport:\([0-9]*\).*/\1/p')
	pm cli dsf lip "$c2" lport "$sport" rip "$s1" rport $port token "$tok"
) 2>"$tools/dsf.err" &
dsf_pid=$!
XFER_OPTS="--send-after 5" transfer cli srv "$s1" $port mptcp $((256 << 10))
wait "$dsf_pid" || fail "SUBFLOW_DESTROY failed: $(cat "$tools/dsf.err")"
ev=$(grep '^type:11,' "$tools/cli.ev" | head -n 1)
info "client SUB_CLOSED: $ev"
for want in "saddr4:$c2" "daddr4:$s1" "loc_id:6"; do
	[[ ",$ev," == *",$want,"* ]] || fail "SUB_CLOSED lacks $want: $ev"
done
mib_at_least cli MPTcpExtRmSubflow 1

# --- 2. commands that fail, through the kernel tree's YNL client (it shows extack) --
ynl() {
	local ns=$1
	shift
	ip netns exec "$ns" python3 "$KSRC/tools/net/ynl/pyynl/cli.py" --no-schema \
		--spec "$KSRC/Documentation/netlink/specs/mptcp_pm.yaml" "$@"
}
expect_err() { # MESSAGE NS ARGS...: the YNL request fails with MESSAGE
	local msg=$1 out
	shift
	if out=$(ynl "$@" 2>&1); then
		echo "FAIL: ${*:2} succeeded, expected \"$msg\"" >&2
		return 1
	fi
	[[ $out == *"$msg"* ]] || { echo "FAIL: ${*:2}: \"$out\", expected \"$msg\"" >&2; return 1; }
	info "${*:3}: $msg"
}
# 192.0.2.x as YNL takes an IPv4 address (a big-endian u32)
a4() { local IFS=.; set -- $1; echo $((($1 << 24) | ($2 << 16) | ($3 << 8) | $4)); }
ann_json() { # TOKEN ID
	echo "{\"token\": $1, \"addr\": {\"family\": 2, \"addr4\": $(a4 "$c2"), \"id\": $2, \"flags\": 1}}"
}
port=6203
: >"$tools/cli.ev"
# the connection sends once the commands are done (each YNL run starts Python: slow
# under TCG); it must still exist for them
rm -f "$tools/neg.done"
(
	trap 'touch "$tools/neg.done"' EXIT
	tok=$(pm_token cli) || exit 1
	expect_err "invalid token" cli --do announce --json "$(ann_json $((tok ^ 1)) 9)" || exit 1
	expect_err "invalid addr id" cli --do announce --json "$(ann_json "$tok" 0)" || exit 1
	ynl cli --do announce --json "$(ann_json "$tok" 9)" >/dev/null || { echo "FAIL: ANNOUNCE" >&2; exit 1; }
	expect_err "did not match address and id" cli --do announce --json "$(ann_json "$tok" 10)" || exit 1
	expect_err "not found" cli --do remove --json "{\"token\": $tok, \"loc-id\": 77}" || exit 1
	out=$(ynl cli --dump get-addr --json "{\"token\": $tok}") || exit 1
	[[ $out == *"'id': 9"* ]] || { echo "FAIL: dump lacks id 9: $out" >&2; exit 1; }
	info "YNL dump: $out"
) 2>"$tools/neg.err" &
neg_pid=$!
XFER_OPTS="--send-after-file $tools/neg.done" transfer cli srv "$s1" $port mptcp $((64 << 10))
wait "$neg_pid" || fail "$(cat "$tools/neg.err")"
cat "$tools/neg.err" >&2
mib_at_least srv MPTcpExtAddAddr 1
mib_at_least cli MPTcpExtEchoAdd 1
# SUBFLOW_CREATE from a given local port (through YNL: pm_nl_ctl's csf takes none;
# below the ephemeral range, so no other socket has it): the join comes from that
# port, as upstream binds it
sf_json() { # TOKEN ID LOCAL-PORT REMOTE-PORT
	echo "{\"token\": $1, \"addr\": {\"family\": 2, \"addr4\": $(a4 "$c2"), \"id\": $2, \"port\": $3}," \
		"\"addr-remote\": {\"family\": 2, \"addr4\": $(a4 "$s1"), \"port\": $4}}"
}
port=6206 lport=29123
: >"$tools/cli.ev"
rm -f "$tools/lport.done"
(
	trap 'touch "$tools/lport.done"' EXIT
	tok=$(pm_token cli) || exit 1
	ynl cli --do subflow-create --json "$(sf_json "$tok" 7 $lport $port)" >/dev/null ||
		{ echo "FAIL: SUBFLOW_CREATE from local port $lport" >&2; exit 1; }
	for i in $(seq 100); do grep -q '^type:10,' "$tools/cli.ev" && break; sleep 0.1; done
) 2>"$tools/lport.err" &
lport_pid=$!
XFER_OPTS="--send-after-file $tools/lport.done" transfer cli srv "$s1" $port mptcp $((64 << 10))
wait "$lport_pid" || fail "$(cat "$tools/lport.err")"
ev=$(grep '^type:10,' "$tools/cli.ev" | head -n 1)
[[ ",$ev," == *",sport:$lport,"* ]] ||
	fail "the join asked for from local port $lport: ${ev:-no SUB_ESTABLISHED event}"
info "SUBFLOW_CREATE from local port $lport: $ev"
# a connection of the in-kernel PM (chosen at its creation) takes no token command
ip netns exec cli sysctl -qw net.mptcp.path_manager=kernel
port=6204
: >"$tools/cli.ev"
(
	tok=$(pm_token cli) || exit 1
	expect_err "userspace PM not selected" cli --do announce --json "$(ann_json "$tok" 9)"
) 2>"$tools/neg.err" &
neg_pid=$!
XFER_OPTS="--send-after 8" transfer cli srv "$s1" $port mptcp $((64 << 10))
wait "$neg_pid" || fail "$(cat "$tools/neg.err")"
cat "$tools/neg.err" >&2
ip netns exec cli sysctl -qw net.mptcp.path_manager=userspace

# --- 3. nobody listens ------------------------------------------------------------
# (upstream asks netlink whether the events group has a listener: netlink answers
# for all namespaces at once, so both listeners go, once the token is known)
echo_before=$(mib cli MPTcpExtEchoAdd) drop_before=$(mib srv MPTcpExtAddAddrDrop)
rm_tx_before=$(mib cli MPTcpExtRmAddrTx)
port=6205
: >"$tools/cli.ev"
rm -f "$tools/nol.done"
(
	trap 'touch "$tools/nol.done"' EXIT
	tok=$(pm_token cli) || exit 1
	kill "${pm_events_pids[@]}"
	sleep 0.5
	pm cli ann "$c2" id 3 token "$tok" || exit 1
	# refused by the server (its reset comes after the command returned)
	pm cli csf lip "$c2" lid 3 rip "$s1" rport $port token "$tok"
	# REMOVE of an address the peer never saw (recorded by a join it refused, not
	# announced, no subflow left) sends no REMOVE_ADDR; REMOVE of the announced one
	# does (upstream's mptcp_pm_remove_addr_entry())
	ynl cli --do subflow-create --json "$(sf_json "$tok" 4 29124 $port)" >/dev/null ||
		{ echo "FAIL: SUBFLOW_CREATE of id 4" >&2; exit 1; }
	sleep 1
	pm cli dump token "$tok" >"$tools/nol.dump" 2>&1
	grep -q "^id 4 " "$tools/nol.dump" ||
		{ echo "FAIL: the refused join's address (id 4) is not recorded: $(tr '\n' ' ' <"$tools/nol.dump")" >&2; exit 1; }
	# the options go once the connection is fully established, i.e. once it carried
	# data: the transfer starts, the ADD_ADDR arrives (dropped), then the REMOVEs
	touch "$tools/nol.done"
	for i in $(seq 100); do
		v=$(mib srv MPTcpExtAddAddrDrop)
		((${v:-0} > ${drop_before:-0})) && break
		sleep 0.1
	done
	pm cli rem id 4 token "$tok" || { echo "FAIL: REMOVE of id 4" >&2; exit 1; }
	pm cli rem id 3 token "$tok" || { echo "FAIL: REMOVE of id 3" >&2; exit 1; }
	exit 0
) 2>"$tools/nol.err" &
nol_pid=$!
# 8 MB: the connection lasts while the REMOVEs are sent (6.7 s at 10 Mbit/s: the
# join is refused)
XFER_OPTS="--send-after-file $tools/nol.done" transfer cli srv "$s1" $port mptcp $((8 << 20))
wait "$nol_pid" || fail "$(cat "$tools/nol.err")"
v=$(mib cli MPTcpExtRmAddrTx)
((${v:-0} - ${rm_tx_before:-0} == 1)) ||
	fail "RmAddrTx +$((${v:-0} - ${rm_tx_before:-0})) for REMOVE of ids 4 (never seen by the peer: none) and 3 (announced: one)"
info "REMOVE: one REMOVE_ADDR for ids 4 (never seen by the peer) and 3 (announced)"
[ "$(mib cli MPTcpExtEchoAdd)" = "$echo_before" ] || fail "the server echoed an ADD_ADDR with no PM listening"
v=$(mib srv MPTcpExtAddAddrDrop)
((v > drop_before)) || fail "AddAddrDrop in srv stayed $v"
mib_at_least srv MPTcpExtMPJoinRejected 1
info "no listener: ADD_ADDR dropped, join refused"
dmesg_clean
