#!/usr/bin/env bash
# The gnuplot renderer's legends below panels (view/figmodel_gnuplot.c key_grid): a figure whose panels' keys differ
# (gradient_depth: "no BN", "BN" and Yang et al.'s line at initialization, two entries after the steps — as
# docs/figures/backward-gradient-depth.png) is read back from the SVG gnuplot draws (plots/gradient_depth.svg): the
# panels' frames end at the same height, every key entry lies below the x label (no overlap) and inside the canvas.
# Negative control: the same script without the renderer's key layout (gnuplot left to itself, as before) fails the
# same reader — the frames differ in height or a key covers the x label.
# usage: test_key_layout.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$ROOT/tests/harness.sh"
test_tmp key-layout
command -v gnuplot >/dev/null || bash "$ROOT/scripts/ensure-packages.sh" gnuplot-nox >/dev/null 2>&1
deep_relu_pair "$T/deep.json" 1 '"data.train_limit": 300, "data.test_limit": 100, "train.steps": 10,
  "train.eval_every": 10, "model.layers[0].repeat": 4, "log.gradients_every": 5, "log.ics_every": 0,
  "log.percentiles.every": 0'
"$BNLAB" compare "$T/deep.json" --jobs 2 --out "$T/deep" >"$T/deep.out" 2>&1
"$BNLAB" plot "$T/deep" --only gradient_depth >"$T/plot.out" 2>&1
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/deep/plots/gradient_depth.svg" ]' "plot: exit $rc, $(tail -3 "$T/deep.out") $(head -3 "$T/plot.out")"
cat >"$T/read.py" <<'PY'
import re, sys
svg = open(sys.argv[1], encoding="utf-8").read()
xlabel = sys.argv[2]
keys = sys.argv[3:]
height = float(re.search(r'<svg[^>]*height="(\d+)', svg).group(1))
frames = [float(m.group(2)) for m in re.finditer(
    r"d='M([\d.]+),[\d.]+ L[\d.]+,([\d.]+) L[\d.]+,[\d.]+ L[\d.]+,[\d.]+ L[\d.]+,[\d.]+ Z", svg)]
texts = [(float(m.group(1)), float(m.group(2)), float(m.group(3)), m.group(4)) for m in re.finditer(
    r'<g transform="translate\(([\d.]+),([\d.]+)\)"[^>]*font-size="([\d.]+)"[^>]*>\s*<text>([^<]*)</text>', svg)]
bad = []
bottoms = sorted(set(round(b, 1) for b in frames))
if len(frames) < 2 or len(bottoms) != 1:
    bad.append(f"the frames end at {bottoms}")
xl = sorted((x, y) for x, y, s, t in texts if t == xlabel)
if len(xl) < 2:
    bad.append(f"{len(xl)} x labels")
for x, y, size, t in texts:
    if t not in keys:
        continue
    below = [yl for xx, yl in xl if abs(xx - x) < 800]
    # the entry's top (its baseline less its size) below the nearest x label's baseline
    label_y = min(below, key=lambda yl: abs(yl - y)) if below else None
    if label_y is None or y - size < label_y + 2:
        bad.append(f"key entry '{t}' at y {y} (size {size}) covers the x label at y {label_y}")
    if y > height:
        bad.append(f"key entry '{t}' below the canvas ({y} > {height})")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
XL="hidden layer (the gradient flows from right to left)"
python3 "$T/read.py" "$T/deep/plots/gradient_depth.svg" "$XL" "no BN" "BN" "Yang et al. 2019 (BN + relu): ×1.467 per layer" \
  >"$T/read.out" 2>&1
check '[ $? -eq 0 ]' "gradient_depth's keys: $(head -3 "$T/read.out")"
check 'grep -q "^set bmargin" "$T/deep/plots/gradient_depth.gp"' "keys that differ, but no bottom margin set"
# Negative control: gnuplot's own layout.
sed -e '/^set key maxcols/d' -e '/^set bmargin/d' "$T/deep/plots/gradient_depth.gp" >"$T/deep/plots/old.gp"
(cd "$T/deep/plots" && gnuplot -e "bnlab_fmt='svg'; bnlab_out='old.svg'" old.gp) >/dev/null 2>&1
python3 "$T/read.py" "$T/deep/plots/old.svg" "$XL" "no BN" "BN" "Yang et al. 2019 (BN + relu): ×1.467 per layer" \
  >"$T/read.out" 2>&1
check '[ $? -eq 1 ] && [ -s "$T/read.out" ]' "negative control: gnuplot's own key layout passes the reader"
finish key_layout
