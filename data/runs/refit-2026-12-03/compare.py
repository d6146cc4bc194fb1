#!/usr/bin/env python3
"""Compares what-if.sh's two fits over every grid in OUTDIR: step-time error by group, old against new.
usage: compare.py OUTDIR"""
import collections
import csv
import glob
import statistics as st
import sys


def load(out, which):
    d = {}
    for g in sorted(glob.glob(f"{out}/grid-*")):
        for r in csv.DictReader(open(f"{g}/{which}/validation.csv")):
            k = (g.split("/")[-1], r["engine"], r["workload"].split("/")[-1][:-5], int(r["ranks"]),
                 int(r["rate_mbit"]), r["precision"])
            d[k] = (abs(float(r["step_error"])), float(r["predicted_step_s"]) / float(r["measured_step_s"]) - 1)
    return d


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    old, new = load(sys.argv[1], "old"), load(sys.argv[1], "new")

    def line(name, sel):
        ks = [k for k in old if k in new and sel(k)]
        a = [old[k][0] for k in ks]
        b = [new[k][0] for k in ks]
        moved = [k for k in ks if abs(new[k][0] - old[k][0]) > 0.005]
        better = sum(new[k][0] < old[k][0] for k in moved)
        print(f"{name}: {len(ks)} configurations | old {100 * st.median(a):.2f}% / {100 * max(a):.1f}%, "
              f"{sum(x > .15 for x in a)} over 15% | new {100 * st.median(b):.2f}% / {100 * max(b):.1f}%, "
              f"{sum(x > .15 for x in b)} over 15% | {len(moved)} moved by more than 0.5 point, {better} closer")

    day = ("grid-2026-12-02ae", "grid-2026-12-02ac", "grid-2026-12-02ad", "grid-2026-12-02af")
    line("every stored grid", lambda k: True)
    line("more than one rank", lambda k: k[3] > 1)
    line("DDP fp16", lambda k: k[1] == "pytorch-ddp" and k[5] == "fp16")
    line("DDP fp16 at 500 Mbit/s and above", lambda k: k[1] == "pytorch-ddp" and k[5] == "fp16" and k[4] >= 500)
    line("bitscale train fp16 and bf16", lambda k: k[1] == "bitscale-mpi" and k[5] in ("fp16", "bf16") and k[3] > 1)
    line("bitscale train fp8", lambda k: k[1] == "bitscale-mpi" and k[5].startswith("fp8") and k[3] > 1)
    line("the day's full grid (ae, ac, ad, af)", lambda k: k[0] in day)
    print("signed (predicted / measured - 1), the median over grids, by engine, workload, format, ranks, rate:")
    groups = collections.defaultdict(list)
    for k in old:
        if k in new and k[3] > 1 and k[5] in ("fp16", "bf16"):
            groups[(k[1], k[2], k[5], k[3], k[4])].append((old[k][1], new[k][1]))
    for g, v in sorted(groups.items()):
        print(f"  {g[0]:13} {g[1]:10} {g[2]:5} {g[3]} ranks {g[4]:5} Mbit/s ({len(v):2}): "
              f"old {100 * st.median(x[0] for x in v):+5.1f}%  new {100 * st.median(x[1] for x in v):+5.1f}%")


if __name__ == "__main__":
    main()
