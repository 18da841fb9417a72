#!/usr/bin/env bash
# The folders of src/ form layers (README "Layout"): each may include only itself and the folders below it.
# Fails on any include that points upward or sideways, and on an nn/ or base/ file that includes cJSON or zlib.
# Inside run/ the modules (a module: its .h and .c) are ordered too, below: each may include only the modules before
# it, so the include graph inside run/ has no edge back up (a recorder never includes the trainer that walks it).
set -u
root=${1:-.}
cd "$root/src" || exit 1
declare -A allowed=(
  [base]="base"
  [nn]="base nn"
  [io]="base io"
  [run]="base nn io run"
  [view]="base nn io run view"
  [lab]="base nn io run view lab"
  [cli]="base nn io run view lab cli"
  [web]="base nn io run view lab web"
)
pass=0 fail=0
for dir in "${!allowed[@]}"; do
  for f in "$dir"/*.[ch] "$dir"/*.inc; do
    [ -e "$f" ] || continue
    while IFS= read -r inc; do
      target=${inc%%/*}
      if [[ " ${allowed[$dir]} " == *" $target "* ]]; then pass=$((pass + 1))
      else echo "FAIL: $f includes \"$inc\" ($dir may include only: ${allowed[$dir]})"; fail=$((fail + 1)); fi
    done < <(sed -n -E 's/^#include "([^"]+)".*/\1/p' "$f")
    if [[ $dir == nn || $dir == base ]] && grep -qE '#include <(cjson|zlib)' "$f"; then
      echo "FAIL: $f includes cJSON or zlib (the nn library needs neither)"; fail=$((fail + 1))
    fi
  done
done
# A module of run/ that defines a row of the table of recorders (a "const recorder_t NAME = {" in its .c) and is not
# listed here is a log: it ranks just before recorders, and may include every listed module before recorders and no
# other log (so logs never include each other), so a new log needs no line here. Listed: the logs other modules use.
run_order=(rundir stats config checkpoint evalorder infer recalibrate xhatstats evaluate  # what a run is made of; evaluated
           recorder percentiles binning paramlog                # the contract; logs whose helpers others use
           gradstats jacobian                                   # the backward pass's measurements
           recorders runfiles fold train gradinit launch)  # the table; every file of a run, the output guard (fold
                                                           # writes); the loop that walks it; gradinit runs it; launch
declare -A rank=()
for i in "${!run_order[@]}"; do rank[${run_order[$i]}]=$i; done
log_rank=${rank[recorders]}
logs=()
for f in run/*.c; do
  m=$(basename "${f%.c}")
  if [ -z "${rank[$m]+x}" ] && grep -qE '^const recorder_t [A-Z0-9_]+ = \{' "$f"; then logs+=("$m"); rank[$m]=$log_rank; fi
done
[ "${#logs[@]}" -ge 8 ] || { echo "FAIL: found ${#logs[@]} unlisted log modules (${logs[*]}): is the rule's pattern stale?"; fail=$((fail + 1)); }
for f in run/*.[ch]; do
  m=$(basename "${f%.*}")
  if [ -z "${rank[$m]+x}" ]; then
    echo "FAIL: $f: module $m is not in run_order (tests/test_layering.sh) and defines no recorder row"
    fail=$((fail + 1))
    continue
  fi
  while IFS= read -r t; do
    if [ "$t" = "$m" ]; then continue; fi
    if [ -z "${rank[$t]+x}" ] || [ "${rank[$t]}" -ge "${rank[$m]}" ]; then
      echo "FAIL: $f includes \"run/$t.h\": in run/, $m may include only the modules before it:" \
           "${run_order[*]:0:${rank[$m]}}"
      fail=$((fail + 1))
    else pass=$((pass + 1)); fi
  done < <(sed -n -E 's|^#include "run/([^"]+)\.h".*|\1|p' "$f")
done
for f in *.[ch]; do [ -e "$f" ] && { echo "FAIL: src/$f is outside the layer folders"; fail=$((fail + 1)); }; done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
