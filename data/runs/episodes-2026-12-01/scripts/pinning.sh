#!/bin/bash
# Alternate unpinned / pinned runs of one configuration (pinning/ was N=10 P=fp32 R=5000). Run from the repository
# root, as root; writes into OUT (default /tmp/pin). The pinned runs need the trial option --pin-cores of
# tools/emulated-cluster (the rsh agent run under taskset -c (node - 1) mod cores), which was not kept: as
# committed, only the unpinned half runs.
OUT=${OUT:-/tmp/pin}; mkdir -p "$OUT"
export PATH=$PATH:/usr/sbin:/sbin
P=${P:-fp32}; R=${R:-5000}; N=${N:-10}; W=${W:-data/workloads/train-mlp.toml}
for k in $(seq 1 $N); do
  for mode in free pin; do
    opt=""; [ $mode = pin ] && opt=--pin-cores
    tools/emulated-cluster --nodes 2 --rate-mbit $R $opt -- build/bitscale train -w $W -p $P --steps 16 --warmup-steps 3 \
      --cluster-name emu-2n-${R}m --out $OUT/run-$P-$R-$mode-$k.csv --events $OUT/ev-$P-$R-$mode-$k.csv >>$OUT/train.log 2>&1 || echo fail $mode $k
  done
done
