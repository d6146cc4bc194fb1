#!/usr/bin/env python3
"""How a grid's step-time error falls with the runs per configuration: each configuration's measured step as the
median over its first k runs' medians (k = 1 .. N, in the order they ran), against validate's prediction.
  usage: repeats.py GRID_DIR   (reads runs.csv and validation.csv)"""
import csv, statistics as st, sys
d = sys.argv[1]
key = lambda r: (r['engine'], r['workload'], r['ranks'], r['nodes'], r['rate_mbit'], r['precision'], r['batch'])
runs = {}
for r in csv.DictReader(open(f"{d}/runs.csv")):
    if int(r['step']) < int(r['warmup_steps']):
        continue
    runs.setdefault(key(r), {}).setdefault(r['run'], []).append(float(r['step_s']))
pred = {key(r): float(r['predicted_step_s']) for r in csv.DictReader(open(f"{d}/validation.csv"))}
def order(run_id):  # DATE-HOST-MICROSECONDS-PID
    return int(run_id.split('-')[-2])
n_max = max(len(v) for v in runs.values())
for k in range(1, n_max + 1):
    errs = []
    for c, by_run in runs.items():
        ids = sorted(by_run, key=order)[:k]
        measured = st.median(st.median(by_run[i]) for i in ids)
        errs.append(abs(pred[c] / measured - 1) * 100)
    errs.sort()
    print(f"first {k} run(s): median {st.median(errs):.1f}%, max {errs[-1]:.1f}%, over 15%: {sum(e > 15 for e in errs)} "
          f"of {len(errs)}")
