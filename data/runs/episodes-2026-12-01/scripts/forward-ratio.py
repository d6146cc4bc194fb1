import csv,sys,statistics as st,collections
for f in sys.argv[1:]:
    d=collections.defaultdict(dict)
    for r in csv.DictReader(open(f)):
        if r['event'] in('forward',) or (r['event']=='backward' and r['index'] in('1','0')):
            d[(int(r['step']),r['event']+r['index'])][int(r['rank'])]=float(r['end_s'])-float(r['start_s'])
    out=[]
    for ev in ('forward-1','backward1','backward0'):
        ratios=[v[1]/v[0] for (s,e),v in d.items() if e==ev and s>=3]
        t0=[v[0] for (s,e),v in d.items() if e==ev and s>=3]; t1=[v[1] for (s,e),v in d.items() if e==ev and s>=3]
        out.append(f"{ev} r0 {1000*st.median(t0):5.1f} r1 {1000*st.median(t1):5.1f} r1/r0 {st.median(ratios):.2f}")
    print(f.split('/')[-1],' | '.join(out))
