#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Aggregate the short-transfer samples of `make bench` (tests/bench/guest-requests).

  report-requests.py RAW JSON PNG

RAW has lines "BENCH KERNEL {json}" with config (tcp1: plain TCP over one path;
mptcp: over both paths), size and rps. Per kernel and size: the median requests per
second and the ratio MPTCP / TCP of the same kernel in the same run. Targets
(issue 5): at least 1.8 at 500 KB, no worse than TCP at 10 KB.
"""
import json
import statistics
import sys

raw, json_out, png_out = sys.argv[1:4]
samples = {}
for line in open(raw):
    if not line.startswith("BENCH "):
        continue
    _, kernel, payload = line.split(" ", 2)
    if payload.startswith("-ERROR"):
        continue
    r = json.loads(payload)
    samples.setdefault((kernel, r["size"], r["config"]), []).append(r["rps"])

NAMES = {"reference": "upstream MPTCP", "custom": "mptcp_rs"}
sizes = sorted({k[1] for k in samples})
result = {"unit": "requests/s", "kernels": {}}
print("%-15s %9s %5s %9s %9s %7s" % ("implementation", "size", "runs", "TCP 1 path", "MPTCP 2", "ratio"))
for kernel in ("reference", "custom"):
    for size in sizes:
        t = samples.get((kernel, size, "tcp1"), [])
        m = samples.get((kernel, size, "mptcp"), [])
        if not (t and m):
            continue
        tm, mm = statistics.median(t), statistics.median(m)
        result["kernels"].setdefault(kernel, {})[str(size)] = {
            "tcp1_samples": t, "mptcp_samples": m, "tcp1_median": tm, "mptcp_median": mm,
            "ratio": mm / tm}
        print("%-15s %9d %5d %9.2f %9.2f %7.2f" % (NAMES[kernel], size, len(m), tm, mm, mm / tm))
json.dump(result, open(json_out, "w"), indent=2)

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(9, 4.5))
width = 0.38
for j, kernel in enumerate(("reference", "custom")):
    ks = result["kernels"].get(kernel, {})
    xs = [i + (j - 0.5) * width for i, s in enumerate(sizes) if str(s) in ks]
    ys = [ks[str(s)]["ratio"] for s in sizes if str(s) in ks]
    ax.bar(xs, ys, width, label=NAMES[kernel], color="tab:gray" if kernel == "reference" else "tab:blue")
ax.axhline(1.0, color="black", linewidth=0.5)
ax.plot([2 - 0.5, 2 + 0.5], [1.8, 1.8], "--", color="tab:red", label="target at 500 KB")
ax.set_xticks(range(len(sizes)))
ax.set_xticklabels(["%d KB" % (s // 1000) for s in sizes])
ax.set_ylabel("requests/s, MPTCP over 2 paths / TCP over 1")
ax.set_title("mptcp-rs bench: short transfers (two 20 Mbit/s, 20 ms paths)")
ax.legend()
fig.tight_layout()
fig.savefig(png_out, dpi=110)
print("wrote", json_out, png_out)
