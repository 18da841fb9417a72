#!/usr/bin/env bash
# The main job: set up, then train the paper's network (Ioffe & Szegedy 2015, Fig. 1: 784-100-100-100-10 sigmoid,
# batch 60) with and without batch normalization on the shipped MNIST subset, both at once (one core each), and
# print how they compare. Extra arguments go to both runs (e.g. --set train.steps=5000 for a shorter job).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=runs/main-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
build/bnlab train configs/mnist-bn.json --out "$out/bn" "$@" >"$out/bn.log" &
pid_bn=$!
build/bnlab train configs/mnist-nobn.json --out "$out/nobn" "$@" >"$out/nobn.log" &
pid_nobn=$!
wait $pid_bn && wait $pid_nobn
steps_to() {  # first step at which test accuracy reached $2 in run $1, or "never"
  awk -F, -v t="$2" 'NR > 1 && $6 >= t { print $1; found = 1; exit } END { if (!found) print "never" }' "$1/metrics.csv"
}
printf '\n%-8s %10s %10s %10s %10s %10s\n' variant final_acc best_acc "steps→80%" "steps→90%" "steps→95%"
for v in bn nobn; do
  final=$(tail -1 "$out/$v/metrics.csv" | cut -d, -f6)
  best=$(awk -F, 'NR > 1 && $6 > b { b = $6 } END { print b }' "$out/$v/metrics.csv")
  printf '%-8s %10s %10s %10s %10s %10s\n' "$v" "$final" "$best" "$(steps_to "$out/$v" 0.8)" \
    "$(steps_to "$out/$v" 0.9)" "$(steps_to "$out/$v" 0.95)"
done
echo "logs: $out/{bn,nobn}/ (metrics.csv, layer_stats.csv, ...)"
