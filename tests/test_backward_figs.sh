#!/usr/bin/env bash
# The backward pass's figures (issue 24; lab/fig_backward.c, lab/fig_sweep_map.c): gradients, update_ratios,
# jacobian, gradient_depth and sweep_map, in bnlab plot and bnlab report alike.
# (1) A BN / no-BN pair, 2 seeds, with log.gradients_every, log.update_ratios_every and log.jacobian_every: every
#     curve drawn equals the median over seeds computed independently from the CSVs (tests/check_backward_figs.py);
#     negative control: a value planted in a log after plotting is caught by the same check. The report has each
#     kind's section with its panels. --xrange, --label, --yscale change what they say. Reference lines carry no
#     markers; update_ratios and jacobian have one legend for all panels, in 20-point type.
# (2) Deep ReLU nets with and without BN: gradient_depth's step-0 norms equal the logs and Yang et al.'s line grows
#     by π/(π−1) per layer.
# (3) A two-key sweep (depth x learning rate): every cell of sweep_map says sweep.csv's median final accuracy, or
#     "diverged" where a run's summary.json says so; the report draws the cells.
# (4) A run without these logs: plot --only names each figure it cannot draw and the key that turns it on (exit 0, no
#     PNG), the report says so in each section; a malformed gradients.csv is one line naming file, line and column.
# (5) Depth 64, 1 step: every figure and the report drawn (6 columns of 65 dense layers, evenly spread), and a log of
#     more layers than the figures read refused in one line.
# usage: test_backward_figs.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp backfigs
CHECK="python3 $ROOT/tests/check_backward_figs.py"
cd "$T" || exit 1
KINDS="gradients update_ratios jacobian gradient_depth"  # dead_units: ReLU nets only (below, (2))

# --- (1) a pair, 2 seeds ----------------------------------------------------------------------------------------------
cat >"$T/pair.json" <<JSON
{"name": "pair", "variants": [
  {"name": "bn", "config": "$ROOT/configs/quick-bn.json"},
  {"name": "nobn", "config": "$ROOT/configs/quick-nobn.json"}],
 "seeds": 2, "set": {"data.train_limit": 600, "data.test_limit": 200, "log.probe_size": 60, "train.epochs": null,
  "train.steps": 120, "train.eval_every": 40, "log.gradients_every": 20, "log.update_ratios_every": 10,
  "log.jacobian_every": 60}}
JSON
"$BNLAB" compare "$T/pair.json" --jobs 2 --out "$T/pair" >"$T/pair.out" 2>&1
check '[ -s "$T/pair/summary.json" ]' "compare pair: $(tail -3 "$T/pair.out")"
"$BNLAB" plot "$T/pair" --only gradients,update_ratios,jacobian,gradient_depth,dead_units >"$T/plot.out" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "plot pair: exit $rc: $(grep -v '^plot:' "$T/plot.out" | head -3)"
for k in $KINDS; do
  check '[ -s "$T/pair/plots/$k.png" ] && [ -s "$T/pair/plots/$k.svg" ]' "plot: no plots/$k.png"
  $CHECK "$k" "$T/pair" bn=BN "nobn=no BN" >"$T/check-$k.out" 2>&1
  rc=$?
  check '[ $rc -eq 0 ]' "$k: the figure is not the logs' median over seeds: $(head -3 "$T/check-$k.out")"
done
check '[ ! -e "$T/pair/plots/accuracy.png" ]' "--only: accuracy.png was drawn too"
# A sigmoid unit is never 0 on a whole batch: no dead_units figure for these sigmoid nets, and --only says why, naming
# the registry fact (the ReLU runs of (2) draw it).
check '[ ! -e "$T/pair/plots/dead_units.png" ] && grep -q "^plot: no dead_units figure: Dead units: no hidden layer here can have any .*only for relu (the registry.s can_die)" "$T/plot.out"' \
  "dead_units for sigmoid nets: drawn, or not said why: $(grep dead_units "$T/plot.out")"
# For a projector: the reference lines (10⁻³, 1) are lines without markers, and the figures whose entries mean the
# same in every panel (gradients: "VARIANT, Qth percentile") have one legend below the panels in 20-point type
# instead of one per panel.
for k in gradients update_ratios jacobian; do
  gp=$T/pair/plots/$k.gp
  [ $k = update_ratios ] || [ $k = jacobian ] &&
  check '[ "$(grep -c "rule of thumb\|(§3.3)" "$gp")" -gt 0 ] && ! grep "rule of thumb\|(§3.3)" "$gp" | grep -q "linespoints\| pt "' \
    "$k: a reference line drawn with markers: $(grep -m1 "rule of thumb\|(§3.3)" "$gp")"
  check 'grep -q "^bnlab_one_key_font = bnlab_font(20)$" "$gp" && [ "$(grep -c "^set key off$" "$gp")" -ge "$(( $(grep -c "^set origin" "$gp") - 1 ))" ]' \
    "$k: not one legend in 20-point type (per-panel keys, or none)"
done
check '[ -s "$T/pair/plots/gradient_depth.gp" ] && ! grep -q "title .Yang et al." "$T/pair/plots/gradient_depth.gp"' \
  "gradient_depth: a theory line for sigmoid nets"
# Negative control: a value changed in a log after plotting (a gradient percentile, an update ratio, a singular
# value) is caught.
cp -r "$T/pair" "$T/planted"
awk -F, -v OFS=, 'NR == 3 { $8 = $8 * 3; $11 = $11 * 3 } 1' "$T/pair/bn/seed-1/gradients.csv" >"$T/planted/bn/seed-1/gradients.csv"
awk -F, -v OFS=, 'NR == 6 { $6 = $6 * 3 } 1' "$T/pair/nobn/seed-2/update_ratios.csv" >"$T/planted/nobn/seed-2/update_ratios.csv"
awk -F, -v OFS=, 'NR == 2 { $7 = $7 * 3 } 1' "$T/pair/bn/seed-2/jacobian.csv" >"$T/planted/bn/seed-2/jacobian.csv"
for k in gradients update_ratios jacobian gradient_depth; do
  $CHECK "$k" "$T/planted" bn=BN "nobn=no BN" >"$T/planted-$k.out" 2>&1
  rc=$?
  check '[ $rc -eq 1 ] && [ -s "$T/planted-$k.out" ]' "negative control $k: a planted change was not caught (exit $rc)"
done
# The report: each kind's section with its panels and curves.
"$BNLAB" report "$T/pair" >"$T/report.out" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "report pair: exit $rc: $(head -3 "$T/report.out")"
for k in $KINDS; do
  n=$(grep -c "data-kind=\"$k\" data-panel=" "$T/pair/report.html")
  check 'grep -q "<h2 id=\"$k\"" "$T/pair/report.html" && [ "$n" -ge 2 ] && ! grep -q "id=\"$k-absent\"" "$T/pair/report.html"' \
    "report: kind $k has $n panels"
done
# 6 panels in each of the seed chooser's 3 views (both seeds' medians, seed 1, seed 2).
check '[ "$(grep -c "data-kind=\"gradients\" data-panel=" "$T/pair/report.html")" -eq 18 ]' \
  "report: gradients has a panel per hidden layer and variant (3 x 2) in each of 3 views"
check 'grep -q "id=\"sweep_map-absent\"" "$T/pair/report.html"' "report: sweep_map of a comparison without a grid says so"
check 'grep -q "id=\"dead_units-absent\"" "$T/pair/report.html" && ! grep -q "data-kind=\"dead_units\" data-panel=" "$T/pair/report.html"' \
  "report: dead_units of sigmoid nets drawn, or its absence not said"
# Options: --xrange sets x, --label renames a legend entry, --yscale linear takes back update_ratios' log axis.
rm -rf "$T/pair/plots"
"$BNLAB" plot "$T/pair" --only update_ratios,jacobian --xrange 0:100 --label bn="With BN" --yscale linear >"$T/opt.out" 2>&1
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/pair/plots/update_ratios.png" ] && [ ! -e "$T/pair/plots/gradients.png" ]' \
  "--only update_ratios,jacobian: exit $rc, $(ls "$T/pair/plots" | tr '\n' ' ')"
check 'grep -q "^set xrange \[0:100\]" "$T/pair/plots/update_ratios.gp" && ! grep -q "^set xrange \[-" "$T/pair/plots/update_ratios.gp"' \
  "--xrange 0:100: $(grep -m2 "xrange" "$T/pair/plots/update_ratios.gp" | tr '\n' ' ')"
check 'grep -q "title .With BN." "$T/pair/plots/jacobian.gp" && ! grep -q "title .bn." "$T/pair/plots/jacobian.gp"' \
  "--label bn=\"With BN\": not the legend"
check '! grep -q "^set logscale y" "$T/pair/plots/update_ratios.gp"' "--yscale linear: update_ratios still log"
"$BNLAB" plot "$T/pair" --only update_ratios >/dev/null 2>&1
check 'grep -q "^set logscale y" "$T/pair/plots/update_ratios.gp"' "update_ratios: not on a log axis by default"

# --- (2) deep ReLU: the gradient at initialization against Yang et al. -------------------------------------------------
deep_relu_pair "$T/deep.json" 2 '"data.train_limit": 600, "data.test_limit": 200, "train.steps": 20,
  "train.eval_every": 10, "model.layers[0].repeat": 6, "log.gradients_every": 10, "log.ics_every": 0,
  "log.percentiles.every": 0'
"$BNLAB" compare "$T/deep.json" --jobs 2 --out "$T/deep" >"$T/deep.out" 2>&1
"$BNLAB" plot "$T/deep" --only gradient_depth,dead_units >"$T/deep.plot" 2>&1
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/deep/plots/gradient_depth.png" ]' "plot deep: exit $rc $(tail -2 "$T/deep.out") $(head -2 "$T/deep.plot")"
$CHECK gradient_depth "$T/deep" bn=BN "nobn=no BN" >"$T/check-deep.out" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "gradient_depth (deep): $(head -3 "$T/check-deep.out")"
check 'grep -q "title .Yang et al. 2019 (BN + relu): ×1.467 per layer" "$T/deep/plots/gradient_depth.gp"' "gradient_depth: no theory line for BN + ReLU"
# Dead units (ReLU: some die without BN): the figure is the logs' median fraction; a count planted after plotting is
# caught; without the log, plot --only dead_units names the key.
$CHECK dead_units "$T/deep" bn=BN "nobn=no BN" >"$T/check-dead.out" 2>&1
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/deep/plots/dead_units.png" ]' "dead_units (deep): $(head -3 "$T/check-dead.out")"
check 'grep -q "^bnlab_one_key_font = bnlab_font(20)$" "$T/deep/plots/dead_units.gp" && [ "$(grep -c "^set key off$" "$T/deep/plots/dead_units.gp")" -ge "$(( $(grep -c "^set origin" "$T/deep/plots/dead_units.gp") - 1 ))" ]' \
  "dead_units: not one legend in 20-point type (per-panel keys, or none)"
check '[ "$(awk -F, '"'"'NR > 1 && $5 == "act_input" && $(NF - 1) > 0'"'"' "$T/deep/nobn/seed-1/gradients.csv" | wc -l)" -gt 0 ]' \
  "dead_units: no dead unit in the no-BN ReLU run (the check would compare zeros only)"
cp -r "$T/deep" "$T/deadplant"
awk -F, -v OFS=, 'NR == 4 { $(NF - 1) = $(NF - 1) + 7 } 1' "$T/deep/nobn/seed-2/gradients.csv" >"$T/deadplant/nobn/seed-2/gradients.csv"
$CHECK dead_units "$T/deadplant" bn=BN "nobn=no BN" >"$T/check-deadplant.out" 2>&1
rc=$?
check '[ $rc -eq 1 ] && [ -s "$T/check-deadplant.out" ]' "negative control dead_units: a planted count was not caught (exit $rc)"

# A diverged seed (lr 10^6) is marked with a cross and a legend entry in update_ratios and dead_units (its curve ends
# there and the median after it counts fewer seeds).
deep_relu_pair "$T/div.json" 2 '"data.train_limit": 300, "data.test_limit": 100, "train.steps": 20,
  "train.eval_every": 10, "model.layers[0].repeat": 4, "train.optimizer.lr": 1000000, "log.gradients_every": 1,
  "log.update_ratios_every": 1, "log.ics_every": 0, "log.percentiles.every": 0'
"$BNLAB" compare "$T/div.json" --jobs 2 --out "$T/div" >"$T/div.out" 2>&1
"$BNLAB" plot "$T/div" --only update_ratios,dead_units >"$T/div.plot" 2>&1
rc=$?
check '[ $rc -eq 0 ] && grep -q "title .no BN: [12] of 2 diverged (step" "$T/div/plots/dead_units.gp" && grep -q "title .no BN: [12] of 2 diverged (step" "$T/div/plots/update_ratios.gp"' \
  "diverged seeds not marked: exit $rc, $(grep -v '^plot:' "$T/div.plot" | head -2) $(grep -o "title .[^']*diverged[^']*" "$T/div/plots/dead_units.gp" | head -1)"

# --- (3) a two-key sweep --------------------------------------------------------------------------------------------
deep_relu_pair "$T/sweep.json" 1 '"train.steps": 40, "train.eval_every": 20, "data.train_limit": 600,
  "data.test_limit": 200, "log.ics_every": 0, "log.percentiles.every": 0' \
  '"grid": {"model.layers[0].repeat": [2, 4], "train.optimizer.lr": [0.1, 10]}, "targets": [0.5], '
"$BNLAB" sweep "$T/sweep.json" --jobs 2 --out "$T/sweep" >"$T/sweep.out" 2>&1
"$BNLAB" plot "$T/sweep" --only sweep_map >"$T/sweep.plot" 2>&1
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/sweep/plots/sweep_map.png" ]' "plot sweep_map: exit $rc $(head -2 "$T/sweep.plot")"
$CHECK sweep_map "$T/sweep" >"$T/check-sweep.out" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "sweep_map: $(head -3 "$T/check-sweep.out")"
check 'grep -q "set label [0-9]* .diverged" "$T/sweep/plots/sweep_map.gp"' "sweep_map: no diverged cell marked (nobn at lr 10 diverges)"
check 'grep -q "set xtics (.0.1. 0, .10. 1)" "$T/sweep/plots/sweep_map.gp" && grep -q "set ylabel .depth (repeated blocks)." "$T/sweep/plots/sweep_map.gp"' \
  "sweep_map: the axes are not the grid's values in words"
# What every cell trained for, and the axes in the words sweep.png uses (one table: lab/figures.h fig_grid_key_words).
check 'grep -q "Final test accuracy after 40 steps at each depth (repeated blocks) and learning rate η" "$T/sweep/plots/sweep_map.gp" &&
       grep -q "set xlabel .learning rate η." "$T/sweep/plots/sweep_map.gp"' \
  "sweep_map: the title does not say the steps each cell trained, or the axes differ from sweep.png's words: $(grep -m1 "title" "$T/sweep/plots/sweep_map.gp")"
"$BNLAB" report "$T/sweep" >/dev/null 2>&1
check '[ "$(grep -o "<g class=\"series cells\" cells=\"4\"" "$T/sweep/report.html" | wc -l)" -eq 4 ]' "report: sweep_map's cells (2 bases x final accuracy, steps to the target)"

# --- (4) without the logs; a malformed log ----------------------------------------------------------------------------
"$BNLAB" train "$ROOT/configs/quick-nobn.json" --out "$T/plain" --set train.epochs=null --set train.steps=20 \
  --set train.eval_every=10 --set data.train_limit=300 --set data.test_limit=100 >/dev/null 2>&1
"$BNLAB" plot "$T/plain" --only gradients,update_ratios,jacobian,gradient_depth,sweep_map >"$T/plain.out" 2>&1
rc=$?
check '[ $rc -eq 0 ] && [ -z "$(ls "$T/plain/plots"/*.png 2>/dev/null)" ]' "plot without the logs: exit $rc, $(ls "$T/plain/plots" 2>&1 | tr '\n' ' ')"
for key in gradients:log.gradients_every update_ratios:log.update_ratios_every jacobian:log.jacobian_every \
  gradient_depth:log.gradients_every; do
  check 'grep -q "^plot: no ${key%%:*} figure: .*not logged.*${key#*:}" "$T/plain.out"' "plot --only ${key%%:*} without its log: $(cat "$T/plain.out")"
done
check 'grep -q "^plot: no sweep_map figure: .*two grid keys" "$T/plain.out"' "plot --only sweep_map of one run"
"$BNLAB" report "$T/plain" >/dev/null 2>&1
for key in gradients:log.gradients_every update_ratios:log.update_ratios_every jacobian:log.jacobian_every; do
  check 'grep -q "id=\"${key%%:*}-absent\">[^<]*${key#*:}" "$T/plain/report.html"' "report without ${key%%:*}'s log: no note naming ${key#*:}"
done
cp -r "$T/pair/bn/seed-1" "$T/bad" && rm -rf "$T/bad/plots"
awk -F, -v OFS=, 'NR == 3 { $10 = "abc" } 1' "$T/pair/bn/seed-1/gradients.csv" >"$T/bad/gradients.csv"
"$BNLAB" plot "$T/bad" --only gradients >/dev/null 2>"$T/bad.err"
rc=$?
check '[ $rc -eq 1 ] && [ "$(wc -l <"$T/bad.err")" -eq 1 ] && grep -qF "gradients.csv: line 3, column \"p15\": expected a number or nothing, found \"abc\"" "$T/bad.err"' \
  "plot, malformed gradients.csv: exit $rc, $(cat "$T/bad.err")"
# --- (5) depth 64 (the issue's deepest), 1 step ----------------------------------------------------------------------
# plot draws update_ratios (65 dense layers) and jacobian (7 blocks) with 6 columns evenly spread from the first to the
# last, the title saying so (every column: a 36,400-pixel canvas cairo refused); the report reads 64 hidden layers'
# histograms (it stopped at 32); a log of more dense layers than the figures read is one line, not a figure without
# the deepest ones.
"$BNLAB" train "$ROOT/configs/deep-relu.json" --set 'model.layers[0].repeat=64' --set train.steps=1 \
  --set train.eval_every=1 --set data.train_limit=120 --set data.test_limit=60 --set log.progress=never \
  --set log.gradients_every=1 --set log.update_ratios_every=1 --set log.histograms.every=1 --set log.probe_size=20 \
  --set log.ics_every=0 --out "$T/d64" >"$T/d64.out" 2>&1
"$BNLAB" plot "$T/d64" --only gradients,update_ratios,gradient_depth >"$T/d64.plot" 2>&1
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/d64/plots/update_ratios.png" ] && [ -s "$T/d64/plots/gradient_depth.png" ]' \
  "64 blocks: plot exit $rc: $(tail -2 "$T/d64.out") $(grep -v '^plot:' "$T/d64.plot" | head -2)"
titles=$(grep "^set title 'dense layer" "$T/d64/plots/update_ratios.gp" | sort -u | tr '\n' ' ')
check '[ "$titles" = "set title '"'"'dense layer 1'"'"' set title '"'"'dense layer 13'"'"' set title '"'"'dense layer 26'"'"' set title '"'"'dense layer 39'"'"' set title '"'"'dense layer 52'"'"' set title '"'"'dense layer 65 (output)'"'"' " ] && grep -q "(6 of the 65, evenly spread)" "$T/d64/plots/update_ratios.gp"' \
  "64 blocks: update_ratios' columns: $titles"
"$BNLAB" report "$T/d64" >"$T/d64.rep" 2>&1
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/d64/report.html" ]' "64 blocks: report exit $rc: $(cat "$T/d64.rep")"
"$BNLAB" train "$ROOT/configs/deep-relu.json" --set 'model.layers[0].repeat=7' --set train.steps=1 \
  --set train.eval_every=1 --set data.train_limit=120 --set data.test_limit=60 --set log.progress=never \
  --set log.jacobian_every=1 --set log.probe_size=20 --set log.ics_every=0 --out "$T/d7" >"$T/d7.out" 2>&1
"$BNLAB" plot "$T/d7" --only jacobian >"$T/d7.plot" 2>&1
rc=$?
titles=$(grep "^set title 'block" "$T/d7/plots/jacobian.gp" | sed 's/, .*//' | sort -u | tr '\n' ' ')
check '[ $rc -eq 0 ] && [ "$titles" = "set title '"'"'block 1 set title '"'"'block 2 set title '"'"'block 3 set title '"'"'block 4 set title '"'"'block 5 set title '"'"'block 7 " ] && grep -q "(6 of the 7, evenly spread)" "$T/d7/plots/jacobian.gp"' \
  "7 blocks: jacobian exit $rc, columns: $titles"
cp -r "$T/d64" "$T/d65"
echo "1,999,dense,layers.999.weight,100,0.5,0.5,0.5" >>"$T/d65/update_ratios.csv"
"$BNLAB" plot "$T/d65" --only update_ratios >"$T/d65.plot" 2>"$T/d65.err"
rc=$?
check '[ $rc -ne 0 ] && [ $(wc -l < "$T/d65.err") -eq 1 ] && grep -q "more than 65 values of column \"tensor\"" "$T/d65.err"' \
  "66 dense layers: exit $rc, $(cat "$T/d65.err")"

finish backward_figs
