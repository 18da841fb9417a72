#!/usr/bin/env bash
# Failed writes end a run cleanly: a file-size limit (prlimit --fsize) or a full disk (a small tmpfs, as root) exits 1
# with one message naming the file and the OS error, summary.json says failed, the last good checkpoint loads and no
# temporary file is left. A closed stdout does not stop training. A start in a run directory removes temporary files
# of dead processes; a resume recreates a deleted log with its header.  usage: test_writes.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
T=$(mktemp -d /tmp/bnlab-writes-XXXXXX)
cleanup() {
  mountpoint -q "$T/disk" 2>/dev/null && umount "$T/disk"
  rm -rf "$T"
}
trap cleanup EXIT
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
CFG="$ROOT/configs/quick-bn.json"
# A tiny network (checkpoints of 56 KB) whose percentiles.csv grows by ~140 bytes a step.
TINY=(--set 'model.layers=[{"type":"dense","units":8},{"type":"sigmoid"},{"type":"dense","units":10}]'
      --set data.train_limit=600 --set train.epochs=null --set train.steps=1000 --set train.checkpoint.every=100
      --set log.percentiles.every=1 --set log.percentiles.source=batch --set log.probe_size=100)
status_is() { grep -q "\"status\":[[:space:]]*\"$2\"" "$1/summary.json" 2>/dev/null; }
newest() { ls "$1"/checkpoints/step-*.safetensors 2>/dev/null | tail -1; }
no_temps() { [ -z "$(find "$1" -name '*.tmp[0-9]*')" ]; }

# 1. A file-size limit reached by percentiles.csv mid-run (SIGXFSZ ignored: the write fails with EFBIG).
prlimit --fsize=65536 "$BNLAB" train "$CFG" "${TINY[@]}" --out "$T/fsize" >/dev/null 2>"$T/fsize.err"
rc=$?
check '[ $rc -eq 1 ]' "fsize: exit $rc, expected 1: $(cat "$T/fsize.err")"
check '[ "$(wc -l <"$T/fsize.err")" -eq 1 ] && grep -q "percentiles.csv.*File too large" "$T/fsize.err"' \
  "fsize: one message naming the file and the error: $(cat "$T/fsize.err")"
check 'status_is "$T/fsize" failed' "fsize: summary.json does not say failed"
ck=$(newest "$T/fsize")
check '[ -n "$ck" ] && "$BNLAB" eval "$ck" >/dev/null 2>&1' "fsize: the last checkpoint ($ck) does not load"
check 'no_temps "$T/fsize"' "fsize: temporary files left: $(find "$T/fsize" -name '*.tmp*')"
# Every row before the failure is whole: no row spliced after a gap (each line has the header's field count).
check '[ -z "$(awk -F, "NR == 1 {n = NF} NR > 1 && NF != n" "$T/fsize/metrics.csv")" ]' "fsize: a broken metrics.csv row"
# The run resumes from its last checkpoint once the limit is gone, and completes.
"$BNLAB" train --resume "$T/fsize" >/dev/null 2>"$T/fsize-resume.err"
rc=$?
check '[ $rc -eq 0 ] && status_is "$T/fsize" completed' "fsize: resume after the failure: exit $rc, $(cat "$T/fsize-resume.err")"
# ... and its logs are those of a run that never failed (the wall clock aside).
"$BNLAB" train "$CFG" "${TINY[@]}" --out "$T/whole" >/dev/null 2>&1
check 'cmp -s "$T/whole/percentiles.csv" "$T/fsize/percentiles.csv" && cmp -s "$T/whole/layer_stats.csv" "$T/fsize/layer_stats.csv" &&
       cmp -s <(cut -d, -f1-7 "$T/whole/metrics.csv") <(cut -d, -f1-7 "$T/fsize/metrics.csv")' \
  "fsize: the resumed run's logs differ from an uninterrupted run's"

# 2. A checkpoint larger than the file-size limit: the write fails, its temporary file is removed.
prlimit --fsize=40000 "$BNLAB" train "$CFG" "${TINY[@]}" --set log.percentiles.every=0 --out "$T/ckbig" \
  >/dev/null 2>"$T/ckbig.err"
rc=$?
check '[ $rc -eq 1 ] && [ "$(wc -l <"$T/ckbig.err")" -eq 1 ] && grep -q "step-000000100.safetensors.*File too large" "$T/ckbig.err"' \
  "checkpoint over the size limit: exit $rc, $(cat "$T/ckbig.err")"
check 'status_is "$T/ckbig" failed && no_temps "$T/ckbig"' "checkpoint over the size limit: status or leftovers"

# 3. A full disk (a small tmpfs): once filled by the logs, once by a checkpoint. The logs (percentiles of 8 units at
#    9 percentiles) grow ~1.15 KB a step and a checkpoint is ~57 KB, twice that while the next one is written: on
#    260 KB the checkpoint at step 100 fits (about 115 + 2 x 57 KB) and the logs fill the disk near step 175, before
#    the next one. On 200 KB without percentiles two checkpoints fit and the third does not (keep 3).
WIDE=(--set 'log.percentiles.q=[1,5,10,25,50,75,90,95,99]' --set 'log.percentiles.units=[{"hidden":1,"unit":0},
      {"hidden":1,"unit":1},{"hidden":1,"unit":2},{"hidden":1,"unit":3},{"hidden":1,"unit":4},{"hidden":1,"unit":5},
      {"hidden":1,"unit":6},{"hidden":1,"unit":7}]')
mkdir -p "$T/disk"
if ! mount -t tmpfs -o size=260k tmpfs "$T/disk" 2>/dev/null; then
  echo "SKIP: full-disk tests: cannot mount a tmpfs (not root, or not permitted here)"
else
  "$BNLAB" train "$CFG" "${TINY[@]}" "${WIDE[@]}" --set train.checkpoint.keep=1 --out "$T/disk/logs" >/dev/null 2>"$T/logs.err"
  rc=$?
  check '[ $rc -eq 1 ] && [ "$(wc -l <"$T/logs.err")" -eq 1 ] && grep -Eq "/(percentiles|layer_stats|metrics|ics)\.(csv|jsonl): .*No space left on device" "$T/logs.err"' \
    "full disk (logs): exit $rc, $(cat "$T/logs.err")"
  # summary.json says failed, or the message says it could not be written.
  check 'status_is "$T/disk/logs" failed || grep -q "summary.json" "$T/logs.err"' "full disk (logs): no failed status"
  ck=$(newest "$T/disk/logs")
  check '[ -n "$ck" ] && "$BNLAB" eval "$ck" >/dev/null 2>&1' "full disk (logs): the last checkpoint ($ck) does not load"
  check 'no_temps "$T/disk/logs"' "full disk (logs): temporary files left"
  rm -rf "$T/disk/logs"
  umount "$T/disk" && mount -t tmpfs -o size=200k tmpfs "$T/disk"
  "$BNLAB" train "$CFG" "${TINY[@]}" --set log.percentiles.every=0 --set train.checkpoint.keep=3 --out "$T/disk/ck" \
    >/dev/null 2>"$T/ck.err"
  rc=$?
  check '[ $rc -eq 1 ] && [ "$(wc -l <"$T/ck.err")" -eq 1 ] && grep -q "step-000000300.safetensors.*No space left on device" "$T/ck.err"' \
    "full disk (checkpoint): exit $rc, $(cat "$T/ck.err")"
  check 'status_is "$T/disk/ck" failed' "full disk (checkpoint): summary.json does not say failed"
  check '[ "$(newest "$T/disk/ck")" = "$T/disk/ck/checkpoints/step-000000200.safetensors" ] && "$BNLAB" eval "$(newest "$T/disk/ck")" >/dev/null 2>&1' \
    "full disk (checkpoint): the previous checkpoint is not the newest or does not load"
  check 'no_temps "$T/disk/ck"' "full disk (checkpoint): temporary files left: $(find "$T/disk/ck" -name '*.tmp*')"
fi

# 4. A closed stdout (| head -1): the run goes on to the end, logs and summary complete (metrics.csv: the header,
# step 0 and six evaluations).
"$BNLAB" train "$CFG" --set train.checkpoint.every=100 --out "$T/pipe" 2>"$T/pipe.err" | head -1 >/dev/null
rc=${PIPESTATUS[0]}
check '[ $rc -eq 0 ] && status_is "$T/pipe" completed' "closed stdout: exit $rc, $(cat "$T/pipe.err")"
check '[ "$(wc -l <"$T/pipe/metrics.csv")" -eq 8 ] && [ -f "$T/pipe/checkpoints/step-000000399.safetensors" ]' \
  "closed stdout: logs or final checkpoint incomplete"

# 5. Leftovers of killed writes: temporary files of dead processes go when a run resumes there; a live one stays.
#    A resume after a deleted log writes that log's header again.
cp -r "$T/pipe" "$T/left"
rm "$T/left/checkpoints/step-000000399.safetensors" "$T/left/metrics.csv" "$T/left/layer_stats.csv"
sleep 0 &
dead=$!
wait $dead
for f in checkpoints/step-000000400.safetensors metrics.csv summary.json; do
  head -c 5000 /dev/zero >"$T/left/$f.tmp$dead"
done
head -c 10 /dev/zero >"$T/left/config.json.tmp$$"  # this shell is alive: not stale
"$BNLAB" train --resume "$T/left" >/dev/null 2>"$T/left.err"
rc=$?
check '[ $rc -eq 0 ]' "resume with leftovers: exit $rc, $(cat "$T/left.err")"
check '[ -z "$(find "$T/left" -name "*.tmp$dead")" ]' "stale temporary files kept: $(find "$T/left" -name "*.tmp$dead")"
check '[ -f "$T/left/config.json.tmp$$" ]' "a live process's temporary file was removed"
check '[ "$(head -1 "$T/left/metrics.csv")" = "step,epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds" ]' \
  "resume after a deleted metrics.csv: no header ($(head -1 "$T/left/metrics.csv"))"
check '[ "$(head -1 "$T/left/layer_stats.csv")" = "epoch,step,source,layer,layer_type,units,mean,std,min,max,frac_saturated" ]' \
  "resume after a deleted layer_stats.csv: no header"
check 'grep -q "^399," "$T/left/metrics.csv"' "resumed metrics.csv lacks the last row"

finish test_writes
