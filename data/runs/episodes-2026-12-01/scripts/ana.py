import re,glob,math,statistics as st,csv,collections
import os
import sys
BASE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # data/runs/episodes-2026-12-01
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from phase import corr  # noqa: E402
rows=[]
for f in sorted(glob.glob(os.path.join(BASE, 'probes', 'log-*.txt'))):
    t=open(f).read()
    m=re.search(r'median step ([\d.]+).*every rank: ([\d.]+) ([\d.]+) before, ([\d.]+) ([\d.]+) after',t)
    step=float(m.group(1)); b0,b1,a0,a1=map(float,m.group(2,3,4,5))
    P=os.path.basename(f)[len('log-'):].rsplit('-',1)[0]
    ev=os.path.join(os.path.dirname(f),os.path.basename(f).replace('log-','ev-').replace('.txt','.csv'))
    d=collections.defaultdict(dict)
    for r in csv.DictReader(open(ev)):
        if r['event']=='forward' and int(r['step'])>=3: d[int(r['step'])][int(r['rank'])]=float(r['end_s'])-float(r['start_s'])
    fr=st.median(v[1]/v[0] for v in d.values())
    gmin=math.sqrt(min(b0,b1)*min(a0,a1)); gmed=math.sqrt((b0+b1)/2*(a0+a1)/2)
    rows.append((P,step,gmin,gmed,fr,b0,b1,a0,a1))
for r in sorted(rows): print("%-9s step %.4f probe min %.1f mean %.1f  fwd r1/r0 %.2f  (%.1f %.1f | %.1f %.1f)"%r)
for P in set(r[0] for r in rows):
    rr=[r for r in rows if r[0]==P]
    print(P,'corr(step, min probe) %.2f  corr(step, mean probe) %.2f  corr(step,|log fwd ratio|) %.2f'%(corr([r[1] for r in rr],[r[2] for r in rr]),corr([r[1] for r in rr],[r[3] for r in rr]),corr([r[1] for r in rr],[abs(math.log(r[4])) for r in rr])))
print('--- probe asymmetry vs forward asymmetry (r1/r0)')
xs=[];ys=[]
for P,step,gmin,gmed,fr,b0,b1,a0,a1 in rows:
    pa=math.sqrt((b0/b1)*(a0/a1))  # r0/r1 speed = r1/r0 time
    xs.append(math.log(pa)); ys.append(math.log(fr))
    print(f"{P:9s} fwd r1/r0 {fr:.2f}  probe r0/r1 before {b0/b1:.2f} after {a0/a1:.2f}")
print('corr', corr(xs,ys))
