#!/usr/bin/env bash
# Every command that reads a run's logs (report, plot) ends within a few seconds on hostile logs, with exit 0 (a page
# or figures) or exit 1 and one line naming the file — never a hang, a crash or a half-written output. The logs are a
# real two-variant comparison's, each then changed one way: adjacent doubles as a panel's whole range, 1e-300..1e300
# on a log axis, infinities and NaN (a diverged run), huge steps, numbers that are not numbers, a zero-padded count,
# an overflowing edge, a header without rows, a line cut short.
# usage: test_hostile_logs.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp hostile-logs
"$BNLAB" compare "$ROOT/configs/quick-bn.json" "$ROOT/configs/quick-nobn.json" --seeds 2 --out "$T/base" \
  --set train.epochs=null --set train.steps=120 --set train.eval_every=20 --set log.progress=never \
  --set log.histograms.every=20 --set log.percentiles.every=20 --set log.ics_every=20 \
  --set train.checkpoint.every=0 >/dev/null 2>&1
check '[ -f "$T/base/quick-bn/seed-1/histograms.csv" ]' "the base comparison did not run"

# mutate NAME FILE AWK-PROGRAM: a copy of the comparison whose FILE (in every run) the awk program rewrites.
mutate() {
  local name=$1 file=$2 prog=$3
  cp -r "$T/base" "$T/$name"
  rm -rf "$T/$name/plots" "$T/$name/report.html"
  for f in "$T/$name"/*/seed-*/"$file"; do
    awk -F, -v OFS=, "$prog" "$f" >"$f.new" && mv "$f.new" "$f"
  done
}
# run_all NAME WANT_REPORT [WANT_PLOT]: report and plot on the copy, each within its limit; WANT 0 (drawn) or 1
# (refused in one line naming the file). WANT_PLOT defaults to WANT_REPORT (plot draws no histograms: it does not
# read histograms.csv).
run_all() {
  local name=$1 want_report=$2 want_plot=${3:-$2} cmd rc t0 t1 lines want
  for cmd in report plot; do
    want=$([ "$cmd" = report ] && echo "$want_report" || echo "$want_plot")
    t0=$(date +%s%N)
    timeout 60 "$BNLAB" "$cmd" "$T/$name" >"$T/$name.$cmd.out" 2>"$T/$name.$cmd.err"
    rc=$?
    t1=$(date +%s%N)
    local ms=$(((t1 - t0) / 1000000)) limit=$([ "$cmd" = report ] && echo 5000 || echo 45000)
    check '[ $rc -eq $want ]' "$name: $cmd exited $rc, expected $want: $(head -c 300 "$T/$name.$cmd.err")"
    check '[ $ms -le $limit ]' "$name: $cmd took $ms ms (limit $limit ms)"
    if [ "$want" -eq 1 ]; then
      lines=$(wc -l <"$T/$name.$cmd.err")
      check '[ "$lines" -eq 1 ] && grep -q "$T/$name" "$T/$name.$cmd.err"' "$name: $cmd's refusal is not one line naming the file: $(head -c 300 "$T/$name.$cmd.err")"
    fi
    check '[ -z "$(find "$T/$name" -name "*.part" -o -name ".*.tmp*")" ]' "$name: $cmd left a partial file"
  done
  [ "$want_report" -eq 0 ] || check '[ ! -f "$T/$name/report.html" ]' "$name: a refused report left a page"
}

run_all base 0
# Drawn: the axis code must end on any finite or infinite range.
mutate adjacent percentiles.csv 'NR == 1 {print; next} {for (i = 7; i <= NF; i++) $i = (NR % 2 ? "1e+20" : "1.0000000000000002e+20"); print}'
run_all adjacent 0
mutate tiny-huge ics.csv 'NR == 1 {print; next} {$5 = (NR % 2 ? "1e-300" : "1e+300"); print}'
run_all tiny-huge 0
mutate diverged metrics.csv 'NR == 1 {print; next} NR > 3 {$3 = "inf"; $5 = "nan"; $6 = "0.1"} {print}'
run_all diverged 0
mutate huge-steps metrics.csv 'NR == 1 {print; next} NR > 2 {$1 = NR "00000000000000"} {print}'
run_all huge-steps 0
mutate header-only percentiles.csv 'NR == 1'
run_all header-only 0
mutate cut-short ics.csv '{print}' && for f in "$T/cut-short"/*/seed-*/ics.csv; do printf '120,3,2,0.5' >>"$f"; done
run_all cut-short 0
# Refused in one line: not the numbers bnlab writes.
mutate abc metrics.csv 'NR == 3 {$5 = "abc"} {print}'
run_all abc 1
mutate beyond-steps metrics.csv 'NR == 3 {$1 = "9000000000000000000"} {print}'
run_all beyond-steps 1
mutate padded histograms.csv 'NR == 2 {$12 = "007"} {print}'
run_all padded 1 0
mutate overflow histograms.csv 'NR == 2 {$8 = "1e999"} {print}'
run_all overflow 1 0
mutate empty-count histograms.csv 'NR == 2 {$12 = ""} {print}'
run_all empty-count 1 0
finish hostile_logs
