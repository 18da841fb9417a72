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
# LayerNorm and RMSNorm against torch.nn.LayerNorm / torch.nn.RMSNorm. Debian's torch 1.13 has no RMSNorm (added in
# 2.4): torch_load.py must then refuse that network by name, never skip the layer.
LN='[{"type":"dense","units":100},{"type":"layernorm"},{"type":"sigmoid"},{"type":"dense","units":100},{"type":"layernorm","eps":0.001},{"type":"relu"},{"type":"dense","units":10}]'
RMS='[{"type":"dense","units":100},{"type":"rmsnorm"},{"type":"sigmoid"},{"type":"dense","units":10}]'
for net in LN RMS; do
  "$BNLAB" train "$ROOT/configs/mnist-bn.json" --set train.steps=600 --set log.progress=never --set "model.layers=${!net}" \
    --out "$T/$net" >/dev/null 2>&1
  ck="$T/$net/checkpoints/step-000000600.safetensors"
  "$BNLAB" predict "$ck" "$IMG" --out "$T/$net.csv"
  out=$(/usr/bin/python3 "$ROOT/scripts/torch_load.py" "$ck" "$IMG" "$T/$net.csv" 2>&1)
  rc=$?
  if [ $net = RMS ] && ! /usr/bin/python3 -c 'import torch; torch.nn.RMSNorm' 2>/dev/null; then
    check '[ $rc -ne 0 ] && echo "$out" | grep -q "layer 1 (rmsnorm) has no torch.nn equivalent"' "RMSNorm without torch.nn.RMSNorm: $out"
  else
    check '[ $rc -eq 0 ]' "$net: $out"
  fi
done
finish torch
