#!/usr/bin/env bash
# log.param_stats (run/paramlog.h): param_stats.csv read back — at step 0 and at every evaluation one row per
# trainable tensor with its PyTorch name; norm, mean and std consistent (‖θ‖² = n (mean² + std²)), a BN layer's γ
# starting at 1 (norm √units) and β at 0, no gradient at step 0, eff_step = lr / ‖W‖² on dense weights only; the other
# logs byte-identical with it on and off; off by default (no file, config.json unchanged). A resumed run's file equal
# to an uninterrupted run's: tests/test_recorders.sh, for every log.
# usage: test_param_stats.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp params

RUN=(--set log.progress=never --set train.eval_every=50 --set train.checkpoint.every=133 --set log.probe_size=300
     --set log.ics_every=0 --set train.epochs=2)
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --set log.param_stats=true --out "$T/on" >/dev/null 2>"$T/on.err"
rc=$?
P="$T/on/param_stats.csv"
check '[ $rc -eq 0 ] && [ -s "$P" ]' "train with log.param_stats: exit $rc, $(cat "$T/on.err")"
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --out "$T/off" >/dev/null 2>"$T/off.err"
rc=$?
check '[ $rc -eq 0 ] && [ ! -e "$T/off/param_stats.csv" ]' "off by default: exit $rc, no param_stats.csv"
check '! grep -q param_stats "$T/off/config.json" && grep -q "\"param_stats\":[[:space:]]*true" "$T/on/config.json"' \
  "config.json records log.param_stats only when on"

check '[ "$(head -1 "$P")" = "step,epoch,layer,layer_type,tensor,n,norm,grad_norm,mean,std,eff_step" ]' "header: $(head -1 "$P")"
steps=$(awk -F, 'NR > 1 && $5 == "layers.0.weight" { printf "%s ", $1 }' "$P")
check '[ "$steps" = "0 50 100 133 150 200 250 266 " ]' "rows at step 0, every evaluation (50s and epoch ends): $steps"
tensors=$(awk -F, 'NR > 1 && $1 == 50 { printf "%s/%s/%s ", $3, $4, $5 }' "$P")
check '[ "$tensors" = "0/dense/layers.0.weight 1/batchnorm/layers.1.weight 1/batchnorm/layers.1.bias 3/dense/layers.3.weight 4/batchnorm/layers.4.weight 4/batchnorm/layers.4.bias 6/dense/layers.6.weight 7/batchnorm/layers.7.weight 7/batchnorm/layers.7.bias 9/dense/layers.9.weight 9/dense/layers.9.bias " ]' \
  "one row per trainable tensor, PyTorch names: $tensors"
bad=$(awk -F, 'NR > 1 { d = $7 * $7 - $6 * ($9 * $9 + $10 * $10); if (d < 0) d = -d; if (d > 1e-5 * $7 * $7 + 1e-12) print NR }' "$P")
check '[ -z "$bad" ]' "norm² = n (mean² + std²) on every row (bad rows: $bad)"
init=$(awk -F, 'NR > 1 && $1 == 0 && $4 == "batchnorm" { printf "%s:%s:%s:%s ", $7, $8, $9, $10 }' "$P" | tr ' ' '\n' | sort -u | tr '\n' ' ')
check '[ "$init" = "0::0:0 10::1:0 " ]' "step 0: γ = 1 (norm √100), β = 0, no gradient yet: $init"
bad=$(awk -F, 'NR > 1 && $1 > 0 && ($8 == "" || $8 <= 0) { print NR }' "$P")
check '[ -z "$bad" ]' "a positive gradient norm after step 0 (bad rows: $bad)"
bad=$(awk -F, 'NR > 1 && $1 > 0 { w = ($4 == "dense" && $5 ~ /weight$/); e = 0.5 / ($7 * $7); r = w ? ($11 - e) / e : 0;
                if (w != ($11 != "") || r > 1e-6 || r < -1e-6) print NR }' "$P")
check '[ -z "$bad" ]' "eff_step = lr / norm² on dense weights (lr 0.5), empty elsewhere (bad rows: $bad)"

# The run itself is unchanged: every other log byte for byte (metrics.csv without its seconds column).
for f in layer_stats.csv percentiles.csv; do
  check 'cmp -s "$T/on/$f" "$T/off/$f"' "$f differs with log.param_stats on"
done
check 'cmp -s <(cut -d, -f1-7 "$T/on/metrics.csv") <(cut -d, -f1-7 "$T/off/metrics.csv")' \
  "metrics.csv (but seconds) differs with log.param_stats on"


out=$("$BNLAB" train "$ROOT/configs/quick-bn.json" --set log.param_stats=3 --out "$T/bad" 2>&1)
check 'echo "$out" | grep -q "log.param_stats"' "bad value: $out"

finish param_stats
