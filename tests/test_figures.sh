#!/usr/bin/env bash
# The documentation's figures and lecture recipes, run shortened. (1) scripts/figures.sh --quick draws every figure
# under docs/figures/ that README.md and docs/*.md show, from the shipped specs cut to 1 seed and 200 steps, into a
# temporary directory — and never writes into docs/figures (checked by content), refuses --quick without --out and
# --quick into docs/figures. (2) Every command in the sh blocks of docs/lectures.md runs, shortened the same way
# (runs/ moved into the temporary directory), and every figure or page the lectures name (runs/.../*.png, .html) is
# written. Negative controls: a figure name figures.sh does not know is refused, and a lecture figure that no
# command writes is caught by the same check that passes the real ones.
# usage: test_figures.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp figures
cd "$ROOT" || exit 1
export BNLAB

# --- (1) scripts/figures.sh --quick ---------------------------------------------------------------------------------
docs_sum() { find docs/figures -type f -print0 | sort -z | xargs -0 cksum | cksum; }
before=$(docs_sum)
start=$(date +%s)
bash scripts/figures.sh --quick --out "$T/fig" > "$T/figures.log" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "figures.sh --quick exits 0 (rc $rc): $(tail -n 5 "$T/figures.log")"
echo "figures.sh --quick: $(( $(date +%s) - start )) s"
check '[ "$(docs_sum)" = "$before" ]' "figures.sh --quick left docs/figures unchanged"
shown=$(grep -oh 'figures/[A-Za-z0-9_.-]*\.png' README.md docs/*.md | sed 's#.*/##; s#\.png$##' | sort -u)
check '[ -n "$shown" ]' "the docs show figures"
for n in $shown; do
  check '[ -f "docs/figures/$n.png" ]' "docs show figures/$n.png, which is shipped"
  check 'head -c 8 "$T/fig/$n.png" 2>/dev/null | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a"' \
    "figures.sh --quick drew $n.png (a PNG)"
done
listed=$(bash scripts/figures.sh --list | sort)
for f in docs/figures/*.png; do
  n=$(basename "$f" .png)
  check 'echo "$listed" | grep -qx "$n"' "docs/figures/$n.png is drawn by figures.sh (listed)"
  check 'echo "$shown" | grep -qx "$n"' "docs/figures/$n.png is shown by the docs (not stale)"
done
bash scripts/figures.sh --quick > "$T/noout.log" 2>&1; rc=$?
check '[ $rc -eq 2 ] && grep -q "needs --out" "$T/noout.log"' "figures.sh --quick without --out is refused (rc $rc)"
bash scripts/figures.sh --quick --out docs/figures fig1-accuracy > "$T/intodocs.log" 2>&1; rc=$?
check '[ $rc -eq 2 ] && grep -q "never writes into docs/figures" "$T/intodocs.log"' "figures.sh --quick --out docs/figures is refused (rc $rc)"
bash scripts/figures.sh --quick --out "$T/nofig" no-such-figure > "$T/noname.log" 2>&1; rc=$?
check '[ $rc -eq 2 ] && grep -q "no figure named no-such-figure" "$T/noname.log"' "an unknown figure name is refused (rc $rc)"
check '[ "$(docs_sum)" = "$before" ]' "docs/figures still unchanged"

# --- (2) the lecture path --------------------------------------------------------------------------------------------
L="$T/lec"
mkdir -p "$L"
sub="$ROOT/datasets/mnist-subset"
QUICK='--seeds 1 --set train.epochs=null --set train.steps=200 --set train.eval_every=50 --set log.percentiles.every=50 --set log.ics_every=100 --set data.test_limit=500 --set log.probe_size=200'
QUICK_DATA="--set data.train_images=$sub/train-images-idx3-ubyte.gz --set data.train_labels=$sub/train-labels-idx1-ubyte.gz --set data.test_images=$sub/t10k-images-idx3-ubyte.gz --set data.test_labels=$sub/t10k-labels-idx1-ubyte.gz"
# The sh blocks, each bnlab run shortened, build/bnlab replaced by the binary under test, runs/ moved into $L.
awk -v quick="$QUICK" -v qdata="$QUICK_DATA" '
  /^```sh$/ { f = 1; print "#BLOCK"; next }
  /^```/ { f = 0 }
  !f { next }
  /^build\/bnlab (compare|sweep|train) / { $0 = $0 " " quick; if ($0 ~ /fig1-full|fashion/) $0 = $0 " " qdata }
  { gsub(/build\/bnlab/, "\"$BNLAB\""); print }' docs/lectures.md |
  sed "s#\(^\|[ =\"']\)runs/#\1$L/runs/#g" > "$T/lectures.sh"
n_cmds=$(grep -c '"$BNLAB"' "$T/lectures.sh")
check '[ "$n_cmds" -ge 20 ]' "docs/lectures.md has its commands in sh blocks ($n_cmds bnlab commands)"
check '! grep -q "$ROOT/runs\|^runs/\| runs/" "$T/lectures.sh"' "every lecture path was moved into the test directory"
start=$(date +%s)
# One sh block at a time, in order, each stopping at its first failing command (later blocks still run, so that a
# failure names its own block).
awk -v d="$T" '/^#BLOCK$/ { n++; next } { print > (d "/block-" n ".sh") }' "$T/lectures.sh"
nb=$(ls "$T"/block-*.sh | wc -l)
for k in $(seq 1 "$nb"); do
  (set -e; source "$T/block-$k.sh") > "$T/block-$k.log" 2>&1
  rc=$?
  check '[ $rc -eq 0 ]' "lecture block $k runs (rc $rc): $(grep -v '^#' "$T/block-$k.sh" | head -n 3 | tr '\n' ' ') -> $(tail -n 2 "$T/block-$k.log")"
done
echo "lecture path: $(( $(date +%s) - start )) s"
named=$(grep -o 'runs/[A-Za-z0-9_./*-]*\.\(png\|html\)' docs/lectures.md | sort -u)
check '[ "$(echo "$named" | wc -l)" -ge 10 ]' "the lectures name their figures ($(echo "$named" | wc -l))"
for p in $named; do
  check '[ -s "$L/$p" ]' "the lecture figure $p was written"
done
# Negative control: the same check on a figure no command writes.
check '! [ -s "$L/runs/fig1/plots/no-such-figure.png" ]' "the figure check can fail"

finish figures
