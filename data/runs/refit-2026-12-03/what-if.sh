#!/bin/bash
# Every stored grid's profiles fitted again from their own calibration measurements by two bitscale binaries
# (OLD: commit 718eb32, one sum rate through the origin; NEW: this commit, the sum cost by size), and each grid's
# runs predicted from each; then compare.py prints the per-configuration summary (docs/validation.md item 30).
# Both sets of profiles are predicted by NEW (validate): a profile without [reduction_sizes] is charged at its
# [reductions] rate, as OLD charged it. OUTDIR must be an absolute path (the script runs from the repository root).
# usage: what-if.sh OLD NEW OUTDIR GRID...   e.g. what-if.sh /tmp/bitscale-718eb32 build/bitscale /tmp/w data/runs/grid-*
set -u
old=$1 new=$2 out=$3; shift 3
cd "$(dirname "$0")/../../.."
for G in "$@"; do
  g=$(basename $G)
  for which in old new; do
    bin=$old; [ $which = new ] && bin=$new
    W=$out/$g/$which; rm -rf $W; mkdir -p $W/profiles
    for p in $G/profiles/*.toml; do
      case $p in *.measured.toml) continue ;; esac
      base=${p%.toml}; name=$(basename $p)
      if [ -f $base.measured.toml ]; then
        $bin calibrate --from-engine $base.measured.toml --force --out $W/profiles/$name > $W/profiles/${name%.toml}.fit.log 2>&1 || cp $p $W/profiles/$name
      elif [ -f $base.csv ]; then
        $bin calibrate --refit $base.csv --base $p --force --out $W/profiles/$name > $W/profiles/${name%.toml}.fit.log 2>&1 || cp $p $W/profiles/$name
      else
        cp $p $W/profiles/$name
      fi
    done
    $new validate --runs $G/runs.csv --cluster $W/profiles --csv $W/validation.csv --max-error 1000 > $W/validation.txt 2>&1
  done
  printf "%-22s old: %s | new: %s\n" $g "$(grep -o 'median error [0-9.]*%, max [0-9.]*%' $out/$g/old/validation.txt | head -1)" "$(grep -o 'median error [0-9.]*%, max [0-9.]*%' $out/$g/new/validation.txt | head -1)"
done
