#!/bin/bash
# alternate unpinned / pinned runs of one configuration
cd /work/main
export PATH=$PATH:/usr/sbin:/sbin
P=${P:-fp32}; R=${R:-5000}; N=${N:-4}; W=${W:-data/workloads/train-mlp.toml}
for k in $(seq 1 $N); do
  for mode in free pin; do
    opt=""; [ $mode = pin ] && opt=--pin-cores
    tools/emulated-cluster --nodes 2 --rate-mbit $R $opt -- build/bitscale train -w $W -p $P --steps 16 --warmup-steps 3 \
      --cluster-name emu-2n-${R}m --out /tmp/pin/run-$P-$R-$mode-$k.csv --events /tmp/pin/ev-$P-$R-$mode-$k.csv >>/tmp/pin/train.log 2>&1 || echo fail $mode $k
  done
done
