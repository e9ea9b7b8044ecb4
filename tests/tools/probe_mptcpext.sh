#!/usr/bin/env bash
# Probe the MPTcpExt counters of /proc/net/netstat in a fresh network namespace: the
# counter names in order, where the two MPTcpExt lines are in the file, how many
# values they carry and whether all are zero, and a SHA-256 of the two lines exactly
# as printed. Prints "MPTCPEXT-PROBE ..." lines, so the output of upstream Linux and
# of mptcp_rs can be compared line by line.
set -u
ns=mptcpext-probe-$$
ip netns add "$ns" || exit 1
trap 'ip netns del "$ns"' EXIT
netstat=$(ip netns exec "$ns" cat /proc/net/netstat) || exit 1
mine=$(echo "$netstat" | grep '^MPTcpExt:')
[ "$(echo "$mine" | wc -l)" = 2 ] || { echo "MPTCPEXT-PROBE lines $(echo "$mine" | grep -c .)"; exit 0; }
echo "MPTCPEXT-PROBE lines 2"
# upstream prints them right after IpExt, at the end of the file
if [ "$(echo "$netstat" | tail -n 2)" = "$mine" ]; then pos=last; else pos=elsewhere; fi
echo "MPTCPEXT-PROBE position $pos"
names=$(echo "$mine" | sed -n 1p)
values=$(echo "$mine" | sed -n 2p)
set -f
# shellcheck disable=SC2086
set -- ${names#MPTcpExt:}
i=0
for n in "$@"; do i=$((i + 1)); echo "MPTCPEXT-PROBE name $i $n"; done
# shellcheck disable=SC2086
set -- ${values#MPTcpExt:}
nonzero=0
for v in "$@"; do [ "$v" = 0 ] || nonzero=$((nonzero + 1)); done
echo "MPTCPEXT-PROBE values $# nonzero $nonzero"
# byte for byte: both lines, single spaces, newline-terminated
echo "MPTCPEXT-PROBE sha256 $(printf '%s\n' "$mine" | sha256sum | cut -d' ' -f1)"
