#!/usr/bin/env bash
# PyTorch as the numerical reference: a bnlab checkpoint loads into the equivalent nn.Sequential with
# load_state_dict(strict=True), and PyTorch's evaluation-mode probabilities (BatchNorm1d on the running
# statistics) equal bnlab predict's. Skipped (exit 77) when Debian's python3-torch is not installed.
# usage: test_torch.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
/usr/bin/python3 -c 'import torch' 2>/dev/null || { echo "python3-torch not installed: skipped"; exit 77; }
T=$(mktemp -d /tmp/bnlab-torch-XXXXXX)
trap 'rm -rf "$T"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
IMG="$ROOT/datasets/mnist-subset/t10k-images-idx3-ubyte.gz"
for cfg in mnist-bn mnist-nobn; do
  "$BNLAB" train "$ROOT/configs/$cfg.json" --set train.steps=600 --set log.progress=never --out "$T/$cfg" >/dev/null 2>&1
  ck="$T/$cfg/checkpoints/step-000000600.safetensors"
  "$BNLAB" predict "$ck" "$IMG" --out "$T/$cfg.csv"
  out=$(/usr/bin/python3 "$ROOT/scripts/torch_load.py" "$ck" "$IMG" "$T/$cfg.csv" 2>&1)
  rc=$?
  check '[ $rc -eq 0 ]' "$cfg: $out"
done
finish torch
