#!/usr/bin/env bash
# Internal covariate shift (Santurkar et al. 2018, Def. 2.1) per run: for each dense layer, the median over the
# logged measurements of ||G - G'|| and of cos(G, G'), and the median ratio ||G - G'|| / ||G|| (scale-free).
#   usage: scripts/ics-summary.sh RUN_OR_COMPARISON_DIR [FIRST_STEP]   (measurements before FIRST_STEP are skipped)
set -euo pipefail
dir=${1:?usage: scripts/ics-summary.sh RUN_OR_COMPARISON_DIR [FIRST_STEP]}
first=${2:-0}
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
printf '%-40s %6s %6s %14s %14s %10s\n' run dense n "median ||G-G'||" "median rel" "median cos"
find "$dir" -name ics.csv | sort | while read -r f; do
  run=${f%/ics.csv}
  for d in $(awk -F, 'NR > 1 {print $3}' "$f" | sort -un); do
    rows=$(awk -F, -v d="$d" -v s="$first" 'NR > 1 && $3 == d && $1 >= s' "$f")
    n=$(printf '%s\n' "$rows" | grep -c . || true)
    l2=$(printf '%s\n' "$rows" | cut -d, -f5 | median)
    rel=$(printf '%s\n' "$rows" | awk -F, '$4 > 0 {print $5 / $4}' | median)
    cs=$(printf '%s\n' "$rows" | cut -d, -f6 | median)
    printf '%-40s %6s %6s %14.4g %14.4g %10.3f\n' "${run#"$dir"/}" "$d" "$n" "$l2" "$rel" "$cs"
  done
done
