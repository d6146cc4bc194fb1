import sys, math, statistics as st
from ana import load, corr
for f in sys.argv[1:]:
    rows = load(f)
    dt = (rows[-1][0]-rows[0][0])/(len(rows)-1)
    print(f, f"{dt*1e3:.0f} ms per sample")
    for col, n in ((1, "gemm"), (4, "forward"), (5, "encode")):
        v = [math.log(r[col]) for r in rows]
        print(f"  {n:8s} autocorr", " ".join(f"lag {L*dt:5.1f}s {corr(v[:-L], v[L:]):+.2f}" for L in (1, 3, 10, 30, 100, 300)))
    # window means: forward vs gemm over windows of W samples
    for W in (8, 25, 80):
        g = [st.mean(math.log(r[1]) for r in rows[i:i+W]) for i in range(0, len(rows)-W, W)]
        fw = [st.mean(math.log(r[4]) for r in rows[i:i+W]) for i in range(0, len(rows)-W, W)]
        en = [st.mean(math.log(r[5]) for r in rows[i:i+W]) for i in range(0, len(rows)-W, W)]
        print(f"  windows of {W*dt:.1f}s: corr gemm-forward {corr(g, fw):+.2f}, gemm-encode {corr(g, en):+.2f}, spread of forward windows {math.exp(max(fw)-min(fw)):.2f}")
    # a probe window before predicting the next window
    W = 25
    g = [st.mean(math.log(r[1]) for r in rows[i:i+W]) for i in range(0, len(rows)-W, W)]
    fw = [st.mean(math.log(r[4]) for r in rows[i:i+W]) for i in range(0, len(rows)-W, W)]
    print(f"  gemm of the window before vs forward of the next ({W*dt:.1f}s): {corr(g[:-1], fw[1:]):+.2f}")
