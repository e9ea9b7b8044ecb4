# Guest side of the two-guest rig (tests/lib/pair.sh). Sourced inside a guest started
# by pair_run, i.e. scripts/vm --link ROLE:DIR --share DIR: $VM_LINK is this guest's
# role (server or client), $VM_SHARE the directory shared with the peer and the host.
#
#   pair_link_up                 configure the link NIC and wait until the peer answers:
#                                  server 10.77.0.1/24 fd77::1/64, client .2 / ::2
#   pair_two_links DELAY RATE LIMIT
#                                both links up (pair_link_up, pair_link2_up), reverse
#                                  path filtering off, netem DELAY, RATE, LIMIT on
#                                  this side's egress of each
#   pair_netem NETEM...          netem on this side's egress (one segment per skb
#                                  if it drops: netem drops whole skbs); shape both
#                                  sides for both directions
#   pair_qdisc_save              tc -s qdisc of the link into $VM_SHARE/ROLE.qdisc
#   pair_signal NAME [TEXT]      create $VM_SHARE/NAME (atomically) for the peer/host
#   pair_wait NAME [SEC]         wait for $VM_SHARE/NAME, print its contents; fails
#                                  when the peer guest has ended or after SEC (120)
#   pair_nstat NAME              all counters (nstat -az) into $VM_SHARE/NAME
#   pair_xfer_server NAME PROTO BYTES [4|6]
#   pair_xfer_client NAME PROTO BYTES [4|6 [CUT_AT CUT_CMD]]
#                                one tests/tools/xfer.py transfer (BYTES each way):
#                                  the server listens and signals NAME.ready, the client
#                                  connects; neither returns before the other has all
#                                  its data (NAME.ROLE-done). Each side leaves its JSON
#                                  result in $VM_SHARE/NAME.ROLE.json for the host to
#                                  compare (pair_check_xfer). 30 s without progress
#                                  fail it (MPTCP_RS_PAIR_XFER_TIMEOUT), leaving ss and
#                                  nstat output in NAME.ROLE.ss and NAME.ROLE.nstat
#                                  (the server binds to its link address, or to the
#                                  wildcard with PAIR_BIND_ANY=1)
#   pair_link2_up                the second link (scripts/vm --second-link): server
#                                  10.77.1.1/24 fd77:1::1/64, client .2 / ::2
#   SELF4 SELF6 PEER4 PEER6 PAIR_DEV   addresses and the link's device name
#   SELF4_2 SELF6_2 PEER4_2 PEER6_2 PAIR_DEV2   the same for the second link
# shellcheck shell=bash

REPO=${MPTCP_RS_REPO:?run inside a mptcp-rs guest (scripts/vm)}
ROLE=${VM_LINK:?no link: start the guest with scripts/vm --link (tests/lib/pair.sh)}
SHARE=${VM_SHARE:?no shared directory: start the guest with scripts/vm --share}
XFER="$REPO/tests/tools/xfer.py"

fail() { echo "FAIL ($ROLE): $*" >&2; exit 1; }
info() { echo "  $ROLE: $*" >&2; }

case "$ROLE" in
server) PEER=client SELF4=10.77.0.1 PEER4=10.77.0.2 SELF6=fd77::1 PEER6=fd77::2 mac=52:54:00:77:00:01 ;;
client) PEER=server SELF4=10.77.0.2 PEER4=10.77.0.1 SELF6=fd77::2 PEER6=fd77::1 mac=52:54:00:77:00:02 ;;
*) fail "unknown role $ROLE" ;;
esac
# the NIC with the MAC scripts/vm gave this role (eth0 in practice), and the second
# link's if there is one
PAIR_DEV="" PAIR_DEV2=""
for d in /sys/class/net/*; do
	[ "$(cat "$d/address" 2>/dev/null)" = "$mac" ] && PAIR_DEV=${d##*/}
	[ "$(cat "$d/address" 2>/dev/null)" = "${mac%:00:0?}:01:${mac##*:}" ] && PAIR_DEV2=${d##*/}
done
SELF4_2=${SELF4/.0./.1.} PEER4_2=${PEER4/.0./.1.} SELF6_2=${SELF6/::/:1::} PEER6_2=${PEER6/::/:1::}
unset d mac
[ -n "$PAIR_DEV" ] || fail "no NIC with the link's MAC address"

# the peer ended its side of the scenario, or its guest ended (in a batch of
# scenarios, tests/tools/pair-batch.sh, the host marks that in the batch's directory)
pair__peer_ended() {
	[ -e "$SHARE/.exit.$PEER" ] || [ -e "${PAIR_TOP_SHARE:-$SHARE}/.exit.$PEER" ]
}

pair_link_up() {
	sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		"net.ipv6.conf.$PAIR_DEV.accept_dad=0"
	ip addr add "$SELF4/24" dev "$PAIR_DEV"
	ip -6 addr add "$SELF6/64" dev "$PAIR_DEV" nodad
	ip link set "$PAIR_DEV" up
	# the peer may still be booting: wait for one reply (90 s at most)
	local end=$((SECONDS + 90))
	until ping -c1 -W1 -q "$PEER4" >/dev/null 2>&1; do
		pair__peer_ended && fail "the $PEER guest ended before the link came up"
		((SECONDS < end)) || fail "no reply from $PEER4 on $PAIR_DEV"
		sleep 0.2
	done
	end=$((SECONDS + 20))
	until ping -6 -c1 -W1 -q "$PEER6" >/dev/null 2>&1; do
		((SECONDS < end)) || fail "no reply from $PEER6 on $PAIR_DEV"
		sleep 0.2
	done
	info "$PAIR_DEV up: $SELF4 $SELF6, $PEER reachable"
}

pair_link2_up() {
	[ -n "$PAIR_DEV2" ] || fail "no second link (scripts/vm --second-link)"
	sysctl -qw "net.ipv6.conf.$PAIR_DEV2.accept_dad=0"
	ip addr add "$SELF4_2/24" dev "$PAIR_DEV2"
	ip -6 addr add "$SELF6_2/64" dev "$PAIR_DEV2" nodad
	ip link set "$PAIR_DEV2" up
	local end=$((SECONDS + 60))
	until ping -c1 -W1 -q "$PEER4_2" >/dev/null 2>&1; do
		pair__peer_ended && fail "the $PEER guest ended before the second link came up"
		((SECONDS < end)) || fail "no reply from $PEER4_2 on $PAIR_DEV2"
		sleep 0.2
	done
	end=$((SECONDS + 20))
	until ping -6 -c1 -W1 -q "$PEER6_2" >/dev/null 2>&1; do
		((SECONDS < end)) || fail "no reply from $PEER6_2 on $PAIR_DEV2"
		sleep 0.2
	done
	info "$PAIR_DEV2 up: $SELF4_2 $SELF6_2, $PEER reachable"
}

pair_two_links() {
	pair_link_up
	pair_link2_up
	sysctl -qw net.ipv4.conf.all.rp_filter=0 "net.ipv4.conf.$PAIR_DEV.rp_filter=0" \
		"net.ipv4.conf.$PAIR_DEV2.rp_filter=0"
	tc qdisc replace dev "$PAIR_DEV" root netem delay "$1" rate "$2" limit "$3"
	tc qdisc replace dev "$PAIR_DEV2" root netem delay "$1" rate "$2" limit "$3"
}

pair_netem() {
	if [[ " $* " =~ \ (loss|drop|corrupt|duplicate)\  ]]; then
		# netem drops whole skbs, and TCP builds GSO skbs of several segments even
		# with "ethtool -K gso off" (sk_setup_caps: GSO is always on for TCP, the
		# segmentation just moves after the qdisc): only one segment per skb makes
		# the loss rate a per-packet rate
		ip link set "$PAIR_DEV" gso_max_segs 1 || fail "cannot limit GSO on $PAIR_DEV"
	fi
	tc qdisc replace dev "$PAIR_DEV" root netem "$@" || fail "netem $*"
	info "netem on $PAIR_DEV: $*"
}

pair_qdisc_save() {
	tc -s qdisc show dev "$PAIR_DEV" >"$SHARE/$ROLE.qdisc"
}

pair_signal() {
	printf '%s\n' "${2:-}" >"$SHARE/.$1.tmp" && mv "$SHARE/.$1.tmp" "$SHARE/$1"
}

pair_wait() {
	local name=$1 limit=$((${2:-120} * 10)) i=0
	while [ ! -e "$SHARE/$name" ]; do
		pair__peer_ended && fail "waiting for $name: the $PEER guest has ended"
		((++i < limit)) || fail "waiting for $name: timed out"
		sleep 0.1
	done
	cat "$SHARE/$name"
}

pair_nstat() {
	nstat -azs >"$SHARE/$1" || fail "nstat"
}

# a transfer that makes no progress for this long has failed (xfer.py --timeout)
PAIR_XFER_TIMEOUT=${MPTCP_RS_PAIR_XFER_TIMEOUT:-30}
pair__port=6000
# what a failed transfer leaves for diagnosis: sockets (TCP and MPTCP) and counters
pair__diag() {
	{ ss -taniM; ss -tanie; } >"$SHARE/$1.$ROLE.ss" 2>&1
	nstat -azs >"$SHARE/$1.$ROLE.nstat" 2>&1
}
# Each side has the other's data when its xfer.py ends, but its own may still be in
# flight after close(): neither goes on (or powers its guest off) before the other
# side is done too.
pair__finish() {
	pair_signal "$1.$ROLE-done"
	pair_wait "$1.$PEER-done" >/dev/null || exit 1
}

pair_xfer_server() {
	local name=$1 proto=$2 bytes=$3 fam=${4:-4} addr=$SELF4 i
	[ "$fam" = 6 ] && addr=$SELF6
	# PAIR_BIND_ANY=1: the wildcard address (joins to other addresses reach it)
	if [ "${PAIR_BIND_ANY:-0}" = 1 ]; then
		addr=0.0.0.0
		[ "$fam" = 6 ] && addr=::
	fi
	pair__port=$((pair__port + 1))
	python3 "$XFER" server --bind "$addr" --port "$pair__port" --proto "$proto" --send "$bytes" \
		--timeout "$PAIR_XFER_TIMEOUT" >"$SHARE/$name.server.json" 2>"$SHARE/$name.server.err" &
	local pid=$!
	for i in $(seq 100); do
		grep -q listening "$SHARE/$name.server.err" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q listening "$SHARE/$name.server.err" ||
		fail "$name: server did not listen: $(tail -n 3 "$SHARE/$name.server.err")"
	pair_signal "$name.ready" "$pair__port"
	wait "$pid" || {
		pair__diag "$name"
		fail "$name: server ($proto, [$addr]:$pair__port) failed: $(tail -n 3 "$SHARE/$name.server.err")"
	}
	pair__finish "$name"
	info "$name: server side done ($proto, [$addr]:$pair__port)"
}

# pair_xfer_client NAME PROTO BYTES [4|6 [CUT_AT CUT_CMD]]: with CUT_AT, CUT_CMD runs
# once the client has received that many bytes (xfer.py --cut-at/--cut-cmd)
pair_xfer_client() {
	local name=$1 proto=$2 bytes=$3 fam=${4:-4} addr=$PEER4 port cut=()
	[ "$fam" = 6 ] && addr=$PEER6
	[ -n "${5:-}" ] && cut=(--cut-at "$5" --cut-cmd "$6")
	port=$(pair_wait "$name.ready") || exit 1
	python3 "$XFER" client --connect "$addr" --port "$port" --proto "$proto" --send "$bytes" \
		--timeout "$PAIR_XFER_TIMEOUT" "${cut[@]}" >"$SHARE/$name.client.json" 2>"$SHARE/$name.client.err" || {
		pair__diag "$name"
		fail "$name: client ($proto to [$addr]:$port) failed: $(tail -n 3 "$SHARE/$name.client.err")"
	}
	pair__finish "$name"
	info "$name: client side done ($proto to [$addr]:$port)"
}

# pair_abort_server NAME MODE [4|6] / pair_abort_client NAME MODE [4|6]
#   one connection closed abortively by the client (tests/tools/abort.py MODE: unread
#   or linger0): the server's read must end with ECONNRESET (MP_FASTCLOSE between two
#   MPTCP hosts); its JSON line is left in $VM_SHARE/NAME.server.json
pair_abort_server() {
	local name=$1 mode=$2 fam=${3:-4} addr=$SELF4 i
	[ "$fam" = 6 ] && addr=$SELF6
	pair__port=$((pair__port + 1))
	python3 "$REPO/tests/tools/abort.py" server --bind "$addr" --port "$pair__port" --mode "$mode" \
		>"$SHARE/$name.server.json" 2>"$SHARE/$name.server.err" &
	local pid=$!
	for i in $(seq 100); do
		grep -q listening "$SHARE/$name.server.err" 2>/dev/null && break
		sleep 0.1
	done
	pair_signal "$name.ready" "$pair__port"
	wait "$pid" || fail "$name: abortive close ($mode) by the client: the server saw $(cat "$SHARE/$name.server.json" "$SHARE/$name.server.err")"
	pair__finish "$name"
	info "$name: server saw $(cat "$SHARE/$name.server.json")"
}

pair_abort_client() {
	local name=$1 mode=$2 fam=${3:-4} addr=$PEER4 port
	[ "$fam" = 6 ] && addr=$PEER6
	port=$(pair_wait "$name.ready") || exit 1
	python3 "$REPO/tests/tools/abort.py" client --connect "$addr" --port "$port" --mode "$mode" \
		2>"$SHARE/$name.client.err" || fail "$name: client ($mode) failed: $(cat "$SHARE/$name.client.err")"
	pair__finish "$name"
}

# the kernel log of this scenario: in a batch (tests/tools/pair-batch.sh), from the
# line that marks its start
pair__dmesg() {
	# (the whole log if the mark is gone: the ring buffer wrapped)
	dmesg | awk -v m="${PAIR_DMESG_MARK:-}" '
		m == "" || on { print; next }
		index($0, m) { on = 1; print; next }
		{ all[NR] = $0 }
		END { if (m != "" && !on) for (i = 1; i <= NR; i++) if (i in all) print all[i] }'
}

# pair_log_clean: the kernel log has no warning, oops, lockdep, KFENCE, UBSAN or Rust
# panic report (the lines go to $VM_SHARE/ROLE.dmesg.bad), else fail
# (PAIR_BAD_LOG: the lines that make a kernel log unclean, an extended regex; the
# batch driver, tests/tools/pair-batch.sh, judges the time between scenarios by it)
PAIR_BAD_LOG='WARNING:|BUG:|Oops|general protection|possible circular|possible recursive|inconsistent lock|sleeping function called from invalid context|unreferenced object|Call Trace|KFENCE:|UBSAN:|rust_panic|panicked at'
pair_log_clean() {
	pair__dmesg | grep -E "$PAIR_BAD_LOG" >"$SHARE/$ROLE.dmesg.bad" &&
		fail "kernel log: $(head -n 5 "$SHARE/$ROLE.dmesg.bad")"
	return 0
}

# pair_unload_clean: every subflow was closed and freed, so nothing pins mptcp_rs
# any more (each subflow does, through its ULP): rmmod succeeds within 60 s;
# kmemleak (on a debug kernel) finds nothing; pair_log_clean
pair_unload_clean() {
	local i
	for i in $(seq 120); do
		rmmod mptcp_rs 2>/dev/null && break
		sleep 0.5
	done
	if lsmod | grep -q '^mptcp_rs '; then
		{ ss -tanie; lsmod; } >"$SHARE/rmmod.failed" 2>&1
		fail "mptcp_rs still in use 60 s after the transfers"
	fi
	if [ -w /sys/kernel/debug/kmemleak ]; then
		echo scan >/sys/kernel/debug/kmemleak
		sleep 1
		echo scan >/sys/kernel/debug/kmemleak
		cat /sys/kernel/debug/kmemleak >"$SHARE/kmemleak"
		# reported once: a later scenario of the same boot is judged on its own
		echo clear >/sys/kernel/debug/kmemleak
		[ -s "$SHARE/kmemleak" ] && fail "kmemleak: $(head -n 20 "$SHARE/kmemleak")"
	fi
	pair_log_clean
	info "mptcp_rs unloaded after the transfers; kernel log clean"
}
