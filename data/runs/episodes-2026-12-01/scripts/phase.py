import csv,sys,statistics as st,collections
# per run: median over steps>=3 of per-rank event durations (summed by kind) 
for f in sys.argv[1:]:
    d=collections.defaultdict(lambda: collections.defaultdict(float))
    for r in csv.DictReader(open(f)):
        s=int(r['step'])
        if s<3: continue
        k=r['event']+('' if r['event'] in('forward','optimizer','wait') else r['index'])
        d[(s,int(r['rank']))][k]+=float(r['end_s'])-float(r['start_s'])
    keys=['forward','backward1','backward0','encode0','encode1','decode0','decode1','allreduce0','allreduce1','scale_allreduce0','scale_allreduce1','wait']
    out=[]
    for k in keys:
        v=[1000*d[x][k] for x in d if k in d[x]]
        if v: out.append(f"{k[:6]}{k[-1] if k[-1].isdigit() else ''} {st.median(v):5.1f}")
    print(f.split('/')[-1][:22].ljust(22),' '.join(out))
