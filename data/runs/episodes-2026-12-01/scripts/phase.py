"""One run's phases from its --events CSV: for every kind of event (forward, each layer's backward, each bucket's
encode, decode and collectives, wait), the median over the steps after warm-up (step >= 3) and over the ranks of
its time per step, in ms. Run: python3 data/runs/episodes-2026-12-01/scripts/phase.py EVENTS.csv...
The other scripts here import phases() and corr() from it."""
import collections
import csv
import math
import statistics as st
import sys

KEYS = ["forward", "backward1", "backward0", "encode0", "encode1", "decode0", "decode1", "allreduce0", "allreduce1",
        "scale_allreduce0", "scale_allreduce1", "wait"]


def phases(path, keys=KEYS):
    """{kind: median ms per step} for the kinds in `keys` the run has."""
    d = collections.defaultdict(lambda: collections.defaultdict(float))
    for r in csv.DictReader(open(path)):
        s = int(r["step"])
        if s < 3:
            continue
        k = r["event"] + ("" if r["event"] in ("forward", "optimizer", "wait") else r["index"])
        d[(s, int(r["rank"]))][k] += float(r["end_s"]) - float(r["start_s"])
    out = {}
    for k in keys:
        v = [1000 * d[x][k] for x in d if k in d[x]]
        if v:
            out[k] = st.median(v)
    return out


def corr(x, y):
    """Pearson's correlation of two equally long sequences."""
    mx, my = st.mean(x), st.mean(y)
    return sum((a - mx) * (b - my) for a, b in zip(x, y)) / math.sqrt(
        sum((a - mx) ** 2 for a in x) * sum((b - my) ** 2 for b in y))


if __name__ == "__main__":
    for f in sys.argv[1:]:
        p = phases(f)
        print(f.split("/")[-1][:22].ljust(22),
              " ".join(f"{k[:6]}{k[-1] if k[-1].isdigit() else ''} {v:5.1f}" for k, v in p.items()))
