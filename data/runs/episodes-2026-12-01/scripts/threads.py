import sys,collections
for f in sys.argv[1:]:
    first={};last={};cpus=collections.defaultdict(collections.Counter)
    for line in open(f):
        p=line.split()
        if len(p)<7: continue
        t,pid,tid,name,ut,st,cpu=p[0],p[1],p[2],p[3],int(p[4]),int(p[5]),p[6]
        key=(pid,tid,name)
        if key not in first: first[key]=(float(t),ut,st)
        last[key]=(float(t),ut,st); cpus[key][cpu]+=1
    rows=[]
    for k in first:
        t0,u0,s0=first[k]; t1,u1,s1=last[k]
        if t1-t0<1: continue
        rows.append((k, (u1-u0)/(t1-t0), (s1-s0)/(t1-t0), dict(cpus[k])))
    rows=[r for r in rows if r[1]+r[2]>2]
    print(f.split('/')[-1], '  '.join(f"{k[0]}/{k[1]}{k[2]} u{u:.0f} s{s:.0f} cpu{c}" for k,u,s,c in sorted(rows)))
