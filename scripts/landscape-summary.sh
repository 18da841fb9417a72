#!/usr/bin/env bash
# Santurkar et al. (2018) Fig. 4 as numbers, from each run's landscape_band.csv (log.landscape): per run, and per
# variant of a comparison over all its seeds' probes, the median over probe steps of the loss band width
# (max - min over eta of L(theta - eta g)), the gradient-predictiveness band (max - min of ||grad L(theta - eta g) - g||),
# its maximum, the effective beta-smoothness (max over eta of that difference / ||eta g||), and ||g||.
#   usage: scripts/landscape-summary.sh RUN_OR_COMPARISON_DIR [FIRST_STEP [END_STEP [LOSS_LO LOSS_HI]]]
#   only probes at steps in [FIRST_STEP, END_STEP) and, if given, with the step's batch loss in [LOSS_LO, LOSS_HI):
#   networks compared at equal loss rather than at equal step
set -euo pipefail
dir=${1:?usage: scripts/landscape-summary.sh RUN_OR_COMPARISON_DIR [FIRST_STEP [END_STEP [LOSS_LO LOSS_HI]]]}
dir=${dir%/}
first=${2:-0}
end=${3:-1e18}
loss_lo=${4:--1e18}
loss_hi=${5:-1e18}
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# rows: the band rows of one or more files (header dropped), the selected probes only
rows() { awk -F, -v s="$first" -v e="$end" -v a="$loss_lo" -v b="$loss_hi" 'FNR > 1 && $1 >= s && $1 < e && $4 >= a && $4 < b' "$@"; }
line() {  # NAME FILES...
  local name=$1 r n
  shift
  r=$(rows "$@")
  n=$(printf '%s\n' "$r" | grep -c . || true)
  printf '%-28s %6s %12.4g %12.4g %12.4g %12.4g %12.4g\n' "$name" "$n" \
    "$(printf '%s\n' "$r" | awk -F, '{print $6 - $5}' | median)" \
    "$(printf '%s\n' "$r" | awk -F, '{print $8 - $7}' | median)" \
    "$(printf '%s\n' "$r" | cut -d, -f8 | median)" \
    "$(printf '%s\n' "$r" | cut -d, -f9 | median)" \
    "$(printf '%s\n' "$r" | cut -d, -f3 | median)"
}
printf '%-28s %6s %12s %12s %12s %12s %12s\n' run probes "loss band" "grad band" "max ||dg||" "beta_eff" "||g||"
mapfile -t files < <(find "$dir" -name landscape_band.csv | sort)
[ "${#files[@]}" -gt 0 ] || { echo "no landscape_band.csv under $dir (log.landscape.every is 0?)" >&2; exit 1; }
for f in "${files[@]}"; do
  name=${f#"$dir"}
  name=${name%landscape_band.csv}
  name=${name#/}
  name=${name%/}
  line "${name:-.}" "$f"
done
# A comparison (OUT/VARIANT/seed-K/): each variant's probes over all seeds.
for v in $(printf '%s\n' "${files[@]}" | sed -n "s|^$dir/\([^/]*\)/seed-[0-9]*/landscape_band.csv$|\1|p" | sort -u); do
  line "$v (all seeds)" "$dir/$v"/seed-*/landscape_band.csv
done
