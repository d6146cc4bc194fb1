#!/bin/bash
# Run from the repository root (as root: network namespaces); writes into OUT (default /tmp/mn).
here=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/mn}; mkdir -p "$OUT"
export PATH=$PATH:/usr/sbin:/sbin
for k in $(seq 1 ${N:-10}); do P=fp8-e5m2
  s0=$(grep '^cpu ' /proc/stat)
  tools/emulated-cluster --nodes 2 --rate-mbit 5000 -- build/bitscale train -w data/workloads/train-mlp.toml -p $P --steps 30 --warmup-steps 3 --cluster-name emu-2n-5000m --out $OUT/r3-$k.csv --events $OUT/e3-$k.csv > $OUT/l3-$k.txt 2>&1
  s1=$(grep '^cpu ' /proc/stat)
  echo "$k $(grep -o 'median step [0-9.]*' $OUT/l3-$k.txt) | $s0 | $s1"
done
