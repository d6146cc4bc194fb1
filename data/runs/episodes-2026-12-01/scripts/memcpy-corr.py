"""memcpy/exp2.out: the correlation of each run's median step with its copy probe (GB/s of a 64 MiB copy timed on
both cores at once, before and after the run): the slower core's, geometric mean of before and after, and the mean
of the two cores'. Run: python3 data/runs/episodes-2026-12-01/scripts/memcpy-corr.py"""
import math
import os
import re
import statistics as st

import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from phase import corr  # noqa: E402

BASE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


rows = {}
for line in open(os.path.join(BASE, "memcpy", "exp2.out")):
    m = re.match(r"(\S+) (\d+) mem ([\d.]+) ([\d.]+) \| ([\d.]+) ([\d.]+) median step ([\d.]+)", line)
    p = m.group(1)
    b0, b1, a0, a1, step = map(float, m.group(3, 4, 5, 6, 7))
    rows.setdefault(p, []).append((step, math.sqrt(min(b0, b1) * min(a0, a1)), math.sqrt((b0 + b1) / 2 * (a0 + a1) / 2)))
for p, r in rows.items():
    steps = [x[0] for x in r]
    print(f"{p}: {len(r)} runs, steps {min(steps):.3f}-{max(steps):.3f} s; correlation of the step with the slower "
          f"core's copy {corr(steps, [x[1] for x in r]):.2f}, with the two cores' mean {corr(steps, [x[2] for x in r]):.2f}")
