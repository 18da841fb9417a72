#!/usr/bin/env bash
# log.histograms (run/histlog.h): histograms.csv read back — one row per hidden layer per logged step (step 0, every N
# steps, the last), bin counts summing to n = probe images x units, adaptive edges fixed from the first frame, fixed
# edges with values outside counted at the edges; the run's other logs byte-identical with it on and off (metrics.csv
# but for its wall-clock seconds); a network without BN (dense layers feed the nonlinearities) too; a failed write
# ends the run like any log's and the run resumes to the same file; off by default (no file). A resumed run's file
# equal to an uninterrupted run's: tests/test_recorders.sh, for every log.
# usage: test_histograms.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp hist

RUN=(--set log.progress=never --set train.eval_every=50 --set train.checkpoint.every=133 --set log.probe_size=300)
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --set log.histograms.every=50 --set 'log.histograms.range="adaptive"' \
  --out "$T/on" >/dev/null 2>"$T/on.err"
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/on/histograms.csv" ]' "train with log.histograms: exit $rc, $(cat "$T/on.err")"
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --out "$T/off" >/dev/null 2>"$T/off.err"
rc=$?
check '[ $rc -eq 0 ] && [ ! -e "$T/off/histograms.csv" ]' "off by default: exit $rc, no histograms.csv"

H="$T/on/histograms.csv"
check '[ "$(head -1 "$H" | cut -d, -f1-11)" = "step,hidden,layer,layer_type,units,n,lo,hi,under,over,c0" ] && [ "$(head -1 "$H" | tr , "\n" | wc -l)" -eq 50 ]' \
  "header: 10 fixed columns and 40 bins (the default): $(head -1 "$H" | cut -c1-80)"
# Every row: the counts sum to n, and n = 300 probe images x units.
bad=$(awk -F, 'NR > 1 { s = 0; for (i = 11; i <= NF; i++) s += $i; if (s != $6 || $6 != 300 * $5) print NR ": sum " s ", n " $6 ", units " $5 }' "$H")
check '[ -z "$bad" ]' "counts sum to probe size x units: $bad"
steps=$(awk -F, 'NR > 1 && $2 == 1 { printf "%s ", $1 }' "$H")
check '[ "$steps" = "0 50 100 150 200 250 300 350 399 " ]' "frames at step 0, every 50 steps and the last (399): $steps"
rows=$(awk -F, 'NR > 1 { printf "%s/%s/%s ", $2, $3, $4 }' "$H" | tr ' ' '\n' | sort -u | tr '\n' ' ')
check '[ "$rows" = "1/1/batchnorm 2/4/batchnorm 3/7/batchnorm " ]' "hidden layers fed by the BN layers 1, 4, 7: $rows"
edges=$(awk -F, 'NR > 1 { print $2, $7, $8 }' "$H" | sort -u | wc -l)
check '[ "$edges" -eq 3 ]' "adaptive: each hidden layer keeps its first frame's edges ($edges distinct)"
check 'awk -F, "NR > 1 && !(\$7 < \$8) { exit 1 }" "$H"' "adaptive edges: lo < hi"
# Adaptive means edges from the data, not the fixed default [-8, 8]: none of the rows has the default's edges, and at
# step 0 (the frame that fixed them: [min - (max-min)/2, max + (max-min)/2]) each layer's smallest and largest value
# fall in the 10th and 30th of the 40 bins.
fixed=$(awk -F, 'NR > 1 && $7 == -8 && $8 == 8' "$H" | wc -l)
check '[ "$fixed" -eq 0 ]' "adaptive: $fixed rows have the fixed default edges [-8, 8]"
span=$(awk -F, 'NR > 1 && $1 == 0 { f = -1; l = -1; for (i = 11; i <= NF; i++) if ($i > 0) { if (f < 0) f = i - 11; l = i - 11 }
  printf "%s:%s-%s ", $2, f, l }' "$H")
check '[ "$span" = "1:10-30 2:10-30 3:10-30 " ] || [ "$(echo "$span" | grep -cE "^(.:(9|10)-(29|30) ){3}$")" -eq 1 ]' \
  "adaptive: step 0 values span the middle half of the bins (hidden:first-last nonzero bin): $span"
check '"$BNLAB" check "$ROOT/configs/quick-bn.json" --set '"'"'log.histograms.range="adaptive"'"'"' | grep -q "\"range\":[[:space:]]*\"adaptive\""' \
  "bnlab check with range \"adaptive\" prints \"adaptive\""
check 'grep -q "\"histograms\"" "$T/on/config.json"' "config.json records log.histograms"

# The run itself is unchanged: every other log byte for byte (metrics.csv without its seconds column).
for f in layer_stats.csv percentiles.csv ics.csv; do
  check 'cmp -s "$T/on/$f" "$T/off/$f"' "$f differs with log.histograms on"
done
check 'cmp -s <(cut -d, -f1-7 "$T/on/metrics.csv") <(cut -d, -f1-7 "$T/off/metrics.csv")' \
  "metrics.csv (but seconds) differs with log.histograms on"

# Fixed edges and a few bins: values outside [-1, 1] count in the edge bins, so sums still hold.
"$BNLAB" train "$ROOT/configs/quick-nobn.json" "${RUN[@]}" --set log.histograms.every=100 --set log.histograms.bins=8 \
  --set 'log.histograms.range=[-1, 1]' --out "$T/fixed" >/dev/null 2>"$T/fixed.err"
rc=$?
H="$T/fixed/histograms.csv"
check '[ $rc -eq 0 ] && [ -s "$H" ]' "no-BN run with fixed edges: exit $rc, $(cat "$T/fixed.err")"
bad=$(awk -F, 'NR > 1 { s = 0; for (i = 11; i <= NF; i++) s += $i; if (NF != 18 || s != $6 || $6 != 300 * $5 || $7 != -1 || $8 != 1) print NR }' "$H")
check '[ -z "$bad" ]' "fixed [-1, 1], 8 bins: edges and sums on every row (bad rows: $bad)"
# under and over: how many of the edge bins' counts lie outside [-1, 1) — at most those bins' counts, and some (a
# no-BN sigmoid network's inputs reach past 1 as it trains). Checked against percentiles.csv's whole-layer extremes
# where it logs them at the same steps: a layer whose logged minimum is >= -1 has under = 0.
bad=$(awk -F, 'NR > 1 && ($9 > $11 || $10 > $NF || $9 + $10 > $6) { print NR }' "$H")
out=$(awk -F, 'NR > 1 { s += $9 + $10 } END { print s + 0 }' "$H")
check '[ -z "$bad" ] && [ "$out" -gt 0 ]' "under/over: more than the edge bins hold (rows: $bad), or none outside at all ($out)"
# A log written before under and over existed (the two columns cut out): bnlab report still draws it, and says that
# its edge bins hold the values outside.
mkdir -p "$T/old" && cp "$T/fixed"/*.csv "$T/fixed"/*.json "$T/old/" && cut -d, -f9,10 --complement "$T/fixed/histograms.csv" >"$T/old/histograms.csv"
"$BNLAB" report "$T/fixed" >/dev/null 2>&1
out=$("$BNLAB" report "$T/old" 2>&1)
rc=$?
check '[ $rc -eq 0 ] && grep -q "\"outside\":0" "$T/old/report.html" && grep -q "\"outside\":1" "$T/fixed/report.html"' \
  "report of an old-format histograms.csv: exit $rc, $out"
types=$(awk -F, 'NR > 1 { print $4 }' "$H" | sort -u | tr '\n' ' ')
check '[ "$types" = "dense " ]' "without BN the nonlinearities' inputs are dense layers: $types"

# A file-size limit reached by histograms.csv (1000 bins every step: it grows fastest): exit 1, one line naming it,
# summary.json says failed; the run resumes from its last checkpoint and histograms.csv then equals an uninterrupted
# run's (adaptive edges read back from the kept rows).
SMALL=(--set log.progress=never --set data.train_limit=600 --set data.test_limit=500 --set train.epochs=null
       --set train.steps=200 --set train.checkpoint.every=20 --set log.probe_size=100 --set log.ics_every=0
       --set log.percentiles.every=0 --set log.histograms.every=1 --set log.histograms.bins=1000
       --set 'model.layers=[{"type":"dense","units":10},{"type":"sigmoid"},{"type":"dense","units":10}]')
prlimit --fsize=100000 "$BNLAB" train "$ROOT/configs/quick-bn.json" "${SMALL[@]}" --out "$T/fsize" >/dev/null 2>"$T/fsize.err"
rc=$?
check '[ $rc -eq 1 ] && [ "$(wc -l <"$T/fsize.err")" -eq 1 ] && grep -q "histograms.csv.*File too large" "$T/fsize.err"' \
  "histograms.csv over the size limit: exit $rc, $(cat "$T/fsize.err")"
check 'grep -q "\"status\":[[:space:]]*\"failed\"" "$T/fsize/summary.json"' "fsize: summary.json does not say failed"
"$BNLAB" train --resume "$T/fsize" >/dev/null 2>"$T/fsize-resume.err"
rc=$?
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${SMALL[@]}" --out "$T/whole" >/dev/null 2>&1
check '[ $rc -eq 0 ] && cmp -s "$T/fsize/histograms.csv" "$T/whole/histograms.csv"' \
  "resume after the size limit: exit $rc, $(cat "$T/fsize-resume.err"); histograms.csv differs from an uninterrupted run's"
# The same resume from a log of the old shape (no under, over): the rows it appends keep that shape.
prlimit --fsize=100000 "$BNLAB" train "$ROOT/configs/quick-bn.json" "${SMALL[@]}" --out "$T/fsize-old" >/dev/null 2>&1
cut -d, -f9,10 --complement "$T/fsize-old/histograms.csv" >"$T/h.old" && cp "$T/h.old" "$T/fsize-old/histograms.csv"
"$BNLAB" train --resume "$T/fsize-old" >/dev/null 2>"$T/fsize-old.err"
rc=$?
check '[ $rc -eq 0 ] && [ "$(awk -F, "{ print NF }" "$T/fsize-old/histograms.csv" | sort -u | wc -l)" -eq 1 ] && cmp -s "$T/fsize-old/histograms.csv" <(cut -d, -f9,10 --complement "$T/whole/histograms.csv")' \
  "resume of an old-shaped histograms.csv: exit $rc, $(cat "$T/fsize-old.err"); rows of mixed shapes or other values"

# Bad values are one-line config errors.
out=$("$BNLAB" train "$ROOT/configs/quick-bn.json" --set 'log.histograms.range=[1, -1]' --out "$T/bad" 2>&1)
check 'echo "$out" | grep -q "^bnlab: error: --set log.histograms.range (over .*): expected \"adaptive\" or \[lo, hi\] with lo < hi"' "bad range: $out"
out=$("$BNLAB" train "$ROOT/configs/quick-bn.json" --set log.histograms.bins=1 --out "$T/bad" 2>&1)
check 'echo "$out" | grep -q "log.histograms.bins"' "bad bins: $out"

finish histograms
