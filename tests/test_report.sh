#!/usr/bin/env bash
# bnlab report (lab/report.h) in a real browser: a comparison of the BN and no-BN networks (2 seeds, histograms every
# 50 steps) and one run, each made into DIR/report.html, opened by headless Chromium from file://. Checks: the page is
# self-contained (no external script, style, image or URL), no console error (a page with a deliberate error proves
# the check sees them), every hidden layer of both variants is drawn, moving the slider from the first frame to the
# last changes the bars drawn (the page's #selftest hook records their heights), a screenshot is taken; a run still
# going (no summary.json, a histogram row cut short, rows that are not bnlab's) still gets a report; the play button
# advances the frames; a sweep's report shows its grid points side by side; a directory that is neither fails.
# The figures of lab/figures.h, counted per kind through the DOM (the page's #selftest hook, a div of id "panels"): a
# percentile fan (layers) per hidden layer and variant with 2 bands and a line for the 5 percentiles logged, the
# variant without BN first; ICS panels (2 quantities x dense layers 2..4, both variants, each seed faint and the
# median); 3 landscape panels with both variants' bands or lines; the seed chooser showing seed 1 alone; the
# histograms' values outside their edges; a run without those logs says so; a malformed percentiles.csv or ics.csv fails
# with one line (file, line, column) and writes no page; one logged step, a diverged run, a path with a space and
# quotes all give a page without console errors; a sweep's header says what it sweeps.
# Needs Debian's chromium (installed here if missing); fails if it cannot be (a skip would hide a missing install step).
# usage: test_report.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
need_chromium "$ROOT"
test_tmp report
# Headless, its own profile in $T, stderr logging (console messages appear as "CONSOLE" lines).
browse() {  # browse OUT ERR ARGS... URL
  local out=$1 err=$2
  shift 2
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$T/profile" \
    --enable-logging=stderr --v=0 --virtual-time-budget=5000 "$@" >"$out" 2>"$err"
}
console_errors() { grep -E "Uncaught|ERROR:CONSOLE|CONSOLE\([0-9]+\)" "$1" | grep -vi "favicon" || true; }
# refused DIR WANT WHAT: bnlab report DIR exits 1 with one line that contains WANT, and DIR/report.html is as it was
# (absent, or the same bytes): a malformed log never reaches a page.
refused() {
  local dir=$1 want=$2 what=$3 out rc
  rm -f "$T/refused.old"
  [ -e "$dir/report.html" ] && cp "$dir/report.html" "$T/refused.old"
  out=$("$BNLAB" report "$dir" 2>&1)
  rc=$?
  check '[ $rc -eq 1 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -qF "$want" &&
         if [ -e "$T/refused.old" ]; then cmp -s "$T/refused.old" "$dir/report.html"; else [ ! -e "$dir/report.html" ]; fi' \
    "$what: exit $rc, \"$out\", expected one line with: $want, and the page as it was"
}

# The check for console errors sees one.
printf '<!DOCTYPE html><html><body><script>null.x();</script></body></html>\n' >"$T/broken.html"
browse "$T/broken.dom" "$T/broken.err" --dump-dom "file://$T/broken.html"
check '[ -n "$(console_errors "$T/broken.err")" ]' "a page that throws: no console error seen in chromium's log"

# A comparison: quick-bn and quick-nobn, 2 seeds, histograms every 50 steps of 300 probe images.
"$BNLAB" compare "$ROOT/configs/quick-bn.json" "$ROOT/configs/quick-nobn.json" --seeds 2 --jobs 2 \
  --set log.progress=never --set train.eval_every=50 --set log.probe_size=300 --set log.histograms.every=50 \
  --set 'log.percentiles.q=[10,25,50,75,90]' --set log.percentiles.every=50 --set log.ics_every=100 \
  --set log.landscape.every=100 --set log.landscape.points=4 --out "$T/cmp" >"$T/cmp.out" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "compare: exit $rc, $(tail -3 "$T/cmp.out")"
out=$("$BNLAB" report "$T/cmp" 2>&1)
rc=$?
R="$T/cmp/report.html"
check '[ $rc -eq 0 ] && [ -s "$R" ]' "report of a comparison: exit $rc, $out"
check '! grep -Eqi "<(link|img|iframe)|<script[^>]*src=|url\(" "$R"' "the page loads nothing: $(grep -Eoi "<(link|img|iframe)[^>]*|<script[^>]*src=[^>]*|url\([^)]*" "$R" | head -2)"
check '[ -z "$(grep -Eo "https?://[^\"'"'"' ]*" "$R" | grep -v "^http://www.w3.org/2000/svg$")" ]' \
  "no URL but the SVG namespace: $(grep -Eo "https?://[^\"' ]*" "$R" | sort -u | head -3)"
check '[ $(stat -c %s "$R") -lt 1000000 ]' "report.html is $(stat -c %s "$R") bytes"
check 'grep -q "<polyline" "$R" && grep -q "quick-nobn" "$R" && grep -q "steps to" "$R"' \
  "curves (SVG polylines) and summary.md (steps to target) are in the page"
check 'grep -q "^<li>80%: " "$R" && ! grep -q "^<p class=\"note\">- " "$R"' \
  "summary.md's \"- \" lines are a list, not paragraphs beginning with a dash: $(grep -m1 "80%" "$R" | head -c 200)"
[ -e "$T/cmp/report.html.tmp"* ] 2>/dev/null
check '[ -z "$(ls "$T/cmp" | grep -F .tmp)" ]' "no temporary file left (written atomically)"

browse "$T/cmp.dom" "$T/cmp.err" --dump-dom "file://$R#selftest"
rc=$?
errs=$(console_errors "$T/cmp.err")
check '[ $rc -eq 0 ] && [ -z "$errs" ]' "chromium on the comparison's report: exit $rc, console: $errs"
st=$(grep -o '<div id="selftest"[^>]*>' "$T/cmp.dom")
check '[ -n "$st" ]' "the page's self-test ran (no <div id=\"selftest\"> in the DOM: the script failed)"
attr() { echo "$st" | sed -n "s/.* $1=\"\([^\"]*\)\".*/\1/p"; }
check '[ "$(attr data-panels)" = 6 ]' "2 variants x 3 hidden layers drawn, got $(attr data-panels)"
check '[ "$(attr data-frames)" = 9 ]' "9 frames (steps 0, 50, ..., 350, 399), got $(attr data-frames)"
check '[ "$(attr data-changed)" = yes ] && [ "$(attr data-first)" != "$(attr data-last)" ]' \
  "moving the slider from the first frame to the last changed no bar"
# Panels in the paper's order: no-BN's first hidden layer, then BN's. At step 0 no-BN's inputs are all near 0 (a
# few bars), BN's are normalized (spread over several).
firstpanel=$(grep -o '<svg[^>]*class="hist"[^>]*>' "$T/cmp.dom" | head -n 1 | sed -n 's/.*data-panel="\([^"]*\)".*/\1/p')
# The values outside each histogram's edges (histograms.csv's under, over) are drawn as bins of their own: every panel
# of the new log format says how many fell below and above (data-outside="UNDER,OVER" of the frame shown).
check '[ "$(grep -o "<svg[^>]*class=\"hist\"[^>]*data-outside=\"[0-9]*,[0-9]*\"" "$T/cmp.dom" | wc -l)" -eq 6 ]' \
  "histograms: not every panel draws its values outside the edges: $(grep -o "<svg[^>]*class=\"hist\"[^>]*>" "$T/cmp.dom" | head -2)"
check '[ "$firstpanel" = "no BN" ]' "the histograms start with the variant without BN (its legend: no BN), found '$firstpanel'"
nobn0=$(attr data-first | cut -d'|' -f1)
bn0=$(attr data-first | cut -d'|' -f2)
check '[ "$(echo "$nobn0" | tr , "\n" | wc -l)" -eq 40 ] && echo "$nobn0" | tr , "\n" | awk "\$1 > 0 { n++ } END { exit !(n >= 1) }"' \
  "no-BN's first panel, first frame: 40 bars, some drawn: $nobn0"
check '[ "$(echo "$bn0" | tr , "\n" | wc -l)" -eq 40 ] && echo "$bn0" | tr , "\n" | awk "\$1 > 0 { n++ } END { exit !(n > 3) }"' \
  "BN's first panel, first frame: 40 bars, several of them drawn: $bn0"
check 'grep -q "data-step=\"399\"" "$T/cmp.dom"' "after the self-test the page shows the last step (data-step=399)"

pn=$(grep -o '<div id="panels"[^>]*>' "$T/cmp.dom")
pattr() { echo "$pn" | sed -n "s/.* $1=\"\([^\"]*\)\".*/\1/p"; }
# Percentile fans (layers): 5 percentiles are 2 bands and the middle line.
check '[ "$(pattr data-layers)" = 6 ] && [ "$(pattr data-layers-series)" = 3,3,3,3,3,3 ]' \
  "fans: 3 hidden layers x 2 variants, 2 bands and a line each: $pn"
check '[ "$(pattr data-layers-first | cut -d: -f1)" = "no BN" ]' "the paper's order: the fans without BN first: $pn"
check '[ "$(pattr data-ics)" = 6 ] && [ "$(pattr data-ics-series)" = 6,6,6,6,6,6 ]' \
  "ICS: relative size and cosine x dense layers 2..4, both variants on each panel's axes (each seed faint, the median): $pn"
check '[ "$(pattr data-landscape)" = 3 ] && [ "$(pattr data-landscape-series)" = 4,4,4 ]' \
  "landscape: loss, gradient predictiveness, beta_eff, each with both variants (their range over seeds, their medians): $pn"
check 'grep -q "median of 2 seeds" "$R" && grep -q "A comparison of 2 variants x 2 seeds = 4 runs" "$R"' \
  "the page says what it is and that its fans are medians over the seeds"
check 'grep -q "10th, 25th, 50th, 75th, 90th percentiles" "$R"' "the fans' title names the logged percentiles"
# The seed chooser: #seed=1 shows the figures of seed 1 alone (one line per variant, no faint seeds).
browse "$T/seed1.dom" "$T/seed1.err" --dump-dom "file://$R#selftest&seed=1"
pn=$(grep -o '<div id="panels"[^>]*>' "$T/seed1.dom")
check 'grep -q "<body[^>]*data-seed=\"1\"" "$T/seed1.dom" && [ "$(pattr data-ics)" = 6 ] && [ "$(pattr data-ics-series)" = 2,2,2,2,2,2 ] &&
       [ "$(grep -o "<option value=\"[0-9]*\">seed [0-9]* alone" "$R" | wc -l)" -eq 2 ]' "the seed chooser, seed 1: $pn $(grep -o "<body[^>]*>" "$T/seed1.dom")"

# The histograms follow the seed chooser: #seed=2 draws seed 2's (the page says so), whose frames are those of each
# variant's seed-2/histograms.csv; choosing a seed on the page (its change event, from a page that holds the report in
# an iframe) redraws them. Negative control: a copy whose seed-2 data are seed 1's draws the same bars for both.
browse "$T/h2.dom" "$T/h2.err" --dump-dom "file://$R#selftest&seed=2"
h1=$(grep -o '<div id="selftest"[^>]*>' "$T/cmp.dom" | sed -n 's/.* data-last="\([^"]*\)".*/\1/p')
h2=$(grep -o '<div id="selftest"[^>]*>' "$T/h2.dom" | sed -n 's/.* data-last="\([^"]*\)".*/\1/p')
check 'grep -q "<body[^>]*data-hseed=\"2\"" "$T/h2.dom" && grep -q "<b id=\"hseed\">seed 2</b>" "$T/h2.dom" && [ -n "$h2" ] && [ "$h1" != "$h2" ]' \
  "#seed=2: the histograms are not seed 2's: $(grep -o "<body[^>]*>" "$T/h2.dom") $(grep -o "<b id=\"hseed\">[^<]*" "$T/h2.dom")"
check 'grep -q "<b id=\"hseed\">seed 1</b><span id=\"hseed-all\">" "$T/cmp.dom" && ! grep -q "<span id=\"hseed-all\" hidden" "$T/cmp.dom" && grep -q "<span id=\"hseed-all\" hidden" "$T/h2.dom"' \
  "the page does not say which seed its histograms show over all seeds: $(grep -o "<p class=\"hseed\">.*</p>" "$T/cmp.dom")"
cat >"$T/hcheck.py" <<'PY'
import csv, json, os, re, sys
page, cmp, seed = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2], sys.argv[3]
m = re.search(r'<script type="application/json" class="hdata-seed" data-seed="%s">(.*?)</script>' % seed, page, re.S)
d, bad, n = json.loads(m.group(1)), 0, 0
for p in d["panels"]:
    rows = list(csv.reader(open(os.path.join(cmp, p["variant"], "seed-" + seed, "histograms.csv"))))
    for h in p["hidden"]:
        last = [r for r in rows[1:] if r[1] == str(h["h"])][-1]
        n += 1
        bad += h["frames"][-1] != [int(last[0]), int(last[5]), int(last[8]), int(last[9])] + [int(c) for c in last[10:]]
print(f"{n} layers, {bad} differ" if d["seed"] == int(seed) else "wrong seed")
PY
check '[ "$(python3 "$T/hcheck.py" "$R" "$T/cmp" 2)" = "6 layers, 0 differ" ]' "seed 2's histogram data are not seed-2/histograms.csv's: $(python3 "$T/hcheck.py" "$R" "$T/cmp" 2 2>&1 | tail -1)"
awk '/^<script type="application\/json" id="hdata">/ { d = $0; sub(/id="hdata"/, "class=\"hdata-seed\" data-seed=\"2\"", d) }
     /^<script type="application\/json" class="hdata-seed" data-seed="2">/ { print d; next } 1' "$R" >"$T/cmp/planted.html"
browse "$T/hp.dom" "$T/hp.err" --dump-dom "file://$T/cmp/planted.html#selftest&seed=2"
hp=$(grep -o '<div id="selftest"[^>]*>' "$T/hp.dom" | sed -n 's/.* data-last="\([^"]*\)".*/\1/p')
check '[ -n "$hp" ] && [ "$hp" = "$h1" ]' "control: seed 1's data planted as seed 2's, yet other bars drawn (the check above cannot fail)"
cat >"$T/cmp/wrap.html" <<'HTML'
<!DOCTYPE html><html><body><iframe id="f" src="report.html" width="1200" height="800"></iframe><script>
document.getElementById('f').addEventListener('load', function () {
  var d = this.contentDocument, sel = d.getElementById('seed'), r = document.createElement('div');
  function hs() { return Array.prototype.map.call(d.querySelectorAll('svg.hist'), function (s) { return s.getAttribute('data-heights'); }).join('|'); }
  var before = hs();
  sel.value = '2'; sel.dispatchEvent(new Event('change'));
  r.id = 'switched'; r.setAttribute('data-hseed', d.body.getAttribute('data-hseed'));
  r.setAttribute('data-said', d.getElementById('hseed').textContent); r.setAttribute('data-changed', before !== hs() ? 'yes' : 'no');
  document.body.appendChild(r);
});
</script></body></html>
HTML
browse "$T/sw.dom" "$T/sw.err" --allow-file-access-from-files --dump-dom "file://$T/cmp/wrap.html"
sw=$(grep -o '<div id="switched"[^>]*>' "$T/sw.dom")
check 'echo "$sw" | grep -q "data-hseed=\"2\" data-said=\"seed 2\" data-changed=\"yes\"" && [ -z "$(console_errors "$T/sw.err")" ]' \
  "choosing seed 2 on the page does not redraw the histograms from seed 2: $sw $(console_errors "$T/sw.err")"

# The comparison caught while going: seed 2 of quick-bn has logged half its percentiles, seed 2 of quick-nobn none
# yet. The median's lines say over which seeds, and a dashed line marks where fewer seeds count.
cp -r "$T/cmp" "$T/cmpgoing"
f="$T/cmpgoing/quick-bn/seed-2/percentiles.csv"
head -n $(( $(wc -l <"$f") / 2 )) "$f" >"$f.half" && mv "$f.half" "$f"
rm "$T/cmpgoing/quick-nobn/seed-2/percentiles.csv"
out=$("$BNLAB" report "$T/cmpgoing" 2>&1)
rc=$?
G="$T/cmpgoing/report.html"
check '[ $rc -eq 0 ] && [ "$(grep -c "<line class=\"progress\"" "$G")" -eq 3 ] && grep -q ">fewer seeds after step [0-9]*<" "$G"' \
  "a comparison going: exit $rc, $out; $(grep -c "class=\"progress\"" "$G") progress marks, expected 3 (quick-bn's fans)"
check 'grep -q "(1 of 2 seeds logged so far)" "$G"' "a seed without percentiles.csv yet is not counted"

# The play button: pressed at the first frame, a second later (virtual time) the page shows a later step.
browse "$T/play.dom" "$T/play.err" --dump-dom "file://$R#playtest"
pt=$(grep -o '<div id="playtest"[^>]*>' "$T/play.dom")
check 'echo "$pt" | grep -q "data-playing=\"yes\"" && ! echo "$pt" | grep -q "data-step=\"0\""' \
  "play: after a second the page is still playing at a step past 0: $pt"

browse "$T/shot.out" "$T/shot.err" --hide-scrollbars --window-size=1300,1700 --screenshot="$T/cmp.png" "file://$R"
check '[ -s "$T/cmp.png" ] && [ "$(head -c 8 "$T/cmp.png" | od -An -tx1 | tr -d " \n")" = 89504e470d0a1a0a ]' \
  "screenshot: $(ls -la "$T/cmp.png" 2>&1)"
[ -n "${BNLAB_KEEP_SCREENSHOT:-}" ] && cp "$T/cmp.png" "$BNLAB_KEEP_SCREENSHOT"

# One run, caught while still going: no summary.json and a last histogram row cut in the middle.
cp -r "$T/cmp/quick-nobn/seed-1" "$T/going"
rm "$T/going/summary.json" "$T/going/report.html" 2>/dev/null
head -c -200 "$T/cmp/quick-nobn/seed-1/histograms.csv" >"$T/going/histograms.csv"
out=$("$BNLAB" report "$T/going" 2>&1)
rc=$?
check '[ $rc -eq 0 ] && grep -q "still going" "$T/going/report.html"' "report of a run still going: exit $rc, $out"
# A complete row that is not bnlab's (markup where counts belong, a layer type that is not a name): refused with one
# line naming file and line, exit 1, and no page (the old one is kept), so nothing of it can reach the page's script.
for row in '60,1,1,dense,100,30000,-1,1,</script><script>alert(1)</script>' '70,1,1,x</script>,100,30000,-1,1,1,2'; do
  cp -r "$T/going" "$T/inject"
  sed -i "2a $row" "$T/inject/histograms.csv"
  check '[ -s "$T/inject/report.html" ]' "test bug: no old page to keep"
  refused "$T/inject" "histograms.csv: line 3" "a row that is not bnlab's ($row)"
  rm -rf "$T/inject"
done
browse "$T/going.dom" "$T/going.err" --dump-dom "file://$T/going/report.html#selftest"
errs=$(console_errors "$T/going.err")
st=$(grep -o '<div id="selftest"[^>]*>' "$T/going.dom")
check '[ -z "$errs" ] && [ "$(attr data-panels)" = 3 ] && [ "$(attr data-changed)" = yes ]' \
  "a run's report in chromium: console: $errs; self-test: $st"

# Its percentiles.csv and landscape_band.csv cut in a row: the complete rows are drawn, the partial one skipped.
head -c -30 "$T/cmp/quick-nobn/seed-1/percentiles.csv" >"$T/going/percentiles.csv"
head -c -10 "$T/cmp/quick-nobn/seed-1/landscape_band.csv" >"$T/going/landscape_band.csv"
out=$("$BNLAB" report "$T/going" 2>&1)
rc=$?
browse "$T/going2.dom" "$T/going2.err" --dump-dom "file://$T/going/report.html#selftest"
pn=$(grep -o '<div id="panels"[^>]*>' "$T/going2.dom")
check '[ $rc -eq 0 ] && [ "$(pattr data-layers-series)" = 3,3,3 ] && [ "$(pattr data-landscape-series)" = 1,1,1 ]' \
  "a run with logs cut mid-row: exit $rc, $out; panels: $pn"
check 'grep -q "One run" "$T/going/report.html" && ! grep -q "id=\"seed\"" "$T/going/report.html"' "a run's page says it is one run (and has no seed chooser)"

# A malformed percentiles.csv (a complete row with a word for a number), or a row with a field missing in ics.csv:
# one line naming file, line and column, exit 1, no page written.
for bad in pct ics; do
  cp -r "$T/going" "$T/bad-$bad"
  rm -f "$T/bad-$bad/report.html"
  if [ $bad = pct ]; then sed -i '3s/,[^,]*$/,oops/' "$T/bad-$bad/percentiles.csv"; want='percentiles.csv: line 3, column "p90": expected a number, found "oops"'
  else sed -i '2s/,[^,]*$//' "$T/bad-$bad/ics.csv"; want='ics.csv: line 2: 5 fields, expected 6'; fi
  refused "$T/bad-$bad" "$want" "a malformed $bad log"
  check '[ -z "$(ls "$T/bad-$bad" | grep -F .tmp)" ]' "a malformed $bad log left a temporary file"
done

# A short run (one logged step of each), in a directory with a space and quotes in its name.
Q="$T/one step 'quoted\" dir"
cp -r "$T/going" "$Q"
for f in percentiles ics landscape_band; do awk -F, 'NR == 1 || $1 == 0' "$T/going/$f.csv" >"$Q/$f.csv"; done
out=$("$BNLAB" report "$Q" 2>&1)
rc=$?
browse "$T/one.dom" "$T/one.err" --dump-dom "file://$(printf %s "$Q" | sed 's/ /%20/g; s/"/%22/g; s/'"'"'/%27/g')/report.html#selftest"
errs=$(console_errors "$T/one.err")
pn=$(grep -o '<div id="panels"[^>]*>' "$T/one.dom")
# One ICS step: no panel of single points, a line says why (a line needs two).
check '[ $rc -eq 0 ] && [ -z "$errs" ] && [ "$(pattr data-layers-series)" = 3,3,3 ] && [ -z "$(pattr data-ics)" ] && grep -q "One ICS step was logged: a line needs two" "$Q/report.html" && [ "$(pattr data-landscape-series)" = 1,1,1 ]' \
  "one logged step, a path with a space and quotes: exit $rc, $out, console: $errs, panels: $pn"

# A diverged run (non-finite values in its logs): a page without console errors, its logged steps drawn.
"$BNLAB" train "$ROOT/configs/quick-nobn.json" --set log.progress=never --set train.optimizer.lr=1e4 \
  --set train.optimizer.momentum=0.9 --set 'model.init={"type": "he_normal"}' --set 'model.layers[1].type="relu"' \
  --set 'model.layers[3].type="relu"' --set 'model.layers[5].type="relu"' --set log.percentiles.every=1 \
  --set log.ics_every=1 --set log.landscape.every=1 --set log.probe_size=200 --out "$T/div" >/dev/null 2>&1
rc=$?
out=$("$BNLAB" report "$T/div" 2>&1)
rc2=$?
browse "$T/div.dom" "$T/div.err" --dump-dom "file://$T/div/report.html#selftest"
errs=$(console_errors "$T/div.err")
pn=$(grep -o '<div id="panels"[^>]*>' "$T/div.dom")
check '[ $rc -eq 3 ] && [ $rc2 -eq 0 ] && [ -z "$errs" ] && [ "$(pattr data-layers)" = 3 ] && [ "$(pattr data-landscape-series)" = 2,2,2 ]' \
  "a diverged run: train exit $rc (expected 3), report exit $rc2, $out, console: $errs, panels: $pn"

# A run without log.histograms (nor percentiles, ICS or landscape): the page says what is absent, without an error.
cp -r "$T/going" "$T/nohist"
rm -f "$T/nohist/histograms.csv" "$T/nohist/percentiles.csv" "$T/nohist/ics.csv" "$T/nohist/landscape_band.csv"
"$BNLAB" report "$T/nohist" >/dev/null 2>&1
browse "$T/nohist.dom" "$T/nohist.err" --dump-dom "file://$T/nohist/report.html"
errs=$(console_errors "$T/nohist.err")
check '[ -z "$errs" ] && grep -q "Histograms: not logged in this run (turn them on with log.histograms.every" "$T/nohist.dom" &&
       grep -q "ICS: not logged in this run (ics.csv; turn it on with log.ics_every" "$T/nohist.dom"' \
  "a run without histograms: console: $errs"
check 'grep -q "id=\"layers-absent\">Each hidden layer.s input: not logged in this run" "$T/nohist.dom" && grep -q "id=\"ics-absent\"" "$T/nohist.dom" && grep -q "id=\"landscape-absent\"" "$T/nohist.dom"' \
  "a run without percentiles, ICS or landscape logs: the page says which are absent"

# A sweep (a grid over the learning rate, one seed): its variants side by side, sweep.md after summary.md.
printf '{"name": "sw", "variants": [{"name": "bn", "config": "%s/configs/quick-bn.json"}], "grid": {"train.optimizer.lr": [0.1, 0.5]}, "seeds": 1, "targets": [0.8], "set": {"log.progress": "never", "log.probe_size": 200, "log.histograms.every": 100}}\n' "$ROOT" >"$T/sw.json"
"$BNLAB" sweep "$T/sw.json" --jobs 2 --out "$T/sw" >"$T/sw.out" 2>&1
rc=$?
out=$("$BNLAB" report "$T/sw" 2>&1)
rc2=$?
check '[ $rc -eq 0 ] && [ $rc2 -eq 0 ] && grep -q "bn-lr0.1" "$T/sw/report.html" && grep -q "train.optimizer.lr" "$T/sw/report.html"' \
  "report of a sweep: sweep exit $rc ($(tail -3 "$T/sw.out")), report exit $rc2: $out"
browse "$T/sw.dom" "$T/sw.err" --dump-dom "file://$T/sw/report.html#selftest"
errs=$(console_errors "$T/sw.err")
st=$(grep -o '<div id="selftest"[^>]*>' "$T/sw.dom")
check '[ -z "$errs" ] && [ "$(attr data-panels)" = 6 ] && [ "$(attr data-changed)" = yes ]' \
  "a sweep's report in chromium: console: $errs; self-test: $st"
check 'grep -q "A sweep over train.optimizer.lr: 2 grid points x 1 variant x 1 seed = 2 runs" "$T/sw/report.html"' \
  "a sweep's header: $(grep -o "id=\"kind\">[^<]*" "$T/sw/report.html")"

out=$("$BNLAB" report "$T/profile" 2>&1)
rc=$?
check '[ $rc -ne 0 ] && echo "$out" | grep -q "neither a run directory"' "a directory that is neither: exit $rc, $out"

# Issue 22: the logs behind the page are read by one strict rule. Each of these complete rows is refused with one line
# naming the file and line, exit 1, and no page (the old one kept): a count written 007, an empty count, an edge of
# +-1e999 (which would overflow to inf), and a test loss "abc" in metrics.csv.
H="$T/going/histograms.csv"
row=$(sed -n 2p "$H")
for bad in count007 countempty edgeplus edgeminus metrics; do
  cp -r "$T/going" "$T/strict"
  rm -f "$T/strict/report.html"
  case $bad in
    count007) sed -i "2s/,[0-9]*\$/,007/" "$T/strict/histograms.csv"; want="histograms.csv: line 2";;
    countempty) sed -i "2s/,[0-9]*\$/,/" "$T/strict/histograms.csv"; want="histograms.csv: line 2";;
    edgeplus) awk -F, -v OFS=, 'NR == 2 { $8 = "1e999" } 1' "$H" >"$T/strict/histograms.csv"; want='histograms.csv: line 2, column "hi": expected a finite number, found "1e999"';;
    edgeminus) awk -F, -v OFS=, 'NR == 2 { $7 = "-1e999" } 1' "$H" >"$T/strict/histograms.csv"; want='histograms.csv: line 2, column "lo": expected a finite number, found "-1e999"';;
    metrics) awk -F, -v OFS=, 'NR == 3 { $5 = "abc" } 1' "$T/going/metrics.csv" >"$T/strict/metrics.csv"; want='metrics.csv: line 3, column "test_loss": expected a number, found "abc"';;
  esac
  refused "$T/strict" "$want" "strict logs, $bad"
  rm -rf "$T/strict"
done
# Histograms logged every step for 1,500 steps: the page keeps at most 500 frames per layer (evenly spread, the
# first and the last kept) and says how many were logged.
cp -r "$T/going" "$T/thin"
awk -F, -v OFS=, 'NR == 1 { print; next } NR <= 4 { r[NR - 1] = $0 } END { for (s = 0; s <= 1500; s++) for (k = 1; k <= 3; k++) {
  n = split(r[k], f, ","); f[1] = s; line = f[1]; for (i = 2; i <= n; i++) line = line "," f[i]; print line } }' "$H" >"$T/thin/histograms.csv"
"$BNLAB" report "$T/thin" >/dev/null 2>&1
rc=$?
frames=$(grep -o '"logged":1501,"frames":\[[^]]*\]\(,\[[^]]*\]\)*' "$T/thin/report.html" | head -1 | grep -o '\[[0-9]*,' | wc -l)
check '[ $rc -eq 0 ] && [ "$frames" -eq 500 ] && grep -q "\[1500," "$T/thin/report.html" && grep -q "\[0," "$T/thin/report.html"' \
  "1,501 frames per layer: exit $rc, $frames kept in the page (expected 500, with the first and the last)"
# A run directory named with 64 x "é" (128 bytes): the page is valid UTF-8 (no character cut in two).
E=$(printf 'é%.0s' $(seq 64))
cp -r "$T/going" "$T/$E"
"$BNLAB" report "$T/$E" >/dev/null 2>&1
rc=$?
check '[ $rc -eq 0 ] && iconv -f UTF-8 -t UTF-8 "$T/$E/report.html" >/dev/null 2>&1 && grep -qF "\"name\":\"$E\"" "$T/$E/report.html"' \
  "a directory named 64 x é: exit $rc, the page is not valid UTF-8 or lacks the whole name"
finish report
