cd /work/main; export PATH=$PATH:/usr/sbin:/sbin
mp() { (taskset -c 0 /usr/bin/python3 /tmp/memprobe.py > /tmp/mn/m0 & taskset -c 1 /usr/bin/python3 /tmp/memprobe.py > /tmp/mn/m1; wait); echo "$(cat /tmp/mn/m0) $(cat /tmp/mn/m1)"; }
for k in $(seq 1 ${N:-8}); do for P in fp8-e5m2 fp32; do
  before=$(mp)
  tools/emulated-cluster --nodes 2 --rate-mbit 5000 -- build/bitscale train -w data/workloads/train-mlp.toml -p $P --steps 16 --warmup-steps 3 --cluster-name emu-2n-5000m --out /tmp/mn/r2-$P-$k.csv --events /tmp/mn/e2-$P-$k.csv > /tmp/mn/l2-$P-$k.txt 2>&1
  after=$(mp)
  echo "$P $k mem $before | $after $(grep -o 'median step [0-9.]*' /tmp/mn/l2-$P-$k.txt) $(grep -o 'every rank: .*after' /tmp/mn/l2-$P-$k.txt)"
done; done
