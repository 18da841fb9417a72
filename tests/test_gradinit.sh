#!/usr/bin/env bash
# bnlab gradinit: the report's lines (per-layer gradient norms, the fitted growth beside Yang et al.'s value, the
# Jacobian spectra), the same report for the same command (deterministic), --steps measuring after training started,
# --batches/--seeds changing what is measured, and one-line refusals of bad options. The numbers themselves are tested
# against float64 in test_gradstats.c (gradients, the fit) and test_jacobian.c (singular values).
set -u
bnlab=$1 root=$2
source "$root/tests/harness.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cfg=$root/configs/deep-relu.json
"$bnlab" gradinit "$cfg" --set 'model.layers[0].repeat=6' --batches 3 --seeds 2 --steps 3 --jacobian 4 \
  > "$tmp/a.txt" 2> "$tmp/err.txt"
rc=$?
check '[ $rc -eq 0 ]' "gradinit failed: $(cat "$tmp/err.txt")"
check "grep -q 'mean |dL/dW|^2' '$tmp/a.txt'" "no per-layer table"
check "grep -qE 'growth per layer going backward.*95% interval [0-9.]+\.\.[0-9.]+ over 2 inits' '$tmp/a.txt'" \
  "no fitted growth with its interval over the inits"
check "grep -q 'pi/(pi-1) = 1.4669' '$tmp/a.txt'" "Yang et al.'s value not beside it"
check "grep -q '^after 3 SGD steps' '$tmp/a.txt'" "not measured again after 3 steps"
check "grep -q ' (a) ' '$tmp/a.txt' && grep -q ' (b) ' '$tmp/a.txt'" "no Jacobian spectra of both kinds"
"$bnlab" gradinit "$cfg" --set 'model.layers[0].repeat=6' --batches 3 --seeds 2 --steps 3 --jacobian 4 > "$tmp/b.txt" 2>&1
check "cmp -s '$tmp/a.txt' '$tmp/b.txt'" "the same command gave two reports"
"$bnlab" gradinit "$cfg" --set 'model.layers[0].repeat=6' --batches 4 > "$tmp/c.txt" 2>&1
check "grep -q '4 samples (1 init x 4 batches of 60)' '$tmp/c.txt'" "--batches 4 without --seeds: not 4 samples of one init"
check "grep -q 'over 4 batches of one init' '$tmp/c.txt'" "one init: the interval is not over its batches"
check "! grep -q 'Jacobian' '$tmp/c.txt'" "spectra without --jacobian"
"$bnlab" gradinit "$cfg" --jacobian 17 > "$tmp/out.txt" 2> "$tmp/err.txt"
rc=$?
check '[ $rc -ne 0 ] && [ $(wc -l < "$tmp/err.txt") -eq 1 ]' "--jacobian 17 not refused in one line"
check "grep -q 'jacobian: expected 2..16 examples' '$tmp/err.txt'" "--jacobian 17: $(cat "$tmp/err.txt")"
"$bnlab" gradinit "$cfg" --set 'model.layers[0].repeat=0' > "$tmp/out.txt" 2> "$tmp/err.txt"
check "grep -q 'model.layers\[0\].repeat.*expected an integer in \[1, 512\], got 0' '$tmp/err.txt'" \
  "a bad repeat: $(cat "$tmp/err.txt")"
"$bnlab" gradinit "$cfg" --set 'model.layers[0].repeat=2' > "$tmp/d.txt" 2>&1
check "grep -q 'growth: not fitted' '$tmp/d.txt'" "too shallow to fit, but not said so"
finish gradinit
