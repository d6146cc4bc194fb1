import csv,glob,statistics as st,collections,re,sys
import os
BASE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # data/runs/episodes-2026-12-01
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from phase import phases  # noqa: E402


def step(f):
    rows=[r for r in csv.DictReader(open(f)) if int(r['step'])>=int(r['warmup_steps'])]
    return st.median(float(r['step_s']) for r in rows)
pairs=[]
for ev in glob.glob(os.path.join(BASE, 'probes', 'ev-fp8-e5m2-*.csv')): pairs.append((ev, ev.replace('/ev-','/run-')))
for ev in glob.glob(os.path.join(BASE, 'memcpy', 'e2-fp8-e5m2-*.csv')): pairs.append((ev, ev.replace('/e2-','/r2-')))
for ev in glob.glob(os.path.join(BASE, 'procstat', 'e3-*.csv')): pairs.append((ev, ev.replace('/e3-','/r3-')))
for ev in glob.glob(os.path.join(BASE, 'threads', 'e4-*.csv')): pairs.append((ev, ev.replace('/e4-','/r4-')))
rows=[(step(r),phases(e,('forward','encode0','decode0','allreduce0'))) for e,r in pairs]
rows.sort(key=lambda x:x[0])
for s,p in rows: print('%.4f'%s, ' '.join('%s %.1f'%(k,v) for k,v in p.items()))
print(len(rows))
