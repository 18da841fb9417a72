#!/usr/bin/env bash
# bnlab fold from the command line: the folded checkpoint is a network of plain dense layers that eval, predict and
# PyTorch (torch_load.py, as nn.Linear) use, with the unfolded network's predictions to float rounding; with
# --bn-stats algorithm2 the statistics are Algorithm 2's (the same as recalibrate, then fold); the refusals.
# usage: test_fold.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
need_torch "$ROOT"
test_tmp fold
IMG="$ROOT/datasets/mnist-subset/t10k-images-idx3-ubyte.gz"
# max |p_a - p_b| over two predict CSVs, and the number of examples whose predicted class differs.
cmp_pred() { paste -d, "$1" "$2" | awk -F, -v C=10 'NR > 1 { for (k = 3; k < 3 + C; k++) { d = $k - $(k + 2 + C);
  if (d < 0) d = -d; if (d > m) m = d } if ($2 != $(4 + C)) n++ } END { printf "%g %d\n", m, n }'; }

"$BNLAB" train "$ROOT/configs/mnist-bn.json" --set train.steps=300 --set log.progress=never --out "$T/bn" >/dev/null 2>&1
CK="$T/bn/checkpoints/step-000000300.safetensors"
out=$("$BNLAB" fold "$T/bn" --out "$T/folded.safetensors" 2>&1)
rc=$?
check '[ $rc -eq 0 ] && echo "$out" | grep -q "3 BN layers folded (statistics running"' "fold: $out"
# Plain dense layers: the stored torch modules are Linear and Sigmoid only, and the dense layers have biases.
meta=$(/usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import torch_load, json
t, m = torch_load.read_safetensors(sys.argv[2]); print(sorted({e["module"] for e in json.loads(m["torch"])}), sorted(t))' \
  "$ROOT/scripts" "$T/folded.safetensors")
check 'echo "$meta" | grep -q "^\[.Linear., .Sigmoid.\] \[.layers.0.bias., .layers.0.weight., .layers.2.bias., .layers.2.weight., .layers.4.bias., .layers.4.weight., .layers.6.bias., .layers.6.weight.\]$"' "folded tensors: $meta"
# eval: the same loss and accuracy (6 decimals); predict: the same probabilities to float rounding.
a=$("$BNLAB" eval "$T/bn" | head -1); b=$("$BNLAB" eval "$T/folded.safetensors" | head -1)
check '[ "$a" = "$b" ] && [ -n "$a" ]' "eval unfolded '$a', folded '$b'"
"$BNLAB" predict "$T/bn" "$IMG" --out "$T/bn.csv"
"$BNLAB" predict "$T/folded.safetensors" "$IMG" --out "$T/folded.csv"
read -r d n <<<"$(cmp_pred "$T/bn.csv" "$T/folded.csv")"
check 'awk -v d=$d "BEGIN { exit !(d <= 2e-6) }" && [ $n -eq 0 ]' "folded predictions: max |dp| $d, $n classes differ"
out=$(/usr/bin/python3 "$ROOT/scripts/torch_load.py" "$T/folded.safetensors" "$IMG" "$T/folded.csv" 2>&1)
rc=$?
check '[ $rc -eq 0 ] && echo "$out" | grep -q "loaded 8 tensors strictly"' "torch_load of the folded checkpoint: $out"

# --bn-stats algorithm2 equals recalibrate then fold; and differs from the running statistics' fold (the comparison
# above can fail: a negative control).
"$BNLAB" fold "$CK" --bn-stats algorithm2 --batches 20 --out "$T/folded-a2.safetensors" >/dev/null
"$BNLAB" recalibrate "$CK" --batches 20 --out "$T/recal.safetensors" >/dev/null
"$BNLAB" predict "$T/recal.safetensors" "$IMG" --out "$T/recal.csv"
"$BNLAB" predict "$T/folded-a2.safetensors" "$IMG" --out "$T/folded-a2.csv"
read -r d n <<<"$(cmp_pred "$T/recal.csv" "$T/folded-a2.csv")"
check 'awk -v d=$d "BEGIN { exit !(d <= 2e-6) }"' "fold --bn-stats algorithm2 vs recalibrate: max |dp| $d"
read -r d n <<<"$(cmp_pred "$T/bn.csv" "$T/folded-a2.csv")"
check 'awk -v d=$d "BEGIN { exit !(d > 1e-4) }"' "Algorithm 2's fold equals the running statistics' (max |dp| $d): the comparison cannot fail"
check '/usr/bin/python3 -c "import sys; sys.path.insert(0, sys.argv[1]); import torch_load
t, m = torch_load.read_safetensors(sys.argv[2]); sys.exit(not m[\"bn_statistics\"].startswith(\"algorithm2: 20 training batches of 60\"))" "$ROOT/scripts" "$T/folded-a2.safetensors"' \
  "the algorithm2 fold does not say how its statistics were taken"

# An ablation rung with no torch.nn module (normalize "mean") folds into plain Linear layers PyTorch loads.
"$BNLAB" train "$ROOT/configs/mnist-bn.json" --set train.steps=100 --set log.progress=never \
  --set 'model.layers[1]={"type":"batchnorm","normalize":"mean","affine":"none"}' --out "$T/mean" >/dev/null 2>&1
"$BNLAB" fold "$T/mean" --out "$T/mean-folded.safetensors" >/dev/null
"$BNLAB" predict "$T/mean" "$IMG" --out "$T/mean.csv"
"$BNLAB" predict "$T/mean-folded.safetensors" "$IMG" --out "$T/mean-folded.csv"
read -r d n <<<"$(cmp_pred "$T/mean.csv" "$T/mean-folded.csv")"
check 'awk -v d=$d "BEGIN { exit !(d <= 2e-6) }" && [ $n -eq 0 ]' "mean-only fold: max |dp| $d, $n classes differ"
out=$(/usr/bin/python3 "$ROOT/scripts/torch_load.py" "$T/mean/checkpoints/step-000000100.safetensors" "$IMG" "$T/mean.csv" 2>&1)
check 'echo "$out" | grep -q "layer 1 (batchnorm) has no torch.nn equivalent"' "unfolded mean-only in torch_load: $out"
out=$(/usr/bin/python3 "$ROOT/scripts/torch_load.py" "$T/mean-folded.safetensors" "$IMG" "$T/mean-folded.csv" 2>&1)
rc=$?
check '[ $rc -eq 0 ]' "folded mean-only in torch_load: $out"

# Refusals: one line, non-zero exit, nothing written.
"$BNLAB" train "$ROOT/configs/mnist-bn.json" --set train.steps=20 --set log.progress=never \
  --set 'model.layers[1]={"type":"layernorm"}' --out "$T/ln" >/dev/null 2>&1
"$BNLAB" train "$ROOT/configs/mnist-bn.json" --set train.steps=20 --set log.progress=never \
  --set 'model.layers=[{"type":"dense","units":50},{"type":"sigmoid"},{"type":"batchnorm"},{"type":"dense","units":10}]' \
  --out "$T/after" >/dev/null 2>&1
"$BNLAB" train "$ROOT/configs/mnist-nobn.json" --set train.steps=20 --set log.progress=never --out "$T/nobn" >/dev/null 2>&1
ln -s "$CK" "$T/link.safetensors"
refuse() {  # refuse MESSAGE ARGS...: exit status 1, MESSAGE in the one line, no output file
  local msg=$1; shift
  out=$("$BNLAB" fold "$@" 2>&1); rc=$?
  check '[ $rc -eq 1 ] && echo "$out" | grep -qF "$msg" && [ $(echo "$out" | wc -l) -eq 1 ] && [ ! -e "$T/x.safetensors" ] && [ ! -e "$T/bn/checkpoints/x.safetensors" ]' \
    "fold $*: rc $rc: $out"
}
refuse "model.layers[2] (batchnorm): not directly after a dense layer (sigmoid): nothing to fold it into" "$T/after" --out "$T/x.safetensors"
refuse "model.layers[1] (layernorm): normalizes each example by its own statistics" "$T/ln" --out "$T/x.safetensors"
refuse "the model has no batchnorm layer: nothing to fold" "$T/nobn" --out "$T/x.safetensors"
cp "$CK" "$T/copy.safetensors"
before=$(cksum <"$CK")
refuse "an input of this command" "$CK" --out "$T/link.safetensors"
refuse "an input of this command" "$T/link.safetensors" --out "$CK"
refuse "the checkpoints of run $T/bn" "$CK" --out "$T/bn/checkpoints/x.safetensors"
check '[ "$(cksum <"$CK")" = "$before" ]' "fold wrote onto its input"
out=$("$BNLAB" fold "$CK" --bn-stats batch --out "$T/x.safetensors" 2>&1); rc=$?
check '[ $rc -eq 2 ] && echo "$out" | grep -q "fold --bn-stats takes running or algorithm2, got .batch."' "--bn-stats batch: $out"
out=$("$BNLAB" fold "$CK" 2>&1); rc=$?
check '[ $rc -eq 2 ] && echo "$out" | grep -q "fold needs a CHECKPOINT (or run directory) and --out FILE"' "no --out: $out"
finish fold-cli
