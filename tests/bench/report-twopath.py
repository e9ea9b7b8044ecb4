#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Aggregate the two-path samples of `make bench` into JSON, a table and a PNG plot.

  report-twopath.py RAW JSON PNG

RAW has lines "BENCH KERNEL {json}" with keys config (tcp1, tcp2, mptcp, each also
with -bbr: bbr instead of cubic), setting (equal, unequal), bps and bytes per path. For each kernel and setting, the ratio is
the median MPTCP goodput over the sum of the median plain-TCP goodputs of path 1 and
path 2 alone, measured on the same kernel in the same run (upstream reaches about
0.98 here; the target for mptcp_rs is 0.97 and not below upstream).
"""
import json
import statistics
import sys

raw, json_out, png_out = sys.argv[1:4]
samples = {}
paths = {}
for line in open(raw):
    if not line.startswith("BENCH "):
        continue
    _, kernel, payload = line.split(" ", 2)
    if payload.startswith("-ERROR"):
        continue
    r = json.loads(payload)
    config, setting = r["config"], r["setting"]
    if config.endswith("-bbr"):
        # the bbr runs form settings of their own ("equal/bbr")
        config, setting = config[:-4], setting + "/bbr"
    key = (setting, kernel, config)
    samples.setdefault(key, []).append(r["bps"] / 1e6)
    if config == "mptcp":
        paths.setdefault(key, []).append((r["path1_bytes"], r["path2_bytes"]))

NAMES = {"reference": "upstream MPTCP", "custom": "mptcp_rs"}
result = {"unit": "Mbit/s", "settings": {}}
print("%-8s %-15s %5s %8s %8s %8s %8s %7s %7s %s" % (
    "setting", "implementation", "runs", "tcp1", "tcp2", "mptcp", "min", "ratio",
    "min/med", "path 1 share"))
for setting in ("equal", "unequal", "equal/bbr", "unequal/bbr"):
    for kernel in ("reference", "custom"):
        m = sorted(samples.get((setting, kernel, "mptcp"), []))
        t1 = samples.get((setting, kernel, "tcp1"), [])
        t2 = samples.get((setting, kernel, "tcp2"), [])
        if not (m and t1 and t2):
            continue
        s1, s2, med = statistics.median(t1), statistics.median(t2), statistics.median(m)
        share = statistics.median(a / (a + b) for a, b in paths[(setting, kernel, "mptcp")])
        e = {"tcp1_median": s1, "tcp2_median": s2, "mptcp_samples": m, "mptcp_median": med,
             "mptcp_min": m[0], "ratio_to_sum": med / (s1 + s2), "min_over_median": m[0] / med,
             "path1_share": share}
        result["settings"].setdefault(setting, {})[kernel] = e
        print("%-8s %-15s %5d %8.1f %8.1f %8.1f %8.1f %7.3f %7.3f %.2f" % (
            setting, NAMES[kernel], len(m), s1, s2, med, m[0], e["ratio_to_sum"],
            e["min_over_median"], share))
    st = result["settings"].get(setting, {})
    if "custom" in st and "reference" in st:
        st["mptcp_rs_vs_upstream"] = st["custom"]["mptcp_median"] / st["reference"]["mptcp_median"]
        print("%-8s mptcp_rs median / upstream median: %.3f" % (setting, st["mptcp_rs_vs_upstream"]))
json.dump(result, open(json_out, "w"), indent=2)

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(9, 4.5))
labels, ratios, mins = [], [], []
for setting, st in result["settings"].items():
    for kernel in ("reference", "custom"):
        if kernel in st:
            labels.append("%s\n%s" % (NAMES[kernel], setting))
            ratios.append(st[kernel]["ratio_to_sum"])
            mins.append(st[kernel]["mptcp_min"] / (st[kernel]["tcp1_median"] + st[kernel]["tcp2_median"]))
x = range(len(labels))
ax.bar(x, ratios, color=["tab:gray" if "upstream" in l else "tab:blue" for l in labels])
ax.plot(x, mins, "v", color="black", label="worst run")
for i, r in enumerate(ratios):
    ax.annotate("%.3f" % r, (i, r), xytext=(0, 4), textcoords="offset points", ha="center")
ax.axhline(0.97, color="tab:red", linestyle="--", label="target 0.97")
ax.set_xticks(list(x))
ax.set_xticklabels(labels)
ax.set_ylim(0, 1.1)
ax.set_ylabel("MPTCP goodput / (TCP path 1 + TCP path 2)")
ax.set_title("mptcp-rs bench: two-path goodput (QEMU TCG guest, netem-shaped veth paths)")
ax.legend(loc="lower right")
fig.tight_layout()
fig.savefig(png_out, dpi=110)
print("wrote", json_out, png_out)
