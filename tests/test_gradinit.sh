#!/usr/bin/env bash
# bnlab gradinit: the report's lines (per-layer gradient norms, the fitted growth beside Yang et al.'s value, the
# Jacobian spectra), the same report for the same command (deterministic), --steps measuring after training started,
# --batches/--seeds changing what is measured, and one-line refusals of bad options. The numbers themselves are tested
# against float64 in test_gradstats.c (gradients, the fit) and test_jacobian.c (singular values).
# --out DIR: DIR/gradinit-NAME.csv (run/gradinit.h) says what the report printed (every layer's mean and sd, the fit
# and its interval, Yang et al.'s value where it applies), byte-identical for the same command, "after" rows only with
# --steps; refused onto its own input and under a file, in one line. The gradinit figure (lab/fig_gradinit.c) drawn
# by bnlab plot from several such files is checked against them by tests/check_gradinit_fig.py (every point, colour,
# the panel's fitted growth, the fit's line and Yang et al.'s), whose negative controls (a value planted in a file, a
# colour planted in the script, a growth planted in a file, a theory taken away) must fail; bnlab report draws the
# same panels; a malformed file is one line naming file, line and column. More files, activations or networks of one
# activation than the figure draws: refused in one line by plot and report (never a figure leaving some out).
set -u
bnlab=$1 root=$2
source "$root/tests/harness.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cfg=$root/configs/deep-relu.json
"$bnlab" gradinit "$cfg" --set 'model.layers[0].repeat=6' --batches 3 --seeds 2 --steps 3 --jacobian 4 \
  > "$tmp/a.txt" 2> "$tmp/err.txt"
rc=$?
check '[ $rc -eq 0 ]' "gradinit failed: $(cat "$tmp/err.txt")"
check "grep -q 'mean |dL/dW|^2' '$tmp/a.txt'" "no per-layer table"
check "grep -qE 'growth per layer going backward.*95% interval [0-9.]+\.\.[0-9.]+ over 2 inits' '$tmp/a.txt'" \
  "no fitted growth with its interval over the inits"
check "grep -q 'pi/(pi-1) = 1.4669' '$tmp/a.txt'" "Yang et al.'s value not beside it"
check "grep -q '^after 3 SGD steps' '$tmp/a.txt'" "not measured again after 3 steps"
check "grep -q ' (a) ' '$tmp/a.txt' && grep -q ' (b) ' '$tmp/a.txt'" "no Jacobian spectra of both kinds"
"$bnlab" gradinit "$cfg" --set 'model.layers[0].repeat=6' --batches 3 --seeds 2 --steps 3 --jacobian 4 > "$tmp/b.txt" 2>&1
check "cmp -s '$tmp/a.txt' '$tmp/b.txt'" "the same command gave two reports"
"$bnlab" gradinit "$cfg" --set 'model.layers[0].repeat=6' --batches 4 > "$tmp/c.txt" 2>&1
check "grep -q '4 samples (1 init x 4 batches of 60)' '$tmp/c.txt'" "--batches 4 without --seeds: not 4 samples of one init"
check "grep -q 'over 4 batches of one init' '$tmp/c.txt'" "one init: the interval is not over its batches"
check "! grep -q 'Jacobian' '$tmp/c.txt'" "spectra without --jacobian"
"$bnlab" gradinit "$cfg" --jacobian 17 > "$tmp/out.txt" 2> "$tmp/err.txt"
rc=$?
check '[ $rc -ne 0 ] && [ $(wc -l < "$tmp/err.txt") -eq 1 ]' "--jacobian 17 not refused in one line"
check "grep -q 'jacobian: expected 2..16 examples' '$tmp/err.txt'" "--jacobian 17: $(cat "$tmp/err.txt")"
"$bnlab" gradinit "$cfg" --set 'model.layers[0].repeat=0' > "$tmp/out.txt" 2> "$tmp/err.txt"
check "grep -q 'model.layers\[0\].repeat.*expected an integer in \[1, 512\], got 0' '$tmp/err.txt'" \
  "a bad repeat: $(cat "$tmp/err.txt")"
"$bnlab" gradinit "$cfg" --set 'model.layers[0].repeat=2' > "$tmp/d.txt" 2>&1
check "grep -q 'growth: not fitted' '$tmp/d.txt'" "too shallow to fit, but not said so"

# --- --out DIR: the measurement as a table -----------------------------------------------------------------------
out=$tmp/gi
"$bnlab" gradinit "$cfg" --set 'model.layers[0].repeat=6' --set name=bn6 --batches 3 --seeds 2 --steps 3 --out "$out" \
  > "$tmp/e.txt" 2> "$tmp/err.txt"
rc=$?
check '[ $rc -eq 0 ] && [ -s "$out/gradinit-bn6.csv" ]' "gradinit --out: exit $rc, $(cat "$tmp/err.txt")"
check "grep -qx 'gradinit: $out/gradinit-bn6.csv' '$tmp/e.txt'" "gradinit --out: the file not named on stdout"
check "[ \"\$(head -1 '$out/gradinit-bn6.csv')\" = 'name,norm,bn,activation,depth,batch_size,when,steps,quantity,layer,model_layer,mean,std,n,growth,growth_lo,growth_hi,growth_units,growth_over,fit_first,fit_last,theory' ]" \
  "gradinit --out: header $(head -1 "$out/gradinit-bn6.csv")"
python3 - "$tmp/e.txt" "$out/gradinit-bn6.csv" > "$tmp/py.txt" 2>&1 <<'PY'
import csv, re, sys
text = open(sys.argv[1]).read().split("after 3 SGD steps")
rows = list(csv.DictReader(open(sys.argv[2])))
bad = []
for part, when in zip(text, ("init", "after")):
    dw = [r for r in rows if r["when"] == when and r["quantity"] == "dW"]
    dh = [r for r in rows if r["when"] == when and r["quantity"] == "dh"]
    printed = re.findall(r"^  (\d+) +dense +(\S+) +(\S+)", part, re.M)
    hidden = re.findall(r"^  (\d+) +(?!dense)\w+ +(\S+) +(\S+)$", part, re.M)
    if len(dw) != len(printed) or len(dh) != len(hidden) or not dw:
        bad.append(f"{when}: {len(dw)} dW and {len(dh)} dh rows, printed {len(printed)} and {len(hidden)}")
    for r, (layer, mean, sd) in zip(dw, printed):
        if r["model_layer"] != layer or f"{float(r['mean']):.6g}" != mean or f"{float(r['std']):.4g}" != sd:
            bad.append(f"{when} dW layer {layer}: file {r['model_layer']} {r['mean']} {r['std']}, printed {mean} {sd}")
    for r, (h, mean, sd) in zip(dh, hidden):
        if r["layer"] != h or f"{float(r['mean']):.6g}" != mean:
            bad.append(f"{when} dh hidden {h}: file {r['layer']} {r['mean']}, printed {mean}")
    g = re.search(r"\|dL/dW\|\^2 x ([0-9.]+) \(95% interval ([0-9.]+)\.\.([0-9.]+) over (\d+) (inits|batches)", part)
    r = dw[0] if dw else {}
    if not g or f"{float(r['growth']):.4f}" != g.group(1) or f"{float(r['growth_lo']):.4f}" != g.group(2) or \
            f"{float(r['growth_hi']):.4f}" != g.group(3) or r["growth_units"] != g.group(4) or r["growth_over"] != g.group(5):
        bad.append(f"{when}: the fit {r.get('growth')} {r.get('growth_lo')} {r.get('growth_hi')} {r.get('growth_units')} "
                   f"{r.get('growth_over')}, printed {g.groups() if g else None}")
    if {x["theory"] for x in rows} != {"1.46694221"} or {x["norm"] for x in rows} != {"bn"} or {x["bn"] for x in rows} != {"1"}:
        bad.append(f"theory/norm/bn: {({x['theory'] for x in rows}, {x['norm'] for x in rows})}")
    if {x["activation"] for x in rows} != {"relu"} or {x["depth"] for x in rows} != {"6"}:
        bad.append("activation/depth")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
check '[ $? -eq 0 ]' "the file is not the printed report: $(head -5 "$tmp/py.txt")"
cp "$out/gradinit-bn6.csv" "$tmp/first.csv"
"$bnlab" gradinit "$cfg" --set 'model.layers[0].repeat=6' --set name=bn6 --batches 3 --seeds 2 --steps 3 --out "$out" >/dev/null 2>&1
check "cmp -s '$tmp/first.csv' '$out/gradinit-bn6.csv'" "the same command wrote two files"
"$bnlab" gradinit "$root/configs/deep-relu-nobn.json" --set 'model.layers[0].repeat=6' --set name=nobn6 --batches 3 \
  --out "$out" >/dev/null 2>&1
check "[ -s '$out/gradinit-nobn6.csv' ] && ! grep -q ',after,' '$out/gradinit-nobn6.csv' && grep -q '^nobn6,none,0,relu,6,60,init,0,dW,1,0,' '$out/gradinit-nobn6.csv'" \
  "without --steps: after rows, or not a no-BN net: $(sed -n 2p "$out/gradinit-nobn6.csv")"
check "[ \"\$(awk -F, 'NR > 1 { print \$22 }' '$out/gradinit-nobn6.csv' | sort -u)\" = '' ]" "a theory beside a net without BN"
"$bnlab" gradinit "$cfg" --set 'model.layers[0].repeat=4' --set name=bn4 --batches 2 --steps 2 --out "$out" >/dev/null 2>&1
# Refused: onto its own input (a config named as the file would be), under a file.
sed -e 's/"name": "deep-relu"/"name": "x"/' -e "s|\"\.\./datasets|\"$root/datasets|g" "$cfg" > "$out/gradinit-x.csv"
cp "$out/gradinit-x.csv" "$tmp/x.json"
"$bnlab" gradinit "$out/gradinit-x.csv" --batches 2 --out "$out" > /dev/null 2> "$tmp/err.txt"
rc=$?
check '[ $rc -ne 0 ] && [ $(wc -l < "$tmp/err.txt") -eq 1 ] && grep -q "refused as output: .*an input of this command" "$tmp/err.txt" && cmp -s "$tmp/x.json" "$out/gradinit-x.csv"' \
  "gradinit --out onto its config: exit $rc, $(cat "$tmp/err.txt")"
rm -f "$out/gradinit-x.csv"
: > "$tmp/afile"
"$bnlab" gradinit "$cfg" --batches 2 --out "$tmp/afile/sub" > /dev/null 2> "$tmp/err.txt"
rc=$?
check '[ $rc -ne 0 ] && [ $(wc -l < "$tmp/err.txt") -eq 1 ]' "gradinit --out under a file: exit $rc, $(cat "$tmp/err.txt")"

# --- the figure ----------------------------------------------------------------------------------------------------
"$bnlab" plot "$out" > "$tmp/plot.txt" 2>&1
rc=$?
check '[ $rc -eq 0 ] && [ -s "$out/plots/gradinit.png" ] && [ "$(ls "$out/plots"/*.png | wc -l)" -eq 1 ]' \
  "plot of gradinit files: exit $rc, $(cat "$tmp/plot.txt")"
python3 "$root/tests/check_gradinit_fig.py" "$out" > "$tmp/chk.txt" 2>&1
check '[ $? -eq 0 ]' "the figure is not the files': $(head -3 "$tmp/chk.txt")"
check 'grep -q "^set title .relu: at initialization.$" "$out/plots/gradinit.gp" && grep -q "^set title .relu: after [23] SGD steps" "$out/plots/gradinit.gp" || grep -q "^set title .relu: after the SGD steps" "$out/plots/gradinit.gp"' \
  "the panels: $(grep '^set title' "$out/plots/gradinit.gp" | tr '\n' ' ')"
# Negative controls: each planted error is caught.
plant() {  # plant NAME: a copy of the directory, changed by the command that follows, then checked
  rm -rf "$tmp/p" && cp -r "$out" "$tmp/p" && eval "$2"
  python3 "$root/tests/check_gradinit_fig.py" "$tmp/p" > "$tmp/chk.txt" 2>&1
  check '[ $? -eq 1 ] && [ -s "$tmp/chk.txt" ]' "negative control $1: not caught"
}
plant value "awk -F, -v OFS=, 'NR == 4 { \$12 = \$12 * 3 } 1' '$out/gradinit-bn6.csv' > '$tmp/p/gradinit-bn6.csv'"
plant colour "sed -i \"0,/lc rgb '#0072B2' title 'BN, 6 layers'/s//lc rgb '#000000' title 'BN, 6 layers'/\" '$tmp/p/plots/gradinit.gp'"
plant growth "awk -F, -v OFS=, 'NR > 1 { \$15 = \$15 + 0.01 } 1' '$out/gradinit-bn6.csv' > '$tmp/p/gradinit-bn6.csv'"
plant theory "awk -F, -v OFS=, 'NR > 1 { \$22 = \"\" } 1' '$out/gradinit-bn6.csv' > '$tmp/p/gradinit-bn6.csv'"
plant legend "sed -i \"s/title 'no BN, 6 layers'/title 'BN, 6 layers'/\" '$tmp/p/plots/gradinit.gp'"
# The report: the same panels as SVG, with the panels' numbers.
"$bnlab" report "$out" > "$tmp/rep.txt" 2>&1
rc=$?
check '[ $rc -eq 0 ] && [ "$(grep -c "data-kind=\"gradinit\" data-panel=" "$out/report.html")" -eq 2 ] && [ "$(grep -c "<h2 id=" "$out/report.html")" -eq 1 ]' \
  "report of gradinit files: exit $rc, $(grep -c "data-kind=\"gradinit\" data-panel=" "$out/report.html" 2>/dev/null) panels"
g=$(awk -F, 'NR == 2 { printf "%.3f", $15 }' "$out/gradinit-bn6.csv")
check 'grep -q "class=\"panel-text\"[^>]*fill=\"#0072B2\"[^>]*>BN, 6 layers: ×$g " "$out/report.html"' "report: no panel text with BN's growth ×$g"
# A run directory without such files: plot --only gradinit says how to make one; a malformed file: one line.
"$bnlab" train "$root/configs/quick-nobn.json" --out "$tmp/run" --set train.epochs=null --set train.steps=5 \
  --set train.eval_every=5 --set data.train_limit=300 --set data.test_limit=100 >/dev/null 2>&1
"$bnlab" plot "$tmp/run" --only gradinit > "$tmp/plot.txt" 2>&1
check '[ $? -eq 0 ] && grep -q "^plot: no gradinit figure: .*bnlab gradinit CONFIG --out DIR" "$tmp/plot.txt" && [ ! -e "$tmp/run/plots/gradinit.png" ]' \
  "plot --only gradinit of a run: $(cat "$tmp/plot.txt")"
awk -F, -v OFS=, 'NR == 3 { $12 = "abc" } 1' "$out/gradinit-bn6.csv" > "$out/gradinit-bad.csv"
"$bnlab" plot "$out" > /dev/null 2> "$tmp/err.txt"
rc=$?
check '[ $rc -ne 0 ] && [ $(wc -l < "$tmp/err.txt") -eq 1 ] && grep -qF "gradinit-bad.csv: line 3, column \"mean\": expected a number or nothing, found \"abc\"" "$tmp/err.txt"' \
  "a malformed file: exit $rc, $(cat "$tmp/err.txt")"
# The panels' text covers no data, in the report as the browser lays it out (its #selftest hook counts the data points
# inside the text's boxes) and in both layouts: two columns (init, after) and one (init alone: the report's panels are
# then narrower than the slide's, relative to the text).
need_chromium "$root"
for d in 8 64; do  # the layout where a line of text lay over the BN curve (on a white halo) until the box was the report's too
  "$bnlab" gradinit "$cfg" --set "model.layers[0].repeat=$d" --set name=bn$d --batches 2 --seeds 2 --out "$tmp/one" >/dev/null 2>&1
  "$bnlab" gradinit "$root/configs/deep-relu-nobn.json" --set "model.layers[0].repeat=$d" --set name=nobn$d --batches 2 \
    --seeds 2 --out "$tmp/one" >/dev/null 2>&1
done
for d in "$out" "$tmp/one"; do
  "$bnlab" report "$d" > /dev/null 2>&1
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$tmp/profile" \
    --virtual-time-budget=5000 --dump-dom "file://$d/report.html#selftest" > "$tmp/dom.html" 2> /dev/null
  under=$(grep -o 'data-gradinit-under-text="[0-9]*"' "$tmp/dom.html")
  check '[ "$under" = "data-gradinit-under-text=\"0\"" ]' "the report's panel text covers data in $d: ${under:-no self-test}"
done
# More than one figure draws (files, activations, networks of one activation): refused in one line, no figure —
# never a figure that silently leaves some out. Up to the limit: every network drawn, each with its line of text.
many() {  # many DIR COUNT ACTS: COUNT copies of bn6's file, named n1..nCOUNT, with activations a1..aACTS in turn
  rm -rf "$1" && mkdir -p "$1"
  for i in $(seq 1 "$2"); do
    awk -F, -v OFS=, -v n="n$i" -v a="a$(( (i - 1) % $3 + 1 ))" 'NR > 1 { $1 = n; $4 = a } 1' \
      "$out/gradinit-bn6.csv" > "$1/gradinit-n$i.csv"
  done
}
refused() {  # refused DIR PATTERN WHAT: plot and report each exit non-zero with the one line, and write nothing
  local dir=$1 pat=$2 rc
  "$bnlab" plot "$dir" > "$tmp/plot.txt" 2> "$tmp/err.txt"
  rc=$?
  check '[ $rc -ne 0 ] && [ $(wc -l < "$tmp/err.txt") -eq 1 ] && grep -q "$pat" "$tmp/err.txt" && [ ! -e "$dir/plots/gradinit.png" ]' \
    "$3: exit $rc, stdout $(cat "$tmp/plot.txt"), stderr $(cat "$tmp/err.txt")"
  "$bnlab" report "$dir" > /dev/null 2> "$tmp/err.txt"
  rc=$?
  check '[ $rc -ne 0 ] && [ $(wc -l < "$tmp/err.txt") -eq 1 ] && grep -q "$pat" "$tmp/err.txt" && [ ! -e "$dir/report.html" ]' \
    "report, $3: exit $rc, $(cat "$tmp/err.txt")"
}
many "$tmp/m33" 33 8
refused "$tmp/m33" "33 gradinit-NAME.csv files; the gradinit figure draws at most 32" "33 files"
many "$tmp/a9" 9 9
refused "$tmp/a9" "networks of 9 activations; the gradinit figure draws at most 8" "9 activations"
many "$tmp/n8" 8 1
refused "$tmp/n8" "8 networks with activation a1; the gradinit figure draws at most 7" "8 networks of one activation"
many "$tmp/a8" 32 8  # the most: 8 activations (rows), 4 networks each
"$bnlab" plot "$tmp/a8" > "$tmp/plot.txt" 2>&1
check '[ $? -eq 0 ] && [ "$(grep -c "^set title .a[1-8]: at initialization.$" "$tmp/a8/plots/gradinit.gp")" -eq 8 ] && [ "$(grep -c "^set label 8[0-9] .BN, 6 layers (n[0-9]*): ×" "$tmp/a8/plots/gradinit.gp")" -eq 64 ]' \
  "32 files of 8 activations: not 8 rows with 4 networks' growths in each of 16 panels: $(cat "$tmp/plot.txt")"
many "$tmp/n7" 7 1
"$bnlab" plot "$tmp/n7" > "$tmp/plot.txt" 2>&1
check '[ $? -eq 0 ] && [ "$(grep -c "^set label 8[0-9] .BN, 6 layers (n[1-7]): ×" "$tmp/n7/plots/gradinit.gp")" -eq 14 ] && [ "$(grep -c "^set label 8[0-9] .Yang" "$tmp/n7/plots/gradinit.gp")" -eq 1 ]' \
  "7 networks of one activation: not every growth and Yang et al.'s in the panels: $(cat "$tmp/plot.txt")"
finish gradinit
