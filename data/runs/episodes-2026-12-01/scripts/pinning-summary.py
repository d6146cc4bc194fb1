import csv,sys,glob,statistics as st,collections,re
import os
BASE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # data/runs/episodes-2026-12-01
res=collections.defaultdict(list)
for f in sorted(glob.glob(os.path.join(BASE, 'pinning', 'run-*.csv'))):
    rs=[r for r in csv.DictReader(open(f)) if int(r['step'])>=int(r['warmup_steps'])]
    m=lambda c: st.median(float(x[c]) for x in rs)
    key=re.sub(r'-\d+\.csv$','',f.split('/')[-1])
    res[key].append(m('step_s'))
    print(f.split('/')[-1],f"step {m('step_s'):.4f} comp {m('compute_s'):.4f} comm {m('comm_s'):.4f} wait {m('wait_s'):.4f} codec {m('codec_s'):.4f} probe {rs[0]['host_gflops_before']}/{rs[0]['host_gflops_after']}")
for k,v in res.items(): print(k, 'median %.4f min %.4f max %.4f spread %.1f%%'%(st.median(v),min(v),max(v),100*(max(v)-min(v))/st.median(v)))
