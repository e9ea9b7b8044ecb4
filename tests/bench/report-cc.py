#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise tests/bench/guest-cc runs (CCBENCH lines) into JSON and a table.

usage: report-cc.py RAW OUT.json

Per scenario and congestion control: the median of each figure over the rounds,
and the issue's criteria: shared bottleneck MPTCP/TCP <= 1.2 for lia and olia (and
about 2 for uncoupled reno), disjoint paths lia >= 0.9 of the sum of the rates, and
with unequal loss a larger share on the cleaner path 1 with lia and olia than with
reno. Exits 1 when a criterion is not met.
"""
import json
import statistics
import sys


def main():
    raw, out = sys.argv[1], sys.argv[2]
    runs = {}
    for line in open(raw):
        line = line.strip()
        if not line.startswith("CCBENCH "):
            continue
        r = json.loads(line[len("CCBENCH "):])
        runs.setdefault((r["scenario"], r["algo"]), []).append(r)
    summary = {}
    for (scenario, algo), rs in sorted(runs.items()):
        s = {"runs": len(rs)}
        for key in ("mptcp_bps", "tcp_bps", "ratio", "of_rates", "bps", "path1_bytes", "path2_bytes"):
            vals = [r[key] for r in rs if key in r]
            if vals:
                s[key] = statistics.median(vals)
        if "path1_bytes" in s and s["path1_bytes"] + s.get("path2_bytes", 0) > 0:
            s["path1_share"] = s["path1_bytes"] / (s["path1_bytes"] + s["path2_bytes"])
        summary.setdefault(scenario, {})[algo] = s
    checks = []

    def check(name, ok):
        checks.append({"check": name, "ok": bool(ok)})

    shared = summary.get("shared", {})
    for algo in ("lia", "olia"):
        if algo in shared:
            check(f"shared bottleneck: {algo} MPTCP/TCP {shared[algo]['ratio']:.2f} <= 1.2",
                  shared[algo]["ratio"] <= 1.2)
    if "reno" in shared:
        check(f"shared bottleneck: uncoupled reno MPTCP/TCP {shared['reno']['ratio']:.2f} >= 1.4",
              shared["reno"]["ratio"] >= 1.4)
    disjoint = summary.get("disjoint", {})
    if "lia" in disjoint:
        check(f"disjoint paths: lia {disjoint['lia']['of_rates']:.2f} of the sum of the rates >= 0.9",
              disjoint["lia"]["of_rates"] >= 0.9)
    loss = summary.get("loss", {})
    if "reno" in loss:
        for algo in ("lia", "olia"):
            if algo in loss:
                check(f"unequal loss: {algo} puts {loss[algo]['path1_share']:.2f} on the cleaner "
                      f"path, more than uncoupled reno ({loss['reno']['path1_share']:.2f})",
                      loss[algo]["path1_share"] > loss["reno"]["path1_share"])
    json.dump({"summary": summary, "checks": checks}, open(out, "w"), indent=2)
    for scenario, algos in summary.items():
        for algo, s in algos.items():
            figs = ", ".join(f"{k} {v:.3g}" for k, v in s.items() if k != "runs")
            print(f"{scenario:9} {algo:5} ({s['runs']} runs): {figs}")
    for c in checks:
        print(("ok      " if c["ok"] else "NOT MET ") + c["check"])
    return 0 if all(c["ok"] for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
