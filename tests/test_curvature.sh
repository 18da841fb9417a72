#!/usr/bin/env bash
# log.curvature_every (run/curvature.h) leaves training byte-identical: a run with the log on (a probe every 5 steps,
# 40 forward+backward passes each) and one with it off end with every checkpoint tensor equal — parameters, momentum
# buffers, BN running statistics, num_batches_tracked, the RNG streams — and the same metrics.csv (but its wall
# clock); also with dropout (the probe replays the step's masks from copies of the streams). Control: the comparison
# sees a run that differs (lr 0.5 vs 0.5000001). The log: its header, a row at steps 0, 5, ..., two_over_lr = 2/lr.
# log.curvature_source "probe" does what it says: with the parameters held still (lr 1e-30: every update rounds away)
# every row is the same (one fixed batch), while "batch" (the default, each step's own batch) gives different rows;
# the probe run also leaves training byte-identical; the key without log.curvature_every, and a probe batch of one,
# are one-line errors.
# (Its eigenvalues against a float64 dense Hessian: tests/test_curvature.c; resume: tests/test_recorders.sh.)
# usage: test_curvature.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp curv
RUN=(--set log.progress=never --set data.train_limit=600 --set train.epochs=null --set train.steps=30
     --set train.eval_every=10 --set train.checkpoint.every=15 --set train.optimizer.momentum=0.9 --set log.ics_every=0)
cat >"$T/same.py" <<'PY'
import json, struct, sys
def load(p):
    b = open(p, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n])
    return {k: b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]] for k, v in h.items() if k != "__metadata__"}
a, b = load(sys.argv[1]), load(sys.argv[2])
diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
print(len(a), len(diff), (diff + ["-"])[0])
PY
for cfg in quick-bn quick-bn-dropout; do
  extra=()
  [ $cfg = quick-bn-dropout ] && extra=(--set 'model.layers=[{"type":"dense","units":50,"bias":false},{"type":"batchnorm"},{"type":"sigmoid"},{"type":"dropout","rate":0.2},{"type":"dense","units":10}]')
  "$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" "${extra[@]}" --set log.curvature_every=5 --out "$T/$cfg-on" \
    >/dev/null 2>"$T/err"
  rc=$?
  check '[ $rc -eq 0 ] && [ -s "$T/$cfg-on/curvature.csv" ]' "$cfg: train with log.curvature_every: exit $rc, $(cat "$T/err")"
  "$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" "${extra[@]}" --out "$T/$cfg-off" >/dev/null 2>&1
  for s in 000000015 000000030; do
    read -r n nd first < <(/usr/bin/python3 "$T/same.py" "$T/$cfg-on/checkpoints/step-$s.safetensors" \
      "$T/$cfg-off/checkpoints/step-$s.safetensors" || echo "0 -1 x")
    check '[ "$n" -gt 10 ] && [ "$nd" -eq 0 ]' "$cfg step $s: $n tensors, $nd differ with the probe on (first: $first)"
  done
  check '[ "$(cut -d, -f1-7 "$T/$cfg-on/metrics.csv")" = "$(cut -d, -f1-7 "$T/$cfg-off/metrics.csv")" ]' \
    "$cfg: metrics.csv equal with the probe on and off"
done
# log.curvature_source: "probe" leaves training as it was too (checkpoints equal to the run without the log).
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --set log.curvature_every=5 --set log.curvature_source=probe \
  --out "$T/probe-on" >/dev/null 2>"$T/err"
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/probe-on/curvature.csv" ]' "curvature_source probe: exit $rc, $(cat "$T/err")"
read -r n nd first < <(/usr/bin/python3 "$T/same.py" "$T/probe-on/checkpoints/step-000000030.safetensors" \
  "$T/quick-bn-off/checkpoints/step-000000030.safetensors" || echo "0 -1 x")
check '[ "$n" -gt 10 ] && [ "$nd" -eq 0 ]' "curvature_source probe: $n tensors, $nd differ from the run without the log"
# A resume from its step-15 checkpoint (into a new directory) logs the rows 15, 20, 25 the run itself logged.
"$BNLAB" train --resume "$T/probe-on/checkpoints/step-000000015.safetensors" --out "$T/probe-res" >/dev/null 2>"$T/err"
rc=$?
check '[ $rc -eq 0 ] && [ "$(tail -n +2 "$T/probe-res/curvature.csv")" = "$(grep -E "^(15|20|25)," "$T/probe-on/curvature.csv")" ]' \
  "curvature_source probe, resumed at step 15: rows 15..25 equal the uninterrupted run's (exit $rc, $(cat "$T/err"))"
# ... and measures on one fixed batch: parameters held still (lr 1e-30), every probe row equal; "batch" rows differ.
for src in batch probe; do
  "$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --set train.optimizer.lr=1e-30 --set log.curvature_every=5 \
    --set log.curvature_source=$src --out "$T/still-$src" >/dev/null 2>&1
done
distinct() { tail -n +2 "$1" | cut -d, -f3-7 | sort -u | wc -l; }
check '[ "$(tail -n +2 "$T/still-probe/curvature.csv" | wc -l)" -eq 6 ] && [ "$(distinct "$T/still-probe/curvature.csv")" -eq 1 ]' \
  "probe source, parameters still: 6 rows, $(distinct "$T/still-probe/curvature.csv") distinct (expected 1)"
check '[ "$(distinct "$T/still-batch/curvature.csv")" -eq 6 ]' \
  "control: batch source, parameters still: $(distinct "$T/still-batch/curvature.csv") distinct rows of 6 (each step's own batch)"
check 'grep -q "\"curvature_source\":[[:space:]]*\"probe\"" "$T/still-probe/config.json" && ! grep -q curvature_source "$T/still-batch/config.json"' \
  "config.json: curvature_source written when \"probe\", left out when \"batch\""
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --set log.curvature_source=probe --out "$T/bad1" >/dev/null 2>"$T/err"
rc=$?
check '[ $rc -ne 0 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "log.curvature_source.*only used with log.curvature_every > 0" "$T/err"' \
  "curvature_source without curvature_every: exit $rc, $(cat "$T/err")"
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --set log.curvature_every=5 --set log.curvature_source=probe \
  --set log.probe_size=1 --out "$T/bad2" >/dev/null 2>"$T/err"
rc=$?
check '[ $rc -ne 0 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "log.curvature_source.*expected at least 2" "$T/err"' \
  "a probe batch of one: exit $rc, $(cat "$T/err")"
check '[ ! -e "$T/quick-bn-off/curvature.csv" ] && ! grep -q curvature "$T/quick-bn-off/config.json"' \
  "off by default: a file or a config.json key"
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --set train.optimizer.lr=0.5000001 --out "$T/other" >/dev/null 2>&1
read -r n nd first < <(/usr/bin/python3 "$T/same.py" "$T/other/checkpoints/step-000000030.safetensors" \
  "$T/quick-bn-off/checkpoints/step-000000030.safetensors" || echo "0 0 x")
check '[ "$nd" -gt 0 ]' "control: lr 0.5000001 vs 0.5 — $nd tensors differ"
check '[ "$(head -1 "$T/quick-bn-on/curvature.csv")" = "step,lr,batch_loss,grad_norm,sharpness,top_eig,top_eig_change,two_over_lr" ]' \
  "header: $(head -1 "$T/quick-bn-on/curvature.csv")"
check '[ "$(cut -d, -f1 "$T/quick-bn-on/curvature.csv" | tail -n +2 | tr "\n" " ")" = "0 5 10 15 20 25 " ]' \
  "rows at steps 0, 5, ..., 25: $(cut -d, -f1 "$T/quick-bn-on/curvature.csv" | tr "\n" " ")"
check '[ -z "$(awk -F, "NR > 1 && (\$8 != 4 || \$6 + 0 <= 0)" "$T/quick-bn-on/curvature.csv")" ]' \
  "two_over_lr = 4 at lr 0.5 and a positive top eigenvalue on every row"
finish curvature_probe
