# Helpers for tests that run inside a guest (scripts/vm). Sourced.
# shellcheck shell=bash
set -uo pipefail

REPO=${MPTCP_RS_REPO:?run inside a mptcp-rs guest (scripts/vm)}
. "$REPO/tests/lib/topology.sh"
XFER="$REPO/tests/tools/xfer.py"

fail() { echo "FAIL: $*" >&2; exit 1; }
info() { echo "  $*" >&2; }

# transfer CLIENT_NS SERVER_NS SERVER_ADDR PORT PROTO BYTES
# Sends BYTES each way between a server in SERVER_NS and a client in CLIENT_NS and
# fails unless both directions arrive complete with matching SHA-256.
transfer() {
	local cns=$1 sns=$2 addr=$3 port=$4 proto=$5 bytes=$6 bind=0.0.0.0
	local out
	out=$(mktemp -d)
	[[ $addr == *:* ]] && bind=::
	ip netns exec "$sns" python3 "$XFER" server --bind "$bind" --port "$port" --proto "$proto" \
		--send "$bytes" >"$out/server" 2>"$out/server.err" &
	local spid=$!
	local i
	for i in $(seq 50); do grep -q listening "$out/server.err" 2>/dev/null && break; sleep 0.1; done
	if ! ip netns exec "$cns" python3 "$XFER" client --connect "$addr" --port "$port" --proto "$proto" \
		--send "$bytes" >"$out/client" 2>"$out/client.err"; then
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
	info "$proto $addr:$port: $bytes bytes each way, SHA-256 match"
	rm -rf "$out"
}

# dmesg_clean: fails if the kernel log shows a warning, bug, lockdep or leak report.
dmesg_clean() {
	local bad
	bad=$(dmesg | grep -E 'WARNING:|BUG:|Oops|general protection|possible circular|possible recursive|inconsistent lock|sleeping function called from invalid context|unreferenced object|Call Trace|KFENCE:|UBSAN:|rust_panic|panicked at' | head -n 20)
	[ -z "$bad" ] || fail "kernel log not clean:
$bad"
}

# mib NS NAME: the value of counter NAME (e.g. MPTcpExtMPCapableSYNRX, TcpExtTCPSackRecovery)
# in namespace NS, from /proc/net/netstat and /proc/net/snmp; empty if absent.
mib() {
	ip netns exec "$1" cat /proc/net/netstat /proc/net/snmp | awk -v want="$2" '
		{ p = $1; sub(":", "", p) }
		p in names { split(names[p], h); for (i = 2; i <= NF; i++) if (p h[i] == want) print $i; delete names[p]; next }
		{ names[p] = $0 }'
}
