#!/bin/bash
# Interleaved pairs of runs at 2 nodes and 5 Gbit/s (MLP, fp8-e5m2): with the trial in-run probe (a GEMM before
# every second step, then a barrier) and without. Needs root and a build with trial-in-run-probe.patch applied
# (git apply, then ninja -C build bitscale); run from anywhere, writes into OUT (default /tmp/inrun).
cd "$(dirname "$0")/../../../.."
export PATH=$PATH:/usr/sbin:/sbin
OUT=${OUT:-/tmp/inrun}; N=${N:-12}; mkdir -p "$OUT"
for k in $(seq 1 $N); do for K in 2 0; do
  tools/emulated-cluster --nodes 2 --rate-mbit 5000 -- env BITSCALE_TRIAL_PROBE_EVERY=$K build/bitscale train -w data/workloads/train-mlp.toml -p fp8-e5m2 --steps 24 --warmup-steps 3 --cluster-name emu-2n-5000m --out $OUT/r-$K-$k.csv > $OUT/l-$K-$k.txt 2>&1
  echo "$K $k $(grep -o 'median step [0-9.]*' $OUT/l-$K-$k.txt)"
done; done
