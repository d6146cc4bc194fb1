"""Every run here with a log: its median forward pass (phase.py; nothing else runs beside it) against its GEMM
probe (the mean of the two ranks', geometric mean of before and after, from the log line that prints every
rank's). Run: python3 data/runs/episodes-2026-12-01/scripts/forward-probe.py"""
import glob
import math
import os
import re
import statistics as st
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from phase import corr, phases  # noqa: E402

BASE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


rows = []
for d, ev, log in (("probes", "ev-", "log-"), ("memcpy", "e2-", "l2-"), ("procstat", "e3-", "l3-"),
                   ("threads", "e4-", "l4-")):
    for f in glob.glob(os.path.join(BASE, d, ev + "*.csv")):
        text = open(os.path.join(BASE, d, os.path.basename(f).replace(ev, log, 1).replace(".csv", ".txt"))).read()
        b0, b1, a0, a1 = map(float, re.search(r"every rank: ([\d.]+) ([\d.]+) before, ([\d.]+) ([\d.]+) after",
                                              text).groups())
        rows.append((phases(f, ("forward",))["forward"], math.sqrt((b0 + b1) / 2 * (a0 + a1) / 2)))
fwd, probe = [r[0] for r in rows], [r[1] for r in rows]
fast = [p for f, p in rows if f <= 33.5]
slow = [p for f, p in rows if f >= 40]
print(f"{len(rows)} runs: correlation of the forward pass with the probe {corr(fwd, probe):.2f}; forward <= 33.5 ms: "
      f"{len(fast)} runs, probe median {st.median(fast):.1f} GFLOP/s; forward >= 40 ms: {len(slow)} runs, probe median "
      f"{st.median(slow):.1f}")
