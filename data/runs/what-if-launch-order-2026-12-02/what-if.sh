#!/bin/bash
# validate every stored grid with two binaries; print per-grid median/max/over15 for each
cd "$(dirname "$0")/../../.."  # the repository root
mkdir -p /tmp/eval
old=/tmp/bitscale-old; new=build/bitscale
for g in data/runs/grid-2026-1*; do
  n=$(basename $g)
  [ -d $g/profiles ] && [ -f $g/runs.csv ] || continue
  $old validate --runs $g/runs.csv --cluster $g/profiles --csv /tmp/eval/old-$n.csv --max-error 1000 > /dev/null 2>/tmp/eval/old-$n.err || { echo "$n: old failed: $(head -c 200 /tmp/eval/old-$n.err)"; continue; }
  $new validate --runs $g/runs.csv --cluster $g/profiles --csv /tmp/eval/new-$n.csv --max-error 1000 > /dev/null 2>/tmp/eval/new-$n.err || { echo "$n: new failed"; continue; }
done
python3 - <<'PY'
import csv,glob,os,statistics as st
tot={'old':[], 'new':[]}; fp8={'old':[], 'new':[]}; moved=[]
for f in sorted(glob.glob('/tmp/eval/old-*.csv')):
    n=os.path.basename(f)[4:-4]
    nf='/tmp/eval/new-'+n+'.csv'
    if not os.path.exists(nf): continue
    o=list(csv.DictReader(open(f))); w=list(csv.DictReader(open(nf)))
    line=[n]
    for tag,rows in (('old',o),('new',w)):
        e=[abs(float(r['step_error'])) for r in rows if r['step_error']]
        tot[tag]+=e
        fp8[tag]+=[abs(float(r['step_error'])) for r in rows if r['step_error'] and 'fp8' in r['precision'] and int(r['ranks'])>1]
        line.append(f"{tag} {100*st.median(e):.1f}/{100*max(e):.1f} ({sum(x>0.15 for x in e)})")
    for a,b in zip(o,w):
        if a['step_error'] and b['step_error'] and abs(float(a['predicted_step_s'])-float(b['predicted_step_s']))>1e-9:
            moved.append((n,a['engine'],a['workload'][15:24],a['ranks'],a['rate_mbit'],a['precision'],float(a['step_error']),float(b['step_error']), float(a['predicted_step_s']), float(b['predicted_step_s']), float(a['measured_step_s'])))
    print('  '.join(line))
for tag in ('old','new'):
    e=tot[tag]; print(tag,'all',len(e),f"{100*st.median(e):.2f}/{100*max(e):.1f}", sum(x>0.15 for x in e), ' fp8 >1 rank', len(fp8[tag]), f"{100*st.median(fp8[tag]):.2f}/{100*max(fp8[tag]):.1f}", sum(x>0.15 for x in fp8[tag]))
print('moved', len(moved))
import collections
byp=collections.defaultdict(lambda: [0,0,0])
for m in moved:
    k=m[5]; byp[k][0]+=1; byp[k][1]+= (abs(m[7])<abs(m[6])); byp[k][2]+=1
for k,v in sorted(byp.items()): print(' ',k,'moved',v[0],'better',v[1])
with open('/tmp/eval/moved.txt','w') as f:
    for m in moved: f.write(' '.join(str(x) for x in m)+'\n')
PY
