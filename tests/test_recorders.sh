#!/usr/bin/env bash
# The table of recorders (run/recorders.h), one generic check for every row: with every log on, (1) a run stopped by
# SIGTERM part-way (it finishes its step, writes a checkpoint and its logs) and resumed, and (2) a run resumed from
# its middle checkpoint after its logs ran ahead (a crash before the final checkpoint: each file is cut by its row's
# resume rule, then the rest is written again) leave every file of every recorder byte for byte as the uninterrupted
# run wrote it, wall-clock times aside (tests/rec_same.py); and every row's files exist (each row turned on by its own
# turn_on --set, read from the table). Controls: the comparison sees a cut byte in every file, and a duplicated row.
# BNLAB and REC_FILES are built with one row more than the engine's (tests/rec_row.c: the log zz_loss, which exists
# only there): a new row is covered with no line here; ENGINE_REC_FILES (the engine's table) must list the same rows
# less that one.
# usage: test_recorders.sh BNLAB SOURCE_ROOT REC_FILES ENGINE_REC_FILES
set -u
BNLAB=$1
ROOT=$2
REC_FILES=$3
ENGINE_REC_FILES=$4
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp rec
same() { /usr/bin/python3 "$ROOT/tests/rec_same.py" "$@"; }

# Every log on (each row's turn_on); dropout and shift noise in the net (every random stream restored); 50 steps an
# epoch; the crash resumes from step 360, mid-epoch and a multiple of every row's period (turn_on's, which divide 120),
# so each row's resume rule decides whether that step's rows stay; the last step (1230) is not an epoch end.
ALL=(--set log.progress=never --set data.train_limit=3000 --set train.epochs=null --set train.steps=1230
     --set train.eval_every=40 --set train.checkpoint.every=360 --set train.checkpoint.keep=10
     --set log.probe_size=200 --set log.eval_batch_stats=true
     --set 'model.layers[2]={"type":"noise"}' --set 'model.layers[5]={"type":"dropout","rate":0.2}')
while read -r s; do ALL+=(--set "$s"); done < <("$REC_FILES" --turn-on)
check '[ ${#ALL[@]} -ge 26 ]' "the rows' turn_on settings were not read: ${ALL[*]}"
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${ALL[@]}" --out "$T/full" >/dev/null 2>"$T/full.err"
rc=$?
check '[ $rc -eq 0 ]' "uninterrupted run: exit $rc, $(cat "$T/full.err")"
# (1) SIGTERM once the run has logged past step 200 (and before its end: the wait is on the log, not a clock).
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${ALL[@]}" --out "$T/stop" >/dev/null 2>"$T/stop.err" &
pid=$!
for _ in $(seq 600); do
  [ "$(tail -1 "$T/stop/metrics.csv" 2>/dev/null | cut -d, -f1)" -gt 200 ] 2>/dev/null && break
  sleep 0.05
done
kill -TERM $pid
wait $pid
rc=$?
check '[ $rc -eq 4 ] && grep -q "interrupted after step" "$T/stop.err"' "SIGTERM: exit $rc, $(cat "$T/stop.err")"
"$BNLAB" train --resume "$T/stop" >/dev/null 2>"$T/stop-resume.err"
rc=$?
check '[ $rc -eq 0 ]' "resume after SIGTERM: exit $rc, $(cat "$T/stop-resume.err")"
# (2) A crash after the logs ran ahead of the middle checkpoint.
cp -r "$T/full" "$T/crash"
rm -f "$T/crash/checkpoints/step-000001230.safetensors"
"$BNLAB" train --resume "$T/crash/checkpoints/step-000000360.safetensors" >/dev/null 2>"$T/crash.err"
rc=$?
check '[ $rc -eq 0 ]' "resume from step 360: exit $rc, $(cat "$T/crash.err")"

"$REC_FILES" >"$T/table" || { echo "FAIL: $REC_FILES"; exit 1; }
"$ENGINE_REC_FILES" >"$T/engine-table" || { echo "FAIL: $ENGINE_REC_FILES"; exit 1; }
check '[ "$(grep -v "^zz_loss " "$T/table")" = "$(cat "$T/engine-table")" ] && grep -q "^zz_loss zz_loss.csv " "$T/table"' \
      "the test build's table is not the engine's plus zz_loss: $(diff "$T/engine-table" "$T/table")"
# Every log file is one an output (predict --out, recalibrate --out ...) may not overwrite (run/runfiles.h); control:
# outside a run directory the same names are allowed.
unguarded=$("$REC_FILES" --unguarded "$T/full")
check '[ -z "$unguarded" ]' "log files runfiles_check_output does not refuse in a run directory: $unguarded"
check '[ -n "$("$REC_FILES" --unguarded "$T")" ]' "runfiles_check_output refuses the log names outside a run directory"
rows=$(cut -d' ' -f1 "$T/table" | sort -u | wc -l)
check '[ "$rows" -ge 8 ]' "the table lists $rows recorders: $(cut -d' ' -f1 "$T/table" | sort -u | tr '\n' ' ')"
while read -r name file format wall; do
  check '[ -s "$T/full/$file" ]' "$name: $file was not written with every log on (turn it on in ALL)"
  for v in stop crash; do
    msg=$(same "$format" "$wall" "$T/full/$file" "$T/$v/$file")
    check '[ $? -eq 0 ]' "$name: $file of the $v + resumed run differs from the uninterrupted run's: $msg"
  done
  # Control: one byte less is a difference, wall-clock fields or not.
  head -c -1 "$T/full/$file" >"$T/cut"
  same "$format" "$wall" "$T/full/$file" "$T/cut" >/dev/null
  check '[ $? -ne 0 ]' "$name: $file: the comparison did not see its last byte cut"
done <"$T/table"
# Control: a row of the resume step twice (what a before-update log's rule applied as after-update leaves) is seen.
p="$T/crash/percentiles.csv"
check 'grep -q "^360," "$T/full/percentiles.csv"' "percentiles.csv has rows at step 360"
{ head -1 "$p"; grep "^360," "$p" | head -1; tail -n +2 "$p"; } >"$T/dup"
same csv 0 "$T/full/percentiles.csv" "$T/dup" >/dev/null
check '[ $? -ne 0 ]' "a duplicated row went unseen"
finish recorders
