cd /work/main; export PATH=$PATH:/usr/sbin:/sbin
for k in $(seq 1 ${N:-8}); do P=fp8-e5m2
  rm -f /tmp/mn/s4-$k.txt; /tmp/mn/sampler.sh /tmp/mn/s4-$k.txt & sp=$!
  tools/emulated-cluster --nodes 2 --rate-mbit 5000 -- build/bitscale train -w data/workloads/train-mlp.toml -p $P --steps 30 --warmup-steps 3 --cluster-name emu-2n-5000m --out /tmp/mn/r4-$k.csv --events /tmp/mn/e4-$k.csv > /tmp/mn/l4-$k.txt 2>&1
  kill $sp; wait $sp 2>/dev/null
  echo "$k $(grep -o 'median step [0-9.]*' /tmp/mn/l4-$k.txt)"
done
