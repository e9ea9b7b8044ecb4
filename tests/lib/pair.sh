# Two-guest interop rig, host side. Sourced on the HOST (bash), never in a guest.
# shellcheck shell=bash
#
# Two QEMU guests, typically the reference kernel (stock upstream MPTCP) and the custom
# kernel (MPTCP from mptcp_rs), joined by a point-to-point virtual link: scripts/vm
# --link, QEMU dgram netdevs on unix datagram sockets in a private /tmp directory, so
# no port is needed and no frame leaves the machine. Both guests also mount one host
# directory (scripts/vm --share) at $VM_SHARE: the sides rendezvous there and leave
# their results for the host. In the guests, tests/tools/pair-guest.sh configures the
# link (server 10.77.0.1 fd77::1, client 10.77.0.2 fd77::2) and netem.
#
#   pair_run [--timeout SEC] [--dir DIR] SERVER_ARGS CLIENT_ARGS
#       SERVER_ARGS and CLIENT_ARGS name arrays, each a scripts/vm command line
#       (options, --, command), e.g.
#           srv=(--kernel reference -- tests/guest/pair/mptcp_transfer.sh server)
#           cli=(--kernel custom --load mptcp_rs -- tests/guest/pair/mptcp_transfer.sh client)
#           pair_run --dir /tmp/run1 srv cli
#       Builds (or finds cached) both sides' kernels and modules, then boots the server
#       guest in the background and the client guest (its console shown), linked.
#       Succeeds only if both guests' commands exit 0. When one guest has ended, the
#       other is given PAIR_GRACE seconds (60; 15 after a failure) and is then
#       stopped; each guest is killed after SEC seconds (300) anyway. DIR (default: a
#       temporary directory, removed afterwards) receives ROLE.log (console) and
#       ROLE.dmesg (kernel log, if the guest ended by itself) for server and client,
#       and share/, the shared directory, where the host writes .exit.server and
#       .exit.client (exit status) as each guest ends, so the peer stops waiting for
#       it. No QEMU process outlives the call, also on Ctrl-C.
#
#   pair_scenario [--timeout SEC] [--dir DIR] "SERVER_VM_OPTIONS" "CLIENT_VM_OPTIONS" SCRIPT
#       pair_run of "SCRIPT server" and "SCRIPT client" with those scripts/vm options,
#       then "SCRIPT check DIR/share" on the host; succeeds when all three do. This is
#       the form of tests/guest/pair/*.sh (see tests/pair-check).
#
# Helpers for a scenario's host-side check (the shared directory is $PAIR_SHARE):
#   pair_check_xfer NAME BYTES   the NAME transfer of pair-guest.sh's pair_xfer_*: BYTES
#                                each way, SHA-256 of what each side sent equal to what
#                                the other received; prints the rates
#   pair_counter FILE NAME       counter NAME in an nstat snapshot (pair_nstat), 0 if absent
#   pair_delta BEFORE AFTER NAME  its increase between two snapshots
#   pair_netem_stats ROLE        packets sent and dropped by ROLE's qdisc (pair_qdisc_save)

PAIR_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# pair__stop ROLE LINKDIR EXITFILE PID: stop one side: its QEMU (pid file) first, so
# that scripts/vm ends normally and EXITFILE appears, else the side's process tree
pair__stop() {
	local role=$1 link=$2 exitfile=$3 pid=$4 qpid i
	qpid=$(cat "$link/$role.pid" 2>/dev/null || true)
	if [ -n "$qpid" ] && [[ "$(cat "/proc/$qpid/comm" 2>/dev/null)" == qemu* ]]; then
		kill -TERM "$qpid" 2>/dev/null || true
		for i in $(seq 50); do [ -d "/proc/$qpid" ] || break; sleep 0.1; done
		kill -KILL "$qpid" 2>/dev/null || true
	fi
	for i in $(seq 50); do [ -e "$exitfile" ] && return 0; sleep 0.1; done
	pair__kill_tree "$pid"
}

pair__kill_tree() {
	local child
	for child in $(pgrep -P "$1" 2>/dev/null); do pair__kill_tree "$child"; done
	kill -TERM "$1" 2>/dev/null || true
}

pair_run() (
	set -euo pipefail
	timeout=300 dir="" keep=1
	while (($#)); do
		case "$1" in
		--timeout) timeout=$2; shift 2 ;;
		--dir) dir=$2; shift 2 ;;
		*) break ;;
		esac
	done
	(($# == 2)) || { echo "pair_run: usage: pair_run [--timeout SEC] [--dir DIR] SERVER_ARGS CLIENT_ARGS" >&2; exit 2; }
	declare -n pair__srv=$1 pair__cli=$2
	if [ -z "$dir" ]; then
		dir=$(mktemp -d /tmp/mptcp-rs-pair.XXXXXX)
		keep=0
	fi
	mkdir -p "$dir"
	rm -rf "$dir/share" "$dir"/{server,client}.{log,dmesg}
	mkdir "$dir/share"
	# the sockets live in a short private path (sun_path is 108 bytes)
	link=$(mktemp -d /tmp/mptcp-rs-link.XXXXXX)
	declare -A pid=()

	cleanup() {
		local role
		for role in server client; do
			[ -n "${pid[$role]:-}" ] || continue
			[ -e "$dir/share/.exit.$role" ] || pair__stop "$role" "$link" "$dir/share/.exit.$role" "${pid[$role]}"
		done
		wait 2>/dev/null || true
		rm -rf "$link"
		((keep)) || rm -rf "$dir"
	}
	trap cleanup EXIT
	trap 'echo "pair_run: interrupted" >&2; exit 130' INT TERM

	side() {
		local role=$1
		shift
		set +e
		# the client's console is shown as it comes, the server's only kept
		if [ "$role" = client ]; then
			"$PAIR_REPO/scripts/vm" --timeout "$timeout" --link "client:$link" --share "$dir/share" \
				--pidfile "$link/client.pid" --dmesg "$dir/client.dmesg" "$@" 2>&1 |
				sed -u 's/\r$//' | tee "$dir/client.log"
		else
			"$PAIR_REPO/scripts/vm" --timeout "$timeout" --link "server:$link" --share "$dir/share" \
				--pidfile "$link/server.pid" --dmesg "$dir/server.dmesg" "$@" 2>&1 |
				sed -u 's/\r$//' >"$dir/server.log"
		fi
		local rc=${PIPESTATUS[0]}
		echo "$rc" >"$dir/share/.exit.$role"
		exit "$rc"
	}
	# kernels and modules first (scripts/vm would build them, perhaps for many minutes,
	# while the other guest is waiting for its peer)
	"$PAIR_REPO/scripts/vm" --build-only "${pair__srv[@]}" >/dev/null ||
		{ echo "pair_run: cannot build the server's kernel or modules" >&2; exit 1; }
	"$PAIR_REPO/scripts/vm" --build-only "${pair__cli[@]}" >/dev/null ||
		{ echo "pair_run: cannot build the client's kernel or modules" >&2; exit 1; }
	side server "${pair__srv[@]}" </dev/null &
	pid[server]=$!
	side client "${pair__cli[@]}" </dev/null &
	pid[client]=$!

	# if the calling script is killed (e.g. by timeout(1)), the guests go too
	caller=$$
	watch_caller() {
		[ -d "/proc/$caller" ] || { echo "pair_run: the calling shell has gone; stopping the guests" >&2; exit 143; }
	}
	# the first to end, then the other within the grace period
	# (scripts/vm stops each guest after $timeout s; the deadline is a safety net)
	first="" other="" deadline=$((SECONDS + timeout + 60))
	while [ -z "$first" ]; do
		watch_caller
		for role in server client; do
			[ -e "$dir/share/.exit.$role" ] && { first=$role; break; }
		done
		if [ -z "$first" ] && ((SECONDS > deadline)); then
			echo "pair_run: neither guest ended within ${timeout}s; stopping both" >&2
			first=server
			pair__stop server "$link" "$dir/share/.exit.server" "${pid[server]}"
		fi
		[ -n "$first" ] || sleep 0.2
	done
	[ "$first" = server ] && other=client || other=server
	grace=${PAIR_GRACE:-60}
	[ "$(cat "$dir/share/.exit.$first" 2>/dev/null)" = 0 ] || grace=15
	end=$((SECONDS + grace))
	while [ ! -e "$dir/share/.exit.$other" ] && ((SECONDS < end)); do
		watch_caller
		sleep 0.2
	done
	if [ ! -e "$dir/share/.exit.$other" ]; then
		echo "pair_run: the $other guest still runs ${grace}s after the $first guest ended; stopping it" >&2
		pair__stop "$other" "$link" "$dir/share/.exit.$other" "${pid[$other]}"
	fi
	rs=0 rc=0
	wait "${pid[server]}" || rs=$?
	wait "${pid[client]}" || rc=$?
	if ((rs != 0)); then
		echo "pair_run: server guest failed (exit $rs); end of its console ($dir/server.log):" >&2
		tail -n 25 "$dir/server.log" | sed 's/^/  server| /' >&2
	fi
	((rc == 0)) || echo "pair_run: client guest failed (exit $rc)" >&2
	((rs == 0 && rc == 0))
)

pair_scenario() {
	local opts=()
	while (($#)); do
		case "$1" in
		--timeout | --dir) opts+=("$1" "$2"); shift 2 ;;
		*) break ;;
		esac
	done
	(($# == 3)) || { echo "pair_scenario: usage: pair_scenario [--timeout SEC] [--dir DIR] SERVER_VM_OPTIONS CLIENT_VM_OPTIONS SCRIPT" >&2; return 2; }
	local script=$3 dir="" own=0 rc=0 so co
	read -r -a so <<<"$1"
	read -r -a co <<<"$2"
	[ -f "$script" ] || { echo "pair_scenario: no script $script" >&2; return 2; }
	script=$(realpath "$script")
	local i
	for ((i = 0; i < ${#opts[@]}; i += 2)); do [ "${opts[i]}" = --dir ] && dir=${opts[i + 1]}; done
	if [ -z "$dir" ]; then
		dir=$(mktemp -d /tmp/mptcp-rs-pair.XXXXXX)
		own=1
		opts+=(--dir "$dir")
	fi
	# shellcheck disable=SC2034 # used by name in pair_run
	local pair_sc_srv=("${so[@]}" -- "$script" server) pair_sc_cli=("${co[@]}" -- "$script" client)
	pair_run "${opts[@]}" pair_sc_srv pair_sc_cli || rc=$?
	if ((rc == 0)); then
		bash "$script" check "$dir/share" || rc=$?
	fi
	((own)) && rm -rf "$dir"
	return "$rc"
}

# --- host-side checks of a scenario ---------------------------------------------------

pair_check_xfer() {
	python3 - "${PAIR_SHARE:?}" "$1" "$2" <<'PY'
import json, sys
share, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    c = json.load(open(f"{share}/{name}.client.json"))
    s = json.load(open(f"{share}/{name}.server.json"))
except (OSError, ValueError) as e:
    sys.exit(f"FAIL: {name}: no result: {e}")
ok = (c["sent"] == s["received"] == n and s["sent"] == c["received"] == n
      and c["sent_sha256"] == s["received_sha256"] and s["sent_sha256"] == c["received_sha256"])
if not ok:
    sys.exit(f"FAIL: {name}: data mismatch\n  client {c}\n  server {s}")
secs = max(c.get("seconds", 0), s.get("seconds", 0)) or float("nan")
print(f"  {name}: {c['proto']} client, {s['proto']} server: {n} bytes each way, "
      f"SHA-256 equal on both ends, {secs:.1f} s ({n * 8 / secs / 1e6:.1f} Mbit/s each way)")
PY
}

pair_counter() {
	awk -v want="$2" '$1 == want { v = $2 } END { print v + 0 }' "${PAIR_SHARE:?}/$1"
}

pair_delta() {
	echo $(($(pair_counter "$2" "$3") - $(pair_counter "$1" "$3")))
}

pair_netem_stats() {
	awk -v s="$1" '/ Sent / { sub(",", "", $7); d = $7; n = $4
		printf "  %s qdisc: %d packets sent, %d dropped (%.2f%%)\n", s, n, d, n + d ? 100 * d / (n + d) : 0; exit }' \
		"${PAIR_SHARE:?}/$1.qdisc"
}
