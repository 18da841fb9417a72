#!/usr/bin/env bash
# Same seed, thread count and GEMM backend => byte-identical logs; the backend is recorded in environment.json.
# Runs with the backend the environment forces (meson runs it as determinism@openblas, @libxsmm and @portable,
# BNLAB_GEMM set): the paper's network (dense first layer, BN), 300 steps with the test set every 50, twice with 1
# BLAS thread and twice with 2. Then train.gemm forces each backend against the environment: the config wins, the
# two backends' runs differ (at rounding) and agree closely.
# usage: test_determinism.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp determinism
want=${BNLAB_GEMM:-auto}
RUN=(--set train.steps=300 --set train.eval_every=50 --set log.ics_every=100 --set log.progress=never)
strip() { cut -d, -f1-7 "$1"; }  # metrics.csv without its wall-clock column
for th in 1 2; do
  for k in 1 2; do
    "$BNLAB" train "$ROOT/configs/mnist-bn.json" "${RUN[@]}" --threads $th --out "$T/t$th-$k" >/dev/null 2>&1
  done
  check '[ -s "$T/t$th-1/metrics.csv" ] && cmp -s <(strip "$T/t$th-1/metrics.csv") <(strip "$T/t$th-2/metrics.csv")' \
    "$want, $th thread(s): metrics differ between two runs"
  for f in layer_stats.csv percentiles.csv ics.csv; do
    check 'cmp -s "$T/t$th-1/$f" "$T/t$th-2/$f"' "$want, $th thread(s): $f differs between two runs"
  done
  check 'cmp -s "$T/t$th-1/checkpoints/step-000000300.safetensors" "$T/t$th-2/checkpoints/step-000000300.safetensors"' \
    "$want, $th thread(s): final checkpoints differ"
done
backend=$(grep -o '"gemm_backend":[^,}]*' "$T/t1-1/environment.json" | cut -d'"' -f4)
check '[ -n "$backend" ] && grep -q "\"gemm_target\"" "$T/t1-1/environment.json" && grep -q "\"gemm_reason\"" "$T/t1-1/environment.json"' \
  "environment.json lacks the GEMM backend: $(cat "$T/t1-1/environment.json")"
[ "$want" = auto ] || check '[ "$backend" = "$want" ]' "BNLAB_GEMM=$want, but the run recorded '$backend'"
# The config key wins over the environment, and says so.
for b in openblas libxsmm portable; do
  "$BNLAB" train "$ROOT/configs/mnist-bn.json" "${RUN[@]}" --set train.gemm=$b --out "$T/g-$b" >/dev/null 2>&1
  check 'grep -q "\"gemm_backend\":[[:space:]]*\"$b\"" "$T/g-$b/environment.json" && grep -q "train.gemm" "$T/g-$b/environment.json"' \
    "train.gemm=$b not recorded: $(cat "$T/g-$b/environment.json")"
  check 'grep -q "\"gemm\":[[:space:]]*\"$b\"" "$T/g-$b/config.json"' "train.gemm=$b not in config.json"
done
check '! grep -q "\"gemm\"" "$T/t1-1/config.json"' "config.json names the backend although the config left it at auto"
# The option changes what it says: the two backends' runs are not the same bits, but the same training.
check '! cmp -s <(strip "$T/g-openblas/metrics.csv") <(strip "$T/g-libxsmm/metrics.csv")' \
  "openblas and libxsmm gave identical metrics: is the backend switch ignored?"
check '! cmp -s <(strip "$T/g-openblas/metrics.csv") <(strip "$T/g-portable/metrics.csv")' \
  "openblas and portable gave identical metrics: is the backend switch ignored?"
for b in libxsmm portable; do
  close=$(paste -d, <(cut -d, -f6 "$T/g-openblas/metrics.csv") <(cut -d, -f6 "$T/g-$b/metrics.csv") |
    awk -F, 'NR > 1 {d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d} END {print (NR > 2 && m <= 0.01) ? "yes" : "no " m}')
  check '[ "$close" = yes ]' "openblas and $b test accuracies differ by more than 0.01: $close"
done
# A resume in the run's own directory with another backend is refused in one line, before it touches the run (its
# logs would no longer equal an uninterrupted run's); with the run's backend it resumes, and into a new --out
# directory the other backend is allowed and recorded there.
other=$([ "$backend" = openblas ] && echo libxsmm || echo openblas)
"$BNLAB" train "$ROOT/configs/mnist-bn.json" "${RUN[@]}" --set train.steps=200 --set train.checkpoint.every=100 \
  --out "$T/r" >/dev/null 2>&1
cp "$T/r/metrics.csv" "$T/r-metrics.csv"
snap() { find "$T/r" -type f -printf '%P %s %T@\n' | sort; }
snap >"$T/r-before"
out=$(BNLAB_GEMM=$other "$BNLAB" train --resume "$T/r/checkpoints/step-000000100.safetensors" 2>&1)
rc=$?
check '[ $rc -eq 1 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q "environment.json: the run computed its products with $backend .* would use $other"' \
  "resume with BNLAB_GEMM=$other after a $backend run: exit $rc: $out"
check 'cmp -s <(snap) "$T/r-before"' "the refused resume changed the run directory: $(diff <(snap) "$T/r-before")"
BNLAB_GEMM=$backend "$BNLAB" train --resume "$T/r/checkpoints/step-000000100.safetensors" >/dev/null 2>&1
rc=$?
check '[ $rc -eq 0 ] && cmp -s <(strip "$T/r/metrics.csv") <(strip "$T/r-metrics.csv")' \
  "resume with the run's backend ($backend): exit $rc, or its metrics differ from the uninterrupted run's"
BNLAB_GEMM=$other "$BNLAB" train --resume "$T/r/checkpoints/step-000000100.safetensors" --out "$T/r-other" \
  >/dev/null 2>&1
rc=$?
check '[ $rc -eq 0 ] && grep -q "\"gemm_backend\":[[:space:]]*\"$other\"" "$T/r-other/environment.json"' \
  "resume into --out with $other: exit $rc, or its environment.json does not record $other"
out=$("$BNLAB" train "$ROOT/configs/mnist-bn.json" --set train.gemm=mkl --out "$T/bad" 2>&1)
check 'echo "$out" | grep -q "train.gemm" && [ ! -e "$T/bad" ]' "bad train.gemm: $out"
out=$(BNLAB_GEMM=fast "$BNLAB" train "$ROOT/configs/mnist-bn.json" --out "$T/bad" 2>&1)
check 'echo "$out" | grep -q "BNLAB_GEMM" && [ ! -e "$T/bad" ]' "bad BNLAB_GEMM: $out"
finish "determinism ($want)"
