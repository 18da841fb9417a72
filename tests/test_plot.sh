#!/usr/bin/env bash
# bnlab plot and sweep collect on the runs a class makes: a 3-epoch run, a 2,000-step comparison with 2 seeds and
# a diverged variant, a diverged run, custom percentiles, a sweep over batch sizes (log x axis), imperfect sweep
# directories, directory names with shell and gnuplot metacharacters, and gnuplot failing or missing. Every plot
# must exit 0 with nothing from gnuplot on stderr, every promised PNG must be complete (and its SVG and, when this
# gnuplot has pdfcairo, its PDF), each single-panel figure's SVG must have distinct tick labels, every panel's
# tick list in the scripts must be distinct, every legend entry a script asks for must be drawn, compared panels
# must share their y axis (BN vs no-BN: no-BN first), and the scripts must rerun from their folder.
# usage: test_plot.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp plot
cd "$T" || exit 1  # an injected relative "touch" would land here
SMALL=(--set data.train_limit=1200 --set data.test_limit=300 --set log.probe_size=100)
DIVERGE='"train.optimizer.lr": 1e4, "train.optimizer.momentum": 0.9, "model.init": {"type": "he_normal"},
  "model.layers[1].type": "relu", "model.layers[3].type": "relu", "model.layers[5].type": "relu"'

HAVE_PDF=0
gnuplot -e "set terminal pdfcairo" >/dev/null 2>&1 && HAVE_PDF=1
is_png() { [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = "211PNG" ]; }
# Tick labels of an SVG from gnuplot, one "AXIS@COORD LABEL" line each: x labels keyed by their row, y labels by
# their column (a label follows its tick mark's path on gnuplot's output line).
tick_labels() {
  awk '/d=.M.*translate\(/ { match($0, /translate\([0-9.]+,[0-9.]+\)/); split(substr($0, RSTART + 10, RLENGTH - 11), c, ",");
         key = ($0 ~ /text-anchor="middle"/) ? "x@" c[2] : "y@" c[1]; getline;
         if (match($0, /<text>[^<]*<\/text>/)) { l = substr($0, RSTART + 6, RLENGTH - 13); gsub(/^ +| +$/, "", l); print key, l } }' "$1"
}
x_labels() { tick_labels "$1" | awk '$1 ~ /^x@/ {printf "%s%s", sep, $2; sep = " "}'; }
# plot_ok NAME DIR FIGURES...: bnlab plot DIR exits 0, says nothing on stderr, and writes each figure as a PNG
# and an SVG, leaving no temporary file.
plot_ok() {
  local name=$1 dir=$2
  shift 2
  "$BNLAB" plot "$dir" >"$T/$name.out" 2>"$T/$name.err"
  local rc=$?
  check '[ $rc -eq 0 ]' "$name: plot exit $rc: $(head -3 "$T/$name.err")"
  check '[ ! -s "$T/$name.err" ]' "$name: plot wrote to stderr: $(head -3 "$T/$name.err")"
  for f in "$@"; do
    check 'is_png "$dir/plots/$f.png" && [ -s "$dir/plots/$f.svg" ]' "$name: $f.png/svg missing or not a PNG"
    [ $HAVE_PDF = 0 ] || check '[ "$(head -c 5 "$dir/plots/$f.pdf" 2>/dev/null)" = "%PDF-" ]' "$name: $f.pdf missing"
    gp_ticks_ok "$name $f" "$dir/plots/$f.gp"
    legend_ok "$name $f" "$dir/plots/$f"
  done
  check '[ -z "$(find "$dir/plots" -name "*.part")" ]' "$name: a temporary figure was left behind"
}
# gp_ticks_ok NAME GP: each tick list the script sets (one per panel and axis) has distinct labels.
gp_ticks_ok() {
  local bad
  bad=$(grep -E '^set [xy]tics \(' "$2" | while IFS= read -r line; do
          printf '%s\n' "$line" | grep -o '"[^"]*"' | sort | uniq -d; done)
  check '[ -z "$bad" ]' "$1: a panel repeats a tick label: $bad"
}
# legend_ok NAME BASE: every curve title in BASE.gp is drawn as text in BASE.svg.
legend_ok() {
  local t missing=""
  while IFS= read -r t; do
    grep -qF ">$t<" "$2.svg" || missing="$missing [$t]"
  done < <(grep -o "index [0-9]* using [^,]* title '[^']*'" "$2.gp" | sed "s/.* title '//; s/'\$//" | grep -v '&' | sort -u)
  check '[ -z "$missing" ]' "$1: legend entries not drawn:$missing"
}
# same_yrange NAME GP: every panel of the script has one y range.
same_yrange() {
  local gp=$2
  check '[ "$(grep -c "^set yrange" "$gp")" -ge 2 ] && [ "$(grep "^set yrange" "$gp" | sort -u | wc -l)" -eq 1 ]' \
    "$1: compared panels do not share their y range: $(grep "^set yrange" "$gp" | sort -u | tr '\n' ' ')"
}
# ticks_ok NAME SVG [EXPECTED-X-LABELS]: no axis repeats a tick label (and the x labels are these).
ticks_ok() {
  local name=$1 svg=$2 want=${3-} dups
  dups=$(tick_labels "$svg" | sort | uniq -d)
  check '[ -z "$dups" ] && [ "$(tick_labels "$svg" | grep -c "^x@")" -ge 1 ]' "$name: repeated or no tick labels: $dups"
  [ -z "$want" ] || check '[ "$(x_labels "$svg")" = "$want" ]' "$name: x tick labels '$(x_labels "$svg")', expected '$want'"
}

# 1. A 3-epoch run with its own percentiles: epoch ticks 1 2 3, the legend from percentiles.csv's header.
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${SMALL[@]}" --set 'log.percentiles.q=[2.5, 50, 97.5]' \
  --set log.ics_every=20 --set log.eval_batch_stats=true --set log.landscape.every=1000000 --out "$T/run3" >/dev/null 2>&1
plot_ok run3 "$T/run3" accuracy loss percentiles layers saturation layer_stats ics modes landscape landscape_eta
check 'grep -q "test, batch statistics" "$T/run3/plots/modes.gp" && grep -q "training batches" "$T/run3/plots/modes.gp"' \
  "modes: a BN run lacks the batch-statistics or training-batch curve"
# Step 0 is drawn: the first test point of the accuracy and loss curves is at x = 0.
check '[ "$(awk "NF && !/^#/ {print \$1; exit}" "$T/run3/plots/data/accuracy.dat")" = 0 ]' "accuracy: no point at step 0"
check '[ ! -e "$T/run3/plots/params.png" ]' "params: a figure without log.param_stats"
check 'grep -q "yerrorbars" "$T/run3/plots/landscape.gp" && grep -q "at step 0" "$T/run3/plots/landscape_eta.gp" &&
       [ "$(grep -c "^set title .at step" "$T/run3/plots/landscape_eta.gp")" -eq 1 ]' "landscape, one probe: not drawn as error bars at step 0"
check '(cd "$T/run3/plots" && rm -f accuracy.png && gnuplot accuracy.gp 2>"$T/rerun.err" && is_png accuracy.png && [ ! -s "$T/rerun.err" ])' \
  "cd plots && gnuplot accuracy.gp does not rerun cleanly: $(head -2 "$T/rerun.err" 2>/dev/null)"
check 'grep -q "hidden layer 1 (sigmoid)" "$T/run3/plots/layers.svg" && grep -q "hidden layer 3 (sigmoid)" "$T/run3/plots/layers.svg"' \
  "layers: no panel per hidden layer"
check 'grep -q "mean output over units and examples" "$T/run3/plots/layer_stats.gp" && grep -q "^set xlabel .training step" "$T/run3/plots/layer_stats.gp"' \
  "layer_stats: not the mean output over steps"
check 'grep -q "fraction saturated" "$T/run3/plots/saturation.gp" && [ "$(grep -c "^set title .hidden layer" "$T/run3/plots/saturation.gp")" -eq 3 ]' \
  "saturation: not one panel per hidden layer"
check 'grep -q "‖G − G′‖ / ‖G‖" "$T/run3/plots/ics.gp" && grep -q "‖G − G′‖ / ‖G‖" "$T/run3/plots/ics.svg"' \
  "ics: not the relative ‖G − G′‖ / ‖G‖ in Greek/math letters"
check 'grep -q "β_eff" "$T/run3/plots/landscape.gp" && grep -q "η" "$T/run3/plots/landscape_eta.gp" && ! grep -q "beta_eff\|eta g" "$T/run3/plots/landscape.gp"' \
  "landscape: η and β spelled out instead of written as the paper does"
# β_eff over many probes is a thin line under its running median (docs/landscape.md's ReLU pair: 200 probes, which a
# threshold of "more than 200" left as one thick zigzag per variant); one probe (run3) is not smoothed.
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${SMALL[@]}" --set train.epochs=null --set train.steps=120 \
  --set log.landscape.every=1 --out "$T/probed" >/dev/null 2>&1
"$BNLAB" plot "$T/probed" --only landscape >/dev/null 2>&1
check 'grep -q "running median of 21 probes" "$T/probed/plots/landscape.gp" && grep -q "lw 3.5 .*title" "$T/probed/plots/landscape.gp" &&
       ! grep -q "running median" "$T/run3/plots/landscape.gp"' \
  "landscape: 120 probes not drawn as a running median over a thin line per probe (or one probe smoothed)"
check 'grep -q "Fig. 1" "$T/run3/plots/percentiles.gp"' "a sigmoid network's percentiles should cite Fig. 1"
# No ICS row (a run stopped before its first ICS step): a note panel, not an empty plot.
cp -r "$T/run3" "$T/noics" && rm -rf "$T/noics/plots" && head -1 "$T/run3/ics.csv" >"$T/noics/ics.csv"
plot_ok "no ICS rows" "$T/noics" accuracy loss ics
check 'grep -q "No ICS step was logged" "$T/noics/plots/ics.svg"' "no ICS rows: no note panel"
# One ICS step (a 399-step run with log.ics_every=500): no figure of single points; a line says why.
cp -r "$T/run3" "$T/oneics" && rm -rf "$T/oneics/plots" && awk -F, 'NR == 1 || $1 == 0' "$T/run3/ics.csv" >"$T/oneics/ics.csv"
plot_ok "one ICS step" "$T/oneics" accuracy ics
check 'grep -q "One ICS step was logged: a line needs two" "$T/oneics/plots/ics.svg" && ! grep -q "index" "$T/oneics/plots/ics.gp"' \
  "one ICS step: not the note panel"
ticks_ok "run3 accuracy" "$T/run3/plots/accuracy.svg"
ticks_ok "run3 percentiles" "$T/run3/plots/percentiles.svg"
check 'grep -q ">2.5th<" "$T/run3/plots/percentiles.svg" && grep -q ">97.5th<" "$T/run3/plots/percentiles.svg" && ! grep -q ">15th<" "$T/run3/plots/percentiles.svg"' \
  "percentile legend does not follow log.percentiles.q"
check 'grep -q "2.5th, 50th, 97.5th percentiles" "$T/run3/plots/percentiles.svg"' "percentile title"

# 2. Directory names that a shell or gnuplot would parse: plotted, and nothing executed.
for odd in "my run" "bob's run" 'r;touch INJECTED;x' 'r$(touch INJECTED2)' 'r`touch INJECTED3`' "q\"uo'te\\"; do
  cp -r "$T/run3" "$T/$odd"
  rm -rf "$T/$odd/plots"
  plot_ok "odd name [$odd]" "$T/$odd" accuracy percentiles layer_stats ics
  check 'grep -qF -- "$odd" "$T/$odd/plots/accuracy.svg"' "odd name [$odd]: not in the accuracy title"
done
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${SMALL[@]}" --set train.epochs=1 --out "$T/t;touch INJECTED4;'x" >/dev/null 2>&1
plot_ok "trained into an odd name" "$T/t;touch INJECTED4;'x" accuracy layer_stats
check '[ -z "$(find "$T" / -maxdepth 1 -name "INJECTED*")" ]' "a directory name was executed as a command"

# Ctrl-C while gnuplot renders (issue 22): SIGINT to the whole process group, as a terminal sends it, once a
# temporary figure exists. bnlab ends by the signal and leaves no plots/.NAME.EXT.part behind.
cp -r "$T/run3" "$T/intr" && rm -rf "$T/intr/plots"
set -m  # job control: the background job gets its own process group, with SIGINT not ignored
"$BNLAB" plot "$T/intr" >/dev/null 2>&1 &
pid=$!
set +m
for i in $(seq 1 3000); do
  [ -n "$(find "$T/intr/plots" -name '.*.part' 2>/dev/null)" ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.005
done
saw=$(find "$T/intr/plots" -name '.*.part' 2>/dev/null | head -1)
kill -INT -- -$pid 2>/dev/null
wait $pid
rc=$?
check '[ -n "$saw" ] && [ $rc -eq 130 ] && [ -z "$(find "$T/intr/plots" -name "*.part")" ]' \
  "Ctrl-C while rendering: exit $rc (expected 130), saw '${saw##*/}', left: $(find "$T/intr/plots" -name "*.part" | tr "\n" " ")"

# 3. A diverged run: plotted up to its divergence and marked there.
cat >"$T/div.json" <<JSON
{"name": "div", "variants": [{"name": "div", "config": "$ROOT/configs/quick-nobn.json", "set": {$DIVERGE}}], "seeds": 1}
JSON
"$BNLAB" train "$ROOT/configs/quick-nobn.json" "${SMALL[@]}" --set train.optimizer.lr=1e4 --set train.optimizer.momentum=0.9 \
  --set 'model.init={"type": "he_normal"}' --set 'model.layers[1].type="relu"' --set 'model.layers[3].type="relu"' \
  --set 'model.layers[5].type="relu"' --set log.landscape.every=1 --out "$T/div" >/dev/null 2>&1
rc=$?
check '[ $rc -eq 3 ]' "the diverging run exited $rc, expected 3"
plot_ok diverged "$T/div" accuracy loss percentiles layers layer_stats ics landscape landscape_eta
check '[ ! -e "$T/div/plots/modes.png" ]' "modes drawn for a run without log.eval_batch_stats"
check 'grep -q ">diverged at step [0-9]*<" "$T/div/plots/landscape.svg"' "diverged run not marked in landscape"
check '! grep -qi "sigmoid\|Fig. 1" "$T/div/plots/percentiles.gp" && grep -q "relu" "$T/div/plots/percentiles.gp"' \
  "a ReLU network's titles say sigmoid or cite Fig. 1"
check 'grep -q ">diverged at step [0-9]*<" "$T/div/plots/accuracy.svg"' "diverged run not marked in accuracy"
check 'grep -q ">diverged at step [0-9]*<" "$T/div/plots/percentiles.svg"' "diverged run not marked in percentiles"

# 4. A 2,000-step comparison, 2 seeds, with a variant that diverges: step ticks 0 500 1000 1500 2000.
cat >"$T/cmp.json" <<JSON
{"name": "cmp", "variants": [{"name": "bn", "config": "$ROOT/configs/quick-bn.json"},
                             {"name": "div", "config": "$ROOT/configs/quick-nobn.json", "set": {$DIVERGE}}],
 "seeds": 2, "targets": [0.8],
 "set": {"train.epochs": null, "train.steps": 2000, "train.eval_every": 100, "log.ics_every": 500,
         "data.train_limit": 1200, "data.test_limit": 300, "log.probe_size": 100, "log.eval_batch_stats": true,
         "log.param_stats": true, "log.landscape.every": 100}}
JSON
"$BNLAB" compare "$T/cmp.json" --jobs 2 --out "$T/cmp" >"$T/cmp.out" 2>&1
check '[ -s "$T/cmp/curves.csv" ]' "compare: $(tail -3 "$T/cmp.out")"
plot_ok compare "$T/cmp" accuracy loss percentiles layers layer_stats ics modes params landscape landscape_eta
check 'grep -q "no BN: one way to evaluate" "$T/cmp/plots/modes.gp" && [ "$(grep -c "test, batch statistics" "$T/cmp/plots/modes.gp")" -eq 1 ]' \
  "modes: the no-BN panel should say so and draw no batch-statistics curve"
check '[ "$(grep -c "^set title .dense layer" "$T/cmp/plots/params.gp")" -eq 4 ] && [ "$(grep -c "^set title .BN layer" "$T/cmp/plots/params.gp")" -eq 3 ]' \
  "params: a panel per dense layer (4) and per BN layer (3)"
check '[ "$(grep -A1 "^set logscale y" "$T/cmp/plots/params.gp" | grep "^set yrange" | sort -u | wc -l)" -eq 1 ] && grep -q "title .no BN." "$T/cmp/plots/params.gp" && grep -q "title .BN γ." "$T/cmp/plots/params.gp"' \
  "params: both variants' ||W|| on shared log axes, BN's γ on the BN panels"
# Fig. 4 over seeds: at step 1000, bn's row is (median, median, min, max) of the seeds' loss_min/loss_max, and
# its beta_eff median, min and max (landscape_band.csv columns 5, 6, 9).
want=$(awk -F, '$1 == 1000 { n++; a[n] = $5; b[n] = $6; c[n] = $9 }
  END { lo = a[1] < a[2] ? a[1] : a[2]; hi = b[1] > b[2] ? b[1] : b[2]; blo = c[1] < c[2] ? c[1] : c[2]; bhi = c[1] > c[2] ? c[1] : c[2];
        printf "%.9g %.9g %.9g %.9g %.9g %.9g %.9g", (a[1] + a[2]) / 2, (b[1] + b[2]) / 2, lo, hi, (c[1] + c[2]) / 2, blo, bhi }' \
  "$T/cmp/bn/seed-1/landscape_band.csv" "$T/cmp/bn/seed-2/landscape_band.csv")
# block DAT PANEL KIND COLOUR LABEL: the rows of the curve that the gnuplot renderer marks with
# "# panel PANEL, curve K: KIND COLOUR "LABEL"" in its data file (view/figmodel_gnuplot.c).
block() {
  awk -v key="# panel $2, curve" -v tail=": $3 $4 \"$5\"" 'index($0, key) == 1 && substr($0, length($0) - length(tail) + 1) == tail { on = 1; next }
    on && /^#/ { exit } on && NF { print } on && !NF && seen { exit } on && NF { seen = 1 }' "$1"
}
# row_near DAT PANEL KIND COLOUR LABEL X V1 V2..: the curve has a row at x = X with these values (relative 1e-7).
row_near() {
  local dat=$1 panel=$2 kind=$3 colour=$4 label=$5 x=$6
  shift 6
  block "$dat" "$panel" "$kind" "$colour" "$label" | awk -v x="$x" -v w="$*" 'BEGIN { n = split(w, e, " ") }
    function near(a, b) { return (a - b) ^ 2 <= (1e-7 * b) ^ 2 + 1e-30 }
    $1 == x { ok = 1; for (i = 1; i <= n; i++) ok = ok && near($(i + 1), e[i]); if (ok) found = 1 } END { exit !found }'
}
w=($want)
D="$T/cmp/plots/data/landscape.dat"
check 'row_near "$D" 0 band "#0072B2" BN 1000 ${w[0]} ${w[1]} && row_near "$D" 0 band "#0072B2" "" 1000 ${w[2]} ${w[3]} &&
       row_near "$D" 2 line "#0072B2" BN 1000 ${w[4]} && row_near "$D" 2 band "#0072B2" "" 1000 ${w[5]} ${w[6]}' \
  "landscape: bn at step 1000 is not the median/range over seeds of $want: $(block "$D" 0 band "#0072B2" BN | grep "^1000 ")"
check 'grep -q "light: their range over seeds" "$T/cmp/plots/landscape.gp" && [ -n "$(block "$D" 1 band "#0072B2" "")" ] &&
       grep -q ">no BN: 2 of 2 diverged (step [0-9]*)<" "$T/cmp/plots/landscape.svg"' "landscape: no seed range or no divergence drawn"
# The figure model's numbers are the logs' (the same model draws report.html): the median over the 2 seeds (their
# mean) of bn's test accuracy at each step, of dense layer 2's ‖G − G′‖ / ‖G‖, and of hidden layer 1's whole-layer
# percentiles, computed here from metrics.csv, ics.csv and percentiles.csv, against the blocks of the data files.
# same_rows WANT GOT: every row of WANT (x v1 v2 ..) is in GOT at the same x with the same values (relative 1e-7),
# and GOT has no other x.
same_rows() {
  awk 'function near(a, b) { return (a - b) ^ 2 <= (1e-7 * b) ^ 2 + 1e-24 }
    FNR == NR { want[$1] = $0; n++; next } { m++; if (!($1 in want)) { bad++; next } split(want[$1], w, " ");
      for (i = 2; i <= NF; i++) if (!near($i, w[i])) bad++ }
    END { exit !(n > 1 && n == m && bad == 0) }' "$1" "$2"
}
B="$T/cmp/bn"
awk -F, 'FNR > 1 { s[$1] += $6; n[$1]++ } END { for (k in s) if (n[k] == 2) printf "%s %.10g\n", k, s[k] / 2 }' \
  "$B/seed-1/metrics.csv" "$B/seed-2/metrics.csv" | sort -n >"$T/want.acc"
block "$T/cmp/plots/data/accuracy.dat" 0 line "#0072B2" BN >"$T/got.acc"
check 'same_rows "$T/want.acc" "$T/got.acc"' "accuracy: bn's median is not the logs' ($(head -2 "$T/want.acc" | tr "\n" " ") vs $(head -2 "$T/got.acc" | tr "\n" " "))"
awk -F, 'FNR > 1 && $3 == 2 { s[$1] += $5 / $4; n[$1]++ } END { for (k in s) if (n[k] == 2) printf "%s %.10g\n", k, s[k] / 2 }' \
  "$B/seed-1/ics.csv" "$B/seed-2/ics.csv" | sort -n >"$T/want.ics"
block "$T/cmp/plots/data/ics.dat" 0 line "#0072B2" BN >"$T/got.ics"
check 'same_rows "$T/want.ics" "$T/got.ics"' "ics: bn's median of dense layer 2 is not the logs' ($(head -2 "$T/want.ics" | tr "\n" " ") vs $(head -2 "$T/got.ics" | tr "\n" " "))"
awk -F, 'FNR > 1 && $2 == 1 && $5 == "all" { a[$1] += $7; b[$1] += $8; c[$1] += $9; n[$1]++ }
  END { for (k in a) if (n[k] == 2) printf "%s %.10g %.10g %.10g\n", k, a[k] / 2, b[k] / 2, c[k] / 2 }' \
  "$B/seed-1/percentiles.csv" "$B/seed-2/percentiles.csv" | sort -n >"$T/want.pct"
block "$T/cmp/plots/data/layers.dat" 3 band "#0072B2" "15th to 85th" >"$T/got.band"
block "$T/cmp/plots/data/layers.dat" 3 line "#0072B2" "50th" >"$T/got.mid"
check 'same_rows <(awk "{ print \$1, \$2, \$4 }" "$T/want.pct") "$T/got.band" && same_rows <(awk "{ print \$1, \$3 }" "$T/want.pct") "$T/got.mid"' \
  "layers: bn's hidden layer 1 fan is not the logs' medians ($(head -1 "$T/want.pct") vs $(head -1 "$T/got.band") / $(head -1 "$T/got.mid"))"
first=$(grep -m1 -o "index [0-9]* using .* title '[^']*'" "$T/cmp/plots/landscape.gp" | sed "s/.* title //")
check '[ "$first" = "'"'no BN'"'" ]' "landscape: the no-BN variant (div) is not first: $first"
# Default steps: the probes nearest to 1/10, 1/2 and all of the last probe (1900): 200, 900 (950 is a tie), 1900.
check '[ "$(grep "^set yrange" "$T/cmp/plots/landscape_eta.gp" | sort -u | wc -l)" -eq 1 ] &&
       [ "$(grep "^set title .at step" "$T/cmp/plots/landscape_eta.gp" | tr -dc "0-9\n" | paste -sd " ")" = "200 900 1900" ]' \
  "landscape_eta: panels do not share y, or not the default steps: $(grep "^set title .at step" "$T/cmp/plots/landscape_eta.gp")"
"$BNLAB" plot "$T/cmp" --landscape-steps 0,100,1900 >/dev/null 2>"$T/lsteps.err"
check '[ ! -s "$T/lsteps.err" ] && [ "$(grep -c "^set title .at step \(0\|100\|1900\)." "$T/cmp/plots/landscape_eta.gp")" -eq 3 ]' \
  "plot --landscape-steps 0,100,1900: $(head -2 "$T/lsteps.err")"
for bad in "1,x" "-5" "1,2,3,4,5" "" "1000000000,1000000000,1000000000,10000000000"; do
  "$BNLAB" plot "$T/cmp" --landscape-steps "$bad" >/dev/null 2>"$T/lsbad.err"
  rc=$?
  check '[ $rc -eq 2 ] && head -1 "$T/lsbad.err" | grep -q "landscape-steps takes 1 to 4 steps"' \
    "plot --landscape-steps '$bad' was not refused (exit $rc): $(head -1 "$T/lsbad.err")"
done
same_yrange "compare percentiles" "$T/cmp/plots/percentiles.gp"
same_yrange "compare layer_stats" "$T/cmp/plots/layer_stats.gp"
check '[ "$(grep "^set yrange" "$T/cmp/plots/layers.gp" | sort -u | wc -l)" -le 3 ]' "layers: a row's panels do not share y"
first=$(grep -m1 "^set title '" "$T/cmp/plots/percentiles.gp")
check '[ "${first:11:5}" = "no BN" ]' "BN vs no-BN: the no-BN panel (div) is not first: $first"
check 'grep -q "seed 1" "$T/cmp/plots/percentiles.gp" && ! grep -q "over 1 seed" "$T/cmp/plots/accuracy.gp"' "seed not named"
ticks_ok "compare accuracy" "$T/cmp/plots/accuracy.svg" "0 500 1000 1500 2000"
check 'grep -q ">no BN: 2 of 2 diverged (step" "$T/cmp/plots/accuracy.svg"' "diverged variant not marked in the legend"
check 'grep -q "diverged at step" "$T/cmp/plots/percentiles.svg"' "diverged variant not marked in its percentile panel"
# Another seed, an examples axis (the odd-named copy below is plotted afresh).
"$BNLAB" plot "$T/cmp" --seed 2 >/dev/null 2>"$T/seed2.err"
check '[ ! -s "$T/seed2.err" ] && grep -q "seed 2" "$T/cmp/plots/layers.gp" && grep -q "cmp/div/seed-2\|seed 2" "$T/cmp/plots/percentiles.gp"' \
  "plot --seed 2: $(head -2 "$T/seed2.err")"
"$BNLAB" plot "$T/cmp" --seed 7 >/dev/null 2>"$T/seed7.err"
rc=$?
check '[ $rc -ne 0 ] && grep -q "no seed 7" "$T/seed7.err"' "plot --seed 7 of seeds 1..2 was not refused"
"$BNLAB" plot "$T/cmp" --x examples >/dev/null 2>"$T/xex.err"
check '[ ! -s "$T/xex.err" ] && grep -q "examples seen" "$T/cmp/plots/accuracy.gp"' "plot --x examples"
cp -r "$T/cmp" "$T/cmp \$(touch INJECTED5) 'q'"
plot_ok "compare, odd name" "$T/cmp \$(touch INJECTED5) 'q'" accuracy percentiles layer_stats ics
check '[ -z "$(find "$T" -maxdepth 1 -name "INJECTED*")" ]' "a comparison's name was executed"

# 5. A sweep over batch sizes (all > 1, spanning 30x): a log x axis with ticks at the grid's values.
cat >"$T/sweep.json" <<JSON
{"name": "swb", "variants": [{"name": "bn", "config": "$ROOT/configs/quick-bn.json"},
                             {"name": "nobn", "config": "$ROOT/configs/quick-nobn.json"}],
 "grid": {"train.batch_size": [2, 4, 8, 60]}, "seeds": 1, "targets": [0.5],
 "set": {"train.epochs": null, "train.steps": 40, "data.train_limit": 1200, "data.test_limit": 300,
         "log.probe_size": 100, "log.ics_every": 0, "log.stats": false}}
JSON
"$BNLAB" sweep "$T/sweep.json" --jobs 2 --out "$T/sw" >"$T/sw.out" 2>"$T/sw.err"
rc=$?
check '[ $rc -eq 0 ] && [ ! -s "$T/sw.err" ]' "sweep over batch sizes: exit $rc: $(head -3 "$T/sw.err")"
check 'is_png "$T/sw/plots/sweep.png"' "sweep.png missing or not a PNG"
check 'grep -q "^set logscale x" "$T/sw/plots/sweep.gp"' "batch sizes 2..60: no log x axis"
ticks_ok "sweep" "$T/sw/plots/sweep.svg" "2 4 8 60"
# Every point trained 40 steps: said once, not "40 at 2, 40 at 4, ..." (test_view.sh: steps that differ are listed).
check 'grep -q "steps per point: 40 at every batch size" "$T/sw/plots/sweep.gp" && ! grep -q "40 at 2," "$T/sw/plots/sweep.gp"' \
  "sweep with equal steps: $(grep -o "steps per point[^'\"]*" "$T/sw/plots/sweep.gp")"
# The sweep's 8 runs as a comparison: a 2 x 4 grid, and an x axis in examples seen (the batch sizes differ).
plot_ok "sweep as a comparison" "$T/sw" accuracy loss percentiles layers
check 'grep -q "layout 2,4" "$T/sw/plots/percentiles.gp" && grep -q "examples seen" "$T/sw/plots/accuracy.gp"' \
  "8 variants: no 2 x 4 grid or no examples axis"
# sweep.png is the figure kind "sweep" (lab/fig_sweep.c): bnlab plot draws it as sweep collect did, its numbers are
# sweep.csv's (each base's rows: batch size, final_median, final_min, final_max), and report.html draws the same
# figure: one panel, an error bar at each of the 8 points, the grid's values as x ticks, the legend in words.
check 'is_png "$T/sw/plots/sweep.png"' "bnlab plot on a sweep: no sweep.png"
check 'python3 - "$T/sw/sweep.csv" "$T/sw/plots/data/sweep.dat" <<"PY"
import csv, re, sys
rows = {}
for r in csv.DictReader(open(sys.argv[1])):
    rows.setdefault(r["base"], []).append([float(r[k]) for k in ("train.batch_size", "final_median", "final_min", "final_max")])
words = {"BN": "bn", "no BN": "nobn"}
got = {}
for block in re.split(r"^# panel 0, curve \d+: range \S+ ", open(sys.argv[2]).read(), flags=re.M)[1:]:
    label, _, body = block.partition("\n")
    got[words[label.strip("\"")]] = [[float(v) for v in line.split()] for line in body.splitlines() if line.strip()]
ok = set(got) == set(rows) and all(sorted(rows[b]) == got[b] for b in rows)
sys.exit(0 if ok else print(rows, got) or 1)
PY' "sweep.png: the plotted points are not sweep.csv's"
"$BNLAB" report "$T/sw" >/dev/null 2>"$T/swr.err"
awk '/<h2 id="sweep">/,/<h2 id="sweep_map">/' "$T/sw/report.html" >"$T/swr.html"
check '[ "$(grep -c "<svg class=\"figure\" data-kind=\"sweep\"" "$T/swr.html")" -eq 1 ] && [ "$(grep -o "class=\"bar\"" "$T/swr.html" | wc -l)" -eq 8 ]' \
  "report of a sweep: no sweep figure with 8 error bars: $(grep -c "class=\"bar\"" "$T/swr.html") $(head -2 "$T/swr.err")"
check 'grep -q ">no BN<" "$T/swr.html" && grep -q ">BN<" "$T/swr.html" && grep -q "steps per point: 40 at every batch size" "$T/swr.html"' \
  "report of a sweep: legend words or steps per point missing"
xt=$(grep -o 'class="tick" text-anchor="middle">[0-9.]*</text>' "$T/swr.html" | sed 's/.*">//; s/<.*//' | tr '\n' ' ')
check '[ "$xt" = "2 4 8 60 " ]' "report of a sweep: x tick labels '$xt', expected the grid's '2 4 8 60'"
check '[ ! -e "$T/sw/plots/landscape.png" ] && [ ! -e "$T/sw/plots/landscape_eta.png" ]' "landscape figures without log.landscape"
same_yrange "sweep percentiles" "$T/sw/plots/percentiles.gp"

# 6. sweep collect on imperfect directories.
# A base variant without any completed run is left out, with a note; the table is still written.
cp -r "$T/sw" "$T/sw-half"
rm -f "$T/sw-half"/nobn-*/seed-1/summary.json "$T/sw-half/plots/sweep.png"
"$BNLAB" sweep collect "$T/sw-half" >"$T/half.out" 2>"$T/half.err"
rc=$?
check '[ $rc -eq 0 ] && [ ! -s "$T/half.err" ] && grep -q "nobn has no completed run" "$T/half.out"' \
  "collect with an empty series: exit $rc: $(head -3 "$T/half.err")"
check 'is_png "$T/sw-half/plots/sweep.png" && [ -s "$T/sw-half/sweep.csv" ]' "collect with an empty series: no figure or table"
# No completed run at all: the table, a note, and no figure (not a stale one either).
rm -f "$T/sw-half"/bn-*/seed-1/summary.json
"$BNLAB" sweep collect "$T/sw-half" >"$T/none.out" 2>"$T/none.err"
rc=$?
check '[ $rc -eq 0 ] && grep -q "no run completed" "$T/none.out" && [ ! -e "$T/sw-half/plots/sweep.png" ]' \
  "collect without completed runs: exit $rc: $(head -3 "$T/none.err")"
# A variant without a name: a one-line message naming it, exit 1, no crash.
cp -r "$T/sw" "$T/sw-noname"
sed -i 's/"name":[[:space:]]*"bn-batch_size2"/"nom": "bn-batch_size2"/' "$T/sw-noname/compare.json"
check 'grep -q "\"nom\"" "$T/sw-noname/compare.json"' "test setup: could not remove a variant's name"
"$BNLAB" sweep collect "$T/sw-noname" >/dev/null 2>"$T/noname.err"
rc=$?
check '[ $rc -eq 1 ] && [ "$(wc -l <"$T/noname.err")" -eq 1 ] && grep -q "compare.json: variants\[0\]: expected a \"name\"" "$T/noname.err"' \
  "variant without a name: exit $rc: $(cat "$T/noname.err")"
"$BNLAB" plot "$T/sw-noname" >/dev/null 2>"$T/noname-plot.err"
rc=$?
check '[ $rc -eq 1 ] && grep -q "variants\[0\]: expected a \"name\"" "$T/noname-plot.err"' "plot, variant without a name: exit $rc"

# 7. gnuplot failing or missing: exit 1 with its first error line and the script's path; no PNG, no partial file.
mkdir -p "$T/fakebin"
cat >"$T/fakebin/gnuplot" <<'SH'
#!/bin/sh
# A gnuplot that starts its figure, then fails as gnuplot does: a blank line, the error naming the script.
for script; do :; done
: >".${script%.gp}.png.part"
printf '\n\n"%s" line 3: invalid command\n' "$script" >&2
exit 1
SH
chmod +x "$T/fakebin/gnuplot"
rm -rf "$T/run3/plots"
PATH="$T/fakebin:$PATH" "$BNLAB" plot "$T/run3" >/dev/null 2>"$T/fail.err"
rc=$?
check '[ $rc -eq 1 ] && grep -q "run3/plots/accuracy.gp: gnuplot failed (exit 1): \"accuracy.gp\" line 3: invalid command" "$T/fail.err"' \
  "gnuplot failure: exit $rc: $(head -2 "$T/fail.err")"
check '[ -z "$(find "$T/run3/plots" -name "*.png" -o -name "*.part")" ]' "gnuplot failure left a PNG or a partial file"
PATH="$T/fakebin-none" "$BNLAB" plot "$T/run3" >/dev/null 2>"$T/missing.err"
rc=$?
check '[ $rc -eq 1 ] && grep -q "gnuplot is not installed" "$T/missing.err" && [ -s "$T/run3/plots/accuracy.gp" ]' \
  "gnuplot missing: exit $rc: $(cat "$T/missing.err")"

finish plot
