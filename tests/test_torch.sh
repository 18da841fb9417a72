#!/usr/bin/env bash
# PyTorch as the numerical reference: a bnlab checkpoint loads into the equivalent nn.Sequential with
# load_state_dict(strict=True), and PyTorch's evaluation-mode probabilities (BatchNorm1d on the running
# statistics) equal bnlab predict's. Installs Debian's python3-torch through scripts/ensure-packages.sh; fails
# (never skips) when it cannot be installed.
# usage: test_torch.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
need_torch "$ROOT"
test_tmp torch
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
# Training in lockstep (scripts/torch_lockstep.py): PyTorch repeats 201 steps of each normalization from the run's
# first checkpoint with the same batches, and every parameter and running statistic agrees at every 10th step within
# 10x the drift of PyTorch's own float32 run from float64. lr 0.02 (and BN at 0.5): at lr 0.1 the LayerNorm, RMSNorm
# and ghost networks amplify rounding (float32 alone moves them by > 1e-3 within 100 steps), and agreement would
# prove nothing.
# Ghost BN at batch 9 in blocks of 4: the last block is 5 rows (a block of one joins the one before).
H='"hidden":[100,100,100]'
declare -A NORM=(
  [bn]='{"type":"batchnorm"}' [layernorm]='{"type":"layernorm"}' [rmsnorm]='{"type":"rmsnorm","eps":0.001}'
  [renorm]='{"type":"batchnorm","variant":"renorm","renorm_start":20,"r_max_step":150,"d_max_step":100}'
  [ghost]='{"type":"batchnorm","variant":"ghost","ghost_batch":4}' [constant]='{"type":"batchnorm","variant":"constant_stats"}'
  [cumulative]='{"type":"batchnorm","momentum":"cumulative"}' [bn-lr0.5]='{"type":"batchnorm"}')
for n in bn layernorm rmsnorm renorm ghost constant cumulative bn-lr0.5; do
  batch=8; [ $n = ghost ] && batch=9
  lr=0.02; [ $n = bn-lr0.5 ] && lr=0.5  # BN at the Fig. 1 lr stays well within float32's drift: 5e-6 by step 201
  "$BNLAB" train "$ROOT/configs/mnist-bn.json" --set model.layers=null --set "model.stack={$H,\"norm\":${NORM[$n]}}" \
    --set train.steps=201 --set train.batch_size=$batch --set train.optimizer.lr=$lr --set train.checkpoint.every=10 \
    --set train.checkpoint.keep=100 --set train.eval_every=0 --set log.ics_every=0 --set log.percentiles.every=0 \
    --set log.stats=false --set log.progress=never --out "$T/lockstep $n" >/dev/null 2>&1
  out=$(/usr/bin/python3 "$ROOT/scripts/torch_lockstep.py" "$T/lockstep $n" 2>&1)
  rc=$?
  check '[ $rc -eq 0 ] && echo "$out" | grep -q "steps 10..201 in lockstep, 20 checkpoints compared"' "lockstep $n: $out"
done
# BN's ablation ladder (nn/bnvariants.h) against its formulas in PyTorch (torch_lockstep.py's AblationBatchNorm), each
# option in a run of its own at lr 0.02; and a negative control for each: repeated with plain BatchNorm1d
# (--ignore-options), the same run must fail the check. Networks where float32's own drift stays below 1e-3 over
# the 201 steps: "mean" with ReLU (with sigmoids a second BN's beta gets gradients of ~1e-12, rounding noise),
# "variance" with two hidden layers (with three, float32 alone moves the last beta by 2e-3). freeze_stats_after 50:
# the control fails only from step 60 on, after the freeze.
declare -A LADDER=(
  [mean]='"hidden":[100,100,100],"activation":"relu","norm":{"type":"batchnorm","normalize":"mean"}'
  [variance]='"hidden":[100,100],"norm":{"type":"batchnorm","normalize":"variance"}'
  [affine-none]='"hidden":[100,100,100],"norm":{"type":"batchnorm","affine":"none"}'
  [affine-frozen]='"hidden":[100,100,100],"norm":{"type":"batchnorm","affine":"frozen"}'
  [population]='"hidden":[100,100,100],"norm":{"type":"batchnorm","statistics":"population"}'
  [freeze]='"hidden":[100,100,100],"norm":{"type":"batchnorm","freeze_stats_after":50}')
for n in mean variance affine-none affine-frozen population freeze; do
  "$BNLAB" train "$ROOT/configs/mnist-bn.json" --set model.layers=null --set "model.stack={${LADDER[$n]}}" \
    --set train.steps=201 --set train.batch_size=8 --set train.optimizer.lr=0.02 --set train.checkpoint.every=10 \
    --set train.checkpoint.keep=100 --set train.eval_every=0 --set log.ics_every=0 --set log.percentiles.every=0 \
    --set log.stats=false --set log.progress=never --out "$T/ladder $n" >/dev/null 2>&1
  out=$(/usr/bin/python3 "$ROOT/scripts/torch_lockstep.py" "$T/ladder $n" 2>&1)
  rc=$?
  check '[ $rc -eq 0 ] && echo "$out" | grep -q "steps 10..201 in lockstep, 20 checkpoints compared"' "ladder $n: $out"
  out=$(/usr/bin/python3 "$ROOT/scripts/torch_lockstep.py" "$T/ladder $n" --ignore-options 2>&1)
  rc=$?
  check '[ $rc -eq 1 ] && echo "$out" | grep -q "^FAILED"' "ladder $n with its option ignored passed the check: $out"
done
# The ladder's checkpoints in PyTorch's evaluation mode (torch_load.py): the options whose inference is
# BatchNorm1d's load (affine "none" as BatchNorm1d(affine=False), no weight or bias); "mean" and "variance" have no
# torch.nn module and are refused by name.
for n in affine-none population mean; do
  ck="$T/ladder $n/checkpoints/step-000000201.safetensors"
  "$BNLAB" predict "$ck" "$IMG" --out "$T/ladder-$n.csv"
  out=$(/usr/bin/python3 "$ROOT/scripts/torch_load.py" "$ck" "$IMG" "$T/ladder-$n.csv" 2>&1)
  rc=$?
  if [ $n = mean ]; then
    check '[ $rc -ne 0 ] && echo "$out" | grep -q "layer 1 (batchnorm) has no torch.nn equivalent"' "ladder mean in torch_load: $out"
  else
    check '[ $rc -eq 0 ]' "ladder $n in torch_load: $out"
  fi
done
# A run it cannot repeat is refused by name, not passed: dropout draws random numbers.
"$BNLAB" train "$ROOT/configs/mnist-bn.json" --set 'model.layers=[{"type":"dense","units":20},{"type":"sigmoid"},{"type":"dropout","rate":0.5},{"type":"dense","units":10}]' \
  --set train.steps=4 --set train.checkpoint.every=2 --set log.percentiles.every=0 --set log.progress=never --out "$T/dropout" >/dev/null 2>&1
out=$(/usr/bin/python3 "$ROOT/scripts/torch_lockstep.py" "$T/dropout" 2>&1)
rc=$?
check '[ $rc -eq 2 ] && echo "$out" | grep -q "model.layers\[2\]: a dropout layer draws random numbers"' "lockstep dropout: $out"
finish torch
