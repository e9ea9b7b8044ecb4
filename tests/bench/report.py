#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Aggregate `make bench` samples into JSON, a table of ratios and a PNG plot.

  report.py RAW JSON PNG

RAW has lines "BENCH KERNEL {json}" with keys config and bps. The baseline of every
ratio is plain TCP on the reference kernel, measured in the same run.
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
    key = "%s/%s" % (kernel, r["config"])
    samples.setdefault(key, []).append(r["bps"] / 1e6)

LABELS = {
    "reference/tcp": "TCP, reference kernel",
    "custom/tcp": "TCP, custom kernel, no provider",
    "custom/tcp+provider": "TCP, custom kernel, mptcp_rs loaded",
    "reference/mptcp": "upstream MPTCP (1 subflow)",
    "custom/mptcp": "mptcp_rs (1 subflow)",
}
base = statistics.median(samples.get("reference/tcp", [float("nan")]))
result = {"unit": "Mbit/s", "baseline": "reference/tcp", "configs": {}}
print("%-40s %6s %9s %9s %9s %7s %7s" % ("configuration", "runs", "min", "median", "max",
                                          "ratio", "min/med"))
for key in LABELS:
    v = sorted(samples.get(key, []))
    if not v:
        continue
    med = statistics.median(v)
    entry = {"label": LABELS[key], "samples": v, "min": v[0], "median": med, "max": v[-1],
             "ratio_to_baseline": med / base, "min_over_median": v[0] / med}
    result["configs"][key] = entry
    print("%-40s %6d %9.0f %9.0f %9.0f %7.3f %7.3f" % (LABELS[key], len(v), v[0], med, v[-1],
                                                      med / base, v[0] / med))
rs, up = result["configs"].get("custom/mptcp"), result["configs"].get("reference/mptcp")
if rs and up:
    result["mptcp_rs_vs_upstream"] = rs["median"] / up["median"]
    print("mptcp_rs median / upstream MPTCP median: %.3f" % result["mptcp_rs_vs_upstream"])
json.dump(result, open(json_out, "w"), indent=2)

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

keys = list(result["configs"])
fig, ax = plt.subplots(figsize=(9, 4.5))
ax.boxplot([result["configs"][k]["samples"] for k in keys], vert=False,
           labels=[result["configs"][k]["label"] for k in keys])
for i, k in enumerate(keys, start=1):
    s = result["configs"][k]["samples"]
    ax.plot(s, [i] * len(s), "o", alpha=0.6)
    ax.annotate("%.2fx" % result["configs"][k]["ratio_to_baseline"],
                (result["configs"][k]["max"], i), xytext=(6, -4), textcoords="offset points")
ax.set_xlabel("single-connection goodput, Mbit/s (QEMU TCG guest, unshaped veth)")
ax.set_title("mptcp-rs bench: throughput relative to TCP on the reference kernel")
ax.set_xlim(left=0)
fig.tight_layout()
fig.savefig(png_out, dpi=110)
print("wrote", json_out, png_out)
