#!/usr/bin/env bash
# Backup subflows: the client's endpoint on path 2 is "subflow backup", so the join
# it opens carries the MP_JOIN backup flag; both schedulers (ours, both ends) then
# leave it idle while path 1 works. Two paths of 20 Mbit/s, 10 ms RTT.
#  1. 4 MB each way over IPv4: the join happened (MPJoinSynBackupRx at the server)
#     and path 2 carried less than 2 % of the bytes each way (ACKs and handshakes).
#  2. 8 MB to the client, path 1 blackholed (netem loss 100 %, both ends) once the
#     client has 2 MB: the backup subflow takes over, the transfer completes with
#     the SHA-256 equal, and after the cut path 2 carried more than 1 MB and path 1
#     (nearly) nothing (counted from when the cut took effect).
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
trap topo_cleanup EXIT
bytes=$((4 << 20))
topo_new cli srv
topo_path cli srv 1
topo_path cli srv 2
for n in 1 2; do
	topo_shape cli "c$n" delay 5ms rate 20mbit limit 100
	topo_shape srv "s$n" delay 5ms rate 20mbit limit 100
done
c2=$(topo_addr4 c 2)
ip -n srv rule add to "$c2" table 102 pref 100
ip -n cli mptcp limits set subflows 1
ip -n srv mptcp limits set subflows 1
ip -n cli mptcp endpoint add "$c2" dev c2 subflow backup

bytes_on() { # NS DEV rx|tx
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3_bytes"
}

# 1. the backup path stays idle
rx0=$(bytes_on srv s2 rx) tx0=$(bytes_on srv s2 tx)
transfer cli srv "$(topo_addr4 s 1)" 6201 mptcp "$bytes"
rx=$(($(bytes_on srv s2 rx) - rx0)) tx=$(($(bytes_on srv s2 tx) - tx0))
info "backup path 2 at the server: $rx bytes in, $tx out (of $bytes each way)"
mib_at_least srv MPTcpExtMPJoinSynBackupRx 1
mib_at_least cli MPTcpExtMPJoinSynAckRx 1
((rx < bytes / 50 && tx < bytes / 50)) || fail "the backup path carried data while path 1 worked: $rx in, $tx out"

# 2. path 1 dies: the backup takes over
out=$(mktemp -d)
ip netns exec srv python3 "$XFER" server --bind 0.0.0.0 --port 6202 --proto mptcp \
	--send $((8 << 20)) --timeout 60 >"$out/server" 2>"$out/server.err" &
spid=$!
for i in $(seq 50); do grep -q listening "$out/server.err" 2>/dev/null && break; sleep 0.1; done
# the counters of both client links as the cut takes effect (the cut command runs
# in the client's namespace; under TCG it lands up to a second after the 2 MB mark,
# while path 1 still delivers 2.5 MB/s)
cut="tc -n cli qdisc replace dev c1 root netem loss 100%; tc -n srv qdisc replace dev s1 root netem loss 100%"
cut+="; cat /sys/class/net/c1/statistics/rx_bytes >$out/c1.cut; cat /sys/class/net/c2/statistics/rx_bytes >$out/c2.cut"
ip netns exec cli python3 "$XFER" client --connect "$(topo_addr4 s 1)" --port 6202 --proto mptcp \
	--send $((1 << 20)) --timeout 60 --cut-at $((2 << 20)) --cut-cmd "$cut" \
	>"$out/client" 2>"$out/client.err" || fail "client: $(tail -n 3 "$out/client.err")"
wait "$spid" || fail "server: $(tail -n 3 "$out/server.err")"
rx=$(($(bytes_on cli c2 rx) - $(cat "$out/c2.cut")))
rx1=$(($(bytes_on cli c1 rx) - $(cat "$out/c1.cut")))
python3 - "$out/client" "$out/server" <<'PY' || fail "failover to the backup: data mismatch"
import json, sys
c = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
ok = (s["sent"] == c["received"] and s["sent_sha256"] == c["received_sha256"]
      and c["sent"] == s["received"] and c["sent_sha256"] == s["received_sha256"])
print("  path 1 cut at %s s, %d bytes intact, longest stall after the cut %s s"
      % (c.get("cut"), c["received"], c.get("stall")), file=sys.stderr)
sys.exit(0 if ok and c.get("cut") is not None else 1)
PY
info "after the cut the client received $rx bytes over backup path 2, $rx1 over path 1"
# everything after the cut crossed the backup: at least the last MB of the 8 (the cut
# comes at 2 MB received, plus at most 2 s at path 1's rate)
((rx > 1 << 20)) || fail "the backup path carried too little after path 1 died: $rx bytes"
((rx1 < 64 << 10)) || fail "path 1 still delivered $rx1 bytes after the cut"
dmesg_clean
