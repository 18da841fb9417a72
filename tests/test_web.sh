#!/usr/bin/env bash
# The browser lab (issue #26): the site built by scripts/web.sh (one self-contained index.html, web/build.py), opened
# by headless Chromium from file:// and from a static server on 127.0.0.1, driven as a student would
# (tests/web_drive.py: buttons clicked, configs typed). Checks:
# - it loads from file:// and from http:// (Step +1 trains one step of each variant both ways), no console error (a
#   planted error is seen);
# - configs typed into the page (JSON cut short, a wrong type, an unknown key) show the line `build/bnlab check`
#   prints for the same text and --set lines, byte for byte;
# - the quick pair trained in the page: every logged number of metrics.csv as the page shows it equals the native
#   build's run of the command the page prints (same seed, OpenBLAS/libxsmm GEMM: within float rounding; the
#   portable GEMM natively: see WEB_EXACT below), with a planted wrong number caught (negative control);
# - the report's sections are in the page (test accuracy and loss, Fig. 1(b, c), each hidden layer's percentiles,
#   histograms: found by the report's kinds of figure, data-kind), the histograms move (first frame against last),
#   each variant's name in the palette's colour;
# - pause holds a run still, Step +1 adds one step to each variant, Resume goes on (the Fig. 1 pair, 10,000 steps);
# - the downloads: the logs tar, which the native `bnlab report` draws, and each variant's checkpoint, which
#   `bnlab eval` and PyTorch (scripts/torch_load.py) load with the accuracy the page logged.
# Needs chromium and emscripten (installed through scripts/ensure-packages.sh; fails if they cannot be).
# usage: test_web.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
bash "$ROOT/scripts/ensure-packages.sh" python3 >/dev/null 2>&1
need_chromium "$ROOT"
T=$(mktemp -d /tmp/bnlab-web-XXXXXX)
trap 'rm -rf "$T"; [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null' EXIT

# The site, built by the one command (emscripten installed by it if missing).
out=$(bash "$ROOT/scripts/web.sh" --native "$BNLAB" --out "$T/site" 2>&1)
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/site/index.html" ]' "scripts/web.sh: exit $rc, $(echo "$out" | tail -3)"
if [ ! -s "$T/site/index.html" ]; then finish web; exit 1; fi
S="$T/site/index.html"
check '! grep -Eqi "<(link|img|iframe)|<script[^>]*src=" "$S"' "the page loads nothing: $(grep -Eoi "<(link|img|iframe)[^>]*|<script[^>]*src=[^>]*" "$S" | head -2)"

# The console check sees a planted error: a page that throws.
printf '<!DOCTYPE html><html><body data-state="idle"><div id="command"></div><script>null.x();</script></body></html>\n' >"$T/broken.html"
python3 "$ROOT/tests/web_drive.py" "$CHROMIUM" "file://$T/broken.html" "$T/broken" load >/dev/null 2>&1
check '[ -s "$T/broken/console.txt" ]' "a page that throws: no console error seen"

# From a static server on the loopback: loads, one step.
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$T/site" >"$T/server.log" 2>&1 &
SERVER=$!
port=""
for _ in $(seq 50); do
  port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$T/server.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.2
done
out=$(timeout 300 python3 "$ROOT/tests/web_drive.py" "$CHROMIUM" "http://127.0.0.1:$port/index.html" "$T/http" load 2>&1)
rc=$?
check '[ $rc -eq 0 ] && grep -q "\"after_step\": \[1, 1\]" "$T/http/controls.json" && [ ! -s "$T/http/console.txt" ]' \
  "from http://127.0.0.1:$port: exit $rc, $out, $(cat "$T/http/controls.json" "$T/http/console.txt" 2>/dev/null)"
check 'grep -q "\"seeds\": \[2, 2\]" "$T/http/controls.json" && grep -q "\"command\": \"build/bnlab compare [^\"]* --seeds 2 " "$T/http/controls.json"' \
  "seed 2 in the page: both runs' config.json and the command line say seed 2: $(cat "$T/http/controls.json" 2>/dev/null)"
kill "$SERVER" 2>/dev/null
SERVER=""

# From file://: the whole scenario.
P="$T/page"
out=$(timeout 900 python3 "$ROOT/tests/web_drive.py" "$CHROMIUM" "file://$S" "$P" full 2>&1)
rc=$?
check '[ $rc -eq 0 ]' "the page from file:// (tests/web_drive.py full): exit $rc, $out"
check '[ -f "$P/console.txt" ] && [ ! -s "$P/console.txt" ]' "console errors: $(head -5 "$P/console.txt" 2>/dev/null)"

# Typed configs: the page's line is the CLI's for the same text (written where the page says it is, configs/NAME,
# with the same --set lines, run from a directory laid out like the repository's top).
mkdir -p "$T/cli/configs" "$T/cli/datasets"
ln -s "$ROOT/datasets/mnist-subset" "$T/cli/datasets/mnist-subset"
cfg=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"])' "$P/typed-config.json" 2>/dev/null)
mapfile -t sets < <(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sets"])' "$P/typed-config.json" 2>/dev/null)
args=()
for s in "${sets[@]}"; do [ -n "$s" ] && args+=(--set "$s"); done
check 'echo "$cfg" | grep -Eq "^configs/quick-(bn|nobn)[.]json$" && [ ${#args[@]} -eq 8 ]' "the typed variant: $cfg with ${#args[@]} --set arguments"
for k in 0 1 2; do
  if [ ! -f "$P/typed-$k.json" ]; then check false "typed config $k: the page showed no error"; continue; fi
  cp "$P/typed-$k.json" "$T/cli/$cfg"
  cli=$(cd "$T/cli" && "$BNLAB" check "$cfg" "${args[@]}" --set seed=1 --set log.progress=never 2>&1 >/dev/null)
  page=$(cat "$P/error-$k.txt")
  check '[ -n "$cli" ] && [ "$page" = "$cli" ]' "typed config $k: the page shows \"$page\", the CLI prints \"$cli\""
done

# The numbers: the native runs of the command the page prints, against the page's tables — with the default GEMM
# (within float rounding), with the portable GEMM (the browser's: character for character), and with a learning rate
# 0.1 % off (must be caught).
cmd=$(cat "$P/command.txt" 2>/dev/null)
check 'echo "$cmd" | grep -q "^build/bnlab compare configs/quick-bn.json configs/quick-nobn.json --seeds 1 --set "' "the page's command: $cmd"
mapfile -t argv < <(python3 -c 'import shlex,sys; print("\n".join(shlex.split(sys.argv[1])[1:]))' "$cmd")
t0=$(date +%s.%N)
(cd "$ROOT" && "$BNLAB" "${argv[@]}" --out "$T/native" >"$T/native.out" 2>&1)
rc=$?
t1=$(date +%s.%N)
(cd "$ROOT" && BNLAB_GEMM=portable "$BNLAB" "${argv[@]}" --out "$T/portable" >"$T/portable.out" 2>&1)
rc2=$?
(cd "$ROOT" && "$BNLAB" "${argv[@]}" --set train.optimizer.lr=0.5005 --out "$T/lr" >"$T/lr.out" 2>&1)
rc3=$?
check '[ $rc -eq 0 ] && [ $rc2 -eq 0 ] && [ $rc3 -eq 0 ]' "the native runs of the page's command: exit $rc, $rc2 (portable GEMM), $rc3 (lr 0.5005): $(tail -n 2 "$T/native.out" "$T/portable.out" "$T/lr.out")"
for v in quick-bn quick-nobn; do
  out=$(python3 "$ROOT/tests/web_numbers.py" "$T/native/$v/seed-1/metrics.csv" "$P/page-$v.csv" 2>&1)
  rc=$?
  check '[ $rc -eq 0 ]' "$v: the page's numbers against the native run's: $out"
  echo "$v, the page against the native default GEMM ($(sed -n 's/.*"gemm_backend":[^"]*"\([^"]*\)".*/\1/p' "$T/native/$v/seed-1/environment.json")): $out"
  out=$(python3 "$ROOT/tests/web_numbers.py" --exact "$T/portable/$v/seed-1/metrics.csv" "$P/page-$v.csv" 2>&1)
  rc=$?
  check '[ $rc -eq 0 ]' "$v: the page's numbers against the native run with the portable GEMM, character for character: $out"
  echo "$v, the page against the native portable GEMM: $out"
  out=$(python3 "$ROOT/tests/web_numbers.py" "$T/lr/$v/seed-1/metrics.csv" "$P/page-$v.csv" 2>&1)
  rc=$?
  check '[ $rc -ne 0 ]' "$v: the native run at lr 0.5005 passed as the page's: $out"
  # One number of the page's table changed in its 5th digit is caught, by both comparisons.
  awk -F, -v OFS=, 'NR == 4 { $3 = sprintf("%.9g", $3 * 1.0001) } 1' "$P/page-$v.csv" >"$T/planted.csv"
  out=$(python3 "$ROOT/tests/web_numbers.py" "$T/native/$v/seed-1/metrics.csv" "$T/planted.csv" 2>&1)
  rc=$?
  out2=$(python3 "$ROOT/tests/web_numbers.py" --exact "$T/portable/$v/seed-1/metrics.csv" "$T/planted.csv" 2>&1)
  rc2=$?
  check '[ $rc -ne 0 ] && [ $rc2 -ne 0 ]' "$v: a planted wrong number (row 3's test loss x 1.0001) passed: $out; $out2"
done

cv() { python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))[sys.argv[2]]))' "$P/controls.json" "$1" 2>/dev/null; }
echo "timing: the page loaded in $(cv seconds_load) s; the quick pair trained in it in $(cv seconds_train) s (Step +1 to done, two workers); natively the same command took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"

# The report's sections and the histograms.
rep=$(cat "$P/report.json" 2>/dev/null)
val() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d[sys.argv[2]])' "$1" "$2" 2>/dev/null; }
check '[ "$(val "$P/report.json" curves)" = 2 ] && [ "$(val "$P/report.json" layers)" = 6 ] && [ "$(val "$P/report.json" percentiles)" = 2 ] && [ "$(val "$P/report.json" reports)" -ge 3 ]' \
  "the report's test accuracy and loss (2 panels), Fig. 1(b, c) (2), each hidden layer's percentiles (6) and several redraws while training: $rep"
check 'echo "$rep" | grep -q "quick-bn=rgb(0, 114, 178)" && echo "$rep" | grep -q "quick-nobn=rgb(0, 0, 0)"' \
  "the variants' names in the palette's colours (BN blue #0072B2, none black): $rep"
check '[ "$(val "$P/hist.json" panels)" = 6 ] && [ "$(val "$P/hist.json" frames)" -ge 30 ] && [ "$(val "$P/hist.json" first)" != "$(val "$P/hist.json" last)" ] && [ "$(val "$P/hist.json" step1)" != "$(val "$P/hist.json" done)" ]' \
  "the histograms: 6 panels, >= 30 frames, the first frame's bars differ from the last's, and the page's after step 1 from those at the end: $(head -c 300 "$P/hist.json")"

# The projector view changes what it says: the curves wider (one per row, at most 900 px before its zoom).
check 'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"projector\"] > 1.25 * d[\"normal\"]" "$P/projector.json"' \
  "the projector view: the accuracy panel's width $(cat "$P/projector.json" 2>/dev/null)"

# Pause, Step +1, Resume.
c=$(cat "$P/controls.json" 2>/dev/null)
check '[ "$(cv first_step)" = "[1, 1]" ] && [ "$(cv done)" = "[399, 399]" ]' "quick pair: Step +1 then Train: $c"
check '[ "$(cv paused)" = "$(cv paused_later)" ] && [ "$(cv resumed_state)" = "\"running\"" ]' "pause holds the runs still, resume goes on: $c"
check 'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert [a + 1 for a in d[\"paused_later\"]] == d[\"stepped\"]; assert all(r > s for r, s in zip(d[\"resumed\"], d[\"stepped\"]))" "$P/controls.json"' \
  "Step +1 adds one step to each variant, Resume more: $c"

# The downloads: the logs, drawn natively; the checkpoints, loaded natively and by PyTorch.
D="$P/downloads"
tarf=$(ls "$D"/*.tar 2>/dev/null | head -1)
check '[ -n "$tarf" ] && tar -xf "$tarf" -C "$T"' "the logs download: $(ls "$D" 2>&1)"
out=$("$BNLAB" report "$T/bnlab-quick-seed1" 2>&1)
rc=$?
check '[ $rc -eq 0 ] && grep -q "<polyline" "$T/bnlab-quick-seed1/report.html"' "bnlab report on the downloaded logs: exit $rc, $out"
for v in quick-bn quick-nobn; do
  L="$T/bnlab-quick-seed1/$v/seed-1"
  out=$(python3 "$ROOT/tests/web_numbers.py" --exact "$L/metrics.csv" "$P/page-$v.csv" 2>&1)
  rc=$?
  check '[ $rc -eq 0 ]' "$v: the downloaded metrics.csv holds the numbers the page showed: $out"
  out=$(python3 "$ROOT/tests/web_numbers.py" --exact "$T/portable/$v/seed-1/metrics.csv" "$L/metrics.csv" 2>&1)
  rc=$?
  check '[ $rc -eq 0 ]' "$v: the downloaded metrics.csv, every column but the wall clock, is the native portable run's: $out"
  for f in percentiles.csv histograms.csv layer_stats.csv; do
    check 'cmp -s "$T/portable/$v/seed-1/$f" "$L/$f"' "$v: the downloaded $f differs from the native portable run's: $(diff "$T/portable/$v/seed-1/$f" "$L/$f" 2>&1 | head -4)"
  done
  # config.json: the same but for where the data are (the page's in-memory /datasets/..., the native run's ROOT/datasets/...).
  check 'cmp -s <(sed "s|\"$ROOT/datasets/|\"/datasets/|" "$T/portable/$v/seed-1/config.json") "$L/config.json"' \
    "$v: the downloaded config.json differs from the native run's beyond the data paths: $(diff <(sed "s|\"$ROOT/datasets/|\"/datasets/|" "$T/portable/$v/seed-1/config.json") "$L/config.json" 2>&1 | head -4)"
done
# The downloaded checkpoint, evaluated natively by the command its card shows (from the repository's top: the page's
# /datasets/... are the checkout's datasets/...), gives the page's final test accuracy.
for v in quick-bn quick-nobn; do
  ck="$D/$v-step-399.safetensors"
  acc=$(tail -1 "$P/page-$v.csv" | cut -d, -f4)
  cmd=$(sed -n "s/^Saved $v-step-399.safetensors. Natively, from the repository's top: //p" "$P/ckpt-cmd-$v.txt")
  read -r -a words <<<"$cmd"  # build/bnlab eval FILE --set ... (words without spaces: split, never run by a shell)
  check '[ "${words[*]:0:3}" = "build/bnlab eval $v-step-399.safetensors" ] && [ ${#words[@]} -eq 7 ]' \
    "$v: the card's command to evaluate the checkpoint: $(cat "$P/ckpt-cmd-$v.txt" 2>&1)"
  out=$(cd "$ROOT" && "$BNLAB" eval "$ck" "${words[@]:3}" 2>&1)
  rc=$?
  got=$(echo "$out" | sed -n 's/^examples 2000 .* accuracy \([0-9.]*\)$/\1/p')
  check '[ $rc -eq 0 ] && [ -n "$got" ] && awk -v a="$got" -v b="$acc" "BEGIN { exit !(a == b) }"' \
    "$v: bnlab eval of the downloaded checkpoint by the card's command ($cmd): exit $rc, accuracy $got, the page's final test accuracy $acc: $(echo "$out" | head -2)"
  # Without the card's --set lines: one line naming the key to give.
  out=$(cd "$ROOT" && "$BNLAB" eval "$ck" 2>&1)
  rc=$?
  check '[ $rc -eq 1 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -qF "/datasets/mnist-subset/t10k-images-idx3-ubyte.gz: no such file (the checkpoint'"'"'s data.test_images; give the file with --set data.test_images=PATH)"' \
    "$v: bnlab eval of the downloaded checkpoint without --set: exit $rc, $out"
  "$BNLAB" predict "$ck" "$ROOT/datasets/mnist-subset/t10k-images-idx3-ubyte.gz" --out "$T/$v-pred.csv" >/dev/null 2>&1
  out=$(/usr/bin/python3 "$ROOT/scripts/torch_load.py" "$ck" "$ROOT/datasets/mnist-subset/t10k-images-idx3-ubyte.gz" "$T/$v-pred.csv" 2>&1)
  rc=$?
  check '[ $rc -eq 0 ]' "$v: PyTorch loads the downloaded checkpoint (scripts/torch_load.py): exit $rc, $(echo "$out" | tail -2)"
done

[ -n "${BNLAB_KEEP_SCREENSHOT:-}" ] && cp "$P/page.png" "$BNLAB_KEEP_SCREENSHOT"
check '[ "$(head -c 8 "$P/page.png" | od -An -tx1 | tr -d " \n")" = 89504e470d0a1a0a ]' "a screenshot of the page"
finish web
