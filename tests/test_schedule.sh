#!/usr/bin/env bash
# train.lr_schedule {"type": "exponential", "per_step": r} (nn/optim.h) does what it says in a real run: metrics.csv's
# lr column (the rate of the row's last step, step − 1 counted from 0) is 0.5·r^(step−1) to 9 digits, for r = 1.1
# and r = 0.9; the constant schedule's column stays 0.5 (control). Strict: per_step missing with "exponential",
# per_step given with "step", and per_step outside [0.5, 2] are each one error line naming the key, exit 1.
# usage: test_schedule.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp sched
RUN=(--set log.progress=never --set data.train_limit=600 --set train.epochs=null --set train.steps=20
     --set train.eval_every=5 --set log.ics_every=0 --set log.percentiles.every=0)
for r in 1.1 0.9 const; do
  s='{"type":"exponential","per_step":'$r'}'
  [ $r = const ] && s='{"type":"constant"}'
  "$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --set "train.lr_schedule=$s" --out "$T/$r" >/dev/null 2>"$T/err"
  rc=$?
  check '[ $rc -eq 0 ]' "train with lr_schedule $s: exit $rc, $(cat "$T/err")"
  want=$r; [ $r = const ] && want=1
  bad=$(awk -F, -v r="$want" 'NR > 2 { w = 0.5 * r ^ ($1 - 1); d = $7 - w; if (d < 0) d = -d; if (d > 1e-8 * w) print $1 ": " $7 " vs " w }' "$T/$r/metrics.csv")
  rows=$(awk 'END { print NR - 2 }' "$T/$r/metrics.csv")
  check '[ "$rows" -eq 4 ] && [ -z "$bad" ]' "per_step $r: metrics.csv lr = 0.5·r^(step−1) on $rows rows; off: $bad"
done
check '[ "$(sed -n 6p "$T/1.1/metrics.csv" | cut -d, -f7)" != "$(sed -n 6p "$T/const/metrics.csv" | cut -d, -f7)" ]' \
  "control: the exponential run's lr differs from the constant one's at step 20"
bad_cfg() {
  "$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --set "train.lr_schedule=$1" --out "$T/bad" >/dev/null 2>"$T/err"
  local rc=$? want=$2
  check '[ $rc -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -qF "$want" "$T/err" && [ ! -e "$T/bad" ]' \
    "lr_schedule $1: exit $rc, want one line with '$want': $(cat "$T/err")"
}
bad_cfg '{"type":"exponential"}' 'train.lr_schedule.per_step: missing (required with type "exponential")'
bad_cfg '{"type":"step","step_size":3,"per_step":1.1}' 'train.lr_schedule.per_step: only used with type "exponential"'
bad_cfg '{"type":"exponential","per_step":3}' 'train.lr_schedule.per_step: expected a number in [0.5, 2], got 3'
finish schedule
