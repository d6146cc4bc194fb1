cd /work/main; export PATH=$PATH:/usr/sbin:/sbin
for k in $(seq 1 ${N:-10}); do P=fp8-e5m2
  s0=$(grep '^cpu ' /proc/stat)
  tools/emulated-cluster --nodes 2 --rate-mbit 5000 -- build/bitscale train -w data/workloads/train-mlp.toml -p $P --steps 30 --warmup-steps 3 --cluster-name emu-2n-5000m --out /tmp/mn/r3-$k.csv --events /tmp/mn/e3-$k.csv > /tmp/mn/l3-$k.txt 2>&1
  s1=$(grep '^cpu ' /proc/stat)
  echo "$k $(grep -o 'median step [0-9.]*' /tmp/mn/l3-$k.txt) | $s0 | $s1"
done
