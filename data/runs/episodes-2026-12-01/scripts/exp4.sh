#!/bin/bash
# Run from the repository root (as root: network namespaces); writes into OUT (default /tmp/mn).
here=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/mn}; mkdir -p "$OUT"
export PATH=$PATH:/usr/sbin:/sbin
for k in $(seq 1 ${N:-8}); do P=fp8-e5m2
  rm -f $OUT/s4-$k.txt; "$here/sampler.sh" $OUT/s4-$k.txt & sp=$!
  tools/emulated-cluster --nodes 2 --rate-mbit 5000 -- build/bitscale train -w data/workloads/train-mlp.toml -p $P --steps 30 --warmup-steps 3 --cluster-name emu-2n-5000m --out $OUT/r4-$k.csv --events $OUT/e4-$k.csv > $OUT/l4-$k.txt 2>&1
  kill $sp; wait $sp 2>/dev/null
  echo "$k $(grep -o 'median step [0-9.]*' $OUT/l4-$k.txt)"
done
