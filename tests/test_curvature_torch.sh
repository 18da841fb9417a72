#!/usr/bin/env bash
# log.curvature_every on the paper's networks (784-100-100-100-10 sigmoid, N(0, 0.01²) init, lr 0.5, batch 60; with
# BN and without) against PyTorch in float64 (tests/curvature_torch.py): the rows at steps 100 and 200, measured on
# the probe batch (log.curvature_source "probe"; and at steps 10 and 20 on the step's own batch, the training set cut
# to one batch), reproduced from the checkpoints of those steps with exact Hessian-vector products (double backward):
# batch loss, ‖g‖, sharpness and the 20-iteration top eigenvalue, each within the tolerance curvature_torch.py derives
# from float32 rounding of sums of products, of θ ± hv and of the gradients, the finite difference's truncation, and
# the iteration count. Negative controls (planted errors in the reference): BN in
# evaluation mode (running statistics) instead of the batch's, and the probe batch shifted by one image — each must
# fail.
# usage: test_curvature_torch.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp curvtorch
need_torch "$ROOT"
PY="$(dirname "${BASH_SOURCE[0]}")/curvature_torch.py"
for net in bn nobn; do
  "$BNLAB" train "$ROOT/configs/mnist-$net.json" --set log.progress=never --set train.steps=201 \
    --set train.eval_every=100 --set log.ics_every=0 --set log.percentiles.every=0 --set log.curvature_every=100 \
    --set log.curvature_source=probe --set train.checkpoint.every=100 --out "$T/$net" >/dev/null 2>"$T/err"
  rc=$?
  check '[ $rc -eq 0 ] && [ -s "$T/$net/curvature.csv" ]' "train mnist-$net with the curvature log: exit $rc, $(cat "$T/err")"
  for step in 100 200; do
    out=$(/usr/bin/python3 "$PY" "$T/$net" $step 2>&1)
    rc=$?
    echo "$out"
    check '[ $rc -eq 0 ] && [ "$(echo "$out" | grep -c "^ok ")" -eq 4 ]' "mnist-$net step $step: bnlab against float64 torch (exit $rc)"
  done
done
# The step's own batch (log.curvature_source "batch", the default): with the training set cut to one batch of 60, each
# step's batch is those 60 images in another order, which the loss and its Hessian do not see. Steps 10 and 20: by
# step 100 the 60 images are fitted (‖g‖ 0.03) and the derived tolerance, 27 %, would say little.
"$BNLAB" train "$ROOT/configs/mnist-bn.json" --set log.progress=never --set train.steps=21 --set data.train_limit=60 \
  --set train.eval_every=10 --set log.ics_every=0 --set log.percentiles.every=0 --set log.curvature_every=10 \
  --set train.checkpoint.every=10 --out "$T/bn-batch" >/dev/null 2>"$T/err"
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/bn-batch/curvature.csv" ]' "train mnist-bn on one batch with the curvature log: exit $rc, $(cat "$T/err")"
for step in 10 20; do
  out=$(/usr/bin/python3 "$PY" "$T/bn-batch" $step 2>&1)
  rc=$?
  echo "$out"
  check '[ $rc -eq 0 ] && [ "$(echo "$out" | grep -c "^ok ")" -eq 4 ]' "mnist-bn, the step's batch, step $step: bnlab against float64 torch (exit $rc)"
done
for planted in --eval-bn "--offset 1"; do
  # shellcheck disable=SC2086  # two words: the option and its value
  out=$(/usr/bin/python3 "$PY" "$T/bn" 100 $planted 2>&1)
  rc=$?
  echo "$out"
  check '[ $rc -eq 1 ] && echo "$out" | grep -q "^FAIL "' "control: the reference with $planted (a planted error) must not agree (exit $rc)"
done
finish curvature_torch
