#!/usr/bin/env bash
# The main job: set up, then reproduce Ioffe & Szegedy (2015) Fig. 1 on the shipped MNIST subset — the paper's
# network (784-100-100-100-10 sigmoid, batch 60, 50,000 steps) with and without batch normalization, 3 seeds
# each, two runs at a time — print the comparison, draw the figures and write the page a lecturer opens first:
# DIR/report.html, with the per-layer histograms every 100 steps (log.histograms.every=100: 501 frames per layer,
# animated). How long it takes depends on the cores and on what else runs: six 50,000-step runs, as many at once as
# there are cores; docs/performance.md ("The main job") gives the times measured on the idle 2-core machine (53.1 s
# wall, 51.2 s without histograms, at dc66b23); a shared machine takes longer. A fresh
# machine first installs packages and builds bnlab (scripts/setup.sh).
# Extra arguments go to `bnlab compare` (e.g. --seeds 1 --set train.steps=5000 for a quick look).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=runs/fig1-$(date +%Y%m%d-%H%M%S)
build/bnlab compare configs/fig1.json --out "$out" --set log.histograms.every=100 "$@"
build/bnlab plot "$out"
build/bnlab report "$out"
echo "figures: $out/plots/{accuracy,loss,percentiles,layers,saturation,layer_stats,ics}.png (and .svg, .pdf) — docs/batchnorm.md explains them"
echo "page: $out/report.html — open it in a browser (file://$(pwd)/$out/report.html): the figures, and the animated histograms at its end"
