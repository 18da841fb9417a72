#!/usr/bin/env bash
# log.tensorboard, read back by tests/tb_read.py — an independent reader (its own CRC-32C and TFRecord parsing,
# message classes from tests/tb_event.proto compiled by protoc) that checks every record's CRCs and every event
# against metrics.csv and layer_stats.csv. Also: tensorboard off changes nothing else, tensorboard on perturbs no other
# log, a resumed run's event file equals an uninterrupted run's (wall_time aside), a failed write of the event file
# ends the run like any log's, and the reader itself rejects a flipped byte and a changed number. Needs Debian's
# python3-protobuf and protobuf-compiler (installed here if missing); skipped (exit 77) if they cannot be.
# usage: test_tensorboard.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
bash "$ROOT/scripts/ensure-packages.sh" python3-protobuf protobuf-compiler >/dev/null 2>&1
if ! /usr/bin/python3 -c 'import google.protobuf' 2>/dev/null || ! command -v protoc >/dev/null; then
  echo "python3-protobuf or protobuf-compiler missing and not installable: skipped"
  exit 77
fi
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp tb
read_tb() { /usr/bin/python3 "$ROOT/tests/tb_read.py" "$T/event.pb" "$@"; }
EV=tb/events.out.tfevents.0000000000.bnlab

protoc -I"$ROOT/tests" --descriptor_set_out="$T/event.pb" "$ROOT/tests/tb_event.proto"
rc=$?
check '[ $rc -eq 0 ]' "protoc could not compile tests/tb_event.proto"
out=$(/usr/bin/python3 "$ROOT/tests/tb_read.py" --crc-selftest)
check '[ "$out" = "crc32c self-test ok" ]' "the reader's own CRC-32C: $out"

# 1. The BN network (dense, batchnorm, sigmoid layers), evaluated every 50 steps, 300 probe images.
CFG="$ROOT/configs/quick-bn.json"
RUN=(--set log.progress=never --set train.eval_every=50 --set train.checkpoint.every=133 --set log.probe_size=300)
# With log.gradients_every 38, the gradient histograms (layerI_K/gradients) too; 38 divides 266, the step resumed
# from in 3: that step's gradient histograms follow its checkpoint, and the resumed run must not log them twice.
"$BNLAB" train "$CFG" "${RUN[@]}" --set log.tensorboard=true --set log.gradients_every=38 --out "$T/on" >/dev/null 2>"$T/on.err"
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/on/$EV" ]' "train with log.tensorboard: exit $rc, $(cat "$T/on.err")"
out=$(read_tb "$T/on" 300 2>&1)
rc=$?
check '[ $rc -eq 0 ]' "reader on a BN run: $out"
check '[ "$(grep -c ",act_input," "$T/on/gradients.csv")" -gt 20 ]' "the BN run logged no gradients"
check 'grep -q "\"tensorboard\":[[:space:]]*true" "$T/on/config.json"' "config.json records log.tensorboard true"

# 2. Off by default: no tb folder, config.json as before (no key), and the other logs equal the run with it on.
"$BNLAB" train "$CFG" "${RUN[@]}" --out "$T/off" >/dev/null 2>&1
check '[ ! -e "$T/off/tb" ] && ! grep -q tensorboard "$T/off/config.json"' "tensorboard off left a trace"
same=1
for f in layer_stats.csv percentiles.csv ics.csv; do cmp -s "$T/on/$f" "$T/off/$f" || same=0; done
cmp -s <(cut -d, -f1-7 "$T/on/metrics.csv") <(cut -d, -f1-7 "$T/off/metrics.csv") || same=0
# The checkpoints' stored configs differ by the key itself; their tensors (after the JSON header) must not.
tensors() { tail -c +$(($(od -An -tu8 -N8 "$1" | tr -d ' ') + 9)) "$1"; }
for c in "$T"/off/checkpoints/*.safetensors; do
  cmp -s <(tensors "$c") <(tensors "$T/on/checkpoints/$(basename "$c")") || same=0
done
check '[ $same -eq 1 ]' "the event file's extra probe passes changed another log or a checkpoint's tensors"

# 3. Resume from the middle of a finished run, after a killed write left half a record: the file is truncated to
#    the checkpoint's step and continued, and holds the same events as the uninterrupted run.
cp -r "$T/on" "$T/res"
printf '\x30\x00\x00' >>"$T/res/$EV"
"$BNLAB" train --resume "$T/res/checkpoints/step-000000266.safetensors" >/dev/null 2>"$T/res.err"
rc=$?
out=$(read_tb "$T/res" 300 "$T/on" 2>&1)
rc2=$?
check '[ $rc -eq 0 ] && [ $rc2 -eq 0 ]' "resumed run: exit $rc, $(cat "$T/res.err"); reader: $out"

# 4. A file-size limit reached by the event file (it grows fastest: five events a step): exit 1, one line naming
#    it; the run resumes from its last checkpoint and its event file then equals an uninterrupted run's.
SMALL=(--set log.progress=never --set data.train_limit=600 --set data.test_limit=500 --set train.epochs=null
       --set train.steps=400 --set train.eval_every=1 --set train.checkpoint.every=100 --set log.probe_size=100
       --set log.ics_every=0 --set log.percentiles.every=0 --set log.tensorboard=true
       --set 'model.layers=[{"type":"dense","units":10},{"type":"sigmoid"},{"type":"dense","units":10}]')
prlimit --fsize=100000 "$BNLAB" train "$CFG" "${SMALL[@]}" --out "$T/fsize" >/dev/null 2>"$T/fsize.err"
rc=$?
check '[ $rc -eq 1 ] && [ "$(wc -l <"$T/fsize.err")" -eq 1 ] && grep -q "tfevents.*File too large" "$T/fsize.err"' \
  "event file over the size limit: exit $rc, $(cat "$T/fsize.err")"
check 'grep -q "\"status\":[[:space:]]*\"failed\"" "$T/fsize/summary.json"' "fsize: summary.json does not say failed"
"$BNLAB" train --resume "$T/fsize" >/dev/null 2>"$T/fsize-resume.err"
rc=$?
"$BNLAB" train "$CFG" "${SMALL[@]}" --out "$T/whole" >/dev/null 2>&1
out=$(read_tb "$T/fsize" 100 "$T/whole" 2>&1)
rc2=$?
check '[ $rc -eq 0 ] && [ $rc2 -eq 0 ]' "resume after the size limit: exit $rc, $(cat "$T/fsize-resume.err"); reader: $out"

# 5. The reader can fail: one flipped byte (a CRC), one changed number in metrics.csv, one record too many.
cp -r "$T/on" "$T/flip"
printf '\x55' | dd of="$T/flip/$EV" bs=1 seek=2000 conv=notrunc status=none
out=$(read_tb "$T/flip" 300 2>&1)
rc=$?
check '[ $rc -eq 1 ] && [[ $out == *"CRC mismatch"* ]]' "reader accepted a flipped byte: $out"
cp -r "$T/on" "$T/num"
# Row 2 is step 0 (the initial network).
sed -i '2s/,0\.5,\([^,]*\)$/,0.6,\1/' "$T/num/metrics.csv"
out=$(read_tb "$T/num" 300 2>&1)
rc=$?
check '[ $rc -eq 1 ] && [[ $out == *"FAIL: lr at step 0"* ]]' "reader accepted a changed lr: $out"
cp -r "$T/on" "$T/extra"
head -n -1 "$T/on/metrics.csv" >"$T/extra/metrics.csv"
out=$(read_tb "$T/extra" 300 2>&1)
rc=$?
check '[ $rc -eq 1 ] && [[ $out == *"events no CSV row accounts for"* ]]' "reader accepted events without a row: $out"

# 6. With log.eval_batch_stats the metrics rows add loss/test_batchstats and accuracy/test_batchstats (checked
#    against metrics.csv's columns by the reader), and the tags a run writes are exactly those src/run/tblog.h lists.
"$BNLAB" train "$CFG" "${RUN[@]}" --set log.tensorboard=true --set log.eval_batch_stats=true --set log.gradients_every=100 --out "$T/bs" \
  >/dev/null 2>"$T/bs.err"
rc=$?
out=$(TB_TAGS_OUT="$T/bs.tags" read_tb "$T/bs" 300 2>&1)
rc2=$?
check '[ $rc -eq 0 ] && [ $rc2 -eq 0 ]' "reader on a run with log.eval_batch_stats: exit $rc ($(cat "$T/bs.err")), $out"
check 'grep -qx "loss/test_batchstats" "$T/bs.tags" && grep -qx "accuracy/test_batchstats" "$T/bs.tags"' \
  "batch-statistics tags missing: $(tr '\n' ' ' <"$T/bs.tags")"
sed -n '/^\/\/ tblog.h/,/^\/\/ The file name/p' "$ROOT/src/run/tblog.h" |
  grep -oE '\b(loss|accuracy)/[a-z_]+|layerI_K/[a-z]+|\blr\b' | sort -u >"$T/doc.tags"
check 'cmp -s "$T/doc.tags" "$T/bs.tags"' \
  "tags written ($(tr '\n' ' ' <"$T/bs.tags")) differ from tblog.h's list ($(tr '\n' ' ' <"$T/doc.tags"))"
cp -r "$T/bs" "$T/bs-num"
awk -F, -v OFS=, 'NR == 3 { $9 = $9 + 0.25 } { print }' "$T/bs/metrics.csv" >"$T/bs-num/metrics.csv"
out=$(read_tb "$T/bs-num" 300 2>&1)
rc=$?
check '[ $rc -eq 1 ] && [[ $out == *"FAIL: loss/test_batchstats at step"* ]]' "reader accepted a changed test_loss_batchstats: $out"

finish tensorboard
