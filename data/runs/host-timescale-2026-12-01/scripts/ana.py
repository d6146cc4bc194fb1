import sys, math, statistics as st
def load(f):
    return [list(map(float, l.split())) for l in open(f) if l.strip()]
def corr(a, b):
    ma, mb = st.mean(a), st.mean(b)
    sa = math.sqrt(sum((x-ma)**2 for x in a)); sb = math.sqrt(sum((y-mb)**2 for y in b))
    return sum((x-ma)*(y-mb) for x, y in zip(a, b)) / (sa*sb)
names = ["gemm", "copy4M", "copy64M", "forward", "encode"]
if __name__ == "__main__":
 for f in sys.argv[1:]:
     rows = load(f)
     cols = [[math.log(r[i+1]) for r in rows] for i in range(5)]
     print(f, len(rows), "rows")
     for i, n in enumerate(names):
         v = [r[i+1] for r in rows]; q = sorted(v)
         print(f"  {n:8s} median {st.median(v)*1e3:8.3f} ms  p10 {q[len(q)//10]*1e3:8.3f}  p90 {q[9*len(q)//10]*1e3:8.3f}  p90/p10 {q[9*len(q)//10]/q[len(q)//10]:.2f}")
     print("  corr (logs):", "      ".join(names))
     for i, n in enumerate(names):
         print(f"  {n:8s}", "  ".join(f"{corr(cols[i], cols[j]):+.2f}" for j in range(5)))
