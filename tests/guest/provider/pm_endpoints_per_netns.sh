#!/usr/bin/env bash
# `ip mptcp endpoint` and `ip mptcp limits` round trips in two network namespaces:
# each has its own endpoints and limits (one namespace's changes, flush and removal
# leave the other's alone), IPv4 and IPv6 endpoints with flags, port and device are
# shown as they were added, upstream's extack messages come back for rejected
# requests, and `ip mptcp monitor` can subscribe to the mptcp_pm_events group.
# Written against upstream's behaviour: it passes on the reference kernel too.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
a=pm-a-$$ b=pm-b-$$
ip netns add "$a" && ip netns add "$b" || fail "cannot create namespaces"
trap 'ip netns del "$a" 2>/dev/null; ip netns del "$b" 2>/dev/null' EXIT
ip -n "$a" link set lo up
ip -n "$a" addr add 10.0.0.1/24 dev lo
ip -n "$a" addr add 2001:db8::1/64 dev lo nodad

expect() { # WHAT EXPECTED ACTUAL
	[ "$2" = "$3" ] || fail "$1: expected
$2
got
$3"
}

pm() { local ns=$1; shift; ip -n "$ns" mptcp "$@"; }

expect "defaults in A" "add_addr_accepted 0 subflows 2 " "$(pm "$a" limits show)"
pm "$a" endpoint add 10.0.0.1 id 5 signal || fail "add signal endpoint"
pm "$a" endpoint add 2001:db8::1 subflow backup dev lo || fail "add IPv6 endpoint"
pm "$a" endpoint add 10.0.0.1 port 10100 signal || fail "add port endpoint"
pm "$a" endpoint add 10.0.0.2 subflow fullmesh || fail "add fullmesh endpoint"
pm "$a" limits set add_addr_accepted 4 subflows 8 || fail "set limits"
pm "$b" endpoint add 10.0.0.1 subflow || fail "add in B"

expect "endpoints of A" "10.0.0.1 id 5 signal 
2001:db8::1 id 6 subflow backup dev lo 
10.0.0.1 port 10100 id 7 signal 
10.0.0.2 id 8 subflow fullmesh " "$(pm "$a" endpoint show)"
expect "endpoint 6 of A" "2001:db8::1 id 6 subflow backup dev lo " "$(pm "$a" endpoint show id 6)"
expect "limits of A" "add_addr_accepted 4 subflows 8 " "$(pm "$a" limits show)"
expect "endpoints of B" "10.0.0.1 id 1 subflow " "$(pm "$b" endpoint show)"
expect "limits of B" "add_addr_accepted 0 subflows 2 " "$(pm "$b" limits show)"

# changes by id and by address
pm "$a" endpoint change id 5 backup || fail "change by id"
pm "$a" endpoint change 10.0.0.2 nofullmesh || fail "change by address"
expect "endpoints of A after change" "10.0.0.1 id 5 signal backup 
2001:db8::1 id 6 subflow backup dev lo 
10.0.0.1 port 10100 id 7 signal 
10.0.0.2 id 8 subflow " "$(pm "$a" endpoint show)"

# rejected requests, with upstream's messages
err() { "$@" 2>&1 >/dev/null && echo "accepted"; }
expect "duplicate" "Error: too many addresses or duplicate one: -17." "$(err pm "$a" endpoint add 10.0.0.2)"
expect "id in use" "Error: too many addresses or duplicate one: -16." "$(err pm "$a" endpoint add 10.0.0.3 id 6)"
expect "port without signal" "Error: flags must have signal and not subflow when using port." \
	"$(err pm "$a" endpoint add 10.0.0.3 port 1000 signal subflow)"
expect "fullmesh on signal" "Error: invalid addr flags." "$(err pm "$a" endpoint change id 5 fullmesh)"
expect "delete unknown" "Error: address not found." "$(err pm "$a" endpoint delete id 99)"
expect "limit above 64" "Error: limit greater than maximum (64)." "$(err pm "$a" limits set subflows 65)"
expect "limits after rejected set" "add_addr_accepted 4 subflows 8 " "$(pm "$a" limits show)"

# delete, flush: A only
pm "$a" endpoint delete id 6 || fail "delete"
expect "endpoints of A after delete" "10.0.0.1 id 5 signal backup 
10.0.0.1 port 10100 id 7 signal 
10.0.0.2 id 8 subflow " "$(pm "$a" endpoint show)"
pm "$a" endpoint flush || fail "flush"
expect "A after flush" "" "$(pm "$a" endpoint show)"
expect "limits of A after flush" "add_addr_accepted 4 subflows 8 " "$(pm "$a" limits show)"
expect "B after A's flush" "10.0.0.1 id 1 subflow " "$(pm "$b" endpoint show)"
pm "$a" endpoint add 10.0.0.9 || fail "add after flush"
expect "ids restart after flush" "10.0.0.9 id 1 " "$(pm "$a" endpoint show)"
ip netns del "$a"
expect "B after A is gone" "10.0.0.1 id 1 subflow " "$(pm "$b" endpoint show)"

# the event group: `ip mptcp monitor` subscribes and waits (killed by timeout: 124)
timeout 2 ip -n "$b" mptcp monitor >/dev/null 2>&1
expect "ip mptcp monitor" 124 "$?"
info "endpoints and limits per namespace, errors and monitor as upstream"
