#!/usr/bin/env bash
# Coupled congestion control at a shared bottleneck (RFC 6356 goal 2): one MPTCP
# connection with two subflows (client paths c1, c2 into a router) and one plain TCP
# reno upload share the router's single 10 Mbit/s link to the server
# (tests/bench/guest-cc shared; make bench runs it at 20 Mbit/s). At 20 Mbit/s the
# guest under TCG was the bottleneck here: the MPTCP sender got about 8 Mbit/s
# whatever its congestion control (uncoupled reno 0.7-0.9 x TCP, where it got 1.5
# on a faster day), with the same result for the module of a week before; at
# 10 Mbit/s reno took 1.76 x TCP, lia 1.01, olia 0.93. Single runs swing with the drop-tail queue's loss
# synchronisation (lia from 0.6 to 1.57 of TCP in single 20 s runs), so the list
# reno, lia, olia runs 5 times over, 20 s each after 3 s not counted, and each
# algorithm is judged on the median of its runs' ratios (MPTCP goodput over the TCP
# flow's), which sets two outlying runs aside either way (a CI run had lia at 1.57,
# 1.11, 1.08: 1.23 summed; uncoupled reno's runs sit at 1.46-1.76; with 3 runs a
# clean-clone run of 2026-12-07 failed on olia 1.07, 1.26, 1.27, lia 0.79-1.35):
#   lia, olia: <= 1.2;
#   reno on the subflows (uncoupled), the control: >= 1.1 and >= 1.15 x the larger
#     of lia's and olia's, or the test could not tell coupling from noise. Two
#     uncoupled subflows are two more TCP flows (2 x in theory), but not in this
#     rig: upstream's own MPTCP (reference kernel, the same topology and 20 s
#     iperf3 runs) took 1.48 and 1.39 x TCP in two single runs, mptcp_rs 1.48 and
#     1.65 that hour, and 1.15-1.76 as three-run totals in check runs; the
#     receiving subflows of both showed socket drops (ss skmem d20-d37).
# Each algorithm is chosen with TCP_CONGESTION on the MPTCP socket: ss -ti on the
# client must show it on both subflows in every run (the joined one is opened
# later, from the endpoint), and the second path must have carried data.
# The ratios are judged only when the flows filled the link (together >= 80 % of its
# rate, averaged over each algorithm's runs): a guest too slow for the link (TCG on a
# busy host) shares its CPU, not the link, and says nothing about coupling; then the
# test reports the shortfall and judges the rest.
. "$MPTCP_RS_REPO/tests/lib/guest.sh"
max_coupled=${MPTCP_RS_CC_MAX_RATIO:-1.2}
min_uncoupled=${MPTCP_RS_CC_MIN_UNCOUPLED:-1.1}
margin=${MPTCP_RS_CC_MIN_MARGIN:-1.15}
rate=${MPTCP_RS_CC_SHARED_RATE:-10mbit}
out=$(MPTCP_RS_CC_SHARED_RATE=$rate MPTCP_RS_CC_SECONDS=${MPTCP_RS_CC_SECONDS:-20} MPTCP_RS_CC_REPEAT=${MPTCP_RS_CC_REPEAT:-5} bash "$MPTCP_RS_REPO/tests/bench/guest-cc" shared reno lia olia 2>&1) ||
	fail "guest-cc failed: $(echo "$out" | tail -n 5)"
echo "$out" | grep '^CCBENCH' | sed 's/^/# /'
python3 - "$max_coupled" "$min_uncoupled" "$out" "$rate" "$margin" <<'PY' || fail "shared bottleneck: see above"
import json, re, sys
max_coupled, min_uncoupled, margin = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[5])
m = re.fullmatch(r"([0-9.]+)([kmg]?)bit", sys.argv[4].lower())
if not m:
    sys.exit(f"cannot read the link rate {sys.argv[4]!r}")
rate = float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m.group(2)]
runs = {}
for line in sys.argv[3].splitlines():
    if line.startswith("CCBENCH "):
        r = json.loads(line[len("CCBENCH "):])
        runs.setdefault(r["algo"], []).append(r)
ok = True
ratios = {}
def bad(msg):
    global ok
    print("FAIL: " + msg, file=sys.stderr)
    ok = False
fill = min((sum(r["mptcp_bps"] + r["tcp_bps"] for r in rs) / len(rs) / rate
            for rs in runs.values() if rs), default=0.0)
judge = fill >= 0.8
if not judge:
    print(f"  the flows filled at most {fill:.0%} of the {rate / 1e6:g} Mbit/s link: the guest, "
          "not the link, was the bottleneck; ratios reported, not judged", file=sys.stderr)
for algo in ("reno", "lia", "olia"):
    rs = runs.get(algo, [])
    if not rs:
        bad(f"no run with {algo}")
        continue
    for r in rs:
        if r["path2_bytes"] < 200_000:
            bad(f"{algo}: the second path carried almost nothing")
        words = r["subflows"].split()
        for a in ("10.10.1.1", "10.10.2.1"):
            if f"{a}={algo}" not in words:
                bad(f"{algo}: subflow from {a} does not run {algo}: {r['subflows']}")
    m = sum(r["mptcp_bps"] for r in rs)
    t = sum(r["tcp_bps"] for r in rs)
    singles = sorted(r["mptcp_bps"] / r["tcp_bps"] if r["tcp_bps"] else float("inf")
                     for r in rs)
    mid = len(singles) // 2
    ratio = singles[mid] if len(singles) % 2 else (singles[mid - 1] + singles[mid]) / 2
    print(f"  {algo}: {len(rs)} runs, MPTCP {m / len(rs) / 1e6:.2f} Mbit/s, TCP reno "
          f"{t / len(rs) / 1e6:.2f} Mbit/s on average, median ratio {ratio:.2f} (single "
          "runs: " + ", ".join(f"{x:.2f}" for x in singles) + ")", file=sys.stderr)
    ratios[algo] = ratio
    if not judge:
        continue
    if algo == "reno" and ratio < min_uncoupled:
        bad(f"uncoupled reno took only {ratio:.2f} x TCP (< {min_uncoupled})")
    if algo != "reno" and ratio > max_coupled:
        bad(f"{algo} took {ratio:.2f} x TCP (> {max_coupled})")
coupled = max((ratios[a] for a in ("lia", "olia") if a in ratios), default=None)
if judge and "reno" in ratios and coupled is not None and ratios["reno"] < margin * coupled:
    bad(f"uncoupled reno ({ratios['reno']:.2f} x TCP) not {margin} x the coupled ones "
        f"({coupled:.2f}): the test cannot tell coupling from noise")
sys.exit(0 if ok else 1)
PY
dmesg_clean
