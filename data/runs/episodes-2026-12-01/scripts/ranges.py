import csv,glob,statistics as st,collections,re,sys
import os
BASE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # data/runs/episodes-2026-12-01
def phases(f):
    d=collections.defaultdict(lambda: collections.defaultdict(float))
    for r in csv.DictReader(open(f)):
        s=int(r['step'])
        if s<3: continue
        k=r['event']+('' if r['event'] in('forward','optimizer','wait') else r['index'])
        d[(s,int(r['rank']))][k]+=float(r['end_s'])-float(r['start_s'])
    return {k: 1000*st.median(d[x][k] for x in d if k in d[x]) for k in ('forward','encode0','decode0','allreduce0')}
def step(f):
    rows=[r for r in csv.DictReader(open(f)) if int(r['step'])>=int(r['warmup_steps'])]
    return st.median(float(r['step_s']) for r in rows)
pairs=[]
for ev in glob.glob(os.path.join(BASE, 'probes', 'ev-fp8-e5m2-*.csv')): pairs.append((ev, ev.replace('/ev-','/run-')))
for ev in glob.glob(os.path.join(BASE, 'memcpy', 'e2-fp8-e5m2-*.csv')): pairs.append((ev, ev.replace('/e2-','/r2-')))
for ev in glob.glob(os.path.join(BASE, 'procstat', 'e3-*.csv')): pairs.append((ev, ev.replace('/e3-','/r3-')))
for ev in glob.glob(os.path.join(BASE, 'threads', 'e4-*.csv')): pairs.append((ev, ev.replace('/e4-','/r4-')))
rows=[(step(r),phases(e)) for e,r in pairs]
rows.sort(key=lambda x:x[0])
for s,p in rows: print('%.4f'%s, ' '.join('%s %.1f'%(k,v) for k,v in p.items()))
print(len(rows))
