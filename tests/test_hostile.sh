#!/usr/bin/env bash
# Hostile use of the commands that write (issue 22): one line and a non-zero exit, nothing written.
#  - the output guard (run/runfiles.h runfiles_check_output) of every writer: recalibrate, predict, train, train --resume
#    --out, compare: never onto an input (found by device and inode: another spelling, a hard link), never into a
#    run's checkpoints/ or onto a run's own files, never into a live (locked) run;
#  - a refused train --resume leaves nothing behind (no .lock), and a recalibrated checkpoint is named as one.
# usage: test_hostile.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$(cd "$2" && pwd)
T=$(mktemp -d /tmp/bnlab-hostile-XXXXXX)
LIVE=
trap '[ -n "$LIVE" ] && kill "$LIVE" 2>/dev/null; rm -rf "$T"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
one_line() { [ "$(wc -l <"$1")" -eq 1 ]; }

CFG="$ROOT/configs/quick-bn.json"
SMALL=(--set log.progress=never --set train.epochs=null --set train.steps=20 --set train.checkpoint.every=10
       --set data.train_limit=600 --set data.test_limit=200 --set train.eval_every=10)
"$BNLAB" train "$CFG" "${SMALL[@]}" --out "$T/run" >/dev/null 2>"$T/run.err"
rc=$?
check '[ $rc -eq 0 ]' "setup run: exit $rc, $(cat "$T/run.err")"
NEW="$T/run/checkpoints/step-000000020.safetensors"
cp "$NEW" "$T/newest.copy"
(cd "$T/run/checkpoints" && md5sum *) >"$T/ckpts.before"

# --- the output guard ---
# refused: exit 1, one line with the word "refused", the target unchanged (or not created), nothing else written.
refused() {  # NAME TARGET COMMAND...: runs the command, checks the refusal
  local name=$1 target=$2
  shift 2
  "$@" >/dev/null 2>"$T/$name.err"
  local rc=$?
  check '[ $rc -eq 1 ] && one_line "$T/$name.err" && grep -q "refused" "$T/$name.err"' \
    "$name: expected one line 'refused' and exit 1, got exit $rc: $(cat "$T/$name.err")"
}
refused onto-newest "$NEW" "$BNLAB" recalibrate "$T/run" --out "$NEW"
check 'cmp -s "$NEW" "$T/newest.copy"' "recalibrate --out the run's newest checkpoint replaced it"
refused respelled "$NEW" "$BNLAB" recalibrate "$T/run" --out "$T/run/./checkpoints/../checkpoints/step-000000020.safetensors"
ln "$NEW" "$T/hardlink.safetensors"
refused hardlink "$NEW" "$BNLAB" recalibrate "$T/run" --out "$T/hardlink.safetensors"
check 'grep -q "an input of this command" "$T/hardlink.err"' "hard link: $(cat "$T/hardlink.err")"
refused into-checkpoints "" "$BNLAB" recalibrate "$T/run" --out "$T/run/checkpoints/step-000000030.safetensors"
check 'grep -q "checkpoints of run" "$T/into-checkpoints.err"' "into checkpoints/: $(cat "$T/into-checkpoints.err")"
refused onto-log "" "$BNLAB" recalibrate "$T/run" --out "$T/run/metrics.csv"
check '(cd "$T/run/checkpoints" && md5sum *) | cmp -s - "$T/ckpts.before"' "the run's checkpoints changed under refused writes"
"$BNLAB" train --resume "$T/run" >/dev/null 2>"$T/resume-after.err"
rc=$?
check '[ $rc -eq 0 ]' "the run no longer resumes after refused writes: exit $rc, $(cat "$T/resume-after.err")"
# predict: onto its own input, or onto the data the checkpoint's config reads
cp "$ROOT/datasets/mnist-subset/t10k-images-idx3-ubyte.gz" "$T/in.gz"
cp "$T/in.gz" "$T/in.copy"
refused predict-onto-input "$T/in.gz" "$BNLAB" predict "$T/run" "$T/in.gz" --out "$T/in.gz"
check 'cmp -s "$T/in.gz" "$T/in.copy"' "predict --out its INPUT overwrote it"
# train: into a run's checkpoints/ (even with --force), or into the directory that holds its config
refused train-into-checkpoints "" "$BNLAB" train "$CFG" "${SMALL[@]}" --out "$T/run/checkpoints/x" --force
mkdir -p "$T/cfgdir" && cp "$CFG" "$T/cfgdir/c.json"
sed -i 's|"\.\./datasets|"'"$ROOT"'/datasets|' "$T/cfgdir/c.json"
refused train-over-config "" "$BNLAB" train "$T/cfgdir/c.json" "${SMALL[@]}" --out "$T/cfgdir" --force
check '[ "$(ls "$T/cfgdir")" = "c.json" ]' "train --out the config's directory wrote into it: $(ls "$T/cfgdir")"
# train --resume --out the directory that holds the checkpoint
refused resume-into-source "" "$BNLAB" train --resume "$NEW" --out "$T/run/checkpoints" --force
# compare --out the directory holding its configs
mkdir -p "$T/cmpcfg" && cp "$T/cfgdir/c.json" "$T/cmpcfg/a.json" && sed 's/"quick-bn"/"quick-b"/' "$T/cfgdir/c.json" >"$T/cmpcfg/b.json"
refused compare-over-configs "" "$BNLAB" compare "$T/cmpcfg/a.json" "$T/cmpcfg/b.json" --seeds 1 --out "$T/cmpcfg" --force
check '[ "$(ls "$T/cmpcfg" | tr "\n" " ")" = "a.json b.json " ]' "compare wrote into its configs' directory"
# a live run: a training run holding its lock; recalibrate --out into it is refused, naming its PID
"$BNLAB" train "$CFG" --set log.progress=never --set train.epochs=null --set train.steps=1000000 \
  --set train.checkpoint.every=0 --out "$T/live" >/dev/null 2>&1 &
LIVE=$!
for _ in $(seq 100); do [ -s "$T/live/.lock" ] && break; sleep 0.1; done
refused into-live "" "$BNLAB" recalibrate "$T/run" --out "$T/live/a2.safetensors"
check 'grep -q "PID $LIVE" "$T/into-live.err" && [ ! -e "$T/live/a2.safetensors" ]' "into a live run: $(cat "$T/into-live.err")"
refused predict-into-live "" "$BNLAB" predict "$T/run" "$T/in.gz" --out "$T/live/sub/p.csv"
kill "$LIVE"; wait "$LIVE" 2>/dev/null; LIVE=
# the positive control: the same commands to a fresh place are allowed
mkdir -p "$T/out"
"$BNLAB" recalibrate "$T/run" --out "$T/out/a2.safetensors" >/dev/null 2>"$T/ok.err"
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/out/a2.safetensors" ]' "recalibrate to a new file: exit $rc, $(cat "$T/ok.err")"
"$BNLAB" recalibrate "$T/run" --out "$T/run/a2.safetensors" >/dev/null 2>"$T/ok2.err"
rc=$?
check '[ $rc -eq 0 ]' "recalibrate beside a finished run's checkpoints/ (not in it): exit $rc, $(cat "$T/ok2.err")"

# --- a refused resume writes nothing ---
# A recalibrated checkpoint: it says so, and --out leaves no directory (no .lock) behind.
"$BNLAB" train --resume "$T/out/a2.safetensors" --out "$T/res-recal" >/dev/null 2>"$T/res-recal.err"
rc=$?
check '[ $rc -eq 1 ] && one_line "$T/res-recal.err" && grep -q "recalibrated checkpoint" "$T/res-recal.err" && grep -q "eval or predict" "$T/res-recal.err"' \
  "resume of a recalibrated checkpoint: exit $rc, $(cat "$T/res-recal.err")"
check '[ ! -e "$T/res-recal" ]' "a refused resume left $(ls -A "$T/res-recal" 2>/dev/null | tr '\n' ' ') in its --out"
# A checkpoint that fails in the trainer (its training set is no longer the one it was trained on: the stored example
# order does not fit): refused after the checkpoint was read, still with nothing written.
mkdir -p "$T/data"
cp "$ROOT"/datasets/mnist-subset/*.gz "$T/data/"
D=(--set "data.train_images=$T/data/train-images-idx3-ubyte.gz" --set "data.train_labels=$T/data/train-labels-idx1-ubyte.gz")
"$BNLAB" train "$CFG" "${SMALL[@]}" "${D[@]}" --set data.train_limit=0 --out "$T/swap" >/dev/null 2>"$T/swap.err"
rc=$?
check '[ $rc -eq 0 ]' "setup: exit $rc, $(cat "$T/swap.err")"
cp "$T/data/t10k-images-idx3-ubyte.gz" "$T/data/train-images-idx3-ubyte.gz"
cp "$T/data/t10k-labels-idx1-ubyte.gz" "$T/data/train-labels-idx1-ubyte.gz"
"$BNLAB" train --resume "$T/swap" --out "$T/res-swap" >/dev/null 2>"$T/res-swap.err"
rc=$?
check '[ $rc -eq 1 ] && one_line "$T/res-swap.err" && [ ! -e "$T/res-swap" ]' \
  "resume after the training set changed: exit $rc ($(cat "$T/res-swap.err")), left $(ls -A "$T/res-swap" 2>/dev/null | tr '\n' ' ')"

# --- Algorithm 2 with nothing to average: one line, exit 1, no checkpoint and no table ---
"$BNLAB" train "$ROOT/configs/quick-nobn.json" "${SMALL[@]}" --out "$T/nobn" >/dev/null 2>&1
a2_refused() {  # NAME WORDS RUN [--set ...]: recalibrate and eval --bn-stats algorithm2 both refuse, saying WORDS
  local name=$1 words=$2 run=$3
  shift 3
  "$BNLAB" recalibrate "$run" "$@" --out "$T/$name.safetensors" >"$T/$name.out" 2>"$T/$name.err"
  local rc=$?
  check '[ $rc -eq 1 ] && one_line "$T/$name.err" && grep -q "$words" "$T/$name.err" && [ ! -e "$T/$name.safetensors" ]' \
    "recalibrate, $name: exit $rc, $(cat "$T/$name.err")"
  "$BNLAB" eval "$run" "$@" --bn-stats algorithm2 >"$T/$name.eout" 2>"$T/$name.eerr"
  rc=$?
  check '[ $rc -eq 1 ] && one_line "$T/$name.eerr" && grep -q "$words" "$T/$name.eerr" && [ ! -s "$T/$name.eout" ]' \
    "eval --bn-stats algorithm2, $name: exit $rc, $(cat "$T/$name.eerr") / $(cat "$T/$name.eout")"
}
a2_refused no-bn "no batchnorm layer" "$T/nobn"
a2_refused no-batch "30 training examples make no full batch of 60" "$T/run" --set data.train_limit=30
# a ghost block that can never form is refused by the config (check, train): larger than the batch, or the batch
# is one more than the block (its last row joins the block: one block of all 60 rows)
for k in 100 59; do
  "$BNLAB" check "$CFG" --set "model.layers[1]={\"type\":\"batchnorm\",\"variant\":\"ghost\",\"ghost_batch\":$k}" \
    >/dev/null 2>"$T/ghost$k.err"
  rc=$?
  check '[ $rc -eq 1 ] && one_line "$T/ghost$k.err" && grep -q "model.layers\[1\].ghost_batch: a block of $k examples never forms in a batch of 60" "$T/ghost$k.err"' \
    "ghost_batch $k in batches of 60: exit $rc, $(cat "$T/ghost$k.err")"
done
"$BNLAB" check "$CFG" --set 'model.layers[1]={"type":"batchnorm","variant":"ghost","ghost_batch":58}' >/dev/null 2>"$T/ghost58.err"
rc=$?
check '[ $rc -eq 0 ]' "ghost_batch 58 in batches of 60 (a block of 58 and one of 2) refused: $(cat "$T/ghost58.err")"
# a ghost layer recalibrates over its blocks: batch 60, blocks of 20, so 3 blocks a batch, m = 20 in the correction
"$BNLAB" train "$CFG" "${SMALL[@]}" --set 'model.layers[1]={"type":"batchnorm","variant":"ghost","ghost_batch":20}' \
  --out "$T/ghost" >/dev/null 2>&1
"$BNLAB" recalibrate "$T/ghost" --out "$T/ghost-a2.safetensors" >"$T/ghost-a2.out" 2>&1
rc=$?
check '[ $rc -eq 0 ] && grep -q "Algorithm 2 (10 training batches of 60)" "$T/ghost-a2.out"' "ghost recalibrate: exit $rc, $(cat "$T/ghost-a2.out")"

# --- Batch Renorm's schedule after train --init: the layers' batch counts (num_batches_tracked, the schedule's
# clock: test_batchnorm's renorm test) continue from the checkpoint's — 30 batches, then 10 more = 40 ---
RN=(--set 'model.layers[1]={"type":"batchnorm","variant":"renorm","renorm_start":20,"r_max_step":60,"d_max_step":50}'
    --set 'model.layers[4]={"type":"batchnorm","variant":"renorm","renorm_start":20,"r_max_step":60,"d_max_step":50}'
    --set 'model.layers[7]={"type":"batchnorm","variant":"renorm","renorm_start":20,"r_max_step":60,"d_max_step":50}')
"$BNLAB" train "$CFG" "${SMALL[@]}" "${RN[@]}" --set train.steps=30 --out "$T/rn-a" >/dev/null 2>&1
"$BNLAB" train "$CFG" "${SMALL[@]}" "${RN[@]}" --set train.steps=10 --init "$T/rn-a/checkpoints/step-000000030.safetensors" \
  --out "$T/rn-b" >/dev/null 2>"$T/rn-b.err"
rc=$?
tracked() {  # CHECKPOINT: every layers.I.num_batches_tracked, "I:N" space-separated
  python3 - "$1" <<'PY'
import json, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
out = []
for k, v in sorted(h.items()):
    if k.endswith('.num_batches_tracked'):
        s, e = v['data_offsets']
        out.append('%s:%d' % (k.split('.')[1], struct.unpack('<q', b[8 + n + s:8 + n + e])[0]))
print(' '.join(out))
PY
}
got=$(tracked "$T/rn-b/checkpoints/step-000000010.safetensors")
check '[ $rc -eq 0 ] && [ "$got" = "1:40 4:40 7:40" ]' "train --init after 30 batches, 10 steps: batch counts $got (exit $rc, $(cat "$T/rn-b.err"))"

# --- the memory budget under an address-space limit (ulimit -v, common on clusters): a gzip bomb (an IDX header
# declaring 400,000 images, 313.6 MB of pixels, in 1.4 MB of gzip) is refused with one line and exit 1, not an abort
# (134) at the allocation; --max-memory cannot raise the budget past the limit; predict's INPUT too ---
python3 - "$T/bomb.gz" <<'PY'
import gzip, struct, sys
n = 400000
with gzip.open(sys.argv[1], 'wb', compresslevel=1) as g:
    g.write(struct.pack('>IIII', 0x803, n, 28, 28))
    z = bytes(784 * 1000)
    for _ in range(n // 1000):
        g.write(z)
PY
bomb() {  # NAME COMMAND...: under ulimit -v 262144 (256 MiB)
  local name=$1
  shift
  (ulimit -v 262144; "$@") >/dev/null 2>"$T/$name.err"
  local rc=$?
  check '[ $rc -eq 1 ] && one_line "$T/$name.err" && grep -q "bomb.gz: header declares 400000 x 784 = 313600000 bytes of pixels, more than the limit" "$T/$name.err"' \
    "gzip bomb under ulimit -v, $name: exit $rc, $(cat "$T/$name.err")"
}
# AddressSanitizer reserves terabytes of shadow address space at start, so no ASan build runs under ulimit -v at all
# (scripts/sanitize.sh): there these three checks are replaced by the same bomb under --max-memory 200M.
if ldd "$BNLAB" 2>/dev/null | grep -q libasan; then
  bomb() {  # NAME COMMAND...: the same refusal through --max-memory
    local name=$1
    shift
    "$@" >/dev/null 2>"$T/$name.err"
    local rc=$?
    check '[ $rc -eq 1 ] && one_line "$T/$name.err" && grep -q "bomb.gz: header declares 400000 x 784 = 313600000 bytes of pixels, more than the limit" "$T/$name.err"' \
      "gzip bomb with --max-memory 200M (ASan build), $name: exit $rc, $(cat "$T/$name.err")"
  }
  bomb train "$BNLAB" train "$CFG" --set log.progress=never --set "data.train_images=$T/bomb.gz" --max-memory 200M \
    --out "$T/bomb-run"
  bomb train-max-memory "$BNLAB" train "$CFG" --set log.progress=never --set "data.train_images=$T/bomb.gz" \
    --max-memory 200M --out "$T/bomb-run2"
  bomb predict "$BNLAB" predict "$T/run" "$T/bomb.gz" --max-memory 200M
else
  bomb train "$BNLAB" train "$CFG" --set log.progress=never --set "data.train_images=$T/bomb.gz" --out "$T/bomb-run"
  bomb train-max-memory "$BNLAB" train "$CFG" --set log.progress=never --set "data.train_images=$T/bomb.gz" \
    --max-memory 10G --out "$T/bomb-run2"
  bomb predict "$BNLAB" predict "$T/run" "$T/bomb.gz"
fi

# --- messages: eval pointed at a comparison's variant directory (or the comparison's) names the runs in it ---
"$BNLAB" compare "$T/cmpcfg/a.json" "$T/cmpcfg/b.json" --seeds 2 --set train.epochs=null --set train.steps=5 \
  --set data.train_limit=600 --set data.test_limit=200 --out "$T/cmp" >/dev/null 2>"$T/cmp.err"
rc=$?
check '[ $rc -eq 0 ]' "setup compare: exit $rc, $(cat "$T/cmp.err")"
"$BNLAB" eval "$T/cmp/quick-bn" >/dev/null 2>"$T/ev-variant.err"
rc=$?
check '[ $rc -eq 1 ] && one_line "$T/ev-variant.err" && grep -q "it holds 2 runs: seed-1, seed-2; name one, e.g. $T/cmp/quick-bn/seed-1" "$T/ev-variant.err"' \
  "eval on a variant directory: exit $rc, $(cat "$T/ev-variant.err")"
"$BNLAB" eval "$T/cmp" >/dev/null 2>"$T/ev-cmp.err"
rc=$?
check '[ $rc -eq 1 ] && grep -q "it holds 4 runs: quick-b/seed-1, quick-b/seed-2, quick-bn/seed-1, quick-bn/seed-2" "$T/ev-cmp.err"' \
  "eval on a comparison directory: exit $rc, $(cat "$T/ev-cmp.err")"

finish hostile
