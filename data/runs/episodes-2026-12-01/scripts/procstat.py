"""procstat/exp3.out: each run's median step and the CPU time split over the run (/proc/stat before and after).
Run: python3 data/runs/episodes-2026-12-01/scripts/procstat.py"""
import os
import re

BASE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
names = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"]
for line in open(os.path.join(BASE, "procstat", "exp3.out")):
    k, rest = line.split(" ", 1)
    step = float(re.search(r"median step ([\d.]+)", rest).group(1))
    before, after = [list(map(int, x.split()[1:])) for x in rest.split("|")[1:]]
    d = [b - a for a, b in zip(before, after)]
    total = sum(d)
    print(f"run {k:>2}: step {step:.4f} s  " + " ".join(f"{n} {100 * v / total:.1f}%" for n, v in zip(names, d)))
