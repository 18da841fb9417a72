#!/usr/bin/env bash
# The WebAssembly build computes what the native build computes (issue #26). scripts/web.sh builds the module (and
# installs Debian's emscripten if missing: never skipped); tests/wasm_run.js drives it under node through its C API
# (src/web/web.h) as the page does: the config and the gunzipped MNIST subset written into its in-memory file system,
# the run stepped 7 steps per call. For the quick pair (configs/quick-bn.json, quick-nobn.json: 399 steps each):
#  - against the native run on the portable GEMM (BNLAB_GEMM=portable: the same C, vectorized natively): the same
#    bits: metrics.csv (but its wall-clock column), percentiles.csv, layer_stats.csv, ics.csv byte for byte, and
#    every tensor of the final checkpoint — both compute each product as the in-order float sum without FMA, and the
#    rest of the engine is the same C with the same IEEE operations;
#  - the checkpoint the module hands over loads in the native `bnlab eval`, which gives the run's last test accuracy;
#  - against the native run on the default backend (auto: libxsmm or OpenBLAS, other summation orders and FMA):
#    not the same bits (the negative control: the comparison above sees a rounding-level difference), the test
#    accuracies within 0.01 at every evaluation (the bound tests/test_determinism.sh puts between two backends);
#  - a bad config gives the CLI's message, word for word (the module's file system holds the files at the same
#    relative paths as the repository), and train.gemm "openblas" is refused in the module with its path.
# usage: test_wasm.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$(realpath "$1")
ROOT=$(realpath "$2")
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp wasm
if ! bash "$ROOT/scripts/web.sh" --native "$BNLAB" --out "$T/site" >"$T/web.log" 2>&1; then
  cat "$T/web.log" >&2
  check false "scripts/web.sh failed"
  finish wasm
  exit 1
fi
RUN="node $ROOT/tests/wasm_run.js"
strip() { cut -d, -f1-7 "$1"; }  # metrics.csv without its wall-clock column
for v in quick-bn quick-nobn; do
  out=$($RUN train "$T/site" "$ROOT" configs/$v.json '["log.progress=never"]' "$T/w-$v" 7 2>&1)
  check '[ -s "$T/w-$v/metrics.csv" ]' "$v: the module's run failed: $out"
  echo "$v wasm: $out"
  (cd "$ROOT" && BNLAB_GEMM=portable "$BNLAB" train configs/$v.json --set log.progress=never --out "$T/p-$v" >/dev/null 2>&1)
  (cd "$ROOT" && "$BNLAB" train configs/$v.json --set log.progress=never --out "$T/d-$v" >/dev/null 2>&1)
  check 'grep -q "\"gemm_target\":[[:space:]]*\"wasm-simd128\"" "$T/w-$v/environment.json"' \
    "$v: the module's environment.json does not record the SIMD128 portable GEMM: $(cat "$T/w-$v/environment.json")"
  # flush_to_zero as done: asked for by default, done natively, impossible in WebAssembly (and these runs meet no
  # subnormal that would make a difference: their numbers are the same below).
  check 'grep -q "\"flush_to_zero\":[[:space:]]*false" "$T/w-$v/environment.json" && grep -q "\"flush_to_zero\":[[:space:]]*true" "$T/p-$v/environment.json"' \
    "$v: environment.json's flush_to_zero: module $(grep -o '"flush_to_zero":[^,]*' "$T/w-$v/environment.json"), native $(grep -o '"flush_to_zero":[^,]*' "$T/p-$v/environment.json")"
  check 'cmp -s <(strip "$T/w-$v/metrics.csv") <(strip "$T/p-$v/metrics.csv")' \
    "$v: metrics differ between the module and the native portable run: $(diff <(strip "$T/w-$v/metrics.csv") <(strip "$T/p-$v/metrics.csv") | head -4)"
  for f in percentiles.csv layer_stats.csv ics.csv; do
    [ -e "$T/p-$v/$f" ] || continue
    check 'cmp -s "$T/w-$v/$f" "$T/p-$v/$f"' "$v: $f differs between the module and the native portable run"
  done
  last=$(ls "$T/p-$v/checkpoints" | tail -1)
  same=$(python3 - "$T/w-$v/checkpoint.safetensors" "$T/p-$v/checkpoints/$last" <<'PY'
import json, struct, sys
def tensors(p):
    b = open(p, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8 + n])
    h.pop('__metadata__', None)
    return {k: (v['dtype'], v['shape'], b[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]]) for k, v in h.items()}
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
print('yes %d' % len(a) if a == b and len(a) > 0 else 'no: %s' % sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))[:5])
PY
)
  check '[ "${same%% *}" = yes ]' "$v: checkpoint tensors differ from the native portable run's: $same"
  acc=$("$BNLAB" eval "$T/w-$v/checkpoint.safetensors" --set "data.test_images=$ROOT/datasets/mnist-subset/t10k-images-idx3-ubyte.gz" \
        --set "data.test_labels=$ROOT/datasets/mnist-subset/t10k-labels-idx1-ubyte.gz" 2>&1 | grep -o 'accuracy [0-9.]*' | head -1)
  want=$(tail -1 "$T/w-$v/metrics.csv" | cut -d, -f6)
  check '[ -n "$acc" ] && awk -v a="${acc#accuracy }" -v w="$want" "BEGIN {exit !(a - w < 1e-9 && w - a < 1e-9)}"' \
    "$v: bnlab eval of the module's checkpoint: '$acc', the run's last test accuracy $want"
  # The view in the module: bnlab report's page from the module's logs draws the same curves as the native report
  # of the native portable run (the same numbers: the same SVG paths), and a figure model's SVG.
  "$BNLAB" report "$T/p-$v" >/dev/null 2>&1
  paths() { grep -o '<polyline[^>]*points="[^"]*"' "$1" | grep -o 'points="[^"]*"' | sort; }
  check '[ -s "$T/w-$v/report.html" ] && [ "$(paths "$T/w-$v/report.html" | wc -l)" -gt 10 ] && cmp -s <(paths "$T/w-$v/report.html") <(paths "$T/p-$v/report.html")' \
    "$v: the module's report draws other lines than the native report ($(paths "$T/w-$v/report.html" | wc -l) vs $(paths "$T/p-$v/report.html" | wc -l) polylines)"
  check 'grep -q "<svg" "$T/w-$v/saturation.svg.html" && grep -q "data-kind=\"saturation\"" "$T/w-$v/saturation.svg.html"' \
    "$v: the module's saturation figure: $(head -c 200 "$T/w-$v/saturation.svg.html")"
  # The default backend: other bits, the same training.
  check '! cmp -s <(strip "$T/w-$v/metrics.csv") <(strip "$T/d-$v/metrics.csv")' \
    "$v: the module's metrics equal the default backend's bit for bit: is the comparison blind to rounding?"
  diffs=$(paste -d, <(strip "$T/w-$v/metrics.csv") <(strip "$T/d-$v/metrics.csv") | awk -F, '
    NR > 1 {a = $6 - $13; if (a < 0) a = -a; if (a > ma) ma = a; l = ($5 - $12) / $12; if (l < 0) l = -l; if (l > ml) ml = l
            if (!first && ($5 != $12)) first = $1}
    END {printf "%s %.6f %.3g %s\n", (NR > 2 && ma <= 0.01) ? "yes" : "no", ma, ml, first}')
  read -r ok ma ml first <<<"$diffs"
  echo "$v: module vs native $(grep -o '"gemm_backend":[^,]*' "$T/d-$v/environment.json" | tr -d '\t "'): test loss first differs at step $first, largest relative test-loss difference $ml, largest test-accuracy difference $ma"
  check '[ "$ok" = yes ]' "$v: test accuracies of the module and the native default backend differ by $ma (> 0.01)"
done
# Errors: the module's message is the CLI's. A copy of the repository's layout: configs/ with a broken file, datasets/.
mkdir -p "$T/repo/configs"
ln -s "$ROOT/datasets" "$T/repo/datasets"
cp "$ROOT/configs/quick-bn.json" "$T/repo/configs/"
head -c 200 "$ROOT/configs/quick-bn.json" >"$T/repo/configs/cut.json"
sed 's/"units": 100, "bias": false/"units": 100, "bias": false, "unit": 3/' "$ROOT/configs/quick-bn.json" >"$T/repo/configs/typo.json"
n_err=0
while IFS='|' read -r cfg sets; do
  args=()
  while IFS= read -r -d '' s; do args+=(--set "$s"); done < <(printf '%s' "$sets" |
    python3 -c 'import json, sys; t = sys.stdin.read().strip(); sys.stdout.write("".join(s + "\0" for s in (json.loads(t) if t else [])))')
  cli=$(cd "$T/repo" && "$BNLAB" check "configs/$cfg" "${args[@]}" 2>&1 >/dev/null | sed -n 's/^bnlab: error: //p')
  web=$($RUN check "$T/site" "$T/repo" "configs/$cfg" "$sets" 2>&1 | sed -n 's/^ERROR: //p')
  check '[ -n "$cli" ] && [ "$cli" = "$web" ]' "config $cfg $sets: the CLI says '$cli', the module '$web'"
  n_err=$((n_err + 1))
done <<'CASES'
cut.json|
typo.json|
quick-bn.json|["model.layers[0].units=-3"]
quick-bn.json|["train.batch_size=9000"]
quick-bn.json|["log.percentiles.units=[{\"hidden\": 9, \"unit\": 0}]"]
quick-bn.json|["train.optimizer.lr=\"fast\""]
quick-bn.json|["nonsense=1"]
quick-bn.json|["data.test_images=datasets/mnist-subset/missing.gz"]
CASES
echo "config errors: $n_err cases, the module's message compared with the CLI's"
web=$($RUN check "$T/site" "$T/repo" configs/quick-bn.json '["train.gemm=openblas"]' 2>&1)
check 'echo "$web" | grep -q "^ERROR: .*train.gemm.*not in this build"' "train.gemm=openblas in the module: $web"
finish wasm
