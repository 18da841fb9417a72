#!/usr/bin/env bash
# Checkpoints end to end: a run stopped by SIGTERM and resumed equals an uninterrupted run byte for byte;
# resuming from an older checkpoint after logs ran ahead; keep-last-K; corrupted checkpoints refused;
# --init shape checks; eval and predict agree.  usage: test_checkpoint.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp ckpt
same_logs() {  # DIR1 DIR2: every log equal but the wall-clock column, and the final checkpoints equal
  local f
  for f in metrics.jsonl layer_stats.csv percentiles.csv ics.csv; do
    cmp -s <(sed 's/"seconds":[^}]*//' "$1/$f") <(sed 's/"seconds":[^}]*//' "$2/$f") || { echo "$f differs"; return 1; }
  done
  cmp -s <(cut -d, -f1-7 "$1/metrics.csv") <(cut -d, -f1-7 "$2/metrics.csv") || { echo "metrics.csv differs"; return 1; }
  local a b
  a=$(ls "$1"/checkpoints/*.safetensors | tail -1)
  b=$(ls "$2"/checkpoints/*.safetensors | tail -1)
  cmp -s "$a" "$b" || { echo "final checkpoints differ"; return 1; }
}
CFG="$ROOT/configs/quick-bn.json"
# Dropout and shift noise in the net, so every random stream must be restored; checkpoints mid-epoch (every 70).
ARGS=(--set train.epochs=null --set train.steps=4000 --set data.train_limit=3000 --set train.eval_every=50
      --set train.checkpoint.every=70 --set train.checkpoint.keep=2 --set log.ics_every=50 --set log.percentiles.every=10
      --set 'model.layers[2]={"type":"noise"}' --set 'model.layers[3]={"type":"dropout","rate":0.2}')

"$BNLAB" train "$CFG" "${ARGS[@]}" --out "$T/full" >/dev/null 2>&1
rc=$?
check '[ $rc -eq 0 ]' "uninterrupted run failed ($rc)"
check '[ "$(ls "$T/full/checkpoints" | wc -l)" -eq 2 ]' "keep=2 kept $(ls "$T/full/checkpoints" | wc -l) checkpoints"
check '[ -f "$T/full/checkpoints/step-000004000.safetensors" ]' "final checkpoint missing"

# 1. SIGTERM part-way: exit 4, a message saying how to resume, then --resume finishes identically.
"$BNLAB" train "$CFG" "${ARGS[@]}" --out "$T/sig" >/dev/null 2>"$T/sig.err" &
pid=$!
sleep 0.7
kill -TERM $pid
wait $pid
rc=$?
check '[ $rc -eq 4 ]' "SIGTERM: exit $rc, expected 4 (did the run finish before the signal? $(cat "$T/sig.err"))"
check 'grep -q "interrupted after step [0-9]* of 4000; checkpoint and logs written. Resume with: bnlab train --resume $T/sig" "$T/sig.err"' \
  "interrupt message: $(cat "$T/sig.err")"
check 'grep -q "\"status\":[[:space:]]*\"interrupted\"" "$T/sig/summary.json"' "summary says interrupted"
"$BNLAB" train --resume "$T/sig" >/dev/null 2>"$T/resume.err"
rc=$?
check '[ $rc -eq 0 ]' "resume failed: $(cat "$T/resume.err")"
msg=$(same_logs "$T/full" "$T/sig")
check '[ -z "$msg" ]' "stopped + resumed run differs from the uninterrupted one: $msg"

# 2. Logs ran ahead of the newest checkpoint (a crash): resuming from step 3990 rewrites them identically.
crashed_copy() {  # NAME: the finished run as if it had died after its logs, before its final checkpoint
  cp -r "$T/full" "$T/$1"
  rm -f "$T/$1/checkpoints/step-000004000.safetensors"
}
crashed_copy crash
"$BNLAB" train --resume "$T/crash/checkpoints/step-000003990.safetensors" >"$T/crash.out" 2>&1
rc=$?
check '[ $rc -eq 0 ] && grep -q "resuming quick-bn at step 3990 of 4000" "$T/crash.out"' "resume from a file: $(cat "$T/crash.out")"
msg=$(same_logs "$T/full" "$T/crash")
check '[ -z "$msg" ]' "resume after logs ran ahead differs: $msg"
# and after a half-written log line
crashed_copy half
printf '{"step":99999,"epo' >>"$T/half/metrics.jsonl"
"$BNLAB" train --resume "$T/half" >/dev/null 2>&1
msg=$(same_logs "$T/full" "$T/half")
check '[ -z "$msg" ]' "resume after a half-written line differs: $msg"

# 2b. A checkpoint belongs to its run (the config in both must be the same): a loose file resumes only into a new
#     --out, and a checkpoint copied into another run's checkpoints/ does not resume (or truncate) that run.
mkdir -p "$T/home/Downloads"
cp "$T/full/checkpoints/step-000003990.safetensors" "$T/home/Downloads/model.safetensors"
"$BNLAB" train --resume "$T/home/Downloads/model.safetensors" >/dev/null 2>"$T/loose.err"
rc=$?
check '[ $rc -eq 1 ] && grep -q -- "--out" "$T/loose.err" && [ "$(ls "$T/home")" = "Downloads" ]' \
  "loose checkpoint without --out: exit $rc, $(ls "$T/home"), $(cat "$T/loose.err")"
"$BNLAB" train --resume "$T/home/Downloads/model.safetensors" --out "$T/fromloose" >/dev/null 2>&1
rc=$?
check '[ $rc -eq 0 ] && cmp -s "$T/full/checkpoints/step-000004000.safetensors" "$T/fromloose/checkpoints/step-000004000.safetensors" &&
       [ "$(head -1 "$T/fromloose/metrics.csv" | cut -c1-5)" = "step," ] && [ "$(sed -n 2p "$T/fromloose/metrics.csv" | cut -d, -f1)" -gt 3990 ]' \
  "loose checkpoint into --out: exit $rc, or its final checkpoint or logs differ"
"$BNLAB" train "$CFG" --set train.epochs=1 --set seed=5 --out "$T/other" >/dev/null 2>&1
before=$(md5sum "$T/other/metrics.csv")
cp "$T/full/checkpoints/step-000003990.safetensors" "$T/other/checkpoints/step-000009999.safetensors"
"$BNLAB" train --resume "$T/other" >/dev/null 2>"$T/other.err"
rc=$?
check '[ $rc -eq 1 ] && grep -q "belongs to another run" "$T/other.err" && [ "$(md5sum "$T/other/metrics.csv")" = "$before" ]' \
  "a foreign checkpoint in a run's checkpoints/: exit $rc, $(cat "$T/other.err")"

# 3. Corrupted or truncated checkpoints are refused with one line and exit 1.
ck="$T/full/checkpoints/step-000004000.safetensors"
head -c 3000 "$ck" >"$T/trunc.safetensors"
cp "$ck" "$T/flip.safetensors"
printf '\xff' | dd of="$T/flip.safetensors" bs=1 seek=60 conv=notrunc 2>/dev/null
printf 'not a checkpoint at all' >"$T/junk.safetensors"
for f in trunc flip junk; do
  "$BNLAB" eval "$T/$f.safetensors" >/dev/null 2>"$T/$f.err"
  rc=$?
  check '[ $rc -eq 1 ] && [ "$(wc -l <"$T/$f.err")" -eq 1 ] && grep -q "$f.safetensors" "$T/$f.err"' \
    "$f checkpoint: exit $rc, $(cat "$T/$f.err")"
done
# Integrity: a flipped bit in the data (a weight, a random stream, the stored step) or a config edited inside the
# file does not load silently; every load verifies the stored CRC-32s.
flip_byte() {  # FILE OFFSET: xor one byte with 1
  local b
  b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "\\$(printf %03o $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
size=$(stat -c %s "$ck")
for off in $((size - 1)) $((size - 5000)) $((size / 2)); do
  cp "$ck" "$T/bit.safetensors"
  flip_byte "$T/bit.safetensors" "$off"
  "$BNLAB" eval "$T/bit.safetensors" >/dev/null 2>"$T/bit.err"
  rc=$?
  check '[ $rc -eq 1 ] && grep -q "does not match its checksum" "$T/bit.err"' "bit flipped at $off: exit $rc, $(cat "$T/bit.err")"
done
LC_ALL=C sed 's/\\"lr\\":0\.5,/\\"lr\\":5.0,/' "$ck" >"$T/edit.safetensors"  # lr 0.5 -> 5.0 in the stored config
check '! cmp -s "$ck" "$T/edit.safetensors"' "test bug: the config edit changed nothing"
"$BNLAB" eval "$T/edit.safetensors" >/dev/null 2>"$T/edit.err"
rc=$?
check '[ $rc -eq 1 ] && grep -q "__metadata__ does not match its checksum" "$T/edit.err"' \
  "config edited inside a checkpoint: exit $rc, $(cat "$T/edit.err")"
"$BNLAB" train --resume "$T/trunc.safetensors" >/dev/null 2>"$T/rt.err"
rc=$?
check '[ $rc -eq 1 ] && grep -q "trunc.safetensors" "$T/rt.err"' "resume from a truncated checkpoint: $(cat "$T/rt.err")"

# 4. --init: same shapes work, other shapes are named.
"$BNLAB" train "$CFG" --set train.epochs=1 --init "$ck" --out "$T/init" >/dev/null 2>"$T/init.err"
rc=$?
check '[ $rc -eq 1 ] && grep -q "tensor layers.2.weight is missing\|tensor layers" "$T/init.err"' \
  "--init into another architecture: $(cat "$T/init.err")"
"$BNLAB" train "$CFG" "${ARGS[@]}" --set train.steps=10 --init "$ck" --out "$T/init2" >/dev/null 2>"$T/init2.err"
rc=$?
check '[ $rc -eq 0 ]' "--init with equal shapes failed: $(cat "$T/init2.err")"
"$BNLAB" train "$ROOT/configs/quick-nobn.json" --set train.epochs=1 --init "$ck" --out "$T/init3" >/dev/null 2>"$T/init3.err"
rc=$?
check '[ $rc -eq 1 ] && grep -q "tensor layers.0.bias is missing" "$T/init3.err"' "--init BN weights into no-BN: $(cat "$T/init3.err")"

# 5. eval and predict agree; predict reads IDX images and feature-only CSV.
acc=$("$BNLAB" eval "$ck" | awk '/^examples/ {print $6}')
"$BNLAB" predict "$ck" "$ROOT/datasets/mnist-subset/t10k-images-idx3-ubyte.gz" --out "$T/pred.csv"
check '[ "$(head -1 "$T/pred.csv")" = "index,predicted,p0,p1,p2,p3,p4,p5,p6,p7,p8,p9" ] && [ "$(wc -l <"$T/pred.csv")" -eq 2001 ]' \
  "predict CSV shape"
labels=$(gzip -dc "$ROOT/datasets/mnist-subset/t10k-labels-idx1-ubyte.gz" | od -An -v -tu1 -j8 | tr -s ' ' '\n' | grep -v '^$')
pacc=$(paste -d' ' <(tail -n +2 "$T/pred.csv" | cut -d, -f2) <(echo "$labels") | awk '$1 == $2 {h++} END {printf "%.6f", h / NR}')
check '[ "$pacc" = "$acc" ]' "predict accuracy $pacc != eval accuracy $acc"
gzip -dc "$ROOT/datasets/mnist-subset/t10k-images-idx3-ubyte.gz" | od -An -v -tu1 -j16 -w784 | head -3 |
  awk '{for (i = 1; i <= NF; i++) printf "%s%s", $i, (i < NF ? "," : "\n")}' >"$T/three.csv"
# Raw pixel values, scaled like the training data by the model's own preprocessing. A batch of 3 and one of 1000
# round differently inside the matrix products, so probabilities agree to 1e-5, classes exactly.
"$BNLAB" predict "$ck" "$T/three.csv" >"$T/three.out" 2>&1
check 'paste -d, <(tail -n +2 "$T/three.out") <(sed -n 2,4p "$T/pred.csv") | awk -F, "{ if (\$2 != \$14) bad = 1; for (k = 3; k <= 12; k++) { d = \$k - \$(k + 12); if (d > 1e-5 || d < -1e-5) bad = 1 } } END { exit bad || NR != 3 }"' \
  "CSV input predicts differently from the IDX input: $(head -2 "$T/three.out")"
cp "$T/three.csv" "$T/THREE.CSV"  # the suffix decides CSV vs IDX whatever its case
"$BNLAB" predict "$ck" "$T/THREE.CSV" >"$T/THREE.out" 2>&1
check 'cmp -s "$T/three.out" "$T/THREE.out"' "an upper-case .CSV is not read as CSV: $(head -2 "$T/THREE.out")"

# 6. Sparse input (the first layer skips zero pixels and stores W transposed, (in, out)): momentum buffers and
#    weights survive a resume exactly, and files keep torch's (out, in) layout, so the same checkpoint evaluated
#    with the option off gives the same accuracy and the loss to rounding — and a dense run's checkpoint likewise
#    with the option on.
SP=(--set train.epochs=null --set train.steps=300 --set data.train_limit=2000 --set train.eval_every=100
    --set train.checkpoint.every=100 --set train.optimizer.momentum=0.9 --set 'model.layers[0].sparse_input=true')
"$BNLAB" train "$CFG" "${SP[@]}" --out "$T/sp" >/dev/null 2>&1
cp -r "$T/sp" "$T/sp-crash"
rm -f "$T/sp-crash/checkpoints/step-000000300.safetensors"
"$BNLAB" train --resume "$T/sp-crash/checkpoints/step-000000200.safetensors" >/dev/null 2>&1
msg=$(same_logs "$T/sp" "$T/sp-crash")
check '[ -z "$msg" ]' "sparse input: resumed run differs: $msg"
eval_line() { "$BNLAB" eval "$@" | awk '/^examples/ {print $4, $6}'; }
agree() {  # "LOSS ACC" "LOSS ACC": accuracy equal, loss within 1e-5
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); d = x[1] - y[1];
    exit !(x[2] == y[2] && d < 1e-5 && d > -1e-5 && x[2] > 0.5) }'
}
spck="$T/sp/checkpoints/step-000000300.safetensors"
a=$(eval_line "$spck")
b=$(eval_line "$spck" --set 'model.layers[0].sparse_input=false')
check 'agree "$a" "$b"' "sparse checkpoint evaluated sparse ($a) and dense ($b) disagree"
a=$(eval_line "$ck")
b=$(eval_line "$ck" --set 'model.layers[0].sparse_input=true')
check 'agree "$a" "$b"' "dense checkpoint evaluated dense ($a) and sparse ($b) disagree"

# 7. A checkpoint stands alone: a run directory copied elsewhere, its data moved away, evaluates with the test
#    data named by --set (applied before any stored path is checked); the training data is never read, and a run
#    directory stands for its newest checkpoint. Standardization statistics come from the checkpoint.
mkdir -p "$T/moved/data" && cp -r "$T/full" "$T/moved/run"
cp "$ROOT"/datasets/mnist-subset/t10k-*.gz "$T/moved/data/"
want=$(eval_line "$T/full")
MOVED=(--set "data.test_images=$T/moved/data/t10k-images-idx3-ubyte.gz" --set "data.test_labels=$T/moved/data/t10k-labels-idx1-ubyte.gz"
       --set data.train_images=/nonexistent/train --set data.train_labels=/nonexistent/labels)
got=$(eval_line "$T/moved/run" "${MOVED[@]}")
check '[ -n "$want" ] && [ "$got" = "$want" ]' "moved run directory evaluates to '$got', the original to '$want'"
"$BNLAB" eval "$T/moved/run" --set data.test_images=/nonexistent/t10k >/dev/null 2>"$T/moved.err"
rc=$?
check '[ $rc -eq 1 ] && grep -q "/nonexistent/t10k" "$T/moved.err"' "eval with a missing test file: rc $rc, $(cat "$T/moved.err")"
"$BNLAB" train "$CFG" --set train.epochs=1 --set data.standardize=true --out "$T/std" >/dev/null 2>&1
stdck=$(ls "$T/std"/checkpoints/*.safetensors | tail -1)
a=$(eval_line "$T/std")
b=$(eval_line "$stdck" --set data.train_images=/nonexistent/train --set data.train_labels=/nonexistent/labels)
last=$(tail -1 "$T/std/metrics.csv" | cut -d, -f5,6 | tr , ' ')
check '[ -n "$a" ] && [ "$a" = "$b" ] && [ "$(printf "%.6f %.6f" $last)" = "$a" ]' \
  "standardized run: eval '$a', without training data '$b', last logged evaluation '$last'"

# 8. BN's statistics in evaluation, three ways: the running average (as trained), each test batch's own, and the
#    paper's Algorithm 2 (recomputed from training batches after training; also written as a checkpoint).
"$BNLAB" eval "$T/full" --bn-stats all >"$T/bnstats.out" 2>&1
rc=$?
run_acc=$("$BNLAB" eval "$T/full" | awk '/^examples/ {print $6}')
check '[ $rc -eq 0 ] && [ "$(grep -c "^running\|^batch\|^algorithm2" "$T/bnstats.out")" -eq 3 ] &&
       [ "$(awk "/^running/ {print \$NF}" "$T/bnstats.out")" = "$run_acc" ]' "eval --bn-stats all: exit $rc, $(cat "$T/bnstats.out")"
"$BNLAB" eval "$T/full" --bn-stats average >/dev/null 2>"$T/bnbad.err"
rc=$?
check '[ $rc -eq 2 ] && grep -q "running, batch, algorithm2, all or xhat" "$T/bnbad.err"' "--bn-stats with a bad word: $(cat "$T/bnbad.err")"
"$BNLAB" recalibrate "$T/full" --batches 20 --out "$T/a2.safetensors" >/dev/null 2>"$T/a2.err"
rc=$?
a2=$(eval_line "$T/a2.safetensors")
want=$("$BNLAB" eval "$T/full" --bn-stats algorithm2 --batches 20 | awk '/^algorithm2/ {printf "%s %s", $(NF-1), $NF}')
check '[ $rc -eq 0 ] && [ -n "$a2" ] && [ "$a2" = "$want" ] && [ "$a2" != "$(eval_line "$T/full")" ]' \
  "recalibrate: exit $rc ($(cat "$T/a2.err")), its checkpoint evaluates to '$a2', eval --bn-stats algorithm2 to '$want'"
# 9. --bn-stats xhat: in test batches of 2 every BN layer's xhat is +-d/sqrt(d^2 + eps): |xhat| <= 1, the two rows
#    opposite (batch mean 0 exactly), most within 1e-3 of 1; in batches of 1000 mean xhat^2 is var/(var + eps),
#    within 1e-3 of 1, and |xhat| exceeds 1.
"$BNLAB" eval "$T/full" --bn-stats xhat --set train.eval_batch_size=2 >"$T/xhat2.out" 2>&1
rc=$?
check '[ $rc -eq 0 ] && grep -q "test batches of 2," "$T/xhat2.out" &&
       awk "/^ +[0-9]/ {n++; if (\$4 > 1 || \$7 != \"0.00e+00\" || \$6+0 < 50) bad++} END {exit !(n > 0 && !bad)}" "$T/xhat2.out"' \
  "eval --bn-stats xhat at batch 2: exit $rc, $(cat "$T/xhat2.out")"
"$BNLAB" eval "$T/full" --bn-stats xhat >"$T/xhat.out" 2>&1
check 'awk "/^ +[0-9]/ {n++; if (\$4 <= 1 || \$5 < 0.999 || \$5 > 1) bad++} END {exit !(n > 0 && !bad)}" "$T/xhat.out"' \
  "eval --bn-stats xhat at batch 1000: $(cat "$T/xhat.out")"
"$BNLAB" train "$ROOT/configs/quick-nobn.json" --set train.epochs=null --set train.steps=5 --out "$T/nobn" >/dev/null 2>&1
"$BNLAB" eval "$T/nobn" --bn-stats xhat >"$T/xhat-nobn.out" 2>&1
rc=$?
check '[ $rc -eq 1 ] && [ "$(wc -l <"$T/xhat-nobn.out")" -eq 1 ] && grep -q "no batchnorm layer" "$T/xhat-nobn.out"' \
  "eval --bn-stats xhat without BN: exit $rc, $(cat "$T/xhat-nobn.out")"

# A checkpoint whose data files are not on this machine (made elsewhere, or downloaded from the browser lab, whose
# page held them at /datasets/mnist-subset/...): eval names the key to give with --set, in one line; given, it runs;
# Algorithm 2 names the training images next.
D="$ROOT/datasets/mnist-subset"
mkdir -p "$T/gone"
cp "$D"/*.gz "$T/gone/"
"$BNLAB" train "$ROOT/configs/quick-bn.json" --out "$T/away" --set train.epochs=null --set train.steps=20 --set log.progress=never \
  --set data.train_images="$T/gone/train-images-idx3-ubyte.gz" --set data.train_labels="$T/gone/train-labels-idx1-ubyte.gz" \
  --set data.test_images="$T/gone/t10k-images-idx3-ubyte.gz" --set data.test_labels="$T/gone/t10k-labels-idx1-ubyte.gz" >/dev/null 2>&1
rm -rf "$T/gone"
"$BNLAB" eval "$T/away" >"$T/away.out" 2>&1
rc=$?
check '[ $rc -eq 1 ] && [ "$(wc -l <"$T/away.out")" -eq 1 ] && grep -qF "$T/gone/t10k-images-idx3-ubyte.gz: no such file (the checkpoint'"'"'s data.test_images; give the file with --set data.test_images=PATH)" "$T/away.out"' \
  "eval, the checkpoint's test images not here: exit $rc, $(cat "$T/away.out")"
"$BNLAB" eval "$T/away" --set data.test_images="$D/t10k-images-idx3-ubyte.gz" >"$T/away.out" 2>&1
rc=$?
check '[ $rc -eq 1 ] && grep -q "data.test_labels=PATH" "$T/away.out"' "eval, the test labels not here: exit $rc, $(cat "$T/away.out")"
"$BNLAB" eval "$T/away" --set data.test_images="$D/t10k-images-idx3-ubyte.gz" --set data.test_labels="$D/t10k-labels-idx1-ubyte.gz" >"$T/away.out" 2>&1
rc=$?
check '[ $rc -eq 0 ] && grep -qi "accuracy" "$T/away.out"' "eval with the test set given: exit $rc, $(head -3 "$T/away.out")"
"$BNLAB" eval "$T/away" --bn-stats algorithm2 --set data.test_images="$D/t10k-images-idx3-ubyte.gz" \
  --set data.test_labels="$D/t10k-labels-idx1-ubyte.gz" >"$T/away.out" 2>&1
rc=$?
check '[ $rc -eq 1 ] && grep -q "data.train_images=PATH" "$T/away.out"' "Algorithm 2, the training images not here: exit $rc, $(cat "$T/away.out")"

finish checkpoint
