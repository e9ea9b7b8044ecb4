#!/usr/bin/env bash
# Removing addresses from a live connection, between mptcp_rs and upstream: the
# client joins over its second link (a `subflow` endpoint, `limits subflows 1`; both
# links 15 Mbit/s, 5 ms) and each transfer sends MPTCP_RS_PAIR_BYTES (16 MB: it lasts
# well over 5 s after the removal) each way.
#  1. rm: once the client has 2 MB it deletes that endpoint: it sends REMOVE_ADDR
#     (client RmAddrTx +1, server RmAddr +1) and closes the join (client RmSubflow
#     +1), and the server closes its end in turn.
#  2. id0: the endpoint is back (a new join); once the client has 2 MB it deletes
#     address id 0, its initial address (`ip mptcp endpoint delete id 0 ADDR`):
#     REMOVE_ADDR 0 (the same counters +1), the initial subflow closes, the server
#     closes its end in turn, and the connection goes on over the join.
#  Each time: the data arrives intact both ways; both ends close with FINs, as
#  upstream's mptcp_close_ssk(), no reset (MPRstTx +0 at both ends); within 5 s of
#  the removal the client has no socket on that address in ESTABLISHED,
#  CLOSE-WAIT or FIN-WAIT-1/2 (the server closed its end); from a second after the
#  removal, that link carries less than 1 MB to the client. Run both ways: mptcp_rs client to upstream
#  server (remove_rs_to_ref: mptcp_rs removes, upstream follows) and upstream client
#  to mptcp_rs server (remove_ref_to_rs: mptcp_rs follows the REMOVE_ADDRs and the
#  FINs). Kernel logs clean.
#   run by tests/lib/pair.sh: SCRIPT server | SCRIPT client (guests), SCRIPT check SHARE (host)
set -euo pipefail
role=$1 bytes=${MPTCP_RS_PAIR_BYTES:-$((16 << 20))}
if [ "$role" = check ]; then
	PAIR_SHARE=$2
	. "$(dirname "$0")/../../lib/pair.sh"
else
	. "$MPTCP_RS_REPO/tests/tools/pair-guest.sh"
fi

setup() {
	pair_two_links 5ms "${MPTCP_RS_PAIR_RATE:-15mbit}" 100
}

# the command run at 2 MB: the removal, then, in the background (the client reads on:
# what the closed subflows still carry drains before their FINs), the bytes DEV
# received a second later, and what is left on the removed address ADDR once
# nothing is, or after 5 s, into $SHARE/NAME.*
cut_cmd() { # NAME REMOVAL ADDR DEV
	local left="ss -Htn state established state close-wait state fin-wait-1 state fin-wait-2 src $3 >$SHARE/$1.left"
	echo "$2; (sleep 1; cat /sys/class/net/$4/statistics/rx_bytes >$SHARE/$1.rx_at_cut
	for i in \$(seq 25); do $left; [ -s $SHARE/$1.left ] || break; sleep 0.2; done; touch $SHARE/$1.cut) >/dev/null 2>&1 &"
}

case "$role" in
server)
	setup
	ip mptcp limits set subflows 2
	ip route add "$PEER4_2/32" dev "$PAIR_DEV2" 2>/dev/null || true
	pair_nstat nstat.before
	# the server's sockets when the client looked at its own (shown on failure)
	watchers=()
	for x in rm id0; do
		(pair_wait "$x.cut" 120 >/dev/null && ss -Htanie >"$SHARE/$x.server.ss") &
		watchers+=($!)
	done
	pair_xfer_server rm mptcp "$bytes" 4
	pair_nstat nstat.mid
	pair_xfer_server id0 mptcp "$bytes" 4
	pair_nstat nstat.after
	kill "${watchers[@]}" 2>/dev/null || true
	pair_log_clean
	;;
client)
	setup
	ip mptcp limits set subflows 1
	ip rule add from "$SELF4_2" table 100
	ip route add "$PEER4/32" via "$PEER4_2" dev "$PAIR_DEV2" table 100
	ip mptcp endpoint add "$SELF4_2" dev "$PAIR_DEV2" subflow
	id=$(ip mptcp endpoint show | awk -v a="$SELF4_2" '$1 == a { for (i = 1; i < NF; i++) if ($i == "id") print $(i + 1) }')
	[ -n "$id" ] || fail "no id for the endpoint $SELF4_2: $(ip mptcp endpoint show)"
	pair_nstat client.nstat.before
	pair_xfer_client rm mptcp "$bytes" 4 $((2 << 20)) \
		"$(cut_cmd rm "ip mptcp endpoint delete id $id" "$SELF4_2" "$PAIR_DEV2")"
	pair_wait rm.cut 10 >/dev/null
	cat "/sys/class/net/$PAIR_DEV2/statistics/rx_bytes" >"$SHARE/rm.rx_at_end"
	pair_nstat client.nstat.mid
	ip mptcp endpoint add "$SELF4_2" dev "$PAIR_DEV2" subflow
	# the first connection still finishing its close would get REMOVE_ADDR 0 too
	for i in $(seq 100); do
		[ -z "$(ss -Htan state all | grep -v -e TIME-WAIT -e LISTEN)" ] && break
		sleep 0.1
	done
	pair_xfer_client id0 mptcp "$bytes" 4 $((2 << 20)) \
		"$(cut_cmd id0 "ip mptcp endpoint delete id 0 $SELF4" "$SELF4" "$PAIR_DEV")"
	pair_wait id0.cut 10 >/dev/null
	cat "/sys/class/net/$PAIR_DEV/statistics/rx_bytes" >"$SHARE/id0.rx_at_end"
	pair_nstat client.nstat.after
	ip mptcp endpoint flush
	pair_log_clean
	;;
check)
	fail=0
	for x in rm id0; do
		pair_check_xfer "$x" "$bytes" || fail=1
		before=nstat.before after=nstat.mid
		[ "$x" = id0 ] && before=nstat.mid after=nstat.after
		d() { pair_delta "$before" "$after" "$1"; }
		c() { pair_delta "client.$before" "client.$after" "$1"; }
		rx=$(($(cat "$PAIR_SHARE/$x.rx_at_end") - $(cat "$PAIR_SHARE/$x.rx_at_cut")))
		echo "  $x: client RmAddrTx +$(c MPTcpExtRmAddrTx) RmSubflow +$(c MPTcpExtRmSubflow)" \
			"MPJoinSynAckRx +$(c MPTcpExtMPJoinSynAckRx) MPRstTx +$(c MPTcpExtMPRstTx);" \
			"server RmAddr +$(d MPTcpExtRmAddr) MPRstTx +$(d MPTcpExtMPRstTx);" \
			"the removed address's link received $rx bytes after"
		(($(c MPTcpExtMPJoinSynAckRx) >= 1)) || { echo "FAIL: $x: no join before the removal" >&2; fail=1; }
		(($(c MPTcpExtRmAddrTx) == 1)) || { echo "FAIL: $x: the client sent $(c MPTcpExtRmAddrTx) REMOVE_ADDR, expected 1" >&2; fail=1; }
		(($(d MPTcpExtRmAddr) == 1)) || { echo "FAIL: $x: the server received $(d MPTcpExtRmAddr) REMOVE_ADDR, expected 1" >&2; fail=1; }
		(($(c MPTcpExtRmSubflow) == 1)) || { echo "FAIL: $x: the client closed $(c MPTcpExtRmSubflow) subflows, expected 1" >&2; fail=1; }
		(($(c MPTcpExtMPRstTx) == 0 && $(d MPTcpExtMPRstTx) == 0)) ||
			{ echo "FAIL: $x: a subflow was reset (MPRstTx client +$(c MPTcpExtMPRstTx), server +$(d MPTcpExtMPRstTx))" >&2; fail=1; }
		[ ! -s "$PAIR_SHARE/$x.left" ] ||
			{ echo "FAIL: $x: 5 s after the removal, on that address: $(cat "$PAIR_SHARE/$x.left")
  the server's sockets then: $(cat "$PAIR_SHARE/$x.server.ss" 2>/dev/null)" >&2; fail=1; }
		((rx < 1 << 20)) || { echo "FAIL: $x: that link still received $rx bytes" >&2; fail=1; }
	done
	exit "$fail"
	;;
esac
