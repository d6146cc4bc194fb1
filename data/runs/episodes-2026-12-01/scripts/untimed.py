#!/usr/bin/env python3
"""Where bitscale train's step spends time that no phase times (item 20 of docs/validation.md).
  python3 untimed.py EVENTS.csv ...   per step and rank, the compute thread's time between its timed events
                                      (forward, backward, optimizer, wait), and which pair of events it falls
                                      between (the fp32 logs: the codecs' events nest inside wait otherwise)
  python3 untimed.py --runs RUNS.csv  per cluster, fp32 runs only: step_s - compute_s - wait_s (median over steps;
                                      with a codec, the decodes inside the wait are in codec_s too)"""
import collections, csv, statistics as st, sys

if sys.argv[1:2] == ["--runs"]:
    for path in sys.argv[2:]:
        gaps = collections.defaultdict(list)
        for r in csv.DictReader(open(path)):
            if r["engine"] != "bitscale-mpi" or r["precision"] != "fp32" or int(r["step"]) < int(r["warmup_steps"]):
                continue
            g = float(r["step_s"]) - float(r["compute_s"]) - float(r["wait_s"])
            gaps[(r["workload"].split("/")[-1], int(r["ranks"]), int(float(r["rate_mbit"])))].append(g)
        print(path)
        for k, v in sorted(gaps.items()):
            print(f"  {k[0]:15s} {k[1]} ranks {k[2]:5d} Mbit/s: {st.median(v) * 1e3:5.1f} ms untimed (fp32, median of {len(v)} steps)")
    sys.exit(0)

timed = ("forward", "backward", "optimizer", "wait")
for path in sys.argv[1:]:
    ev = [e for e in csv.DictReader(open(path)) if e["event"] in timed and int(e["step"]) >= 3]
    by = collections.defaultdict(list)
    for e in ev:
        by[(e["step"], e["rank"])].append(e)
    between = collections.defaultdict(list)
    totals = []
    for es in by.values():
        es.sort(key=lambda e: float(e["start_s"]))
        total = 0.0
        for a, b in zip(es, es[1:]):
            g = max(0.0, float(b["start_s"]) - float(a["end_s"]))
            between[f"{a['event']} {a['index']} -> {b['event']} {b['index']}"].append(g)
            total += g
        totals.append(total)
    print(f"{path}: untimed {st.median(totals) * 1e3:.2f} ms per step and rank (median of {len(totals)})")
    for k, v in sorted(between.items(), key=lambda kv: -st.mean(kv[1])):
        print(f"  {k:28s} median {st.median(v) * 1e3:5.2f} ms, max {max(v) * 1e3:5.2f}")
