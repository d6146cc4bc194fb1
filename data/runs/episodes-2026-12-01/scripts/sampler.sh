#!/bin/bash
# every 0.2 s: for every thread of every bitscale/orted/mpirun process: pid tid name utime stime last_cpu
out=$1
while :; do
  t=$(date +%s.%N)
  for p in $(pgrep -f 'bitscale train|orted|mpirun'); do
    for s in /proc/$p/task/*/stat; do
      [ -r $s ] && echo "$t $p $(cat $s 2>/dev/null | awk '{print $1, $2, $14, $15, $39}')"
    done
  done >> $out
  sleep 0.2
done
