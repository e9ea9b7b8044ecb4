#!/usr/bin/env bash
# (on the reference kernel: scripts/vm --kernel reference -- env MPTCP_RS_FLAVOUR=reference bash
# tests/guest/provider/pm_events.sh)
# Path manager events (`ip mptcp monitor`, the "mptcp_pm_events" group): a listener
# in each namespace (tests/tools/pm_events.py, and `ip mptcp monitor` at the client)
# while one connection goes through the path manager's life:
#   path 1 carries the connection (client c1 -> server s1, port 7400); the client
#   has a `subflow` endpoint on path 2 (id 1, dev c2) and `limits add_addr_accepted 1
#   subflows 2`; the server a `signal` endpoint on path 3 (id 3) and `subflows 2`.
#   1. the client joins from its endpoint to the server's first address, the server
#      announces its path-3 address, the client joins it (from its path-3 address);
#   2. the server deletes its signal endpoint: REMOVE_ADDR, that subflow closes;
#   3. the client marks its endpoint `backup`: MP_PRIO on the path-2 subflow;
#   4. the client closes, then the server closes the connection and its listener.
# Checked, per namespace (against MPTCP_INFO's tokens, the subflows' addresses and
# ports as `ss` lists them, the endpoint ids): LISTENER_CREATED/CLOSED (server:
# address 0.0.0.0, port 7400); CREATED then ESTABLISHED (server_side and its flag at
# the server only; the first subflow's addresses, ids 0); ANNOUNCED (client: the
# server's id 3, its address and port) and REMOVED (id 3); one SUB_ESTABLISHED per
# join at each end, the server's the mirror of the client's (addresses, ports, ids),
# the client's join from its endpoint with the endpoint's id and device; one
# SUB_CLOSED per end for the removed path's subflow and no other before close;
# SUB_PRIORITY (backup 1) at the server for the path-2 subflow; CLOSED last (with
# LISTENER_CLOSED at the server); nothing else. `ip mptcp monitor` shows the same.
# Written against upstream's behaviour: it passes on the reference kernel too.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
out=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	topo_cleanup
}
trap cleanup EXIT
topo_new cli srv
for n in 1 2 3; do topo_path cli srv $n; done
c2=$(topo_addr4 c 2) c3=$(topo_addr4 c 3) s1=$(topo_addr4 s 1) s3=$(topo_addr4 s 3)
# the server answers the client's path-2 address over path 2, also from s1
ip -n srv rule add to "$c2" table 102 pref 100
ip -n cli mptcp limits set add_addr_accepted 1 subflows 2
ip -n srv mptcp limits set subflows 2
ip -n cli mptcp endpoint add "$c2" id 1 dev c2 subflow || fail "client endpoint"
ip -n srv mptcp endpoint add "$s3" id 3 signal || fail "server endpoint"
c2_idx=$(ip netns exec cli cat /sys/class/net/c2/ifindex)
port=7400

for ns in cli srv; do
	ip netns exec $ns python3 "$REPO/tests/tools/pm_events.py" --timeout 100 \
		>"$out/$ns.ev" 2>"$out/$ns.ev.err" &
	pids+=($!)
done
ip netns exec cli timeout 100 stdbuf -oL ip mptcp monitor >"$out/monitor" 2>&1 &
pids+=($!)
for ns in cli srv; do
	for i in $(seq 100); do grep -q ready "$out/$ns.ev.err" && break; sleep 0.1; done
	grep -q ready "$out/$ns.ev.err" || fail "$ns: no event listener: $(cat "$out/$ns.ev.err")"
done
sleep 0.5 # ip mptcp monitor subscribes too

ip netns exec srv python3 - "$port" >"$out/srv.app" 2>&1 <<'PY' &
import socket, struct, sys, time
SOL_MPTCP, MPTCP_INFO = 284, 1
token = lambda s: struct.unpack_from("=12xI", s.getsockopt(SOL_MPTCP, MPTCP_INFO, 96))[0]
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", int(sys.argv[1])))
l.listen(4)
print("listening", flush=True)
c, _ = l.accept()
print("token %d" % token(c), flush=True)
while True:
    d = c.recv(65536)
    if not d:
        break
    c.sendall(d)
c.close()
time.sleep(0.5)
l.close()
print("done", flush=True)
PY
spid=$!
pids+=($spid)
for i in $(seq 100); do grep -q listening "$out/srv.app" && break; sleep 0.1; done
grep -q listening "$out/srv.app" || fail "server: $(cat "$out/srv.app")"

ip netns exec cli python3 - "$s1" "$port" "$out/close" >"$out/cli.app" 2>&1 <<'PY' &
import os, socket, struct, sys, time
SOL_MPTCP, MPTCP_INFO = 284, 1
token = lambda s: struct.unpack_from("=12xI", s.getsockopt(SOL_MPTCP, MPTCP_INFO, 96))[0]
def echo(s, n):
    s.sendall(b"x" * n)
    got = 0
    while got < n:
        d = s.recv(n - got)
        if not d:
            raise SystemExit("connection closed early")
        got += len(d)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
s.connect((sys.argv[1], int(sys.argv[2])))
echo(s, 1000)
print("token %d sport %d" % (token(s), s.getsockname()[1]), flush=True)
while not os.path.exists(sys.argv[3]):
    echo(s, 100)
    time.sleep(0.05)
s.close()
print("closed", flush=True)
PY
cpid=$!
pids+=($cpid)

count() { grep -c "\"event\": \"$2\"" "$out/$1.ev"; }
wait_for() { # NS EVENT N WHAT
	local i
	for i in $(seq 150); do
		[ "$(count "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.1
	done
	fail "$4: $1 saw $(count "$1" "$2") $2 events, expected $3:
$(cat "$out/$1.ev")"
}
for i in $(seq 100); do grep -q token "$out/cli.app" && break; sleep 0.1; done
grep -q token "$out/cli.app" || fail "client: $(cat "$out/cli.app")"
wait_for cli SUB_ESTABLISHED 2 "joins"
wait_for srv SUB_ESTABLISHED 2 "joins"
sleep 0.5
ip netns exec cli ss -Htn state established >"$out/cli.ss"
ip netns exec srv ss -Htn state established >"$out/srv.ss"
sed 's/^/    cli ss: /' "$out/cli.ss" >&2

ip -n srv mptcp endpoint delete id 3 || fail "endpoint delete"
wait_for cli REMOVED 1 "REMOVE_ADDR"
wait_for cli SUB_CLOSED 1 "removed subflow"
wait_for srv SUB_CLOSED 1 "removed subflow"
ip -n cli mptcp endpoint change id 1 backup || fail "endpoint change"
wait_for srv SUB_PRIORITY 1 "MP_PRIO"
sleep 0.5
wc -l <"$out/cli.ev" >"$out/cli.mark"
wc -l <"$out/srv.ev" >"$out/srv.mark"
touch "$out/close"
wait "$cpid" || fail "client: $(cat "$out/cli.app")"
wait "$spid" || fail "server: $(cat "$out/srv.app")"
wait_for cli CLOSED 1 "close"
wait_for srv CLOSED 1 "close"
wait_for srv LISTENER_CLOSED 1 "listener close"
sleep 0.5
for ns in cli srv; do sed "s/^/    $ns: /" "$out/$ns.ev" >&2; done

python3 - "$out" "$port" "$(topo_addr4 c 1)" "$c2" "$c3" "$s1" "$s3" "$c2_idx" <<'PY' || fail "events differ from upstream's"
import json, re, sys
d, port, c1, c2, c3, s1, s3, c2_idx = sys.argv[1:]
port, c2_idx = int(port), int(c2_idx)
bad = []
def check(cond, what):
    if not cond:
        bad.append(what)
    return cond
ev = {ns: [json.loads(l) for l in open("%s/%s.ev" % (d, ns))] for ns in ("cli", "srv")}
mark = {ns: int(open("%s/%s.mark" % (d, ns)).read()) for ns in ("cli", "srv")}
tc, cport = [int(x) for x in open(d + "/cli.app").read().split()[1:4:2]]
ts = int(open(d + "/srv.app").read().split("token")[1].split()[0])
tok = {"cli": tc, "srv": ts}
# "ADDR%DEV:PORT" for a socket bound to a device
ss = {ns: set(tuple(re.sub(r"%[^:]*", "", f) for f in l.split() if ":" in f)[:2] for l in open("%s/%s.ss" % (d, ns)))
      for ns in ("cli", "srv")}
def of(ns, name, before=None, after=None):
    return [e for i, e in enumerate(ev[ns]) if e["event"] == name
            and (before is None or i < before) and (after is None or i >= after)]
def pos(ns, e):
    return ev[ns].index(e)
def ends(e):
    return (e.get("saddr4"), e.get("sport"), e.get("daddr4"), e.get("dport"))
def mirror(e):
    return (e.get("daddr4"), e.get("dport"), e.get("saddr4"), e.get("sport"))

# every connection event names the connection by MPTCP_INFO's token
for ns in ("cli", "srv"):
    for e in ev[ns]:
        if not e["event"].startswith("LISTENER"):
            check(e.get("token") == tok[ns], "%s: %s has token %s, MPTCP_INFO says %d" % (ns, e["event"], e.get("token"), tok[ns]))
        else:
            check("token" not in e, "%s: %s carries a token" % (ns, e["event"]))
# listener
for name in ("LISTENER_CREATED", "LISTENER_CLOSED"):
    l = of("srv", name)
    if check(len(l) == 1, "srv: %d %s, expected 1" % (len(l), name)):
        check((l[0].get("family"), l[0].get("saddr4"), l[0].get("sport")) == (2, "0.0.0.0", port),
              "srv: %s is %s" % (name, l[0]))
    check(not of("cli", name), "cli: %s" % name)
# the connection
first = {"cli": (c1, cport, s1, port), "srv": (s1, port, c1, cport)}
for ns in ("cli", "srv"):
    for name in ("CREATED", "ESTABLISHED"):
        l = of(ns, name)
        if not check(len(l) == 1, "%s: %d %s, expected 1" % (ns, len(l), name)):
            continue
        e = l[0]
        check(ends(e) == first[ns] and e.get("family") == 2 and e.get("loc_id") == 0 and e.get("rem_id") == 0,
              "%s: %s describes %s, not the first subflow %s" % (ns, name, e, first[ns]))
        server = ns == "srv"
        check((e.get("server_side") == 1) == server and bool(e.get("flags", 0) & 2) == server,
              "%s: %s server_side/flags wrong: %s" % (ns, name, e))
        check(not {"backup", "if_idx", "error"} & set(e), "%s: %s has subflow attributes: %s" % (ns, name, e))
    if of(ns, "CREATED") and of(ns, "ESTABLISHED"):
        check(pos(ns, of(ns, "CREATED")[0]) < pos(ns, of(ns, "ESTABLISHED")[0]), "%s: ESTABLISHED before CREATED" % ns)
est = {ns: pos(ns, of(ns, "ESTABLISHED")[0]) if of(ns, "ESTABLISHED") else 0 for ns in ("cli", "srv")}
# announcements
ann = of("cli", "ANNOUNCED")
check(len(ann) >= 1, "cli: no ANNOUNCED")
for e in ann:
    check((e.get("rem_id"), e.get("daddr4"), e.get("dport")) == (3, s3, port) and "family" not in e,
          "cli: ANNOUNCED is %s" % e)
    check(pos("cli", e) > est["cli"], "cli: ANNOUNCED before ESTABLISHED")
check(not of("srv", "ANNOUNCED") and not of("srv", "REMOVED"), "srv: got ANNOUNCED/REMOVED")
rem = of("cli", "REMOVED")
check(len(rem) >= 1 and all(e.get("rem_id") == 3 and set(e) == {"t", "event", "token", "rem_id"} for e in rem),
      "cli: REMOVED: %s" % rem)
# joins
sub = {ns: of(ns, "SUB_ESTABLISHED") for ns in ("cli", "srv")}
for ns in ("cli", "srv"):
    check(len(sub[ns]) == 2, "%s: %d SUB_ESTABLISHED, expected 2" % (ns, len(sub[ns])))
    for e in sub[ns]:
        check(pos(ns, e) > est[ns], "%s: SUB_ESTABLISHED before ESTABLISHED" % ns)
        check(e.get("family") == 2 and e.get("backup") == 0, "%s: SUB_ESTABLISHED %s" % (ns, e))
        check(("%s:%s" % (e.get("saddr4"), e.get("sport")), "%s:%s" % (e.get("daddr4"), e.get("dport"))) in ss[ns],
              "%s: SUB_ESTABLISHED %s is not a subflow ss lists" % (ns, e))
by_ends = {ns: {ends(e): e for e in sub[ns]} for ns in ("cli", "srv")}
j2 = [e for e in sub["cli"] if e.get("saddr4") == c2]
j3 = [e for e in sub["cli"] if e.get("saddr4") == c3]
if check(len(j2) == 1 and len(j3) == 1, "cli: joins from %s/%s: %s" % (c2, c3, sub["cli"])):
    j2, j3 = j2[0], j3[0]
    check((j2.get("daddr4"), j2.get("dport"), j2.get("loc_id"), j2.get("rem_id"), j2.get("if_idx")) == (s1, port, 1, 0, c2_idx),
          "cli: the endpoint's join is %s" % j2)
    check((j3.get("daddr4"), j3.get("dport"), j3.get("rem_id")) == (s3, port, 3), "cli: the join to the announced address is %s" % j3)
    for e in (j2, j3):
        m = by_ends["srv"].get(mirror(e))
        if check(m is not None, "srv: no SUB_ESTABLISHED for the client's %s" % e):
            check((m.get("loc_id"), m.get("rem_id")) == (e.get("rem_id"), e.get("loc_id")),
                  "srv: ids of %s do not mirror the client's %s" % (m, e))
    # the removed path's subflow closes at both ends, nothing else before close
    for ns, want in (("cli", ends(j3)), ("srv", mirror(j3))):
        sc = of(ns, "SUB_CLOSED", before=mark[ns])
        if check(len(sc) == 1, "%s: %d SUB_CLOSED before close, expected 1: %s" % (ns, len(sc), sc)):
            e = sc[0]
            check(ends(e) == want and e.get("family") == 2, "%s: SUB_CLOSED for %s, expected %s" % (ns, ends(e), want))
            w = by_ends[ns].get(want, {})
            check((e.get("loc_id"), e.get("rem_id")) == (w.get("loc_id"), w.get("rem_id")), "%s: SUB_CLOSED ids %s" % (ns, e))
    # MP_PRIO from the client's endpoint
    pr = of("srv", "SUB_PRIORITY")
    check(len(pr) >= 1 and all(ends(e) == mirror(j2) and e.get("backup") == 1 for e in pr), "srv: SUB_PRIORITY %s" % pr)
    check(not of("cli", "SUB_PRIORITY"), "cli: SUB_PRIORITY for its own MP_PRIO")
# the end
for ns in ("cli", "srv"):
    late = [e["event"] for e in ev[ns][mark[ns]:]]
    want = ["CLOSED"] + (["LISTENER_CLOSED"] if ns == "srv" else [])
    check(late == want, "%s: after close %s, expected %s" % (ns, late, want))
    known = {"LISTENER_CREATED", "LISTENER_CLOSED", "CREATED", "ESTABLISHED", "ANNOUNCED", "REMOVED",
             "SUB_ESTABLISHED", "SUB_CLOSED", "SUB_PRIORITY", "CLOSED"}
    check(all(e["event"] in known for e in ev[ns]), "%s: unexpected events" % ns)
for b in bad:
    print("  " + b, file=sys.stderr)
print("  events: client %d, server %d; tokens %d %d" % (len(ev["cli"]), len(ev["srv"]), tc, ts), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
# iproute2 decodes them too
tc=$(awk '/token/ {print $2}' "$out/cli.app")
grep -q "CREATED.*token=$(printf %08x "$tc")" "$out/monitor" ||
	fail "ip mptcp monitor shows no CREATED with token $(printf %08x "$tc"):
$(cat "$out/monitor")"
[ "$(grep -c SF_ESTABLISHED "$out/monitor")" = 2 ] || fail "ip mptcp monitor: $(cat "$out/monitor")"
info "events: listener, created/established, announced/removed, 2 joins, sub_closed, sub_priority, closed"
# the client closed first, the server later: both DATA_FINs get their DATA_ACKs and
# every subflow finishes its FIN exchange at once (not after net.mptcp.close_timeout,
# a peer's subflows left in CLOSE_WAIT waiting for a DATA_ACK)
for i in $(seq 50); do
	left=$(for ns in cli srv; do ip netns exec $ns ss -Htan state all | grep -v -e TIME-WAIT -e LISTEN | sed "s/^/$ns: /"; done)
	[ -z "$left" ] && break
	sleep 0.1
done
[ -z "$left" ] || fail "subflows still open 5 s after both ends closed:
$left"
dmesg_clean
