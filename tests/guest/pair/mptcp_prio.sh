#!/usr/bin/env bash
# MP_PRIO: the client joins over its second link (as in mptcp_join.sh; both links
# 20 Mbit/s, 10 ms each way) and exchanges 24 MB each way with the server; 2 s
# after the join it makes its second endpoint a backup (`ip mptcp endpoint change
# ID backup`), so the client's kernel sends MP_PRIO (backup) on that subflow. From
# then on both schedulers leave the link idle: measured from 1 s after the change
# to the end, link 2 carries under 3 % of the traffic. The server counts MPPrioRx,
# the client MPPrioTx; data intact. Run both ways: upstream client to mptcp_rs
# server (prio_ref_to_rs: mptcp_rs follows the peer's MP_PRIO) and mptcp_rs client
# to upstream server (prio_rs_to_ref: mptcp_rs sends MP_PRIO for its changed
# endpoint and stops sending on the subflow itself).
#   run by tests/lib/pair.sh: SCRIPT server | SCRIPT client (guests), SCRIPT check SHARE (host)
set -euo pipefail
role=$1 bytes=${MPTCP_RS_PAIR_BYTES:-$((24 << 20))}
if [ "$role" = check ]; then
	PAIR_SHARE=$2
	. "$(dirname "$0")/../../lib/pair.sh"
else
	. "$MPTCP_RS_REPO/tests/tools/pair-guest.sh"
fi

setup() {
	pair_two_links 10ms 20mbit 100
}

link_bytes() { # all bytes through both links, into $SHARE/NAME
	local d
	for d in "$PAIR_DEV" "$PAIR_DEV2"; do
		echo "$d $(($(cat "/sys/class/net/$d/statistics/rx_bytes") + $(cat "/sys/class/net/$d/statistics/tx_bytes")))"
	done >"$SHARE/$1"
}

case "$role" in
server)
	setup
	ip mptcp limits set subflows 2
	pair_nstat nstat.before
	# the link counters 1 s after the client's change, then at the end
	( pair_wait prio-set 120 >/dev/null && sleep 1 && link_bytes links.after-change ) &
	watcher=$!
	pair_xfer_server v4 mptcp "$bytes" 4
	wait "$watcher" || fail "no MP_PRIO change signalled by the client"
	link_bytes links.end
	pair_nstat nstat.after
	pair_log_clean
	;;
client)
	setup
	ip mptcp limits set subflows 1
	ip mptcp endpoint add "$SELF4_2" dev "$PAIR_DEV2" subflow
	ip rule add from "$SELF4_2" table 100
	ip route add "$PEER4/32" via "$PEER4_2" dev "$PAIR_DEV2" table 100
	pair_nstat client.nstat.before
	# once the join is up (its SYN/ACK counted: one more than before, as an earlier
	# scenario of the same boot counted its own) and both links carried data for 2 s
	joins() { nstat -az MPTcpExtMPJoinSynAckRx 2>/dev/null | awk '/MPJoin/ {print $2}'; }
	j0=$(joins)
	( for i in $(seq 300); do
		n=$(joins)
		[ "${n:-0}" -gt "${j0:-0}" ] && break
		sleep 0.1
	  done
	  sleep 2
	  id=$(ip mptcp endpoint show | awk -v a="$SELF4_2" '$1 == a { for (i = 1; i < NF; i++) if ($i == "id") print $(i + 1) }')
	  ip mptcp endpoint change id "$id" backup
	  ip mptcp endpoint show >"$SHARE/endpoints"
	  pair_signal prio-set ) &
	changer=$!
	pair_xfer_client v4 mptcp "$bytes" 4
	wait "$changer"
	pair_nstat client.nstat.after
	;;
check)
	pair_check_xfer v4 "$bytes"
	d() { pair_delta nstat.before nstat.after "$1"; }
	c() { pair_delta client.nstat.before client.nstat.after "$1"; }
	echo "  client: MPTcpExtMPPrioTx +$(c MPTcpExtMPPrioTx); server: MPTcpExtMPPrioRx +$(d MPTcpExtMPPrioRx)"
	echo "  client endpoints after the change: $(cat "$PAIR_SHARE/endpoints")"
	read -r _ a1 < <(sed -n 1p "$PAIR_SHARE/links.after-change")
	read -r _ a2 < <(sed -n 2p "$PAIR_SHARE/links.after-change")
	read -r _ e1 < <(sed -n 1p "$PAIR_SHARE/links.end")
	read -r _ e2 < <(sed -n 2p "$PAIR_SHARE/links.end")
	l1=$((e1 - a1)) l2=$((e2 - a2))
	echo "  from 1 s after the change to the end: link 1 $l1 bytes, link 2 (backup) $l2 bytes"
	fail=0
	(($(c MPTcpExtMPPrioTx) >= 1)) || { echo "FAIL: the client counted no MP_PRIO sent" >&2; fail=1; }
	(($(d MPTcpExtMPPrioRx) >= 1)) || { echo "FAIL: the server saw no MP_PRIO" >&2; fail=1; }
	((l1 > 0 && l2 * 100 < (l1 + l2) * 3)) || { echo "FAIL: the backup link still carried $l2 bytes" >&2; fail=1; }
	exit "$fail"
	;;
*) echo "usage: $0 server|client|check SHARE" >&2; exit 2 ;;
esac
