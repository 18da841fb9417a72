#!/usr/bin/env bash
# claims.sh: runs every claim of configs/claims/ (or the specs named) with bnlab compare and prints one table of
# their expectations, each with what was measured and ✔/✘ (also written to OUT/claims.md).
#
#   bash scripts/claims.sh [--full] [--jobs N] [--seeds N] [--out DIR] [SPEC...]
#
# Default data: the shipped subset (datasets/mnist-subset), each claim seconds to about 8 minutes (init-scale: 36
# runs), all nine about 35 minutes on 2 shared cores. --full: the
# official MNIST in datasets/mnist (bash scripts/datasets.sh --mnist), all 10,000 test images, same steps.
# Runs go to OUT/NAME (default runs/claims or runs/claims-full); a rerun keeps the runs that already ended with the
# same config. Exit status: 0 every expectation met, 5 one was not (a result, shown in the table), 1 a claim could
# not be run (its error is shown).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
full=0 out="" specs=() opts=()
while [ $# -gt 0 ]; do
  case $1 in
    --full) full=1 ;;
    --jobs|--seeds) [ $# -ge 2 ] || { echo "claims: $1 needs a number" >&2; exit 2; }; opts+=("$1" "$2"); shift ;;
    --out) [ $# -ge 2 ] || { echo "claims: --out needs a directory" >&2; exit 2; }; out=$2; shift ;;
    -*) echo "claims: unknown option $1 (expected --full, --jobs N, --seeds N, --out DIR)" >&2; exit 2 ;;
    *) specs+=("$1") ;;
  esac
  shift
done
[ ${#specs[@]} -gt 0 ] || specs=(configs/claims/*.json)
[ -n "$out" ] || { [ $full -eq 1 ] && out=runs/claims-full || out=runs/claims; }

bash scripts/setup.sh >/dev/null || { echo "claims: error: scripts/setup.sh failed" >&2; exit 1; }
if [ $full -eq 1 ]; then
  source scripts/datasets.sh
  if ! mnist_complete datasets/mnist datasets/mnist.sha256; then
    echo "claims: error: datasets/mnist is missing or incomplete: run bash scripts/datasets.sh --mnist" >&2
    exit 1
  fi
  # Each path is one argument of bnlab's, never part of a command's text.
  for f in train-images-idx3 train-labels-idx1 t10k-images-idx3 t10k-labels-idx1; do
    key=${f%%-idx*}; key=${key/t10k/test}; key=${key/-/_}
    opts+=(--set "data.$key=$root/datasets/mnist/$f-ubyte.gz")
  done
  opts+=(--set data.test_limit=0 --set data.train_limit=0)
fi
mkdir -p -- "$out"

table="$out/claims.md"
{
  echo "| claim | expectation | measured (median over seeds) | expected | |"
  echo "|---|---|---|---|---|"
} >"$table.tmp"
status=0
for spec in "${specs[@]}"; do
  name=$(basename -- "$spec" .json)
  log="$out/$name.log"
  echo "claims: $spec ($([ $full -eq 1 ] && echo "full MNIST" || echo "MNIST subset")) -> $out/$name" >&2
  build/bnlab compare "$spec" "${opts[@]}" --out "$out/$name" --force >"$log" 2>&1
  rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 5 ]; then
    echo "claims: error: $spec: bnlab compare exited $rc: $(tail -1 -- "$log")" >&2
    echo "| $name | (not run: exit $rc, see $log) | | | ✘ |" >>"$table.tmp"
    status=1
    continue
  fi
  [ $rc -eq 5 ] && [ $status -eq 0 ] && status=5
  # The expectation lines of bnlab compare: "  ✔ WHAT = MEASURED; expected BOUND".
  while IFS= read -r line; do
    mark=${line:2:1} rest=${line:4}
    what=${rest%% = *} rest=${rest#* = }
    measured=${rest%; expected *} expected=${rest##*; expected }
    echo "| $name | $what | $measured | $expected | $mark |" >>"$table.tmp"
  done < <(grep -E '^  (✔|✘) ' -- "$log")
done
mv -f -- "$table.tmp" "$table"
echo
cat -- "$table"
met=$(grep -c '| ✔ |$' -- "$table")
unmet=$(grep -c '| ✘ |$' -- "$table")
echo
echo "claims: $met expectations met, $unmet not met ($table; each claim's summary.md in $out/NAME)"
exit $status
