#!/usr/bin/env bash
# The table of docs/batchnorm.md §11 from a `bnlab sweep configs/batch-size.json --seeds N` directory (and the ghost BN
# rows from `bnlab sweep configs/batch-size-ghost.json` in SWEEP_DIR-ghost: its blocks of 4 need batches of 4 or more,
# and the config refuses a ghost block that never forms, so it is a sweep of its own; batch 2 shows "—"): for every
# normalization and batch size, the final test accuracy as median (min–max) over the seeds, evaluated two ways by
# `bnlab eval RUN --bn-stats`: evaluation mode (BN on its running statistics) and training mode (each test batch of
# train.eval_batch_size normalized by its own statistics). Networks without BN give the same number both ways.
#   usage: scripts/batch-size-table.sh SWEEP_DIR [BNLAB]     (BNLAB defaults to build/bnlab)
set -euo pipefail
dir=${1:?usage: scripts/batch-size-table.sh SWEEP_DIR [BNLAB]}
bnlab=${2:-build/bnlab}
variants=(bn renorm ghost4 layernorm rmsnorm none)
batches=(2 4 8 16 60 256)
# median (min–max) of the numbers on stdin, 3 decimals
summary() { sort -g | awk '{v[NR] = $1} END {
  if (NR == 0) { print "—"; exit }
  m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
  if (NR == 1) printf "%.3f\n", m; else printf "%.3f (%.3f–%.3f)\n", m, v[1], v[NR] }'; }
# accuracy of one run with BN's statistics taken as $2 (running | batch): the last field of the line that names it
acc() { "$bnlab" eval "$1" --bn-stats "$2" | awk -v w="$2:" '$1 == w {print $NF}'; }
for mode in running batch; do
  [ $mode = running ] && echo "evaluation mode (running statistics):" || echo "training mode (each test batch's own statistics):"
  printf '| normalization |'; printf ' batch %s |' "${batches[@]}"; echo
  printf '|---|'; printf -- '---|%.0s' "${batches[@]}"; echo
  for v in "${variants[@]}"; do
    printf '| %s |' "$v"
    for b in "${batches[@]}"; do
      d=$dir; [ "$v" = ghost4 ] && d=$dir-ghost
      cell=$(for run in "$d/$v-batch_size$b"/seed-*; do if [ -d "$run" ]; then acc "$run" $mode; fi; done | summary)
      printf ' %s |' "$cell"
    done
    echo
  done
  echo
done
