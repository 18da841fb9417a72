#!/usr/bin/env bash
# The figures of issue 25 (docs/anatomy.md) in bnlab plot and bnlab report: ladder (the ablation ladder), unit_updates
# (each unit's angular update with Wan et al.'s line, and lr/‖w_i‖²), curvature (top eigenvalue, batch sharpness,
# 2/η). One shortened run of configs/ablations.json (10 variants x 2 seeds, with log.unit_updates_every,
# log.curvature_every and weight decay) draws all three. Checked:
#  - their numbers are what they are drawn from (tests/fig_anatomy_check.py: the ladder's medians are summary.json's,
#    its rows named in words from each variant's config; the curves are the medians over seeds of unit_updates.csv
#    and curvature.csv, the angles as running means over the window the title states; Wan et al.'s line is
#    √(2ηλ/(1+α)), the curvature line 2/η), and the check fails on a copy
#    of the data with one value changed (a negative control);
#  - the report draws each (its section, its rows' names);
#  - --only draws only those asked for, --label renames a ladder row, --xrange sets the ladder's x range, --yscale
#    log the curvature's y axis, --yrange on the ladder says it leaves the named rows alone, --x examples scales the
#    unit_updates steps by the batch size;
#  - a run without the logs: plot --only names the key that turns each on, exit 0, no figure; the report says the same;
#  - a malformed curvature.csv or unit_updates.csv: one line naming file, line and column, exit 1.
# usage: test_fig_anatomy.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp figanat
cd "$T" || exit 1
CHECK="python3 $ROOT/tests/fig_anatomy_check.py"
is_png() { [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = "211PNG" ]; }

"$BNLAB" compare "$ROOT/configs/ablations.json" --seeds 2 --jobs 2 --set train.steps=150 --set train.eval_every=25 \
  --set data.train_limit=1200 --set data.test_limit=200 --set log.stats=false --set log.unit_updates_every=1 \
  --set log.curvature_every=50 --set train.optimizer.weight_decay=0.001 --out "$T/lad" >"$T/cmp.out" 2>&1
check '[ -s "$T/lad/summary.json" ]' "compare: $(tail -3 "$T/cmp.out")"
"$BNLAB" plot "$T/lad" --only ladder,unit_updates,curvature >"$T/plot.out" 2>"$T/plot.err"
rc=$?
check '[ $rc -eq 0 ] && [ ! -s "$T/plot.err" ]' "plot: exit $rc, stderr: $(head -3 "$T/plot.err")"
for k in ladder unit_updates curvature; do
  check 'is_png "$T/lad/plots/$k.png" && [ -s "$T/lad/plots/$k.svg" ]' "$k.png not drawn"
done
check '[ "$(ls "$T/lad/plots"/*.png | wc -l)" -eq 3 ]' "--only: other figures drawn: $(ls "$T/lad/plots" | tr '\n' ' ')"

# The numbers: every median the ladder draws is summary.json's (and a row that never reached a target says so);
# the curves are the logs' medians over seeds, for a BN variant and the network without BN.
out=$($CHECK ladder "$T/lad" 2>&1)
check '[ $? -eq 0 ]' "ladder's numbers: $out"
check 'grep -q "^set ytics (.*'"'"'BN: centring only'"'"' .*'"'"'no BN, LSUV init'"'"'" "$T/lad/plots/ladder.gp"' \
  "ladder: rows not named in words: $(grep '^set ytics (' "$T/lad/plots/ladder.gp" | head -1)"
for v in bn nobn; do
  for k in unit_updates curvature; do
    out=$(WANT_SMOOTHING=1 VARIANT=$v $CHECK $k "$T/lad" 2>&1)
    check '[ $? -eq 0 ]' "$k's numbers, $v: $out"
  done
done
check 'grep -q "title '"'"'Wan et al.: 0.0316 rad'"'"'" "$T/lad/plots/unit_updates.gp"' \
  "unit_updates: no line at sqrt(2 x 0.5 x 0.001) = 0.0316 labelled: $(grep -o "title 'Wan[^']*'" "$T/lad/plots/unit_updates.gp" | head -2)"
check 'grep -q "title '"'"'2/η = 4 (edge of stability)'"'"'" "$T/lad/plots/curvature.gp"' "curvature: no 2/η = 4 line"
# Negative control: every drawn value 0.1 % off, each check fails.
for k in ladder unit_updates curvature; do
  rm -rf "$T/bad-plots" && cp -r "$T/lad/plots" "$T/bad-plots"
  awk '/^[0-9-]/ { for (i = 1; i <= NF; i++) $i = $i * 1.001 } 1' "$T/lad/plots/data/$k.dat" >"$T/bad-plots/data/$k.dat"
  out=$($CHECK $k "$T/lad" "$T/bad-plots" 2>&1)
  rc=$?
  check '[ $rc -eq 1 ]' "$k: the check passes a figure with its values changed (rc $rc): $out"
done

# The report: each kind's section, drawn (not "plot only"), the ladder's rows named.
"$BNLAB" report "$T/lad" >"$T/report.out" 2>&1
check '[ $? -eq 0 ]' "report: $(head -3 "$T/report.out")"
for k in ladder unit_updates curvature; do
  check 'grep -q "<h2 id=\"$k\"" "$T/lad/report.html" && grep -q "data-kind=\"$k\"" "$T/lad/report.html"' "report: $k not drawn"
done
check 'grep -q ">BN: scaling only<" "$T/lad/report.html" && grep -q ">BN in hidden layer 3 only<" "$T/lad/report.html"' \
  "report: the ladder's rows not named"

# Options.
"$BNLAB" plot "$T/lad" --only ladder --label bn="Full BN" --xrange 0.05:0.95 --yrange 0:1 >"$T/opt.out" 2>&1
check 'grep -q "'"'"'Full BN'"'"' " "$T/lad/plots/ladder.gp" && ! grep -q "'"'"'BN'"'"' 7" "$T/lad/plots/ladder.gp"' \
  "--label bn=...: not the ladder's row name: $(grep '^set ytics (' "$T/lad/plots/ladder.gp" | head -1)"
check 'grep -q "^set xrange \[0.050*[0-9]*:0.9[45]" "$T/lad/plots/ladder.gp"' "--xrange: $(grep '^set xrange' "$T/lad/plots/ladder.gp" | head -1)"
check 'grep -q "ladder: its y axis names the rows" "$T/opt.out"' "--yrange on the ladder: not said: $(cat "$T/opt.out")"
"$BNLAB" plot "$T/lad" --only curvature --yrange 0:10 >/dev/null 2>&1
check '[ "$(grep -c "^set yrange \[0:10\]" "$T/lad/plots/curvature.gp")" -eq 2 ]' "--yrange 0:10: curvature's y axes $(grep '^set yrange' "$T/lad/plots/curvature.gp")"
"$BNLAB" plot "$T/lad" --only unit_updates --yscale linear >/dev/null 2>&1
check '[ "$(grep -c "^set logscale y" "$T/lad/plots/unit_updates.gp")" -eq 0 ] && [ "$(grep -c "^unset logscale y" "$T/lad/plots/unit_updates.gp")" -ge 8 ]' \
  "--yscale linear: unit_updates' y axes still log"
"$BNLAB" plot "$T/lad" --only unit_updates --x examples >/dev/null 2>&1
out=$(XK=60 $CHECK unit_updates "$T/lad" 2>&1)
check '[ $? -eq 0 ]' "--x examples: unit_updates' x not steps x 60: $out"

# Not logged: a run of the Fig. 1 BN network without the two logs.
"$BNLAB" train "$ROOT/configs/quick-bn.json" --set train.epochs=null --set train.steps=20 --set data.train_limit=600 --set data.test_limit=100 \
  --out "$T/plain" >/dev/null 2>&1
"$BNLAB" plot "$T/plain" --only ladder,unit_updates,curvature >"$T/plain.out" 2>"$T/plain.err"
rc=$?
check '[ $rc -eq 0 ] && [ ! -s "$T/plain.err" ]' "plot, nothing logged: exit $rc, $(head -2 "$T/plain.err")"
check 'grep -q "log.unit_updates_every" "$T/plain.out" && grep -q "log.curvature_every" "$T/plain.out" && grep -q "this is one run" "$T/plain.out"' \
  "plot, nothing logged: no message naming the keys: $(cat "$T/plain.out")"
check '[ -z "$(ls "$T/plain/plots" 2>/dev/null | grep png)" ]' "plot, nothing logged: a figure drawn: $(ls "$T/plain/plots")"
"$BNLAB" report "$T/plain" >/dev/null 2>&1
check 'grep -q "id=\"unit_updates-absent\"[^<]*log.unit_updates_every" "$T/plain/report.html" &&
       grep -q "id=\"curvature-absent\"[^<]*log.curvature_every" "$T/plain/report.html" && grep -q "id=\"ladder-absent\"" "$T/plain/report.html"' \
  "report, nothing logged: the sections do not say why"

# A malformed log: one line naming file, line and column, exit 1.
for f in curvature unit_updates; do
  cp -r "$T/lad/bn/seed-1" "$T/bad-$f" && rm -rf "$T/bad-$f/plots"
  col=$([ $f = curvature ] && echo 6 || echo 12)
  awk -F, -v OFS=, -v c=$col 'NR == 3 { $c = "abc" } 1' "$T/lad/bn/seed-1/$f.csv" >"$T/bad-$f/$f.csv"
  "$BNLAB" plot "$T/bad-$f" --only $f >/dev/null 2>"$T/bad.err"
  rc=$?
  check '[ $rc -eq 1 ] && [ "$(wc -l <"$T/bad.err")" -eq 1 ] && grep -q "$f.csv: line 3, column .*expected a number.*, found \"abc\"" "$T/bad.err"' \
    "plot, malformed $f.csv: exit $rc, $(cat "$T/bad.err")"
done
finish fig_anatomy
