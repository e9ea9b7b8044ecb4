#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Aggregate the failover samples of `make bench` into JSON, a table and a PNG plot.

  report-failover.py RAW JSON PNG

RAW has lines "BENCH KERNEL {json}" from tests/bench/guest-failover: config
"survivor" (plain TCP rate of the path left) and "failover" (outage, stall, intact).
Per kernel and setting: median and max equivalent outage and longest stall, and how
many transfers arrived intact. Targets (issue 5): median outage <= 0.25 s on equal
paths, <= 0.8 s when the fast path of the unequal pair dies.
"""
import json
import statistics
import sys

raw, json_out, png_out = sys.argv[1:4]
runs = {}
for line in open(raw):
    if not line.startswith("BENCH "):
        continue
    _, kernel, payload = line.split(" ", 2)
    if payload.startswith("-ERROR"):
        continue
    r = json.loads(payload)
    if r["config"] == "failover":
        runs.setdefault((r["setting"], kernel), []).append(r)

NAMES = {"reference": "upstream MPTCP", "custom": "mptcp_rs"}
TARGET = {"equal": 0.25, "unequal": 0.8}
result = {"unit": "s", "settings": {}}
print("%-8s %-15s %5s %7s %9s %9s %9s %7s" % ("setting", "implementation", "runs", "intact",
                                              "outage", "max", "stall", "target"))
for setting in ("equal", "unequal"):
    for kernel in ("reference", "custom"):
        rs = runs.get((setting, kernel), [])
        if not rs:
            continue
        good = [r for r in rs if r.get("intact")]
        out = sorted(r["outage"] for r in good if r.get("outage") is not None)
        st = sorted(r["stall"] for r in good if r.get("stall") is not None)
        e = {"runs": len(rs), "intact": len(good), "outage_samples": out, "stall_samples": st,
             "outage_median": statistics.median(out) if out else None,
             "stall_median": statistics.median(st) if st else None,
             "target_outage_median": TARGET[setting]}
        result["settings"].setdefault(setting, {})[kernel] = e
        print("%-8s %-15s %5d %7d %9.3f %9.3f %9.3f %7.2f" % (
            setting, NAMES[kernel], len(rs), len(good), e["outage_median"] or float("nan"),
            out[-1] if out else float("nan"), e["stall_median"] or float("nan"), TARGET[setting]))
json.dump(result, open(json_out, "w"), indent=2)

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(9, 4.5))
labels, data = [], []
for setting, st in result["settings"].items():
    for kernel in ("reference", "custom"):
        if kernel in st and st[kernel]["outage_samples"]:
            labels.append("%s\n%s" % (NAMES[kernel], setting))
            data.append(st[kernel]["outage_samples"])
ax.boxplot(data, labels=labels)
for i, d in enumerate(data, start=1):
    ax.plot([i] * len(d), d, "o", alpha=0.6)
for i, l in enumerate(labels, start=1):
    t = TARGET["equal" if l.endswith("equal") and not l.endswith("unequal") else "unequal"]
    ax.plot([i - 0.3, i + 0.3], [t, t], "--", color="tab:red")
ax.axhline(0, color="gray", linewidth=0.5)
ax.set_ylabel("equivalent outage, s (dashed: target median)")
ax.set_title("mptcp-rs bench: failover when path 1 is blackholed mid-transfer")
fig.tight_layout()
fig.savefig(png_out, dpi=110)
print("wrote", json_out, png_out)
