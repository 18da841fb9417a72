#!/usr/bin/env bash
# The folders of src/ form layers (README "Layout"): each may include only itself and the folders below it.
# Fails on any include that points upward or sideways, and on an nn/ or base/ file that includes cJSON or zlib.
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
for f in *.[ch]; do [ -e "$f" ] && { echo "FAIL: src/$f is outside the layer folders"; fail=$((fail + 1)); }; done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
