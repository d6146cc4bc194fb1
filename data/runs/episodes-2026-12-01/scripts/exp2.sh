#!/bin/bash
# Run from the repository root (as root: network namespaces); writes into OUT (default /tmp/mn).
here=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/mn}; mkdir -p "$OUT"
export PATH=$PATH:/usr/sbin:/sbin
mp() { (taskset -c 0 /usr/bin/python3 "$here/memprobe.py" > $OUT/m0 & taskset -c 1 /usr/bin/python3 "$here/memprobe.py" > $OUT/m1; wait); echo "$(cat $OUT/m0) $(cat $OUT/m1)"; }
for k in $(seq 1 ${N:-8}); do for P in fp8-e5m2 fp32; do
  before=$(mp)
  tools/emulated-cluster --nodes 2 --rate-mbit 5000 -- build/bitscale train -w data/workloads/train-mlp.toml -p $P --steps 16 --warmup-steps 3 --cluster-name emu-2n-5000m --out $OUT/r2-$P-$k.csv --events $OUT/e2-$P-$k.csv > $OUT/l2-$P-$k.txt 2>&1
  after=$(mp)
  echo "$P $k mem $before | $after $(grep -o 'median step [0-9.]*' $OUT/l2-$P-$k.txt) $(grep -o 'every rank: .*after' $OUT/l2-$P-$k.txt)"
done; done
