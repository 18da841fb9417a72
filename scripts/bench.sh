#!/usr/bin/env bash
# Speed and memory, measured (nothing here is asserted by the test suite):
#  1. bnlab bench: the machine's FMA peak (AVX2, AVX-512), then µs/step and examples/s of the paper's network
#     (784-100-100-100-10 sigmoid) for batch 60 and 256, BN on and off, 1 and 2 BLAS threads, with each GEMM backend
#     (OpenBLAS, libxsmm) in the same process, against the GEMM-only bound, and the step's GFLOP/s as % of the peak;
#  2. PyTorch (Debian's python3-torch, if importable; `--torch` installs it) on the same cases, same process
#     layout, and the ratio bnlab/PyTorch in examples/s;
#  3. gzip'd IDX loading against zcat (printed by bnlab bench);
#  4. peak RSS of a Fashion-MNIST training run against the data's own size (if the data set is installed);
#  5. with --compare (minutes): `bnlab compare configs/fig1.json --seeds 1` (BN and no-BN, 50,000 steps each, in
#     parallel with one BLAS thread each), dense and sparse input, against the same two runs one after the other
#     in PyTorch (one thread, the test set evaluated every 50 steps as the config does; PyTorch does none of
#     bnlab's other logging).
#  6. with --full (about 25 minutes on the idle machine): Fig. 1 at the paper's scale, `bnlab compare configs/fig1-full.json --seeds 3
#     --set train.eval_every=50` (full MNIST, BN and no-BN, 3 seeds, 50,000 steps, all 10,000 test images every 50
#     steps; two runs at a time, one BLAS thread each), dense and sparse input, each with both GEMM backends
#     (--set train.gemm=openblas|libxsmm), against the same six runs one after the other in PyTorch with the thread
#     count that is faster for it (1 or 2, chosen by a short trial in the same run); the targets (issue 27) are
#     <= 120 s and <= 0.2x PyTorch. Fetches the full MNIST first if it is missing. --full-steps=N and --full-seeds=N
#     shrink it (bnlab and PyTorch alike) for a quick look at the ratios on a busy machine; --torch-threads=N skips
#     PyTorch's thread trial (on a loaded machine its 2-thread half can take 15 minutes).
#  7. with --threads: the step with 1 and 2 BLAS threads (bnlab bench) beside build/bench-threads, which times the
#     step's GEMMs back to back, with pauses between them, with the step's writes between them, and with both.
# Extra arguments (batch=60, bn=on, threads=1, input=sparse) restrict the cases, as for bnlab bench.
#   usage: scripts/bench.sh [--torch] [--steps=N] [--compare] [--full [--full-steps=N] [--full-seeds=N]
#                           [--torch-threads=N]] [--threads]
#                           [--no-cases] [FILTER...]
#   --no-cases skips 1-4 (the case table, PyTorch beside it, IDX loading, RSS).
set -uo pipefail
cd "$(dirname "$0")/.."
# Every temporary file and run directory below (mktemp) lies in one directory, removed however the script ends:
# Ctrl-C, SIGTERM or SIGHUP exit through the EXIT trap.
TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/bnlab-bench-XXXXXX") || exit 1
export TMPDIR
trap 'rm -rf -- "$TMPDIR"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
steps=300
full_steps=50000
full_seeds=3
filters=()
for a in "$@"; do
  case $a in
    --torch) want_torch=1 ;;
    --steps=*) steps=${a#--steps=} ;;
    --compare) want_compare=1 ;;
    --full) want_full=1 ;;
    --full-steps=*) full_steps=${a#--full-steps=} ;;
    --full-seeds=*) full_seeds=${a#--full-seeds=} ;;
    --torch-threads=*) torch_threads=${a#--torch-threads=} ;;
    --threads) want_threads=1 ;;
    --no-cases) no_cases=1 ;;
    *=*) filters+=("$a") ;;
    *) echo "bench.sh: unknown argument '$a'" >&2; exit 2 ;;
  esac
done
bash scripts/setup.sh >/dev/null || exit 1
PY=/usr/bin/python3
if [ "${want_torch:-0}" = 1 ]; then bash scripts/ensure-packages.sh python3-torch || exit 1; fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(build/bnlab --version)"
if [ "${no_cases:-0}" != 1 ]; then
  out=$(mktemp)
  build/bnlab bench --steps "$steps" "${filters[@]}" | tee "$out"
  if $PY -c 'import torch' 2>/dev/null; then
    echo
    echo "PyTorch $($PY -c 'import torch; print(torch.__version__)') on the same cases:"
    printf '%6s %4s %7s %6s %8s %14s %14s %18s\n' batch bn threads input gemm "torch us/step" "torch ex/s" \
      "bnlab/torch ex/s"
    declare -A torch_us  # PyTorch has one (dense) network: measured once per batch/BN/threads, beside both inputs
    awk 'NF == 13 && $1 ~ /^[0-9]+$/ {print $1, $2, $3, $4, $5, $7}' "$out" | while read -r batch bn threads input gemm ex; do
      b=$([ "$bn" = on ] && echo 1 || echo 0)
      key="$batch/$bn/$threads"
      [ -n "${torch_us[$key]:-}" ] ||
        torch_us[$key]=$(OMP_NUM_THREADS=$threads $PY scripts/bench_torch.py datasets/mnist-subset "$batch" "$b" "$threads" "$steps")
      us=${torch_us[$key]}
      awk -v B="$batch" -v bn="$bn" -v t="$threads" -v inp="$input" -v g="$gemm" -v us="$us" -v ex="$ex" \
        'BEGIN {tex = B / (us * 1e-6); printf "%6d %4s %7d %6s %8s %14.1f %14.0f %17.2fx\n", B, bn, t, inp, g, us, tex, ex / tex}'
    done
  else
    echo
    echo "PyTorch: not installed (python3-torch); run scripts/bench.sh --torch for the side-by-side column"
  fi
  rm -f "$out"
  if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    T=$(mktemp -d)
    build/bnlab train configs/fashion-bn.json --set train.steps=2000 --set log.progress=never --out "$T/r" >/dev/null
    rss=$(grep -o '"peak_rss_mb":[^,}]*' "$T/r/summary.json" | cut -d: -f2 | tr -d '\t ')
    data=$(awk 'BEGIN {printf "%.1f", (60000 + 10000) * 785 / 1048576}')
    echo
    echo "Fashion-MNIST run (60k + 10k images): peak RSS ${rss} MB; the images and labels as uint8 are ${data} MB"
    rm -rf "$T"
  fi
fi
if [ "${want_compare:-0}" = 1 ]; then
  declare -A secs
  T=$(mktemp -d)
  echo
  echo "Fig. 1 pair (BN and no-BN, 50,000 steps each, test set every 50 steps):"
  for input in dense sparse; do
    set_sparse=()
    [ "$input" = sparse ] && set_sparse=(--set 'model.layers[0].sparse_input=true')
    t0=$(date +%s.%N)
    build/bnlab compare configs/fig1.json --seeds 1 "${set_sparse[@]}" --out "$T/$input" >/dev/null 2>&1 || exit 1
    secs[$input]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
    echo "  bnlab compare, $input input, both runs in parallel: ${secs[$input]} s"
  done
  if $PY -c 'import torch' 2>/dev/null; then
    tb=$(OMP_NUM_THREADS=1 $PY scripts/bench_torch.py run datasets/mnist-subset 1 50000 50)
    tn=$(OMP_NUM_THREADS=1 $PY scripts/bench_torch.py run datasets/mnist-subset 0 50000 50)
    awk -v tb="$tb" -v tn="$tn" -v d="${secs[dense]}" -v s="${secs[sparse]}" 'BEGIN {
      printf "  PyTorch, the same two runs one after the other: %.1f s (BN %.1f s + no-BN %.1f s)\n", tb + tn, tb, tn;
      printf "  bnlab / PyTorch time: dense input %.2fx, sparse input %.2fx\n", d / (tb + tn), s / (tb + tn) }'
  fi
  rm -rf "$T"
fi
if [ "${want_threads:-0}" = 1 ]; then
  echo
  echo "One training step with 1 and 2 BLAS threads (batch 60, BN on, dense input), then its GEMMs alone:"
  build/bnlab bench --steps "$steps" batch=60 bn=on input=dense
  build/bench-threads --steps "$((steps * 4))"
fi
seconds_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}'; }
if [ "${want_full:-0}" = 1 ]; then
  [ -f datasets/mnist/t10k-labels-idx1-ubyte.gz ] || bash scripts/datasets.sh --mnist || exit 1
  declare -A full
  T=$(mktemp -d)
  echo
  echo "Fig. 1 at the paper's scale: configs/fig1-full.json, $full_seeds seeds x (BN, no-BN), $full_steps steps, the"
  echo "10,000 test images every 50 steps, $(nproc) runs at a time:"
  for input in dense sparse; do
    for gemm in openblas libxsmm; do
      set_sparse=()
      [ "$input" = sparse ] && set_sparse=(--set 'model.layers[0].sparse_input=true')
      t0=$(date +%s.%N)
      build/bnlab compare configs/fig1-full.json --seeds "$full_seeds" --set train.eval_every=50 \
        --set train.steps="$full_steps" --set train.gemm=$gemm "${set_sparse[@]}" --out "$T/$input-$gemm" \
        >/dev/null 2>&1 || { echo "bench.sh: bnlab compare failed ($input input, $gemm)" >&2; exit 1; }
      full[$input-$gemm]=$(seconds_since "$t0")
      echo "  bnlab compare, $input input, $gemm: ${full[$input-$gemm]} s"
    done
  done
  awk -v a="${full[dense-openblas]}" -v b="${full[dense-libxsmm]}" -v c="${full[sparse-openblas]}" \
    -v d="${full[sparse-libxsmm]}" 'BEGIN {
    printf "  libxsmm / openblas time: dense input %.2fx, sparse input %.2fx\n", b / a, d / c }'
  if $PY -c 'import torch' 2>/dev/null; then
    if [ -n "${torch_threads:-}" ]; then
      th=$torch_threads
      echo "  PyTorch with $th thread(s) (--torch-threads, no trial)"
    else
      # PyTorch's faster thread count for this run shape, from a 2,000-step trial of each (same evaluations).
      t1=$($PY scripts/bench_torch.py run datasets/mnist 1 2000 50 1 1)
      t2=$($PY scripts/bench_torch.py run datasets/mnist 1 2000 50 2 1)
      th=$(awk -v a="$t1" -v b="$t2" 'BEGIN {print (b < a) ? 2 : 1}')
      echo "  PyTorch trial, 2,000 steps of the BN run: ${t1} s with 1 thread, ${t2} s with 2; the runs use $th"
    fi
    total=0
    for bn in 1 0; do
      for seed in $(seq 1 "$full_seeds"); do
        t=$($PY scripts/bench_torch.py run datasets/mnist "$bn" "$full_steps" 50 "$th" "$seed") || exit 1
        total=$(awk -v a="$total" -v b="$t" 'BEGIN {printf "%.2f", a + b}')
      done
    done
    echo "  PyTorch, the same $((2 * full_seeds)) runs one after the other: $total s"
    for k in dense-openblas dense-libxsmm sparse-openblas sparse-libxsmm; do
      awk -v k="$k" -v tt="$total" -v d="${full[$k]}" -v paper=$([ "$full_steps" = 50000 ] && [ "$full_seeds" = 3 ] && echo 1 || echo 0) 'BEGIN {
        printf "  bnlab / PyTorch time, %s: %.2fx (target <= 0.2x)", k, d / tt
        if (paper) printf "; within 120 s: %s", d <= 120 ? "yes" : "no"
        printf "\n" }'
    done
  else
    echo "  PyTorch: not installed (python3-torch); run with --torch for the reference"
  fi
  rm -rf "$T"
fi
