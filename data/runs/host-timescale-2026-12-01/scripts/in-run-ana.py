# Reads the in-run trial's runs: python3 scripts/in-run-ana.py [DIR] (default in-run/, from this folder).
import csv, glob, math, os, re, statistics as st, sys
from ana import corr
D = sys.argv[1] if len(sys.argv) > 1 else 'in-run'
rows = []
for f in sorted(glob.glob(os.path.join(D, 'r-2-*.csv'))):
    k = os.path.basename(f)[4:-4]
    rs = [r for r in csv.DictReader(open(f)) if int(r['step']) >= 3]
    step_all = st.median(float(r['step_s']) for r in rs)
    step_odd = st.median(float(r['step_s']) for r in rs if int(r['step']) % 2 == 1)
    comp = st.median(float(r['compute_s']) for r in rs)
    codec = st.median(float(r['codec_s']) for r in rs)
    ba = math.sqrt(float(rs[0]['host_gflops_before']) * float(rs[0]['host_gflops_after']))
    log = open(os.path.join(D, f'l-2-{k}.txt')).read()
    ranks = [list(map(float, m.split())) for m in re.findall(r'TRIAL rank \d+ probes (.*)', log)]
    inrun = st.median([st.median(v) for v in ranks])
    inrun_mean = st.median([math.exp(st.mean(map(math.log, v))) for v in ranks])
    rows.append((k, step_all, step_odd, comp, codec, ba, inrun, inrun_mean))
    print(f"{k:>3} step {step_all:.4f} odd {step_odd:.4f} compute {comp:.4f} codec {codec:.4f} probe b/a {ba:6.2f} in-run {inrun:6.2f} (geo-mean {inrun_mean:6.2f})")
L = lambda i: [math.log(r[i]) for r in rows]
for name, i in (("step", 1), ("compute", 3), ("codec", 4)):
    print(f"corr of {name} with: before/after {corr(L(i), L(5)):+.2f}, in-run median {corr(L(i), L(6)):+.2f}, in-run geo-mean {corr(L(i), L(7)):+.2f}")
nop = [st.median(float(r['step_s']) for r in csv.DictReader(open(f)) if int(r['step']) >= 3) for f in sorted(glob.glob(os.path.join(D, 'r-0-*.csv')))]
print(f"without the probe: median of run medians {st.median(nop):.4f}; with: {st.median(r[1] for r in rows):.4f} (odd steps {st.median(r[2] for r in rows):.4f})")
def resid(y, x):
    mx, my = st.mean(x), st.mean(y)
    b = sum((a-mx)*(c-my) for a, c in zip(x, y)) / sum((a-mx)**2 for a in x)
    r = [c - my - b*(a-mx) for a, c in zip(x, y)]
    return b, 100*(math.exp(max(map(abs, r)))-1), 100*(math.exp(st.median(map(abs, r)))-1)
y = L(1)
dev = [abs(v - st.median(y)) for v in y]
print(f"step spread about its median: median {100*(math.exp(st.median(dev))-1):.1f}%, max {100*(math.exp(max(dev))-1):.1f}%")
for name, i in (("before/after", 5), ("in-run", 6)):
    b, mx, md = resid(y, L(i))
    print(f"after a fitted power of the {name} probe (slope {b:.2f}): residual median {md:.1f}%, max {mx:.1f}%")
# all 24 runs (with and without the in-run probe): the parts of the step against the before/after probe
xs, parts = [], {k: [] for k in ('step_s', 'compute_s', 'comm_s', 'wait_s')}
for f in sorted(glob.glob(os.path.join(D, 'r-*.csv'))):
    rs = [r for r in csv.DictReader(open(f)) if int(r['step']) >= 3]
    xs.append(math.log(math.sqrt(float(rs[0]['host_gflops_before']) * float(rs[0]['host_gflops_after']))))
    for k, v in parts.items():
        v.append(math.log(st.median(float(r[k]) for r in rs)))
def slope(y, x):
    mx, my = st.mean(x), st.mean(y)
    return sum((a-mx)*(c-my) for a, c in zip(x, y)) / sum((a-mx)**2 for a in x)
for k, v in parts.items():
    print(f"all {len(xs)} runs: {k:9s} corr with the before/after probe {corr(v, xs):+.2f}, slope {slope(v, xs):+.2f}")
