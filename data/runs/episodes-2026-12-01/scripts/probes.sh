# The loop that made probes/ (run from the repository root, 2026-12-01 16:50-16:51 UTC): 8 rounds of the
# fp8-e5m2 and fp32 MLP at 2 nodes and 5 Gbit/s, every step's events kept, the log (with every rank's probe) kept.
OUT=${OUT:-/tmp/mn}; mkdir -p "$OUT"
export PATH=$PATH:/usr/sbin:/sbin
for k in $(seq 1 8); do for P in fp8-e5m2 fp32; do
  tools/emulated-cluster --nodes 2 --rate-mbit 5000 -- build/bitscale train -w data/workloads/train-mlp.toml -p $P \
    --steps 16 --warmup-steps 3 --cluster-name emu-2n-5000m --out $OUT/run-$P-$k.csv \
    --events $OUT/ev-$P-$k.csv > $OUT/log-$P-$k.txt 2>&1
done; done
