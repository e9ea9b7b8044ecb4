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
#  Clean kernel log.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
topo_new cli srv
topo_path cli srv 1
topo_path cli srv 2
for n in 1 2; do
	topo_shape cli "c$n" delay 5ms rate 10mbit limit 200
	topo_shape srv "s$n" delay 5ms rate 10mbit limit 200
done
c1=$(topo_addr4 c 1) c2=$(topo_addr4 c 2) s1=$(topo_addr4 s 1) s2=$(topo_addr4 s 2)
ip -n srv rule add to "$c2" table 102 pref 100
bytes_on() { # NS DEV rx|tx
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3_bytes"
}
delta() { # NS NAME BEFORE
	echo $(($(mib "$1" "$2") - $3))
}
# After a removal (run by the client at the cut, in its namespace), in the background
# while the client reads on (what the closed subflow still carries drains before
# its FIN): the bytes DEV received a second later into OUT/rx_at_cut, and what is
# left on address ADDR, the client's sockets in ESTABLISHED, CLOSE-WAIT or
# FIN-WAIT-1/2 and the server's in ESTABLISHED or CLOSE-WAIT, once nothing is or
# after 5 s, into OUT/DEV_left; then OUT/cut_done.
left_after() { # DEV ADDR OUT
	echo "(sleep 1; cat /sys/class/net/$1/statistics/rx_bytes > $3/rx_at_cut
	for i in \$(seq 25); do
		ss -Htn state established state close-wait state fin-wait-1 state fin-wait-2 src $2 > $3/$1_left
		ip netns exec srv ss -Htn state established state close-wait dst $2 >> $3/$1_left
		[ -s $3/$1_left ] || break; sleep 0.2
	done; touch $3/cut_done) >/dev/null 2>&1 &"
}
cut_done() { # OUT
	for i in $(seq 100); do [ -e "$1/cut_done" ] && return; sleep 0.1; done
	fail "the check after the removal did not end"
}

# 1. flush: the subflow closes quietly and gracefully
ip -n cli mptcp limits set subflows 1
ip -n srv mptcp limits set subflows 1
ip -n cli mptcp endpoint add "$c2" dev c2 subflow
port=6501
out=$(mktemp -d)
ip netns exec srv python3 "$XFER" server --bind 0.0.0.0 --port "$port" --proto mptcp \
	--send $((12 << 20)) --timeout 120 >"$out/server" 2>"$out/server.err" &
spid=$!
for i in $(seq 50); do grep -q listening "$out/server.err" 2>/dev/null && break; sleep 0.1; done
rmtx0=$(mib cli MPTcpExtRmAddrTx) rm0=$(mib srv MPTcpExtRmAddr) rms0=$(mib cli MPTcpExtRmSubflow)
rstc0=$(mib cli MPTcpExtMPRstTx) rsts0=$(mib srv MPTcpExtMPRstTx) sa0=$(mib cli MPTcpExtMPJoinSynAckRx)
cut="ip mptcp endpoint flush; $(left_after c2 "$c2" "$out")"
ip netns exec cli python3 "$XFER" client --connect "$s1" --port "$port" --proto mptcp \
	--send $((1 << 20)) --timeout 120 --cut-at $((2 << 20)) --cut-cmd "ip netns exec cli sh -c '$cut'" \
	>"$out/client" 2>"$out/client.err" || fail "client: $(tail -n 3 "$out/client.err")"
wait "$spid" || fail "server: $(tail -n 3 "$out/server.err")"
cut_done "$out"
python3 - "$out/client" "$out/server" <<'PY' || fail "transfer across the flush: data mismatch"
import json, sys
c = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
ok = (s["sent"] == c["received"] and s["sent_sha256"] == c["received_sha256"]
      and c["sent"] == s["received"] and c["sent_sha256"] == s["received_sha256"])
print("  endpoints flushed at %s s, %d bytes intact" % (c.get("cut"), c["received"]), file=sys.stderr)
sys.exit(0 if ok and c.get("cut") is not None else 1)
PY
rx=$(($(bytes_on cli c2 rx) - $(cat "$out/rx_at_cut")))
info "flush: join +$(delta cli MPTcpExtMPJoinSynAckRx "$sa0"), RmAddrTx +$(delta cli MPTcpExtRmAddrTx "$rmtx0"), server RmAddr +$(delta srv MPTcpExtRmAddr "$rm0"), RmSubflow +$(delta cli MPTcpExtRmSubflow "$rms0"), MPRstTx client +$(delta cli MPTcpExtMPRstTx "$rstc0") server +$(delta srv MPTcpExtMPRstTx "$rsts0"); path 2 received $rx bytes after"
(($(delta cli MPTcpExtMPJoinSynAckRx "$sa0") == 1)) || fail "the client's join did not happen before the flush"
(($(delta cli MPTcpExtRmAddrTx "$rmtx0") == 0)) || fail "the flush sent a REMOVE_ADDR for an address never announced"
(($(delta srv MPTcpExtRmAddr "$rm0") == 0)) || fail "the server received a REMOVE_ADDR"
(($(delta cli MPTcpExtRmSubflow "$rms0") == 1)) || fail "the flush closed $(delta cli MPTcpExtRmSubflow "$rms0") subflows, expected 1"
(($(delta cli MPTcpExtMPRstTx "$rstc0") == 0 && $(delta srv MPTcpExtMPRstTx "$rsts0") == 0)) ||
	fail "the flushed subflow was reset, not closed"
[ ! -s "$out/c2_left" ] || fail "5 s after the flush, on path 2: $(cat "$out/c2_left")"
((rx < 1 << 20)) || fail "path 2 still carried $rx bytes after the flush"

# 2. backup flags: the initial subflow's endpoint, the SYN/ACK's
ip -n cli mptcp endpoint add "$c1" dev c1 subflow backup
ip -n srv mptcp endpoint add "$s2" dev s2 signal backup
ip -n cli mptcp limits set add_addr_accepted 1 subflows 1
ptx0=$(mib cli MPTcpExtMPPrioTx) prx0=$(mib srv MPTcpExtMPPrioRx) sab0=$(mib cli MPTcpExtMPJoinSynAckBackupRx)
sa0=$(mib cli MPTcpExtMPJoinSynAckRx)
transfer cli srv "$s1" $((port + 1)) mptcp $((2 << 20))
info "backup: MPPrioTx +$(delta cli MPTcpExtMPPrioTx "$ptx0"), server MPPrioRx +$(delta srv MPTcpExtMPPrioRx "$prx0"), joins +$(delta cli MPTcpExtMPJoinSynAckRx "$sa0"), of them with the backup flag on the SYN/ACK +$(delta cli MPTcpExtMPJoinSynAckBackupRx "$sab0")"
(($(delta cli MPTcpExtMPPrioTx "$ptx0") == 1)) || fail "the initial subflow's backup endpoint sent $(delta cli MPTcpExtMPPrioTx "$ptx0") MP_PRIO, expected 1"
(($(delta srv MPTcpExtMPPrioRx "$prx0") == 1)) || fail "the server received $(delta srv MPTcpExtMPPrioRx "$prx0") MP_PRIO, expected 1"
(($(delta cli MPTcpExtMPJoinSynAckRx "$sa0") == 1)) || fail "no join to the announced address"
(($(delta cli MPTcpExtMPJoinSynAckBackupRx "$sab0") == 1)) || fail "the SYN/ACK from the server's backup endpoint had no backup flag"

# 3. address id 0: the initial subflow closes, the connection goes on over path 2
ip -n cli mptcp endpoint flush
ip -n srv mptcp endpoint flush
ip -n cli mptcp endpoint add "$c2" dev c2 subflow
ip -n cli mptcp limits set add_addr_accepted 0 subflows 1
port=$((port + 2))
out=$(mktemp -d)
ip netns exec srv python3 "$XFER" server --bind 0.0.0.0 --port "$port" --proto mptcp \
	--send $((12 << 20)) --timeout 120 >"$out/server" 2>"$out/server.err" &
spid=$!
for i in $(seq 50); do grep -q listening "$out/server.err" 2>/dev/null && break; sleep 0.1; done
rmtx0=$(mib cli MPTcpExtRmAddrTx) rm0=$(mib srv MPTcpExtRmAddr) rms0=$(mib cli MPTcpExtRmSubflow)
rstc0=$(mib cli MPTcpExtMPRstTx) rsts0=$(mib srv MPTcpExtMPRstTx) sa0=$(mib cli MPTcpExtMPJoinSynAckRx)
cut="ip mptcp endpoint delete id 0 $c1; $(left_after c1 "$c1" "$out")"
ip netns exec cli python3 "$XFER" client --connect "$s1" --port "$port" --proto mptcp \
	--send $((1 << 20)) --timeout 120 --cut-at $((2 << 20)) --cut-cmd "ip netns exec cli sh -c '$cut'" \
	>"$out/client" 2>"$out/client.err" || fail "id 0: client: $(tail -n 3 "$out/client.err")"
wait "$spid" || fail "id 0: server: $(tail -n 3 "$out/server.err")"
cut_done "$out"
python3 - "$out/client" "$out/server" <<'PY' || fail "transfer across the removal of id 0: data mismatch"
import json, sys
c = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
ok = (s["sent"] == c["received"] and s["sent_sha256"] == c["received_sha256"]
      and c["sent"] == s["received"] and c["sent_sha256"] == s["received_sha256"])
print("  id 0 removed at %s s, %d bytes intact" % (c.get("cut"), c["received"]), file=sys.stderr)
sys.exit(0 if ok and c.get("cut") is not None else 1)
PY
rx=$(($(bytes_on cli c1 rx) - $(cat "$out/rx_at_cut")))
info "id 0: join +$(delta cli MPTcpExtMPJoinSynAckRx "$sa0"), RmAddrTx +$(delta cli MPTcpExtRmAddrTx "$rmtx0"), server RmAddr +$(delta srv MPTcpExtRmAddr "$rm0"), RmSubflow +$(delta cli MPTcpExtRmSubflow "$rms0"), MPRstTx client +$(delta cli MPTcpExtMPRstTx "$rstc0") server +$(delta srv MPTcpExtMPRstTx "$rsts0"); path 1 received $rx bytes after"
(($(delta cli MPTcpExtMPJoinSynAckRx "$sa0") == 1)) || fail "id 0: the client's join did not happen"
(($(delta cli MPTcpExtRmAddrTx "$rmtx0") == 1)) || fail "id 0: $(delta cli MPTcpExtRmAddrTx "$rmtx0") REMOVE_ADDR sent, expected 1"
(($(delta srv MPTcpExtRmAddr "$rm0") == 1)) || fail "id 0: the server received $(delta srv MPTcpExtRmAddr "$rm0") REMOVE_ADDR, expected 1"
(($(delta cli MPTcpExtRmSubflow "$rms0") == 1)) || fail "id 0: the client closed $(delta cli MPTcpExtRmSubflow "$rms0") subflows, expected 1"
(($(delta cli MPTcpExtMPRstTx "$rstc0") == 0 && $(delta srv MPTcpExtMPRstTx "$rsts0") == 0)) ||
	fail "id 0: the initial subflow was reset, not closed"
[ ! -s "$out/c1_left" ] || fail "id 0: 5 s after the removal, on path 1: $(cat "$out/c1_left")"
((rx < 1 << 20)) || fail "id 0: path 1 still carried $rx bytes after the removal"
dmesg_clean
