#!/usr/bin/env bash
# Draws every figure the documentation shows (docs/figures/*.png), each from a shipped config or spec, so that no
# shipped figure can go stale: a change to bnlab's logs or plots is one command away from new figures.
#
#   bash scripts/figures.sh                 all of them, at full length, into docs/figures/ (runs in runs/figures/)
#   bash scripts/figures.sh NAME...         only these figures (names as in docs/figures/, without .png)
#   bash scripts/figures.sh --runs DIR      keep the runs in DIR/NAME instead; a comparison already there with
#                                           the same configs is kept, not run again (compare --force, sweep resume)
#   bash scripts/figures.sh --quick --out DIR [NAME...]
#                                           the same commands shortened (1 seed, 200 steps, the shipped MNIST
#                                           subset in place of the official MNIST and Fashion-MNIST): figures in
#                                           DIR, runs in DIR/runs; never writes into docs/ (the test mode,
#                                           tests/test_figures.sh)
#   bash scripts/figures.sh --list          the figure names, one per line
#
# The full set needs the official MNIST and Fashion-MNIST (bash scripts/datasets.sh --mnist --fashion) and takes
# about an hour on 2 shared cores (the runs, measured one by one on the shared machine, add up to 63 minutes: 26 for
# fig1-full's 5 seeds on 60,000 images, 13 for landscape's probed 3 seeds, 6 for sweep-lr's 50 runs), plus the
# backward figures' runs added since: sweep-depth-lr's 72 runs of up to 64 blocks took 15 min 36 s (2 at a time under
# nice -n 19, beside other jobs at load 8-11); gradinit-relu's four bnlab gradinit commands took 163 s (nice -n 19,
# beside other jobs). Which runs a figure needs is the table below.
set -euo pipefail
cd "$(dirname "$0")/.."
# The numbers in the docs were measured with the OpenBLAS GEMM backend; libxsmm (the default on AVX-512 CPUs, where
# it is built in) sums in another order and moves them at float rounding. Pin OpenBLAS so the figures match the text.
export BNLAB_GEMM=openblas

quick=0
out=""
runs=""
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) [ $# -ge 2 ] || { echo "figures.sh: --out needs a directory" >&2; exit 2; }; out="$2"; shift ;;
    --out=*) out="${1#--out=}" ;;
    --runs) [ $# -ge 2 ] || { echo "figures.sh: --runs needs a directory" >&2; exit 2; }; runs="$2"; shift ;;
    --list) list=1 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "figures.sh: unknown option $1 (see bash scripts/figures.sh --help)" >&2; exit 2 ;;
    *) names+=("$1") ;;
  esac
  shift
done

# The figures: name in docs/figures, the run it is drawn from, the bnlab plot figure, extra plot options.
FIGURES=(
  "fig1-accuracy            fig1            accuracy"
  "fig1-loss                fig1            loss"
  "fig1-percentiles         fig1            percentiles"
  "fig1-layers              fig1            layers"
  "fig1-layer-stats         fig1            layer_stats"
  "fig1-ics                 fig1            ics"
  "fig1-full-accuracy       fig1-full       accuracy"
  "fig1-full-percentiles    fig1-full       percentiles"
  "fig1-full-layers         fig1-full       layers"
  "lr-accuracy              lr-bn           accuracy"
  "sweep-lr                 sweep-lr        sweep"
  "noisy-accuracy           noisy-bn        accuracy"
  "noisy-percentiles        noisy-bn        percentiles"
  "constant-stats-accuracy  constant-stats  accuracy"
  "constant-stats-params    constant-stats  params"
  "fashion-accuracy         fig1-fashion    accuracy"
  "fashion-percentiles      fig1-fashion    percentiles"
  "landscape                landscape       landscape"
  "landscape-eta            landscape       landscape_eta"
  "landscape-relu           landscape-relu  landscape"
  "modes-small-batch        modes-small-batch modes"
  "batch-size               batch-size      sweep"
  "backward-gradients       backward        gradients"
  "backward-update-ratios   backward        update_ratios"
  "backward-jacobian        backward        jacobian"
  "backward-gradient-depth  backward-depth  gradient_depth"
  "backward-sweep-map       sweep-depth-lr  sweep_map"
  "backward-gradinit        gradinit-relu   gradinit"
  "anatomy-ladder           ablations-600   ladder"
  "anatomy-unit-updates     angular-update  unit_updates"
  "anatomy-curvature        curvature       curvature"
)

if [ "${list:-0}" = 1 ]; then
  for f in "${FIGURES[@]}"; do set -- $f; echo "$1"; done
  exit 0
fi

# The runs: the bnlab command that makes each (run from the top directory; OUT is appended as --out).
run_command() {
  case "$1" in
    fig1)              echo "compare configs/fig1.json" ;;
    fig1-full)         echo "compare configs/fig1-full.json" ;;
    lr-bn)             echo "compare configs/lr-bn.json" ;;
    sweep-lr)          echo "sweep configs/sweep-lr.json" ;;
    noisy-bn)          echo "compare configs/noisy-bn.json" ;;
    constant-stats)    echo "compare configs/constant-stats.json" ;;
    fig1-fashion)      echo "compare configs/fig1-fashion.json" ;;
    landscape)         echo "compare configs/landscape.json" ;;
    landscape-relu)    echo "compare configs/landscape-relu.json --set train.steps=10000" ;;
    modes-small-batch) echo "compare configs/modes-small-batch.json" ;;
    batch-size)        echo "sweep configs/batch-size.json --seeds 3" ;;
    backward)          echo "compare configs/backward.json" ;;
    backward-depth)    echo "compare configs/backward-depth.json" ;;
    sweep-depth-lr)    echo "sweep configs/sweep-depth-lr.json" ;;
    ablations-600)     echo "compare configs/ablations.json --seeds 2 --set train.steps=600" ;;
    angular-update)    echo "compare configs/claims/angular-update.json" ;;
    curvature)         echo "compare configs/claims/curvature.json" ;;
    gradinit-relu)     echo "gradinit" ;;  # several bnlab gradinit commands: gradinit_runs below
    *) echo "figures.sh: no run named $1" >&2; exit 1 ;;
  esac
}

# Shortened runs for --quick: one seed, 200 steps (whatever the spec says, epochs included), 500 test images, and the
# shipped subset in place of a dataset that is not shipped. Every option here is a config override; the commands stay the same.
sub="$PWD/datasets/mnist-subset"
QUICK=(--seeds 1 --set train.epochs=null --set train.steps=200 --set train.eval_every=50
       --set log.percentiles.every=50 --set log.ics_every=100 --set data.test_limit=500 --set log.probe_size=200)
QUICK_DATA=(--set "data.train_images=$sub/train-images-idx3-ubyte.gz" --set "data.train_labels=$sub/train-labels-idx1-ubyte.gz"
            --set "data.test_images=$sub/t10k-images-idx3-ubyte.gz" --set "data.test_labels=$sub/t10k-labels-idx1-ubyte.gz")

# gradinit-relu: bnlab gradinit's measurement of 8 and 64 blocks of dense(100)-BN-ReLU and of dense(100)-ReLU (He
# init), 10 batches x 5 inits, again after 20 SGD steps, each into OUT/gradinit-NAME.csv (quick: 4 and 8 blocks, 2
# batches x 2 inits, 2 steps).
gradinit_runs() {
  local out=$1 depths="8 64" opts=(--batches 10 --seeds 5 --steps 20)
  [ $quick = 1 ] && depths="4 8" && opts=(--batches 2 --seeds 2 --steps 2)
  for d in $depths; do
    "$bnlab" gradinit configs/deep-relu.json --set "model.layers[0].repeat=$d" --set "name=bn-relu-$d" "${opts[@]}" --out "$out" || return 1
    "$bnlab" gradinit configs/deep-relu-nobn.json --set "model.layers[0].repeat=$d" --set "name=nobn-relu-$d" "${opts[@]}" --out "$out" || return 1
  done
}

if [ $quick = 1 ]; then
  [ -n "$out" ] || { echo "figures.sh: --quick needs --out DIR (it never writes into docs/)" >&2; exit 2; }
  figs="$out"; runs="${runs:-$out/runs}"
else
  figs="${out:-docs/figures}"; runs="${runs:-runs/figures}"
fi
mkdir -p "$runs" "$figs"
case "$(cd "$figs" && pwd)" in
  "$PWD/docs/figures") [ $quick = 0 ] || { echo "figures.sh: --quick never writes into docs/figures" >&2; exit 2; } ;;
esac

# Which figures, and so which runs.
selected=()
for f in "${FIGURES[@]}"; do
  set -- $f
  if [ ${#names[@]} -eq 0 ]; then selected+=("$f"); continue; fi
  for n in "${names[@]}"; do [ "$n" = "$1" ] && selected+=("$f"); done
done
for n in "${names[@]}"; do
  printf '%s\n' "${FIGURES[@]}" | awk -v n="$n" '$1 == n { found = 1 } END { exit !found }' ||
    { echo "figures.sh: no figure named $n (bash scripts/figures.sh --list)" >&2; exit 2; }
done
needed=$(for f in "${selected[@]}"; do set -- $f; echo "$2"; done | awk '!seen[$0]++')

bnlab=${BNLAB:-build/bnlab}  # BNLAB: the binary to use (the tests give theirs)
[ -x "$bnlab" ] || bash scripts/setup.sh
for r in $needed; do
  read -r -a cmd <<< "$(run_command "$r")"
  extra=()
  if [ $quick = 1 ]; then
    extra=("${QUICK[@]}")
    case "$r" in fig1-full|fig1-fashion) extra+=("${QUICK_DATA[@]}") ;; esac
    # Deep nets (up to 64 blocks): fewer steps still draw every cell and both panels (gradients at steps 0 and 20).
    case "$r" in sweep-depth-lr|backward-depth) extra+=(--set train.steps=21 --set train.eval_every=21) ;; esac
  fi
  if [ "${cmd[0]}" = gradinit ]; then echo "figures.sh: $bnlab gradinit (gradinit_runs) --out $runs/$r" >&2
  else echo "figures.sh: $bnlab ${cmd[*]} ${extra[*]} --out $runs/$r" >&2; fi
  start=$(date +%s)
  # A comparison is re-run with --force (it keeps completed runs of the same config); a sweep resumes by itself.
  force=(); [ "${cmd[0]}" = compare ] && force=(--force)
  # A claim's spec (configs/claims/) whose expectation is not met exits 5: a result, drawn like any other.
  rc=0
  if [ "${cmd[0]}" = gradinit ]; then gradinit_runs "$runs/$r" > "$runs/$r.log" 2>&1 || rc=$?
  else "$bnlab" "${cmd[@]}" "${extra[@]}" --out "$runs/$r" "${force[@]}" > "$runs/$r.log" 2>&1 || rc=$?; fi
  [ $rc -eq 0 ] || { [ $rc -eq 5 ] && [ "${cmd[0]}" = compare ]; } ||
    { echo "figures.sh: the run $r failed; its output: $runs/$r.log" >&2; tail -n 5 "$runs/$r.log" >&2; exit 1; }
  # A sweep draws sweep.png itself (sweep collect); a sweep over two grid keys also has its map (bnlab plot's sweep_map).
  plot=(); [ "${cmd[0]}" = sweep ] && plot=(--only sweep_map)
  "$bnlab" plot "$runs/$r" "${plot[@]}" >> "$runs/$r.log" 2>&1 ||
    { echo "figures.sh: bnlab plot $runs/$r failed; its output: $runs/$r.log" >&2; tail -n 5 "$runs/$r.log" >&2; exit 1; }
  echo "figures.sh: $r done in $(( $(date +%s) - start )) s" >&2
done

for f in "${selected[@]}"; do
  set -- $f
  src="$runs/$2/plots/$3.png"
  [ -f "$src" ] || { echo "figures.sh: $src was not drawn (figure $1)" >&2; exit 1; }
  cp "$src" "$figs/$1.png.tmp" && mv "$figs/$1.png.tmp" "$figs/$1.png"
done
echo "figures.sh: ${#selected[@]} figures in $figs" >&2
