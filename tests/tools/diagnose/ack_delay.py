#!/usr/bin/env python3
"""How long each data segment in a capture waited for its ACK, and how many were
sent again: ack_delay.py FILE.pcap (reads tcpdump's text output)."""
import collections
import re
import subprocess
import sys

lines = subprocess.run(["tcpdump", "-nn", "-tt", "-r", sys.argv[1]],
                       capture_output=True, text=True).stdout.splitlines()
pending = collections.defaultdict(list)  # (src, dst) -> [(end_seq, time)]
seen, delays, resent = set(), [], 0
for line in lines:
    f = line.split()
    if len(f) < 7:
        continue
    t, src, dst = float(f[0]), f[2], f[4].rstrip(":")
    rest = " ".join(f[7:])
    seq = re.search(r"seq (\d+):(\d+)", rest)
    ack = re.search(r"ack (\d+)", rest)
    if seq:
        start, end = int(seq.group(1)), int(seq.group(2))
        if (src, dst, start) in seen:
            resent += 1
        else:
            seen.add((src, dst, start))
            pending[(src, dst)].append((end, t))
    if ack:
        a, key = int(ack.group(1)), (dst, src)
        delays += [t - ts for end, ts in pending[key] if a >= end]
        pending[key] = [(end, ts) for end, ts in pending[key] if a < end]
delays.sort()
n = len(delays)
if n:
    print(f"{n} data segments acknowledged, {resent} sent again; ACK delay median "
          f"{delays[n // 2]:.3f} s, p90 {delays[int(n * 0.9)]:.3f} s, max {delays[-1]:.3f} s, "
          f"{sum(d > 0.2 for d in delays)} over 0.2 s")
