#!/usr/bin/env bash
# One view (issue 21): a variant has the colour of what it is, and the same colour and place in every figure of
# bnlab plot and in bnlab report, whatever the spec's order. Two comparisons: a LayerNorm/no-normalization pair with
# "ln" first in the spec, and six variants shaped like configs/batch-size.json (BN, Batch Renorm, ghost BN,
# LayerNorm, RMSNorm, none). Every curve title in every plots/*.gp that names a variant, and every legend entry and
# summary swatch of report.html, is read back with its colour; each variant must have exactly one colour, different
# classes different colours, LayerNorm and "none" the same colour in both comparisons, and the variants must appear
# in one order everywhere (no normalization first). Then: every figure kind of lab/figures.c is in both outputs (a
# plots/KIND.png and a report section of that id), and --only, --label, --yrange, --yscale change what they say.
# usage: test_view.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp view
cd "$T" || exit 1
COMMON='"data.train_limit": 600, "data.test_limit": 200, "log.probe_size": 100, "train.epochs": 3, "train.batch_size": 30,
        "train.eval_every": 5, "log.ics_every": 5, "log.histograms.every": 5, "log.eval_batch_stats": true,
        "log.percentiles.every": 5, "log.param_stats": true, "log.landscape.every": 20'
cat >"$T/pair.json" <<JSON
{"name": "pair", "variants": [
  {"name": "ln", "config": "$ROOT/configs/quick-bn.json",
   "set": {"model.layers[1].type": "layernorm", "model.layers[4].type": "layernorm", "model.layers[7].type": "layernorm"}},
  {"name": "none", "config": "$ROOT/configs/quick-nobn.json"}],
 "seeds": 1, "set": {$COMMON}}
JSON
S='{"model.layers": null, "model.stack": {"hidden": [32, 32]'
cat >"$T/six.json" <<JSON
{"name": "six", "base": "$ROOT/configs/quick-bn.json", "variants": [
  {"name": "bn", "set": $S, "norm": {"type": "batchnorm"}}}},
  {"name": "renorm", "set": $S, "norm": {"type": "batchnorm", "variant": "renorm", "renorm_start": 10, "r_max_step": 50, "d_max_step": 40}}}},
  {"name": "ghost4", "set": $S, "norm": {"type": "batchnorm", "variant": "ghost", "ghost_batch": 4}}}},
  {"name": "layernorm", "set": $S, "norm": {"type": "layernorm"}}}},
  {"name": "rmsnorm", "set": $S, "norm": {"type": "rmsnorm"}}}},
  {"name": "none", "set": $S, "norm": null}}}],
 "seeds": 2, "set": {$COMMON}}
JSON
for c in pair six; do
  "$BNLAB" compare "$T/$c.json" --jobs 2 --out "$T/$c" >"$T/$c.out" 2>&1
  check '[ -s "$T/$c/summary.json" ]' "compare $c: $(tail -3 "$T/$c.out")"
  "$BNLAB" plot "$T/$c" >"$T/$c.plot" 2>&1
  rc=$?
  check '[ $rc -eq 0 ]' "plot $c: exit $rc: $(grep -v '^plot:' "$T/$c.plot" | head -3)"
  "$BNLAB" report "$T/$c" >"$T/$c.report" 2>&1
  rc=$?
  check '[ $rc -eq 0 ]' "report $c: exit $rc: $(head -3 "$T/$c.report")"
done

# colours DIR LABELS...: "SOURCE LABEL COLOUR" lines, one per curve title or legend entry naming a variant by its
# legend text (a "_" in LABEL stands for a space; the text alone, or followed by " " or ":"): from each plots/*.gp (its lc rgb, the last 6 hex digits of '#AARRGGBB') and
# from report.html (legend keys and summary swatches).
colours() {
  local dir=$1
  shift
  local names="$*"
  for gp in "$dir"/plots/*.gp; do
    grep -oE "lc rgb '#[0-9A-Fa-f]{6,8}'[^']* title '[^']*'" "$gp" |
      sed -E "s/lc rgb '#[0-9A-Fa-f]*([0-9A-Fa-f]{6})'.* title '(.*)'/\1 \2/" |
      awk -v src="$(basename "$gp")" -v names="$names" 'BEGIN { n = split(names, v, " ") }
        { c = toupper($1); t = substr($0, 8); for (i = 1; i <= n; i++) { l = v[i]; gsub("_", " ", l)
            if (t == l || index(t, l " ") == 1 || index(t, l ":") == 1) print src, v[i], c } }'
  done
  grep -oE '<line class="key"[^>]*stroke="#[0-9A-Fa-f]{6}"[^>]*/><text[^>]*class="legend">[^<]*</text>|<span class="swatch" style="border-color:#[0-9A-Fa-f]{6}"></span>[^<]*' "$dir/report.html" |
    sed -E 's/.*(stroke|border-color)[=:]"?#([0-9A-Fa-f]{6}).*>([^<]*)(<\/text>)?$/\2 \3/' |
    awk -v names="$names" 'BEGIN { n = split(names, v, " ") } { c = toupper($1); t = substr($0, 8); sub(/ +$/, "", t)
      for (i = 1; i <= n; i++) { l = v[i]; gsub("_", " ", l); if (t == l) print "report.html", v[i], c } }'
}
# order SOURCE-LINES: per source, its variants in order of first appearance, "SOURCE v1 v2 ..." lines.
order() { awk '{ if (!seen[$1 " " $2]++) o[$1] = o[$1] " " $2 } END { for (s in o) print s o[s] }'; }

check_view() {  # check_view DIR EXPECTED-ORDER...
  local dir=$1
  shift
  local n=$#
  colours "$dir" "$@" >"$T/col.txt"
  local per=$(awk '{ print $2, $3 }' "$T/col.txt" | sort -u)
  check '[ "$(echo "$per" | awk "{print \$1}" | sort | uniq -d)" = "" ] && [ "$(echo "$per" | wc -l)" -eq $n ]' \
    "$(basename "$dir"): a variant with more than one colour, or one never drawn: $(echo $per) (want one colour each for $*)"
  check '[ "$(echo "$per" | awk "{print \$2}" | sort | uniq -d)" = "" ]' "$(basename "$dir"): two variants share a colour: $(echo $per)"
  check '[ "$(cut -d" " -f1 "$T/col.txt" | sort -u | wc -l)" -ge 6 ] && grep -q "^report.html " "$T/col.txt"' \
    "$(basename "$dir"): variants found in only $(cut -d" " -f1 "$T/col.txt" | sort -u | tr "\n" " ")"
  local want=" $*" bad
  bad=$(order <"$T/col.txt" | while read -r src rest; do
          # the variants of this source must be in the expected order (some may be absent from a figure)
          exp=$(for v in $want; do case " $rest " in *" $v "*) printf ' %s' "$v";; esac; done)
          [ "$exp" = " $rest" ] || echo "$src: $rest"
        done)
  check '[ -z "$bad" ]' "$(basename "$dir"): variants out of the one order ($*): $bad"
  echo "$per" >"$T/$(basename "$dir").colours"
}
# Each variant alone in its class is named by the class in words (view/source.h): "no normalization" beside
# LayerNorm, "no BN" beside batch-normalized variants.
check_view "$T/pair" no_normalization LayerNorm
check_view "$T/six" no_BN BN Batch_Renorm ghost_BN LayerNorm RMSNorm
col() { awk -v v="$2" '$1 == v { print $2 }' "$T/$1.colours"; }
check '[ -n "$(col pair LayerNorm)" ] && [ "$(col pair LayerNorm)" = "$(col six LayerNorm)" ] && [ "$(col pair no_normalization)" = "$(col six no_BN)" ]' \
  "a colour follows what the variant is: ln $(col pair LayerNorm) vs layernorm $(col six LayerNorm), none $(col pair no_normalization) vs $(col six no_BN)"
check 'grep -q "<span class=\"swatch\"[^>]*></span>LayerNorm <span class=\"note\">(ln)</span>" "$T/pair/report.html"' \
  "the summary's rows say the legend's words and the variant's name: $(grep -o "<span class=.swatch.[^>]*></span>[^<]*" "$T/pair/report.html" | head -2)"

# Every figure kind in both outputs.
kinds=$(sed -n 's/^    {"\([a-z_]*\)", ".*/\1/p' "$ROOT/src/lab/figures.c" | tr '\n' ' ')
check '[ "$(echo $kinds | wc -w)" -ge 11 ]' "the kinds of lab/figures.c: $kinds"
# A kind whose logs the comparison has is drawn in both; one it does not log (the backward pass's, a sweep's map) is
# in neither, and the page says so with the key that turns it on.
drawn=0
for k in $kinds; do
  if [ -s "$T/six/plots/$k.png" ]; then
    drawn=$((drawn + 1))
    check 'grep -q "<svg class=\"figure\" data-kind=\"$k\"" "$T/six/report.html"' "kind $k: in plots/ but not drawn in report.html"
  else
    check 'grep -q "id=\"$k-absent\"" "$T/six/report.html" && ! grep -q "<svg class=\"figure\" data-kind=\"$k\"" "$T/six/report.html"' \
      "kind $k: no plots/$k.png, and report.html does not say it is absent"
  fi
done
check '[ $drawn -ge 11 ]' "only $drawn kinds drawn of: $kinds"

# Slide controls: --only draws only those kinds, --label renames a legend entry, --yrange and --yscale set the axis.
rm -rf "$T/pair/plots"
"$BNLAB" plot "$T/pair" --only accuracy,ics --label none="Without normalization" --yrange 0.05:0.5 --yscale log >"$T/ctl.out" 2>&1
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/pair/plots/accuracy.png" ] && [ -s "$T/pair/plots/ics.png" ] && [ ! -e "$T/pair/plots/loss.png" ]' \
  "--only accuracy,ics: exit $rc, $(ls "$T/pair/plots" | tr "\n" " ")"
check 'grep -q "title .Without normalization." "$T/pair/plots/accuracy.gp" && ! grep -q "title .none." "$T/pair/plots/accuracy.gp"' \
  "--label none=...: not the legend"
check 'grep -q "^set yrange \[0.05:0.5\]\|^set yrange \[0.0[0-9]*:" "$T/pair/plots/accuracy.gp" && grep -q "^set logscale y" "$T/pair/plots/accuracy.gp"' \
  "--yrange 0.05:0.5 --yscale log: $(grep "yrange\|logscale y" "$T/pair/plots/accuracy.gp" | head -3 | tr "\n" " ")"
"$BNLAB" plot "$T/pair" --only nosuch >"$T/bad.out" 2>&1
rc=$?
check '[ $rc -eq 1 ] && grep -q "no figure kind \"nosuch\" (the kinds: accuracy," "$T/bad.out"' "--only nosuch: exit $rc, $(cat "$T/bad.out")"
"$BNLAB" plot "$T/pair" --label nosuch=X >"$T/bad.out" 2>&1
rc=$?
check '[ $rc -eq 1 ] && grep -q "no such variant (the variants: none, ln)" "$T/bad.out"' "--label nosuch=X: exit $rc, $(cat "$T/bad.out")"
for bad in "--yrange 1:0" "--yrange a:b" "--xscale cubic"; do
  "$BNLAB" plot "$T/pair" $bad >"$T/bad.out" 2>&1
  rc=$?
  check '[ $rc -eq 2 ] && head -1 "$T/bad.out" | grep -q "^bnlab: error: plot --[xy]"' "plot $bad: exit $rc, $(head -1 "$T/bad.out")"
done
# plot reads the logs by report's rule (view/logread.h): "abc" as a test loss, or an ICS value of 1e999, is one line
# naming file, line and column, exit 1.
for bad in metrics ics; do
  cp -r "$T/pair/none/seed-1" "$T/bad-$bad" && rm -rf "$T/bad-$bad/plots"
  if [ $bad = metrics ]; then awk -F, -v OFS=, 'NR == 3 { $5 = "abc" } 1' "$T/pair/none/seed-1/metrics.csv" >"$T/bad-$bad/metrics.csv"; want='metrics.csv: line 3, column "test_loss": expected a number, found "abc"'
  else awk -F, -v OFS=, 'NR == 2 { $6 = "1e999" } 1' "$T/pair/none/seed-1/ics.csv" >"$T/bad-$bad/ics.csv"; want='ics.csv: line 2, column "cosine": expected a number, found "1e999"'; fi
  "$BNLAB" plot "$T/bad-$bad" >/dev/null 2>"$T/bad.err"
  rc=$?
  check '[ $rc -eq 1 ] && [ "$(wc -l <"$T/bad.err")" -eq 1 ] && grep -qF "$want" "$T/bad.err"' "plot, malformed $bad: exit $rc, $(cat "$T/bad.err")"
done
# A sweep shaped like configs/batch-size.json: 5 bases x 6 batch sizes = 30 variants, more than a view_source_t keeps
# (16). Each base still gets its own class's colour in sweep.png (before, every base past the first 16 variants
# borrowed the first variant's: none and rmsnorm were drawn BN blue).
"$BNLAB" sweep "$ROOT/configs/batch-size.json" --out "$T/sweep" --set data.train_limit=600 --set data.test_limit=200 \
  >/dev/null 2>"$T/sweep.err"
# Its legends name each base in words (view_name_variants), as every comparison's.
for pair in "no BN=#000000" "BN=#0072B2" "Batch Renorm=#CC79A7" "LayerNorm=#D55E00" "RMSNorm=#882255"; do
  check 'grep -qF "lc rgb '"'"'${pair#*=}'"'"' title '"'"'${pair%%=*}'"'"'" "$T/sweep/plots/sweep.gp"' \
    "sweep.png: ${pair%%=*} not drawn in ${pair#*=}: $(grep -o "lc rgb '#[0-9A-Fa-f]*' title '${pair%%=*}'" "$T/sweep/plots/sweep.gp") $(head -c 200 "$T/sweep.err")"
done
# Equal epochs are not equal steps: the title gives the steps at each batch size (test_plot.sh: one number when equal).
check 'grep -q "steps per point: [0-9]* at 2, [0-9]* at 4, [0-9]* at 8, " "$T/sweep/plots/sweep.gp"' \
  "sweep.png over batch sizes: no steps per batch size in the title: $(grep -o "steps per point[^'\"]*" "$T/sweep/plots/sweep.gp")"
# Ten variants (configs/ablations.json, eight of them BN): accuracy.png draws all ten, and no two share colour, dash
# and marker (before, the figures kept the first 8 variants and styles repeated after 5).
"$BNLAB" compare "$ROOT/configs/ablations.json" --seeds 1 --set train.steps=40 --set train.eval_every=20 \
  --set data.train_limit=1200 --set data.test_limit=200 --out "$T/ten" >/dev/null 2>"$T/ten.err"
"$BNLAB" plot "$T/ten" --only accuracy >/dev/null 2>>"$T/ten.err"
curves=$(grep "with linespoints pt .* title '" "$T/ten/plots/accuracy.gp")
n_titles=$(printf '%s\n' "$curves" | grep -o "title '[^']*'" | sort -u | wc -l)
n_looks=$(printf '%s\n' "$curves" | sed -E "s/.* pt ([0-9]+) .* dt ([0-9]+) lc rgb '([^']*)' title.*/\1 \2 \3/" | sort -u | wc -l)
check '[ "$n_titles" -eq 10 ] && [ "$n_looks" -eq 10 ]' "ten variants: $n_titles drawn, $n_looks distinct looks: $(head -c 200 "$T/ten.err")"
# Legends say what differs (view_name_variants): configs/lr-bn.json in miniature, BN and no BN each at η = 0.5 and 16,
# in plot's scripts and report's page alike; the spec's names are nowhere in a legend, and --label still replaces one.
cat >"$T/lr.json" <<JSON
{"name": "lr", "variants": [
  {"name": "bn-lr0.5", "config": "$ROOT/configs/quick-bn.json", "set": {"train.optimizer.lr": 0.5}},
  {"name": "bn-lr16", "config": "$ROOT/configs/quick-bn.json", "set": {"train.optimizer.lr": 16}},
  {"name": "nobn-lr0.5", "config": "$ROOT/configs/quick-nobn.json", "set": {"train.optimizer.lr": 0.5}},
  {"name": "nobn-lr16", "config": "$ROOT/configs/quick-nobn.json", "set": {"train.optimizer.lr": 16}}],
 "seeds": 1, "set": {"data.train_limit": 600, "data.test_limit": 200, "log.probe_size": 100, "train.steps": null, "train.epochs": 1,
                     "train.eval_every": 10, "log.ics_every": 0}}
JSON
"$BNLAB" compare "$T/lr.json" --out "$T/lr" >/dev/null 2>"$T/lr.err"
"$BNLAB" plot "$T/lr" --only accuracy >/dev/null 2>>"$T/lr.err"
"$BNLAB" report "$T/lr" >/dev/null 2>>"$T/lr.err"
gp_titles=$(grep -o "title '[^']*'" "$T/lr/plots/accuracy.gp" | sed "s/^title '//; s/'$//" | grep -v "^Test\|^$" | sort | tr "\n" "|")
page_keys=$(grep -o 'class="legend">[^<]*<' "$T/lr/report.html" | sed 's/^class="legend">//; s/<$//' |
            grep -E "^(no )?BN(,|$)" | grep -vE " (test|train)$" | sort -u | tr "\n" "|")
want="BN, η = 0.5|BN, η = 16|no BN, η = 0.5|no BN, η = 16|"
check '[ "$gp_titles" = "$want" ]' "lr: accuracy.gp legends '$gp_titles', want '$want' $(head -c 200 "$T/lr.err")"
check '[ "$page_keys" = "$want" ]' "lr: report.html legends '$page_keys', want '$want'"
check '! grep -q "title .[a-z]*-lr" "$T/lr/plots/accuracy.gp" && ! grep -q "class=\"legend\">[a-z]*-lr" "$T/lr/report.html"' "lr: a spec name in a legend"
"$BNLAB" plot "$T/lr" --only accuracy --label "bn-lr16=fast BN" >/dev/null 2>&1
check 'grep -q "title .fast BN." "$T/lr/plots/accuracy.gp" && ! grep -q "title .BN, η = 16." "$T/lr/plots/accuracy.gp" && grep -q "title .BN, η = 0.5." "$T/lr/plots/accuracy.gp"' \
  "lr: --label bn-lr16=... does not replace that legend alone: $(grep -o "title '[^']*'" "$T/lr/plots/accuracy.gp" | tr "\n" " ")"
finish view
