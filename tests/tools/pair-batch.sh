#!/usr/bin/env bash
# Guest side of a batch of pair scenarios that share one boot of both guests
# (tests/pair-check): booting a guest pair under TCG costs about half a minute, and
# most scenarios use the same two kernels.
#
#   pair-batch.sh ROLE        (ROLE: server or client; run by scripts/vm --link)
#
# MPTCP_RS_PAIR_BATCH holds one scenario per line: NAME|SCRIPT|ENVS (SCRIPT relative
# to the repository, ENVS space-separated VAR=VALUE). For each, in order:
#  - the server decides whether it starts: with MPTCP_RS_CHECK_DEADLINE less than
#    150 + 30 s away it writes NAME/.notrun (the reason) and the batch ends there,
#    else NAME/.go; the client waits for either;
#  - "SCRIPT ROLE" runs with VM_SHARE=$VM_SHARE/NAME (its own shared directory), the
#    ENVS exported, the kernel log marked (pair_log_clean judges from the mark) and
#    at most 600 s; its output also goes to NAME/ROLE.out, its exit status to
#    NAME/.exit.ROLE (what the peer's pair_wait watches), start and end (epoch
#    seconds) to NAME/ROLE.time;
#  - both wait for each other's exit status (a peer that does not finish within
#    PAIR_BATCH_GRACE s, 120, ends the batch), then put the guest back as it was
#    before the first scenario: mptcp_rs loaded again if a scenario unloaded it,
#    path manager endpoints and limits, net.mptcp/ipv4.conf/ipv6.conf sysctls,
#    firewall rules, policy routing, the links' addresses, routes, qdiscs and GSO;
#  - the kernel log from the scenario's mark to the end of that restore (what a
#    scenario's own check could not see: its last moments, the unload and reload of
#    mptcp_rs, the flush of its endpoints) goes through pair-guest.sh's
#    PAIR_BAD_LOG; what matches is in NAME/ROLE.dmesg.window, and the host fails
#    the scenario for it.
# The host (tests/pair-check) then runs "SCRIPT check NAME-directory" per scenario.
set -u
role=$1
REPO=${MPTCP_RS_REPO:?run inside a mptcp-rs guest (scripts/vm)}
top=${VM_SHARE:?no shared directory}
case "$role" in
server) peer=client ;;
client) peer=server ;;
*) echo "pair-batch: unknown role $role" >&2; exit 2 ;;
esac
grace=${PAIR_BATCH_GRACE:-120}
state=$(mktemp -d)

devs() { # the link NICs (pair-guest.sh's PAIR_DEV, PAIR_DEV2)
	(VM_SHARE=$top; . "$REPO/tests/tools/pair-guest.sh" && echo "$PAIR_DEV ${PAIR_DEV2:-}")
}
# window NAME: the unclean lines (pair-guest.sh's PAIR_BAD_LOG) of the kernel log
# since scenario NAME's mark
window() {
	(VM_SHARE=$top PAIR_DMESG_MARK="mptcp-rs pair scenario $1 starts"
		. "$REPO/tests/tools/pair-guest.sh" && pair__dmesg | grep -E "$PAIR_BAD_LOG")
}
sysctls() {
	sysctl -a 2>/dev/null | grep -E '^net\.(mptcp|ipv4\.conf|ipv6\.conf)\.' | sort
}

# what the scenarios change, as it is at boot
ko="$REPO/build/${MPTCP_RS_FLAVOUR:-}/mptcp_rs.ko"
had_module=0
grep -q '^mptcp_rs ' /proc/modules && had_module=1
snapshot() {
	sysctls >"$state/sysctl"
	ip mptcp limits show >"$state/limits" 2>/dev/null || true
	ip rule show >"$state/rule4"
	ip -6 rule show >"$state/rule6"
	local d
	for d in $(devs); do
		ip -d link show dev "$d" | grep -o 'gso_max_segs [0-9]*' >"$state/gso.$d" || true
	done
}
snapshot

restore() {
	pkill -x iperf3 2>/dev/null
	pkill -f 'tests/tools/(xfer|abort)\.py' 2>/dev/null
	if ((had_module)) && ! grep -q '^mptcp_rs ' /proc/modules; then
		insmod "$ko" || echo "pair-batch: insmod $ko failed" >&2
	fi
	ip mptcp endpoint flush 2>/dev/null
	[ -s "$state/limits" ] && ip mptcp limits set $(cat "$state/limits") 2>/dev/null
	local t
	for t in iptables ip6tables; do
		command -v "$t" >/dev/null || continue
		"$t" -F 2>/dev/null
		"$t" -t mangle -F 2>/dev/null
	done
	local fam
	for fam in 4 6; do
		ip -"$fam" rule show | grep -vxF -f "$state/rule$fam" | while IFS=: read -r pref _; do
			ip -"$fam" rule del pref "$pref"
		done
		ip -"$fam" route flush table 100 2>/dev/null
	done
	local d
	for d in $(devs); do
		tc qdisc del dev "$d" root 2>/dev/null
		tc qdisc del dev "$d" clsact 2>/dev/null
		# the link-local IPv6 address stays (neighbour discovery needs it)
		ip -4 addr flush dev "$d"
		ip -6 addr flush dev "$d" scope global
		ip -4 route flush dev "$d" 2>/dev/null
		[ -s "$state/gso.$d" ] && ip link set dev "$d" $(cat "$state/gso.$d")
	done
	# the sysctls that differ from boot (a reloaded module starts from its defaults,
	# which are the boot values too)
	sysctls | grep -vxF -f "$state/sysctl" | while IFS= read -r line; do
		key=${line%% = *}
		want=$(grep -m1 "^$key = " "$state/sysctl") || continue
		sysctl -qw "$key=${want#* = }" 2>/dev/null
	done
	return 0
}

# wait FILE...: until one of them exists (0), the peer guest ended (1) or SEC passed (2)
wait_any() {
	local sec=$1 i=0
	shift
	while ((i++ < sec * 10)); do
		local f
		for f in "$@"; do [ -e "$f" ] && return 0; done
		[ -e "$top/.exit.$peer" ] && return 1
		sleep 0.1
	done
	return 2
}

left() { echo $((${MPTCP_RS_CHECK_DEADLINE:-0} - $(date +%s) - 30)); }

while IFS='|' read -r name script envs; do
	[ -n "$name" ] || continue
	dir="$top/$name"
	mkdir -p "$dir"
	if [ "$role" = server ]; then
		if [ -n "${MPTCP_RS_CHECK_DEADLINE:-}" ] && (($(left) < 150)); then
			echo "$(($(left) + 30)) s left of the time budget (MPTCP_RS_CHECK_DEADLINE)" >"$dir/.notrun"
			break
		fi
		: >"$dir/.go"
	else
		wait_any 300 "$dir/.go" "$dir/.notrun" || { echo "pair-batch: no word from the server on $name" >&2; break; }
		[ -e "$dir/.notrun" ] && break
	fi
	echo "pair-batch: $name ($script $role)" >&2
	echo "mptcp-rs pair scenario $name starts" >/dev/kmsg
	start=$(date +%s)
	(
		for e in $envs; do export "${e?}"; done
		export VM_SHARE="$dir" PAIR_TOP_SHARE="$top" PAIR_DMESG_MARK="mptcp-rs pair scenario $name starts"
		# its own session and process group: what the script left running in the
		# background (samplers, a second transfer) goes with it, and the output
		# pipe closes
		setsid -w bash -c 'echo $$ >"$0/.pgid.$1"; exec timeout 600 bash "$2" "$1"' \
			"$dir" "$role" "$REPO/$script"
		rc=$?
		kill -TERM -- "-$(cat "$dir/.pgid.$role")" 2>/dev/null
		exit "$rc"
	) 2>&1 | tee "$dir/$role.out"
	rc=${PIPESTATUS[0]}
	echo "$start $(date +%s)" >"$dir/$role.time"
	echo "$rc" >"$dir/.exit.$role"
	if ! wait_any "$grace" "$dir/.exit.$peer"; then
		echo "pair-batch: the $peer did not finish $name within ${grace} s; the batch ends" >&2
		break
	fi
	restore
	window "$name" >"$dir/$role.dmesg.window"
done <<<"${MPTCP_RS_PAIR_BATCH:?no batch}"
rm -rf "$state"
exit 0
