# Helpers for tests that run inside a guest (scripts/vm). Sourced.
# shellcheck shell=bash
set -uo pipefail

REPO=${MPTCP_RS_REPO:?run inside a mptcp-rs guest (scripts/vm)}
. "$REPO/tests/lib/topology.sh"
. "$REPO/tests/lib/dmesg.sh"
XFER="$REPO/tests/tools/xfer.py"

fail() { echo "FAIL: $*" >&2; exit 1; }
info() { echo "  $*" >&2; }

# transfer CLIENT_NS SERVER_NS SERVER_ADDR PORT PROTO BYTES [SERVER_PROTO]
# Sends BYTES each way between a server in SERVER_NS and a client in CLIENT_NS and
# fails unless both directions arrive complete with matching SHA-256. The server
# uses SERVER_PROTO (default: PROTO), e.g. an MPTCP client against a TCP server.
# $XFER_OPTS (e.g. --send-after 1) goes to both ends' xfer.py.
transfer() {
	local cns=$1 sns=$2 addr=$3 port=$4 proto=$5 bytes=$6 sproto=${7:-$5} bind=0.0.0.0
	local out start
	out=$(mktemp -d)
	[[ $addr == *:* ]] && bind=::
	start=$(date +%s.%N)
	ip netns exec "$sns" python3 "$XFER" server --bind "$bind" --port "$port" --proto "$sproto" \
		--send "$bytes" ${XFER_OPTS:-} >"$out/server" 2>"$out/server.err" &
	local spid=$!
	local i
	# python starts slowly under TCG on a busy host
	for i in $(seq 200); do grep -q listening "$out/server.err" 2>/dev/null && break; sleep 0.1; done
	if ! ip netns exec "$cns" python3 "$XFER" client --connect "$addr" --port "$port" --proto "$proto" \
		--send "$bytes" ${XFER_OPTS:-} >"$out/client" 2>"$out/client.err"; then
		kill "$spid" 2>/dev/null
		fail "client to $addr:$port ($proto) failed: $(tail -n 3 "$out/client.err")"
	fi
	wait "$spid" || fail "server on $addr:$port ($proto) failed: $(tail -n 3 "$out/server.err")"
	python3 - "$out/client" "$out/server" "$bytes" <<'PY' || fail "transfer $addr:$port ($proto): data mismatch"
import json, sys
c = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2])); n = int(sys.argv[3])
ok = (c["sent"] == s["received"] == n and s["sent"] == c["received"] == n
      and c["sent_sha256"] == s["received_sha256"] and s["sent_sha256"] == c["received_sha256"])
if not ok:
    print("client", c, "\nserver", s, file=sys.stderr)
sys.exit(0 if ok else 1)
PY
	info "$proto->$sproto $addr:$port: $bytes bytes each way, SHA-256 match ($(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s)"
	rm -rf "$out"
}

# xfer_server NS DIR ARGS...: starts xfer.py's server in namespace NS in the
# background (its result in DIR/server, its log in DIR/server.err) with ARGS, its
# pid in $spid, and waits up to 5 s for it to listen.
xfer_server() {
	local ns=$1 dir=$2 i
	shift 2
	ip netns exec "$ns" python3 "$XFER" server "$@" >"$dir/server" 2>"$dir/server.err" &
	spid=$!
	for i in $(seq 50); do grep -q listening "$dir/server.err" 2>/dev/null && break; sleep 0.1; done
}

# cut_transfer_ok DIR: the two ends of a transfer across a path cut (xfer.py
# --cut-at, results in DIR/client and DIR/server, logs in DIR/*.err) completed
# both ways with matching SHA-256 and the cut happened; prints the cut time, the
# bytes and the duration, else fails with both ends' last log lines.
cut_transfer_ok() {
	python3 - "$1/client" "$1/server" <<'PY' || fail "transfer across the cut: data mismatch or a side failed; client: $(tail -n 4 "$1/client.err"); server: $(tail -n 4 "$1/server.err")"
import json, sys
c = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
if "sent" not in c or "sent" not in s:
    sys.exit("a sender failed (its exception is in its log): client %s, server %s" % (c, s))
ok = (s["sent"] == c["received"] and s["sent_sha256"] == c["received_sha256"]
      and c["sent"] == s["received"] and c["sent_sha256"] == s["received_sha256"])
print("  path cut at %s s, %d bytes intact both ways in %s s"
      % (c.get("cut"), c["received"], c["seconds"]), file=sys.stderr)
sys.exit(0 if ok and c.get("cut") is not None else 1)
PY
}

# pm_tools DIR: builds the kernel tree's pm_nl_ctl into DIR (the userspace path
# manager's commands and its event listener, against the kernel's uapi headers) and
# defines `pm NS ARGS...` to run it in a namespace, `pm_events NS` to log NS's path
# manager events into DIR/NS.ev, `pm_token NS`: the token of the newest connection in
# that log (its CREATED event), and `pm_cleanup` (for trap EXIT): stops the event
# listeners, then topo_cleanup.
pm_tools() {
	pm_dir=$1
	mkdir -p "$pm_dir"
	gcc -O2 -isystem "$KBUILD/usr/include" -I "$KSRC/tools/include" -o "$pm_dir/pm_nl_ctl" \
		"$KSRC/tools/testing/selftests/net/mptcp/pm_nl_ctl.c" || fail "cannot build pm_nl_ctl"
}
pm() { local ns=$1; shift; ip netns exec "$ns" "$pm_dir/pm_nl_ctl" "$@"; }
pm_events() {
	: >"$pm_dir/$1.ev"
	ip netns exec "$1" "$pm_dir/pm_nl_ctl" events >>"$pm_dir/$1.ev" 2>&1 &
	pm_events_pids+=($!)
}
pm_events_pids=()
pm_cleanup() {
	local p
	for p in "${pm_events_pids[@]}"; do kill "$p" 2>/dev/null; done
	topo_cleanup
}
pm_token() {
	local i t
	for i in $(seq 100); do
		t=$(grep '^type:1,' "$pm_dir/$1.ev" | tail -n 1 | sed -n 's/.*token:\([0-9]*\).*/\1/p')
		[ -n "$t" ] && { echo "$t"; return 0; }
		sleep 0.1
	done
	return 1
}

# selftest_prepare SCRIPT [HELPER...]: copies the kernel tree's net selftests to
# tmpfs (/tmp/selftests/net, with the libraries they source), compiles each HELPER
# (a C file of the mptcp directory) against the kernel's uapi headers, and enters
# the mptcp directory, where SCRIPT is.
selftest_prepare() {
	local script=$1 src="$KSRC/tools/testing/selftests/net" work=/tmp/selftests/net h
	shift
	[ -f "$src/mptcp/$script" ] || fail "no selftests in $KSRC"
	mkdir -p "$work"
	cp -r "$src/mptcp" "$src/lib.sh" "$src/lib" "$work/" 2>/dev/null || cp -r "$src/mptcp" "$src/lib.sh" "$work/"
	[ -d "$src/../lib" ] && mkdir -p /tmp/selftests/lib && cp -r "$src/../lib/." /tmp/selftests/lib/ 2>/dev/null
	[ -f "$src/../kselftest/ktap_helpers.sh" ] && mkdir -p /tmp/selftests/kselftest &&
		cp "$src/../kselftest/ktap_helpers.sh" /tmp/selftests/kselftest/
	for h in "$@"; do
		gcc -O2 -isystem "$KBUILD/usr/include" -I "$KSRC/tools/include" -o "$work/mptcp/$h" \
			"$work/mptcp/$h.c" || fail "cannot build $h"
	done
	cd "$work/mptcp" || fail "no $work/mptcp"
}

# two_paths_10mbit CLIENT_NS SERVER_NS: new namespaces joined by paths 1 and 2, each
# shaped to 10 Mbit/s with 5 ms delay both ways (a join has time to take a share of
# a few MB under TCG), and the server's traffic to the client's path-2 IPv4 address
# routed back over path 2.
two_paths_10mbit() {
	local n
	topo_new "$1" "$2"
	topo_path "$1" "$2" 1
	topo_path "$1" "$2" 2
	for n in 1 2; do
		topo_shape "$1" "c$n" delay 5ms rate 10mbit limit 200
		topo_shape "$2" "s$n" delay 5ms rate 10mbit limit 200
	done
	ip -n "$2" rule add to "$(topo_addr4 c 2)" table 102 pref 100
}

# lossy_path CLIENT_NS SERVER_NS N: path N gets delay, jitter, 1% loss and reordering
# both ways, with segmentation offloads off so that netem drops single segments.
lossy_path() {
	local cns=$1 sns=$2 n=$3
	# one segment per skb, so that netem's loss is per packet
	ip -n "$cns" link set dev "c$n" gso_max_segs 1
	ip -n "$sns" link set dev "s$n" gso_max_segs 1
	ip netns exec "$cns" ethtool -K "c$n" tso off gso off gro off >/dev/null 2>&1 || true
	ip netns exec "$sns" ethtool -K "s$n" tso off gso off gro off >/dev/null 2>&1 || true
	topo_shape "$cns" "c$n" delay 5ms 1ms loss 1% reorder 5% 50% limit 10000
	topo_shape "$sns" "s$n" delay 5ms 1ms loss 1% limit 10000
}

# mib_at_least NS NAME MIN: counter NAME in NS is at least MIN.
mib_at_least() {
	local v
	v=$(mib "$1" "$2")
	[ "${v:-0}" -ge "$3" ] || fail "$2 in $1 is ${v:-absent}, expected at least $3"
	info "$2 = $v in $1"
}

# expect_mptcp_used CLIENT_NS SERVER_NS N: N connections completed MP_CAPABLE (counters).
expect_mptcp_used() {
	mib_at_least "$1" MPTcpExtMPCapableSYNTX "$3"
	mib_at_least "$1" MPTcpExtMPCapableSYNACKRX "$3"
	mib_at_least "$2" MPTcpExtMPCapableSYNRX "$3"
	mib_at_least "$2" MPTcpExtMPCapableACKRX "$3"
}

# expect_fallback_active NS N: N MPTCP connects got a SYN/ACK without MP_CAPABLE.
expect_fallback_active() { mib_at_least "$1" MPTcpExtMPCapableFallbackSYNACK "$2"; }

# expect_no_mptcp_syn NS: no MP_CAPABLE SYN reached NS (its MPTCP listener served
# plain TCP clients only); the counter must exist.
expect_no_mptcp_syn() {
	local v
	v=$(mib "$1" MPTcpExtMPCapableSYNRX)
	[ "$v" = 0 ] || fail "MPTcpExtMPCapableSYNRX in $1 is ${v:-absent}, expected 0"
	info "MPTcpExtMPCapableSYNRX = 0 in $1: the clients spoke plain TCP"
}

# dmesg_clean: fails if the kernel log shows a warning, bug, lockdep or leak report
# since the test started; the failure shows the whole report.
dmesg_clean() {
	local bad
	bad=$(dmesg_report)
	[ -z "$bad" ] || fail "kernel log not clean:
$bad"
}

# mib NS NAME: the value of counter NAME (e.g. MPTcpExtMPCapableSYNRX, TcpExtTCPSackRecovery)
# in namespace NS, from /proc/net/netstat and /proc/net/snmp; empty if absent.
mib() {
	ip netns exec "$1" cat /proc/net/netstat /proc/net/snmp | mib_in "$2"
}

# mib_in NAME: the value of counter NAME in the /proc/net/netstat or snmp text on
# standard input (a snapshot saved earlier); empty if absent.
mib_in() {
	awk -v want="$1" '
		{ p = $1; sub(":", "", p) }
		p in names { split(names[p], h); for (i = 2; i <= NF; i++) if (p h[i] == want) print $i; delete names[p]; next }
		{ names[p] = $0 }'
}

# mib_delta NS NAME BEFORE: how much counter NAME in NS grew since it was BEFORE.
mib_delta() {
	echo $(($(mib "$1" "$2") - $3))
}

# sockets_gone WHAT PORT: no TCP socket with PORT at either end (listeners and
# TIME-WAIT aside) is left in the namespaces cli and srv within 10 s, so that no
# later test finds mptcp_rs in use; else fails, naming WHAT and what is left.
sockets_gone() {
	local what=$1 port=$2 left="" i ns
	for i in $(seq 50); do
		left=$(for ns in cli srv; do
			ip netns exec $ns ss -tanH "( sport = :$port or dport = :$port )" | grep -v -e LISTEN -e TIME-WAIT
		done)
		[ -z "$left" ] && return 0
		sleep 0.2
	done
	fail "$what: sockets left 10 s after the connection ended: $left"
}

# bytes_on NS DEV rx|tx: the bytes interface DEV of namespace NS received or sent.
bytes_on() {
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3_bytes"
}

# rmmod_cc: unloads the coupled congestion controls if loaded and unused (each holds
# a reference on mptcp_rs); no wait, callers retry
rmmod_cc() {
	local m
	for m in mptcp_lia mptcp_olia; do grep -q "^$m " /proc/modules && rmmod $m 2>/dev/null; done
	return 0
}

# unload_clean SECONDS WHAT: rmmod mptcp_rs succeeds within SECONDS (orphaned subflows
# finish their FIN exchanges first: each pins the module), kmemleak finds nothing
# and the kernel log is clean (debug kernel); WHAT names the traffic in messages
unload_clean() {
	local i leaks
	for i in $(seq $(($1 * 5))); do
		rmmod_cc
		rmmod mptcp_rs 2>/dev/null && break
		sleep 0.2
	done
	grep -q '^mptcp_rs ' /proc/modules && fail "rmmod mptcp_rs failed after $2: $(rmmod mptcp_rs 2>&1)"
	echo scan >/sys/kernel/debug/kmemleak
	sleep 1
	echo scan >/sys/kernel/debug/kmemleak
	leaks=$(cat /sys/kernel/debug/kmemleak)
	[ -z "$leaks" ] || fail "kmemleak reports:
$(echo "$leaks" | head -n 40)"
	dmesg_clean
}
