# What a probe can tell of a run's compute: windows of the interleaved series as "runs" (the forward pass's
# mean over RUN seconds), the GEMM of the PROBE seconds before and after each as the before/after probe, and the
# GEMM interleaved with the run's own samples as an in-run probe. Spread of the run's forward time (as a log
# against the median) left after dividing by each probe's speed.
import sys, math, statistics as st
from ana import load, corr
RUN, PROBE = 2.6, 0.3
for f in sys.argv[1:]:
    rows = load(f)
    dt = (rows[-1][0]-rows[0][0])/(len(rows)-1)
    n, p = round(RUN/dt), max(1, round(PROBE/dt))
    fw, before_after, inrun = [], [], []
    i = p
    while i + n + p <= len(rows):
        fw.append(st.mean(math.log(r[4]) for r in rows[i:i+n]))
        ba = st.mean(math.log(r[1]) for r in rows[i-p:i] + rows[i+n:i+n+p])
        before_after.append(ba)
        inrun.append(st.mean(math.log(r[1]) for r in rows[i:i+n]))
        i += n + 2*p
    def spread(v):
        m = st.median(v); d = sorted(abs(x-m) for x in v)
        return f"median |dev| {100*(math.exp(d[len(d)//2])-1):4.1f}%  p90 {100*(math.exp(d[9*len(d)//10])-1):4.1f}%  max {100*(math.exp(d[-1])-1):4.1f}%"
    print(f, f"{len(fw)} runs of {n*dt:.1f} s, probes of {p*dt:.2f} s")
    print("  forward alone:                ", spread(fw))
    print("  over the before/after probe:  ", spread([a-b for a, b in zip(fw, before_after)]), f" corr {corr(fw, before_after):+.2f}")
    print("  over an interleaved probe:    ", spread([a-b for a, b in zip(fw, inrun)]), f" corr {corr(fw, inrun):+.2f}")
