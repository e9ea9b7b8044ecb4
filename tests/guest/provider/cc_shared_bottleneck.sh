#!/usr/bin/env bash
# Coupled congestion control at a shared bottleneck (RFC 6356 goal 2): one MPTCP
# connection with two subflows (client paths c1, c2 into a router) and one plain TCP
# reno upload share the router's single 20 Mbit/s link to the server
# (tests/bench/guest-cc shared, 30 s per run after 3 s not counted), which also
# drops 0.1 % of packets at random: with drop-tail losses alone the flows' losses
# synchronise and single runs swing (lia from 0.6 to 1.16 of TCP in 20 s runs, olia
# once 1.23 in 30 s), random losses decorrelate them. MPTCP goodput over TCP goodput:
#   reno on the subflows (uncoupled): >= 1.4 (about 2: each subflow is one more
#     TCP flow), or the test could not tell coupling from noise;
#   lia, olia: <= 1.2.
# Each algorithm is chosen with TCP_CONGESTION on the MPTCP socket: ss -ti on the
# client must show it on both subflows (the joined one is opened later, from the
# endpoint), and the second path must have carried data.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
max_coupled=${MPTCP_RS_CC_MAX_RATIO:-1.2}
min_uncoupled=${MPTCP_RS_CC_MIN_UNCOUPLED:-1.4}
out=$(MPTCP_RS_CC_SECONDS=${MPTCP_RS_CC_SECONDS:-30} CC_SHARED_EXTRA=${CC_SHARED_EXTRA-loss 0.1%} bash "$MPTCP_RS_REPO/tests/bench/guest-cc" shared reno lia olia 2>&1) ||
	fail "guest-cc failed: $(echo "$out" | tail -n 5)"
echo "$out" | grep '^CCBENCH' | sed 's/^/# /'
python3 - "$max_coupled" "$min_uncoupled" "$out" <<'PY' || fail "shared bottleneck: see above"
import json, sys
max_coupled, min_uncoupled = float(sys.argv[1]), float(sys.argv[2])
runs = {}
for line in sys.argv[3].splitlines():
    if line.startswith("CCBENCH "):
        r = json.loads(line[len("CCBENCH "):])
        runs[r["algo"]] = r
ok = True
for algo in ("reno", "lia", "olia"):
    r = runs.get(algo)
    if r is None:
        print(f"FAIL: no run with {algo}", file=sys.stderr)
        ok = False
        continue
    words = r["subflows"].split()
    msg = (f"{algo}: MPTCP {r['mptcp_bps'] / 1e6:.2f} Mbit/s, TCP reno {r['tcp_bps'] / 1e6:.2f} "
           f"Mbit/s, ratio {r['ratio']:.2f}; path 2 carried {r['path2_bytes']} bytes; "
           f"subflows {r['subflows']}")
    print("  " + msg, file=sys.stderr)
    if r["path2_bytes"] < 200_000:
        print(f"FAIL: {algo}: the second path carried almost nothing", file=sys.stderr)
        ok = False
    for a in ("10.10.1.1", "10.10.2.1"):
        if f"{a}={algo}" not in words:
            print(f"FAIL: {algo}: subflow from {a} does not run {algo}", file=sys.stderr)
            ok = False
    if algo == "reno" and r["ratio"] < min_uncoupled:
        print(f"FAIL: uncoupled reno took only {r['ratio']} x TCP (< {min_uncoupled})", file=sys.stderr)
        ok = False
    if algo != "reno" and r["ratio"] > max_coupled:
        print(f"FAIL: {algo} took {r['ratio']} x TCP (> {max_coupled})", file=sys.stderr)
        ok = False
sys.exit(0 if ok else 1)
PY
dmesg_clean
