#!/usr/bin/env python3
"""Where the iperf3 threads leave the CPU, from `perf script -F comm,tid,cpu,ip,sym` of a
`perf record -e context-switches -c 1 -g` (ab_modules.sh PERF=switch), on stdin.

Per iperf3 thread (and the CPU it left: with ab_modules.sh PIN=1, CPU 0 is the
server's, CPU 1 the client's): how many times it left the CPU, and its TOP (argv[1],
default 12) most frequent kernel stacks, the scheduler's own frames left out (so a
sleep in a socket wait and a preemption on return from an interrupt are told
apart), innermost first; user-space frames are left out too.
"""
import collections
import re
import sys

TOP = int(sys.argv[1]) if len(sys.argv) > 1 else 12
DEPTH = 8
# the scheduler's frames, above the one that says why the thread left
SCHED = re.compile(r"^(__schedule|schedule|schedule_timeout|schedule_hrtimeout_range(_clock)?|"
                   r"context_switch|prepare_task_switch|"
                   r"preempt_schedule\w*|__cond_resched|_cond_resched|perf_\w+|"
                   r"__perf_\w+|finish_task_switch\w*|__traceiter_\w+)$")
FRAME = re.compile(r"^\s+([0-9a-f]+)\s+(\S+)")

stacks = collections.defaultdict(collections.Counter)
totals = collections.Counter()


def flush(head, frames):
    if head is None:
        return
    parts = head.split()
    if len(parts) < 2 or parts[0] != "iperf3":
        return
    tid = " ".join(parts[1:3])
    kept = [f for f in frames if not SCHED.match(f)]
    sig = " < ".join(kept[:DEPTH]) or "(no kernel frames)"
    stacks[tid][sig] += 1
    totals[tid] += 1


head, frames = None, []
for line in sys.stdin:
    if not line.strip():
        flush(head, frames)
        head, frames = None, []
        continue
    m = FRAME.match(line)
    if m and head is not None:
        if m.group(1).startswith("ffff"):  # a kernel address
            frames.append(re.sub(r"\+0x[0-9a-f]+$", "", m.group(2)))
    else:
        flush(head, frames)
        head, frames = line.strip(), []
flush(head, frames)

if not totals:
    print("(no iperf3 context switches recorded)")
for tid, n in totals.most_common():
    print("iperf3 thread (TID [CPU]) %s: left the CPU %d times" % (tid, n))
    for sig, c in stacks[tid].most_common(TOP):
        print("  %6d %5.1f%%  %s" % (c, 100.0 * c / n, sig))
