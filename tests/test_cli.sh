#!/usr/bin/env bash
# End-to-end tests of the bnlab command: a short real run on the shipped MNIST subset, determinism,
# refusal to overwrite, bad input (one-line error, non-zero exit, nothing written) and divergence.
# usage: test_cli.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp cli
QUICK="$ROOT/configs/quick-bn.json"
FAST=(--set train.epochs=1 --set train.eval_every=50 --set data.train_limit=3000 --set data.test_limit=1000)

# 1. A short real run learns, and its logs have the promised columns.
"$BNLAB" train "$QUICK" --out "$T/e2e" >"$T/e2e.out" 2>"$T/e2e.err"
rc=$?
check '[ $rc -eq 0 ]' "quick run failed: $(cat "$T/e2e.err")"
for f in config.json environment.json metrics.jsonl metrics.csv layer_stats.csv summary.json; do
  check '[ -s "$T/e2e/$f" ]' "missing $f"
done
check '[ "$(head -1 "$T/e2e/metrics.csv")" = "step,epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds" ]' \
  "metrics.csv header"
check '[ "$(head -1 "$T/e2e/layer_stats.csv")" = "epoch,step,source,layer,layer_type,units,mean,std,min,max,frac_saturated" ]' \
  "layer_stats.csv header"
for k in step epoch train_loss train_acc test_loss test_acc lr seconds; do
  check 'grep -q "\"$k\":" "$T/e2e/metrics.jsonl"' "metrics.jsonl lacks $k"
done
# Step 0: the initial network's test loss and accuracy (near chance), train columns empty / null (no batch trained).
check 'sed -n 2p "$T/e2e/metrics.csv" | grep -Eq "^0,0,,,[0-9.]+,0\.[01][0-9]*,0\.5,"' "no step-0 row: $(sed -n 2p "$T/e2e/metrics.csv")"
check 'head -1 "$T/e2e/metrics.jsonl" | grep -q "^{\"step\":0,\"epoch\":0,\"train_loss\":null,\"train_acc\":null,\"test_loss\":[0-9]"' \
  "no step-0 line in metrics.jsonl: $(head -1 "$T/e2e/metrics.jsonl")"
check '[ "$(grep -c "^0," "$T/e2e/metrics.csv")" -eq 1 ]' "not exactly one step-0 row"
# log.eval_batch_stats: two more columns, the run itself unchanged (every other column but seconds byte for byte).
"$BNLAB" train "$QUICK" --set log.eval_batch_stats=true --set train.checkpoint.every=200 --out "$T/bs" >/dev/null 2>"$T/bs.err"
check '[ "$(head -1 "$T/bs/metrics.csv")" = "step,epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds,test_loss_batchstats,test_acc_batchstats" ]' \
  "eval_batch_stats header: $(head -1 "$T/bs/metrics.csv") $(cat "$T/bs.err")"
check 'cmp -s <(cut -d, -f1-7 "$T/e2e/metrics.csv") <(cut -d, -f1-7 "$T/bs/metrics.csv")' "eval_batch_stats changed the run"
check 'awk -F, "NR > 1 && (\$10 == \"\" || \$10 < 0 || \$10 > 1) {bad = 1} END {exit bad}" "$T/bs/metrics.csv" &&
       awk -F, "NR > 1 && \$10 != \$6 {d = 1} END {exit !d}" "$T/bs/metrics.csv"' \
  "test_acc_batchstats missing, out of [0, 1] or identical to test_acc everywhere"
check 'grep -q "\"test_acc_batchstats\":0\." "$T/bs/metrics.jsonl"' "metrics.jsonl lacks test_acc_batchstats"
# Resumed from step 200: the same rows (but seconds), the batch-statistics columns too, and one step-0 row.
cp -r "$T/bs" "$T/bs2"
"$BNLAB" train --resume "$T/bs2/checkpoints/step-000000200.safetensors" >/dev/null 2>&1
check 'cmp -s <(cut -d, -f1-7,9,10 "$T/bs/metrics.csv") <(cut -d, -f1-7,9,10 "$T/bs2/metrics.csv") &&
       [ "$(grep -c "^0," "$T/bs2/metrics.csv")" -eq 1 ]' "resumed run with eval_batch_stats differs from the whole run"
final=$(tail -1 "$T/e2e/metrics.csv" | cut -d, -f6)
check 'awk -v a="$final" "BEGIN{exit !(a > 0.80)}"' "quick BN run reached test accuracy $final (chance is 0.10)"
# 3 epochs x 10 layers x {train, probe, probe_train}
check '[ "$(tail -n +2 "$T/e2e/layer_stats.csv" | wc -l)" -eq 90 ]' "layer_stats.csv row count"
check 'grep -q "^3,399,train,2,sigmoid,100," "$T/e2e/layer_stats.csv"' "layer stats row for epoch 3 sigmoid"
# BN output in training mode has mean ~0 and std ~1 (gamma, beta start at 1, 0).
check 'awk -F, "\$3==\"train\" && \$5==\"batchnorm\" && \$1==1 {if (\$7 > 0.1 || \$7 < -0.1 || \$8 < 0.8 || \$8 > 1.2) bad=1} END{exit bad}" "$T/e2e/layer_stats.csv"' \
  "BN output statistics off"
check 'grep -q "\"status\":[[:space:]]*\"completed\"" "$T/e2e/summary.json"' "summary status"
check 'grep -q "^epoch    3  step     399" "$T/e2e.out"' "console line per epoch"
check 'grep -q "^epoch    0  step       0  (before any update)  *| test loss 2\.[0-9]* acc 0\.[01]" "$T/e2e.out"' \
  "no console line for step 0: $(sed -n 2p "$T/e2e.out")"
check '! grep -q "step 1/" "$T/e2e.err"' "progress bar written although stderr is not a terminal"

# 2. Determinism: same seed -> identical logs (wall-clock column aside); another seed -> different.
"$BNLAB" train "$QUICK" "${FAST[@]}" --out "$T/d1" >/dev/null 2>&1
"$BNLAB" train "$QUICK" "${FAST[@]}" --out "$T/d2" >/dev/null 2>&1
"$BNLAB" train "$QUICK" "${FAST[@]}" --seed 2 --out "$T/d3" >/dev/null 2>&1
strip() { cut -d, -f1-7 "$1"; }
check 'cmp -s <(strip "$T/d1/metrics.csv") <(strip "$T/d2/metrics.csv")' "same seed, different metrics"
check 'cmp -s "$T/d1/layer_stats.csv" "$T/d2/layer_stats.csv"' "same seed, different layer statistics"
check '! cmp -s "$T/d1/layer_stats.csv" "$T/d3/layer_stats.csv"' "seed 2 gave the same statistics as seed 1"

# Measuring ICS replays the step on copies: it must not change training at all.
"$BNLAB" train "$QUICK" "${FAST[@]}" --set log.ics_every=0 --out "$T/d4" >/dev/null 2>&1
check 'cmp -s <(strip "$T/d1/metrics.csv") <(strip "$T/d4/metrics.csv")' "ICS measurement changed the training"
check '[ -s "$T/d1/ics.csv" ] && [ ! -e "$T/d4/ics.csv" ]' "ics.csv written when on, absent when off"
check '[ "$(head -1 "$T/d1/percentiles.csv")" = "step,hidden,layer,layer_type,unit,n,p15,p50,p85" ]' \
  "percentiles.csv header"
# The default unit: hidden layer 3's unit 0, whose input in the BN net is the output of layer 7 (batchnorm).
check 'grep -q "^0,3,7,batchnorm,0,1000," "$T/d1/percentiles.csv"' "percentiles of the last sigmoid's input (probe set)"
"$BNLAB" train "$QUICK" "${FAST[@]}" --set log.percentiles.source=batch --out "$T/d5" >/dev/null 2>&1
check 'grep -q "^0,3,7,batchnorm,0,60," "$T/d5/percentiles.csv" && cmp -s <(strip "$T/d1/metrics.csv") <(strip "$T/d5/metrics.csv")' "percentiles over the training batch"

# 3. An existing run directory is not overwritten.
before=$(cat "$T/d1/metrics.csv")
"$BNLAB" train "$QUICK" "${FAST[@]}" --out "$T/d1" >/dev/null 2>"$T/exists.err"
rc=$?
check '[ $rc -eq 1 ]' "overwriting an existing run did not fail"
check 'grep -q "already exists" "$T/exists.err"' "message for existing run dir"
check '[ "$(cat "$T/d1/metrics.csv")" = "$before" ]' "existing run was modified"

# 4. Bad input: one line on stderr, exit 1, no run directory.
printf 'corrupt' >"$T/bad-labels.gz"
head -c 5000 "$ROOT/datasets/mnist-subset/train-images-idx3-ubyte.gz" >"$T/trunc-images.gz"
expect_error() {  # NAME EXPECTED-SUBSTRING ARGS...
  local name=$1 want=$2
  shift 2
  "$BNLAB" train "$@" --out "$T/err-$name" >/dev/null 2>"$T/$name.err"
  local rc=$?
  check '[ $rc -eq 1 ]' "$name: exit $rc, expected 1"
  check '[ "$(wc -l <"$T/$name.err")" -eq 1 ]' "$name: error is not one line: $(cat "$T/$name.err")"
  check 'grep -qF -- "$want" "$T/$name.err"' "$name: expected '$want' in: $(cat "$T/$name.err")"
  check '[ ! -e "$T/err-$name" ]' "$name: a run directory was written"
}
# A value from --set is the option's fault, not the file's; an error in the file names the file.
expect_error unknown-key "--set train.optimizer.lrr (over $QUICK): unknown key" "$QUICK" --set train.optimizer.lrr=1
expect_error set-value '--set train.batch_size (over '"$QUICK"'): expected an integer in [1, 65536], got "abc"' \
  "$QUICK" --set train.batch_size=abc
sed -e 's/"batch_size": 60/"batch_size": "abc"/' -e "s#\.\./datasets#$ROOT/datasets#" "$QUICK" >"$T/bad-batch.json"
expect_error file-value 'bad-batch.json: train.batch_size: expected an integer' "$T/bad-batch.json" --set seed=3
# Memory: a run that cannot fit is refused before it allocates, with its estimate; --max-memory sets the budget.
expect_error memory "4302517010 parameters" "$QUICK" --set 'model.layers[3].units=65536' --set 'model.layers[6].units=65536'
expect_error budget "but 21 MB are available" "$QUICK" --max-memory 20M
expect_error data-budget "more than the limit of 3145728 bytes" "$QUICK" --max-memory 3M
"$BNLAB" train "$QUICK" --max-memory 3x --out "$T/err-mm" >/dev/null 2>"$T/mm.err"
rc=$?
check '[ $rc -eq 2 ] && grep -q "expected a size like 8G" "$T/mm.err" && [ ! -e "$T/err-mm" ]' "--max-memory 3x: exit $rc, $(cat "$T/mm.err")"
# Per-command help, and check as a dry run of a spec.
out=$("$BNLAB" eval --help)
rc=$?
check '[ $rc -eq 0 ] && echo "$out" | grep -q "bn-stats" && ! echo "$out" | grep -q "bnlab sweep"' "eval --help: exit $rc, $out"
# Every command's help lists exactly the options it takes: each listed option is accepted (not refused as another
# command's), and each option of any command that is not listed is refused with a line naming the command.
all_opts=$("$BNLAB" --help | grep -o "^  --[a-z-]*" | tr -d ' ' | sort -u)
check '[ "$(echo "$all_opts" | wc -l)" -ge 15 ]' "bnlab --help lists too few options: $all_opts"
for cmd in train check eval recalibrate predict compare plot report sweep bench; do
  listed=$("$BNLAB" $cmd --help | sed -n '/^options:/,$p' | grep -o "^  --[a-z-]*" | tr -d ' ' | sort -u)
  for o in $all_opts; do  # "1 bogus=1": whatever parses, the command then stops on its arguments, running nothing
    "$BNLAB" $cmd $o 1 bogus=1 >/dev/null 2>"$T/opt.err"
    if echo "$listed" | grep -qx -- "$o"; then
      check '! grep -q "does not take\|unknown option" "$T/opt.err"' "$cmd --help lists $o but $cmd refuses it: $(cat "$T/opt.err")"
    else
      check 'grep -q "^bnlab: error: $cmd does not take $o" "$T/opt.err"' "$cmd accepts $o without listing it: $(head -1 "$T/opt.err")"
    fi
  done
done
out=$("$BNLAB" check "$ROOT/configs/fig1.json" --seeds 2 2>&1)
rc=$?
check '[ $rc -eq 0 ] && echo "$out" | grep -q "fig1.json: 4 runs (2 variants x 2 seeds); nothing was run"' "check SPEC: exit $rc, $(echo "$out" | tail -2)"
# A grid path longer than a run name (found by fuzz_spec: the shortened label lost its terminator): one clear error.
long=$(printf 'M%.0s' $(seq 1 200))
printf '{"name": "g", "variants": [{"name": "a", "config": "%s"}], "grid": {"train.x%s.lr": [0.1, 1]}, "seeds": 1}' \
  "$QUICK" "$long" >"$T/longgrid.json"
"$BNLAB" check "$T/longgrid.json" >/dev/null 2>"$T/longgrid.err"
rc=$?
check '[ $rc -eq 1 ] && [ "$(wc -l <"$T/longgrid.err")" -eq 1 ]' "a long grid path: exit $rc, $(cat "$T/longgrid.err")"
# Batch 1: refused with batchnorm layers (no variance), plain SGD on one example without them.
"$BNLAB" train "$ROOT/configs/quick-nobn.json" --set train.batch_size=1 --set train.epochs=null --set train.steps=50 \
  --out "$T/batch1" >/dev/null 2>"$T/batch1.err"
rc=$?
check '[ $rc -eq 0 ] && grep -q "^50," "$T/batch1/metrics.csv"' "batch 1 without BN: exit $rc, $(cat "$T/batch1.err")"
expect_error batch1-bn "train.batch_size (over $QUICK): 1 is too small for model.layers[1] (batchnorm)" "$QUICK" --set train.batch_size=1
# Errors found after parsing name the --set (or the config file) and what was found.
expect_error last-layer "--set model.layers[9].units (over $QUICK): model.layers[9]: expected the last layer to be dense with 10 units (one logit per class for the softmax head), got dense with 5 units" "$QUICK" --set 'model.layers[9].units=5'
expect_error no-nonlinearity "quick-bn.json: log.percentiles.units[0]: the model has no nonlinearity (sigmoid, relu, tanh) after its first layer" \
  "$QUICK" --set 'model.layers=[{"type":"dense","units":10}]'
# ... and its advice works: with log.percentiles.every 0 the percentiles are not set up, and the model trains.
"$BNLAB" train "$QUICK" --set 'model.layers=[{"type":"dense","units":10}]' --set log.percentiles.every=0 \
  --set train.epochs=null --set train.steps=3 --out "$T/nopct" >/dev/null 2>"$T/nopct.err"
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/nopct/metrics.csv" ] && [ ! -e "$T/nopct/percentiles.csv" ]' \
  "no nonlinearity with log.percentiles.every 0: exit $rc, $(cat "$T/nopct.err")"
# check runs every validation train runs (here: a percentile unit beyond the model), and says nothing else on error;
# the value came from --set, so the option is blamed, not the file.
"$BNLAB" check "$QUICK" --set 'log.percentiles.units=[{"hidden":9,"unit":0}]' >"$T/check-pct.out" 2>"$T/check-pct.err"
rc=$?
check '[ $rc -eq 1 ] && grep -q "^bnlab: error: --set log.percentiles.units (over .*quick-bn.json): log.percentiles.units\[0\].hidden: expected 1..3" "$T/check-pct.err" && [ ! -s "$T/check-pct.out" ]' \
  "check accepted what train refuses: exit $rc, $(cat "$T/check-pct.err")"
expect_error range "--set model.layers[2].type (over $QUICK): expected one of" "$QUICK" --set 'model.layers[2].type="softplus"'
expect_error labels "bad-labels.gz: bad IDX magic" "$QUICK" --set "data.train_labels=$T/bad-labels.gz"
expect_error truncated "trunc-images.gz: truncated file" "$QUICK" --set "data.train_images=$T/trunc-images.gz"
expect_error batch "--set train.batch_size (over $QUICK): 5000 is more than the 3000 training examples" "$QUICK" \
  --set train.batch_size=5000 --set data.train_limit=3000
expect_error missing-config "nope.json: cannot open" "$T/nope.json"

# 5. Divergence stops the run with a message, exit 3, and keeps its logs.
# A ReLU net at a learning rate of 1e4 overflows within a few steps.
"$BNLAB" train "$ROOT/configs/quick-nobn.json" "${FAST[@]}" --set train.optimizer.lr=1e4 \
  --set train.optimizer.momentum=0.9 --set 'model.init={"type": "he_normal"}' \
  --set 'model.layers[1].type="relu"' --set 'model.layers[3].type="relu"' --set 'model.layers[5].type="relu"' \
  --out "$T/div" >/dev/null 2>"$T/div.err"
rc=$?
check '[ $rc -eq 3 ]' "divergence exit code $rc, expected 3"
check '[ "$(wc -l <"$T/div.err")" -eq 1 ]' "divergence message is not one line"
check 'grep -q "diverged at step [0-9]*: the loss is NaN; .*Lower train.optimizer.lr or add batchnorm" "$T/div.err"' "divergence message: $(cat "$T/div.err")"
check 'grep -q "\"status\":[[:space:]]*\"diverged\"" "$T/div/summary.json"' "divergence summary"
check '[ -f "$T/div/metrics.csv" ]' "divergence lost the logs"

# 6. check prints the resolved config with defaults filled in.
"$BNLAB" check "$QUICK" >"$T/check.out"
check 'grep -q "\"momentum\":[[:space:]]*0.1" "$T/check.out" && grep -q "\"eps\":[[:space:]]*1e-05" "$T/check.out"' \
  "resolved config lacks BN defaults"

# 7. compare + plot on a tiny setup: every promised file and field.
"$BNLAB" compare "$ROOT/configs/quick-bn.json" "$ROOT/configs/quick-nobn.json" --seeds 2 --jobs 2 \
  --set train.epochs=1 --set data.train_limit=1200 --set data.test_limit=500 --set log.ics_every=5 \
  --out "$T/cmp" >"$T/cmp.out" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "compare failed: $(tail -3 "$T/cmp.out")"
for f in compare.json summary.json summary.md curves.csv quick-bn/seed-1/metrics.csv quick-nobn/seed-2/metrics.csv \
  quick-bn/seed-2.log; do
  check '[ -s "$T/cmp/$f" ]' "compare: missing $f"
done
for k in final_test_acc best_test_acc steps_to_target ratio_to_reference seeds_reached median runs_failed; do
  check 'grep -q "\"$k\"" "$T/cmp/summary.json"' "summary.json lacks $k"
done
check 'grep -q "^| quick-bn | 2/2 |" "$T/cmp/summary.md"' "summary.md row"
check 'grep -q "^| quick-bn | 2/2 |" "$T/cmp.out"' "compare prints the table"
check '[ "$(head -1 "$T/cmp/curves.csv")" = "variant,step,n,median,min,max" ]' "curves.csv header"
"$BNLAB" plot "$T/cmp" >"$T/plot.out" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "plot failed: $(cat "$T/plot.out")"
for p in accuracy percentiles layer_stats ics; do
  check '[ "$(head -c 4 "$T/cmp/plots/$p.png" | od -An -c | tr -d " ")" = "211PNG" ]' "plots/$p.png is not a PNG"
done
"$BNLAB" plot "$T/cmp/quick-bn/seed-1" >/dev/null 2>&1
check '[ -s "$T/cmp/quick-bn/seed-1/plots/accuracy.png" ]' "plot of a single run"
# A bad spec is reported before anything runs.
# A bad value in a spec's "set" is the spec's; the same value from --set is the option's.
printf '{"name": "x", "variants": [{"name": "a", "config": "%s", "set": {"train.batch_size": "abc"}}]}' "$QUICK" >"$T/setspec.json"
"$BNLAB" check "$T/setspec.json" >/dev/null 2>"$T/setspec.err"
check 'grep -qF "setspec.json: variant a: set train.batch_size (over $QUICK): expected an integer" "$T/setspec.err"' \
  "spec set blamed on: $(cat "$T/setspec.err")"
printf '{"name": "x", "variants": [{"name": "a", "config": "%s"}]}' "$QUICK" >"$T/okspec.json"
"$BNLAB" check "$T/okspec.json" --set train.batch_size=abc >/dev/null 2>"$T/setspec.err"
check 'grep -qF "variant a: --set train.batch_size (over $QUICK): expected an integer" "$T/setspec.err"' \
  "command-line set blamed on: $(cat "$T/setspec.err")"
printf '{"name": "x", "variants": [{"name": "a", "config": "%s", "sett": {}}]}' "$ROOT/configs/quick-bn.json" >"$T/spec.json"
"$BNLAB" compare "$T/spec.json" --out "$T/badcmp" >/dev/null 2>"$T/spec.err"
rc=$?
check '[ $rc -eq 1 ] && grep -q "spec.json: variants\[0\].sett: unknown key" "$T/spec.err" && [ ! -e "$T/badcmp" ]' \
  "bad compare spec: $(cat "$T/spec.err")"

# 8. sweep: a grid expands into runs, completed runs are skipped on a rerun, collect makes the table and plot,
# --emit writes job lists whose commands, run by a shell, give the same results.
cat >"$T/sweep.json" <<JSON
{"name": "sw", "variants": [{"name": "bn", "config": "$ROOT/configs/quick-bn.json"},
                            {"name": "nobn", "config": "$ROOT/configs/quick-nobn.json"}],
 "grid": {"train.optimizer.lr": [0.5, 4]}, "seeds": 2, "targets": [0.5, 0.8],
 "set": {"train.epochs": 2, "data.train_limit": 1200, "data.test_limit": 500, "log.ics_every": 0}}
JSON
"$BNLAB" sweep "$T/sweep.json" --jobs 2 --out "$T/sw" >"$T/sw.out" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "sweep failed: $(tail -3 "$T/sw.out")"
check '[ -s "$T/sw/bn-lr0.5/seed-2/metrics.csv" ] && [ -s "$T/sw/nobn-lr4/seed-1/metrics.csv" ]' "sweep runs missing"
check '[ "$(head -1 "$T/sw/sweep.csv" | cut -d, -f1-10)" = "variant,base,train.optimizer.lr,seeds,completed,final_mean,final_std,final_median,final_min,final_max" ]' \
  "sweep.csv header: $(head -1 "$T/sw/sweep.csv")"
check '[ "$(grep -c "^bn-lr\|^nobn-lr" "$T/sw/sweep.csv")" -eq 4 ] && grep -q "^bn-lr4,bn,4,2,2," "$T/sw/sweep.csv"' "sweep.csv rows"
check '[ "$(head -c 4 "$T/sw/plots/sweep.png" | od -An -c | tr -d " ")" = "211PNG" ]' "sweep plot"
rm "$T/sw/nobn-lr4/seed-2/summary.json"  # as if that run had crashed
"$BNLAB" sweep "$T/sweep.json" --jobs 2 --out "$T/sw" >"$T/sw2.out" 2>&1
check '[ "$(grep -c "already completed" "$T/sw2.out")" -eq 7 ] && grep -q "nobn-lr4 seed 2: completed" "$T/sw2.out"' \
  "sweep resume: $(grep "^\[" "$T/sw2.out" | head -3)"
"$BNLAB" sweep "$T/sweep.json" --out "$T/swe" --emit slurm --sbatch "--time=00:05:00" >/dev/null 2>&1
check '[ "$(wc -l <"$T/swe/jobs.txt")" -eq 8 ] && grep -q "^#SBATCH --array=0-7$" "$T/swe/sweep.sbatch" && grep -q "^#SBATCH --time=00:05:00$" "$T/swe/sweep.sbatch"' \
  "emitted job files"
(cd / && bash "$T/swe/jobs.txt") >/dev/null 2>&1
check 'cmp -s <(cut -d, -f1-7 "$T/sw/bn-lr4/seed-1/metrics.csv") <(cut -d, -f1-7 "$T/swe/bn-lr4/seed-1/metrics.csv")' \
  "an emitted command gives a different run than sweep itself"
"$BNLAB" sweep collect "$T/swe" >/dev/null 2>&1
check 'cmp -s <(cut -d, -f1-15 "$T/sw/sweep.csv") <(cut -d, -f1-15 "$T/swe/sweep.csv")' "collect over emitted runs differs"

finish cli
