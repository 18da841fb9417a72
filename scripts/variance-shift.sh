#!/usr/bin/env bash
# Variance shift (Li et al. 2018, arXiv:1801.05134): for every run of a comparison (or one run directory),
# the std of each dense layer's output - the input of the BN layer after it - on the probe images in
# training mode (dropout on) and in evaluation mode (dropout off), at the last epoch, and their ratio.
# A ratio away from 1 before a BN layer means BN's running statistics do not fit what it sees at inference.
#   usage: scripts/variance-shift.sh DIR
set -euo pipefail
dir=${1:?usage: scripts/variance-shift.sh RUN_OR_COMPARISON_DIR}
find "$dir" -name layer_stats.csv | sort | while read -r f; do
  echo "== ${f%/layer_stats.csv}"
  last=$(tail -1 "$f" | cut -d, -f1)
  awk -F, -v last="$last" '
    NR > 1 && $1 == last { type[$4] = $5; if ($3 == "probe") ev[$4] = $8; if ($3 == "probe_train") tr[$4] = $8 }
    END {
      printf "%-6s %-10s %-12s %12s %12s %8s\n", "layer", "type", "feeds", "std(train)", "std(eval)", "ratio"
      for (l = 0; l in type; l++)
        if (type[l] == "dense" && (l in tr) && ev[l] > 0)
          printf "%-6d %-10s %-12s %12.4f %12.4f %8.3f\n", l, type[l], ((l + 1) in type) ? type[l + 1] : "softmax",
                 tr[l], ev[l], tr[l] / ev[l]
    }' "$f"
done
