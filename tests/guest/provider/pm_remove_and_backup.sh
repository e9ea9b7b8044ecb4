#!/usr/bin/env bash
# The in-kernel path manager's removals (flush, address id 0) and backup flags as
# upstream's (issue 5), mptcp_rs to mptcp_rs. Two paths of 10 Mbit/s, 10 ms RTT.
#  1. The client has a `subflow` endpoint on path 2 (`limits subflows 1`); 12 MB go
#     to the client and, once it has 2 MB, it flushes its endpoints: as upstream's
#     `mptcp_pm_flush_addrs_and_subflows()`, the subflow closes without a
#     REMOVE_ADDR (it was never announced: RmAddrTx +0 at the client, RmAddr +0 at
#     the server), RmSubflow +1 at the client, and with FINs, not resets (MPRstTx
#     +0 at both ends); within 5 s (the client reading on) neither end has a
#     socket on path 2 in ESTABLISHED or CLOSE-WAIT, nor the client in FIN-WAIT-1/2
#     (the server closed its side when the client's FIN came), from a second after
#     the flush path 2 carries less than 1 MB, the data arrives intact.
#  2. The client's endpoint is on its path-1 address, the initial subflow's, with
#     the `backup` flag; the server announces its path-2 address from a `signal
#     backup` endpoint (client `limits add_addr_accepted 1 subflows 1`). 2 MB each
#     way: the client marks its initial subflow backup with MP_PRIO (upstream's
#     `mptcp_mpc_endpoint_setup()`: MPPrioTx +1 at the client, MPPrioRx +1 at the
#     server), and the server's SYN/ACK to the client's join carries the backup
#     flag of its endpoint (MPJoinSynAckBackupRx +1 at the client); data intact.
#  3. The client has a `subflow` endpoint on path 2 again; 12 MB go to the client
#     and, once it has 2 MB, it deletes address id 0 (`endpoint delete id 0 C1`,
#     its initial address): REMOVE_ADDR 0 (RmAddrTx +1, the server's RmAddr +1),
#     the initial subflow closes (RmSubflow +1 at the client) with FINs, not resets
#     (MPRstTx +0 at both ends; within 5 s neither end has a socket on path 1 in
#     ESTABLISHED or CLOSE-WAIT, nor the client in FIN-WAIT-1/2), the transfer
#     completes over path 2 intact and from a second after the removal path 1
#     carries less than 1 MB.
#  4. The same, but the client has a `subflow` endpoint (id 5) on its path-1
#     address besides the one on path 2, and deletes it by its id: as upstream's
#     `mptcp_endp_get_local_id()`, the endpoint of the initial subflow's address
#     stands for address id 0, so the same happens as in 3 (REMOVE_ADDR 0, not 5).
#  Clean kernel log.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
two_paths_10mbit cli srv
c1=$(topo_addr4 c 1) c2=$(topo_addr4 c 2) s1=$(topo_addr4 s 1) s2=$(topo_addr4 s 2)
# removal_xfer WHAT PORT REMOVAL DEV ADDR RMADDR: 12 MB to the client (1 MB back)
# over a joined connection; once the client has 2 MB it runs REMOVAL (a command in
# its namespace) and, in the background while it reads on (what the closed subflow
# still carries drains before its FIN), records the bytes its interface DEV received
# a second later and what is left on address ADDR within 5 s (the client's sockets
# in ESTABLISHED, CLOSE-WAIT or FIN-WAIT-1/2, the server's in ESTABLISHED or
# CLOSE-WAIT). Then: data intact both ways, one join, RMADDR REMOVE_ADDRs sent by
# the client and received by the server, one subflow closed by the client
# (RmSubflow), no MP_RST either way, nothing left on ADDR, DEV idle (< 1 MB)
# from a second after the removal.
removal_xfer() {
	local what=$1 port=$2 removal=$3 dev=$4 addr=$5 rmaddr=$6 out spid i rx cut left
	# an earlier connection still finishing its close would get the REMOVE_ADDR too
	# (its subflows, or the MPTCP socket once they are gone)
	for i in $(seq 100); do
		left=$(ip netns exec cli ss -Htan state all | grep -v TIME-WAIT; ip netns exec cli ss -HMan)
		[ -z "$left" ] && break
		sleep 0.1
	done
	[ -z "$left" ] || info "$what: still open from before: $left"
	out=$(mktemp -d)
	ip netns exec srv python3 "$XFER" server --bind 0.0.0.0 --port "$port" --proto mptcp \
		--send $((12 << 20)) --timeout 120 >"$out/server" 2>"$out/server.err" &
	spid=$!
	for i in $(seq 50); do grep -q listening "$out/server.err" 2>/dev/null && break; sleep 0.1; done
	local rmtx0 rm0 rms0 rstc0 rsts0 sa0
	rmtx0=$(mib cli MPTcpExtRmAddrTx) rm0=$(mib srv MPTcpExtRmAddr) rms0=$(mib cli MPTcpExtRmSubflow)
	rstc0=$(mib cli MPTcpExtMPRstTx) rsts0=$(mib srv MPTcpExtMPRstTx) sa0=$(mib cli MPTcpExtMPJoinSynAckRx)
	cut="$removal; (sleep 1; cat /sys/class/net/$dev/statistics/rx_bytes > $out/rx_at_cut
	for i in \$(seq 25); do
		ss -Htn state established state close-wait state fin-wait-1 state fin-wait-2 src $addr > $out/left
		ip netns exec srv ss -Htn state established state close-wait dst $addr >> $out/left
		[ -s $out/left ] || break; sleep 0.2
	done; touch $out/cut_done) >/dev/null 2>&1 &"
	ip netns exec cli python3 "$XFER" client --connect "$s1" --port "$port" --proto mptcp \
		--send $((1 << 20)) --timeout 120 --cut-at $((2 << 20)) --cut-cmd "ip netns exec cli sh -c '$cut'" \
		>"$out/client" 2>"$out/client.err" || fail "$what: client: $(tail -n 3 "$out/client.err")"
	wait "$spid" || fail "$what: server: $(tail -n 3 "$out/server.err")"
	for i in $(seq 100); do [ -e "$out/cut_done" ] && break; sleep 0.1; done
	[ -e "$out/cut_done" ] || fail "$what: the check after the removal did not end"
	python3 - "$out/client" "$out/server" "$what" <<'PY' || fail "$what: data mismatch"
import json, sys
c = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
ok = (s["sent"] == c["received"] and s["sent_sha256"] == c["received_sha256"]
      and c["sent"] == s["received"] and c["sent_sha256"] == s["received_sha256"])
print("  %s at %s s, %d bytes intact" % (sys.argv[3], c.get("cut"), c["received"]), file=sys.stderr)
sys.exit(0 if ok and c.get("cut") is not None else 1)
PY
	rx=$(($(bytes_on cli "$dev" rx) - $(cat "$out/rx_at_cut")))
	info "$what: join +$(mib_delta cli MPTcpExtMPJoinSynAckRx "$sa0"), RmAddrTx +$(mib_delta cli MPTcpExtRmAddrTx "$rmtx0"), server RmAddr +$(mib_delta srv MPTcpExtRmAddr "$rm0"), RmSubflow +$(mib_delta cli MPTcpExtRmSubflow "$rms0"), MPRstTx client +$(mib_delta cli MPTcpExtMPRstTx "$rstc0") server +$(mib_delta srv MPTcpExtMPRstTx "$rsts0"); $dev received $rx bytes after"
	(($(mib_delta cli MPTcpExtMPJoinSynAckRx "$sa0") == 1)) || fail "$what: the client's join did not happen"
	(($(mib_delta cli MPTcpExtRmAddrTx "$rmtx0") == rmaddr)) ||
		fail "$what: $(mib_delta cli MPTcpExtRmAddrTx "$rmtx0") REMOVE_ADDR sent, expected $rmaddr"
	(($(mib_delta srv MPTcpExtRmAddr "$rm0") == rmaddr)) ||
		fail "$what: the server received $(mib_delta srv MPTcpExtRmAddr "$rm0") REMOVE_ADDR, expected $rmaddr"
	(($(mib_delta cli MPTcpExtRmSubflow "$rms0") == 1)) ||
		fail "$what: the client closed $(mib_delta cli MPTcpExtRmSubflow "$rms0") subflows, expected 1"
	(($(mib_delta cli MPTcpExtMPRstTx "$rstc0") == 0 && $(mib_delta srv MPTcpExtMPRstTx "$rsts0") == 0)) ||
		fail "$what: the subflow was reset, not closed"
	[ ! -s "$out/left" ] || fail "$what: 5 s after the removal, on $addr: $(cat "$out/left")"
	((rx < 1 << 20)) || fail "$what: $dev still carried $rx bytes after the removal"
}

# 1. flush: the subflow closes quietly and gracefully
ip -n cli mptcp limits set subflows 1
ip -n srv mptcp limits set subflows 1
ip -n cli mptcp endpoint add "$c2" dev c2 subflow
port=6501
# (never announced: no REMOVE_ADDR, as upstream's mptcp_pm_flush_addrs_and_subflows())
removal_xfer flush $port "ip mptcp endpoint flush" c2 "$c2" 0

# 2. backup flags: the initial subflow's endpoint, the SYN/ACK's
ip -n cli mptcp endpoint add "$c1" dev c1 subflow backup
ip -n srv mptcp endpoint add "$s2" dev s2 signal backup
ip -n cli mptcp limits set add_addr_accepted 1 subflows 1
ptx0=$(mib cli MPTcpExtMPPrioTx) prx0=$(mib srv MPTcpExtMPPrioRx) sab0=$(mib cli MPTcpExtMPJoinSynAckBackupRx)
sa0=$(mib cli MPTcpExtMPJoinSynAckRx)
transfer cli srv "$s1" $((port + 1)) mptcp $((2 << 20))
info "backup: MPPrioTx +$(mib_delta cli MPTcpExtMPPrioTx "$ptx0"), server MPPrioRx +$(mib_delta srv MPTcpExtMPPrioRx "$prx0"), joins +$(mib_delta cli MPTcpExtMPJoinSynAckRx "$sa0"), of them with the backup flag on the SYN/ACK +$(mib_delta cli MPTcpExtMPJoinSynAckBackupRx "$sab0")"
(($(mib_delta cli MPTcpExtMPPrioTx "$ptx0") == 1)) || fail "the initial subflow's backup endpoint sent $(mib_delta cli MPTcpExtMPPrioTx "$ptx0") MP_PRIO, expected 1"
(($(mib_delta srv MPTcpExtMPPrioRx "$prx0") == 1)) || fail "the server received $(mib_delta srv MPTcpExtMPPrioRx "$prx0") MP_PRIO, expected 1"
(($(mib_delta cli MPTcpExtMPJoinSynAckRx "$sa0") == 1)) || fail "no join to the announced address"
(($(mib_delta cli MPTcpExtMPJoinSynAckBackupRx "$sab0") == 1)) || fail "the SYN/ACK from the server's backup endpoint had no backup flag"

# 3. address id 0: the initial subflow closes, the connection goes on over path 2
ip -n cli mptcp endpoint flush
ip -n srv mptcp endpoint flush
ip -n cli mptcp endpoint add "$c2" dev c2 subflow
ip -n cli mptcp limits set add_addr_accepted 0 subflows 1
removal_xfer "id 0" $((port + 2)) "ip mptcp endpoint delete id 0 $c1" c1 "$c1" 1

# 4. the endpoint of the initial address, deleted by its own id: address id 0 too
ip -n cli mptcp endpoint add "$c1" dev c1 id 5 subflow
removal_xfer "initial endpoint" $((port + 3)) "ip mptcp endpoint delete id 5" c1 "$c1" 1
dmesg_clean
