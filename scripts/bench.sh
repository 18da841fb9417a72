#!/usr/bin/env bash
# Speed and memory, measured (nothing here is asserted by the test suite):
#  1. bnlab bench: µs/step and examples/s of the paper's network (784-100-100-100-10 sigmoid) for batch 60 and 256,
#     BN on and off, 1 and 2 BLAS threads, against the GEMM-only bound measured in the same process;
#  2. PyTorch (Debian's python3-torch, if importable; `--torch` installs it) on the same cases, same process
#     layout, and the ratio bnlab/PyTorch in examples/s;
#  3. gzip'd IDX loading against zcat (printed by bnlab bench);
#  4. peak RSS of a Fashion-MNIST training run against the data's own size (if the data set is installed).
#   usage: scripts/bench.sh [--torch] [--steps N]
set -uo pipefail
cd "$(dirname "$0")/.."
steps=300
for a in "$@"; do
  case $a in
    --torch) want_torch=1 ;;
    --steps=*) steps=${a#--steps=} ;;
  esac
done
bash scripts/setup.sh >/dev/null || exit 1
PY=/usr/bin/python3
if [ "${want_torch:-0}" = 1 ]; then bash scripts/ensure-packages.sh python3-torch || exit 1; fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(build/bnlab --version)"
out=$(mktemp)
build/bnlab bench --steps "$steps" | tee "$out"
if $PY -c 'import torch' 2>/dev/null; then
  echo
  echo "PyTorch $($PY -c 'import torch; print(torch.__version__)') on the same cases:"
  printf '%6s %4s %7s %14s %14s %18s\n' batch bn threads "torch us/step" "torch ex/s" "bnlab/torch ex/s"
  awk 'NR > 1 && NF == 9 {print $1, $2, $3, $5}' "$out" | while read -r batch bn threads ex; do
    b=$([ "$bn" = on ] && echo 1 || echo 0)
    us=$(OMP_NUM_THREADS=$threads $PY scripts/bench_torch.py datasets/mnist-subset "$batch" "$b" "$threads" "$steps")
    awk -v B="$batch" -v bn="$bn" -v t="$threads" -v us="$us" -v ex="$ex" \
      'BEGIN {tex = B / (us * 1e-6); printf "%6d %4s %7d %14.1f %14.0f %17.2fx\n", B, bn, t, us, tex, ex / tex}'
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
