#!/usr/bin/env bash
# log.gradients_every (run/gradlog.h), log.jacobian_every (run/jaclog.h) and log.update_ratios_every (every step, run/
# updatelog.h) as recorders: (1) the run is byte-identical
# with them on or off (metrics without the wall clock, layer statistics, percentiles, every tensor of the final
# checkpoint); (2) gradients.csv's row at a checkpointed step equals PyTorch in float64 from that checkpoint and the
# same batch (the trainer's saved example order): dLoss/dh at each nonlinearity's input — mean, std, max |g|, the
# percentiles — and the saturated fraction — and gradient_histograms.csv's counts in its logged edges; negative
# control: the next batch's gradients fail the same comparisons;
# (3) jacobian.csv has its rows (the values are tested against float64 in test_jacobian.c).
# usage: test_backward_logs.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp bwd
RUN=(--set log.progress=never --set data.train_limit=6000 --set train.epochs=null --set train.steps=60
     --set train.eval_every=30 --set train.checkpoint.every=30 --set log.probe_size=100)
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --set log.gradients_every=30 --set log.jacobian_every=30 \
  --set log.update_ratios_every=1 \
  --out "$T/on" >/dev/null 2>"$T/on.err"
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/on/gradients.csv" ] && [ -s "$T/on/jacobian.csv" ] && [ -s "$T/on/update_ratios.csv" ]' "train with the three logs: exit $rc, $(cat "$T/on.err")"
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --out "$T/off" >/dev/null 2>"$T/off.err"
check '[ ! -e "$T/off/gradients.csv" ] && [ ! -e "$T/off/jacobian.csv" ] && ! grep -q "gradients_every\|jacobian_every" "$T/off/config.json"' \
  "off by default and left out of config.json"
cat >"$T/same.py" <<'PY'
import csv, json, struct, sys
a, b = sys.argv[1], sys.argv[2]
def rows(run, name, drop):
    return [{k: v for k, v in r.items() if k not in drop} for r in csv.DictReader(open(run + "/" + name))]
def tensors(path):
    d = open(path, "rb").read()
    n = struct.unpack("<Q", d[:8])[0]
    h = json.loads(d[8:8 + n])
    return {k: d[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]] for k, v in h.items() if k != "__metadata__"}
diff = []
for name, drop in (("metrics.csv", {"seconds"}), ("layer_stats.csv", set()), ("percentiles.csv", set())):
    if rows(a, name, drop) != rows(b, name, drop): diff.append(name)
ta, tb = tensors(a + "/checkpoints/step-000000060.safetensors"), tensors(b + "/checkpoints/step-000000060.safetensors")
if ta != tb: diff.append("checkpoint tensors")
print(" ".join(diff) or "same", len(ta))
PY
read -r verdict n < <(/usr/bin/python3 "$T/same.py" "$T/on" "$T/off" 2>&1 || echo "error 0")
check '[ "$verdict" = same ] && [ "$n" -gt 10 ]' "the logs change the run: $verdict differ ($n tensors)"
cat >"$T/grad.py" <<'PY'
import csv, gzip, json, struct, sys
import numpy as np, torch
sys.path.insert(0, sys.argv[3] + "/scripts")
from torch_load import build
run, step, shift = sys.argv[1], int(sys.argv[2]), int(sys.argv[4])
d = open("%s/checkpoints/step-%09d.safetensors" % (run, step), "rb").read()
n = struct.unpack("<Q", d[:8])[0]
h = json.loads(d[8:8 + n])
meta = h.pop("__metadata__")
body = d[8 + n:]
def arr(name, dt):
    b, e = h[name]["data_offsets"]
    return np.frombuffer(body[b:e], dt)
cfg = json.loads(meta["config"])
net = build(meta).double()
state = {k[len("layers."):]: torch.tensor(arr(k, np.float32 if h[k]["dtype"] == "F32" else np.int64).copy()).reshape(h[k]["shape"])
         for k in h if k.startswith("layers.")}
net.load_state_dict({k: v.double() if v.dtype == torch.float32 else v for k, v in state.items()}, strict=True)
net.train()
B = cfg["train"]["batch_size"]
order = arr("trainer.order", np.uint32)
per_epoch = len(order) // B
idx = order[((step + shift) % per_epoch) * B:((step + shift) % per_epoch + 1) * B].astype(np.int64)
img = gzip.open(cfg["data"]["train_images"]).read()
lab = gzip.open(cfg["data"]["train_labels"]).read()
X = np.frombuffer(img, np.uint8, offset=16).reshape(-1, 784)[idx].astype(np.float64) * cfg["data"]["scale"]
Y = np.frombuffer(lab, np.uint8, offset=8)[idx].astype(np.int64)
hcur, kept = torch.tensor(X), {}
kinds = [l["type"] for l in cfg["model"]["layers"]]
for i, mod in enumerate(net):
    hcur = mod(hcur)
    if i + 1 < len(kinds) and kinds[i + 1] in ("sigmoid", "relu", "tanh"):
        hcur.retain_grad(); kept[i] = hcur
    if kinds[i] == "sigmoid":
        kept[("y", i)] = hcur
torch.nn.functional.cross_entropy(hcur, torch.tensor(Y)).backward()
rows = [r for r in csv.DictReader(open(run + "/gradients.csv")) if int(r["step"]) == step]
qs = [c for c in rows[0] if c.startswith("p")] if rows else []
worst, checked = 0.0, 0
for r in rows:
    g = kept[int(r["layer"])].grad.numpy().ravel()
    want = {"mean": g.mean(), "std": g.std(), "absmax": np.abs(g).max()}
    for c in qs: want[c] = np.percentile(g, float(c[1:]))
    for c, w in want.items(): worst = max(worst, abs(float(r[c]) - w) / want["absmax"])
    y = kept[("y", int(r["layer"]) + 1)].detach().numpy()
    # saturated fraction: the same count, give or take two values on the thresholds (float32 vs float64)
    if abs(float(r["frac_saturated"]) - ((y < 0.02) | (y > 0.98)).mean()) * len(g) > 2: worst = max(worst, 1.0)
    checked += 1
# gradient_histograms.csv's row of the same site: the counts of the float64 gradient in the logged edges (values
# below lo in bin 0, at or above hi in the last), give or take the values on a bin's edge (float32 vs float64).
hist_moved = 0
for r in csv.DictReader(open(run + "/gradient_histograms.csv")):
    if int(r["step"]) != step: continue
    g = kept[int(r["layer"])].grad.numpy().ravel()
    lo, hi = float(r["lo"]), float(r["hi"])
    counts = [int(r[c]) for c in r if c.startswith("c")]
    j = np.clip(np.floor((g - lo) / ((hi - lo) / len(counts))), 0, len(counts) - 1).astype(int)
    want = np.bincount(j, minlength=len(counts))
    hist_moved += int(np.abs(want - np.array(counts)).sum())
    if int(r["n"]) != len(g) or sum(counts) != len(g) or lo != -hi: hist_moved += 10 ** 6
print(checked, "%.3g" % worst, hist_moved)
PY
read -r checked worst moved < <(/usr/bin/python3 "$T/grad.py" "$T/on" 30 "$ROOT" 0 2>"$T/py.err" || echo "0 1 999999")
check '[ "$checked" -eq 3 ] && /usr/bin/python3 -c "import sys; sys.exit(not float(sys.argv[1]) < 1e-4)" "$worst"' \
  "gradients.csv at step 30 against torch float64: $checked rows, worst $worst of max |g| $(cat "$T/py.err")"
check '[ "$moved" -le 6 ]' "gradient_histograms.csv at step 30 against torch float64: $moved values in another bin (3 x 6000 values)"
check '[ "$(awk -F, '"'"'NR > 1 { e[$2] = e[$2] " " $7 " " $8 } END { for (h in e) print e[h] }'"'"' "$T/on/gradient_histograms.csv" | awk '"'"'{ for (i = 3; i <= NF; i++) if ($i != $((i - 1) % 2 + 1)) bad = 1 } END { print bad + 0 }'"'"')" = 0 ]' \
  "gradient_histograms.csv: a layer's edges change over the run"
read -r checked worst moved < <(/usr/bin/python3 "$T/grad.py" "$T/on" 30 "$ROOT" 1 2>/dev/null || echo "0 0 0")
check '[ "$checked" -eq 3 ] && /usr/bin/python3 -c "import sys; sys.exit(not float(sys.argv[1]) > 1e-2)" "$worst"' \
  "negative control: the next batch's gradients passed (worst $worst)"
check '[ "$moved" -gt 1000 ]' "negative control: the next batch's gradient histograms passed ($moved values moved)"
check '[ "$(head -1 "$T/on/jacobian.csv")" = "step,block,layer,norm,which,n,median,p10,p90,max,frac_near1" ] && [ $(grep -c ",example," "$T/on/jacobian.csv") -eq 9 ] && [ $(grep -c ",batch," "$T/on/jacobian.csv") -eq 6 ]' \
  "jacobian.csv: 3 probes (steps 0, 30, 60) x (3 example rows + 2 batch rows): $(cat "$T/on/jacobian.csv" | head -3)"
# The options do what they say: log.gradients_every 4 over 9 steps logs steps 0, 4 and 8; log.histograms.bins 7 gives
# gradient_histograms.csv 7 count columns; log.percentiles.q [10, 90] gives gradients.csv the columns p10 and p90.
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --set train.steps=9 --set train.checkpoint.every=0 \
  --set log.gradients_every=4 --set log.histograms.bins=7 --set 'log.percentiles.q=[10, 90]' --out "$T/opts" \
  >/dev/null 2>"$T/opts.err"
steps=$(awk -F, 'NR > 1 { print $1 }' "$T/opts/gradients.csv" | uniq | tr '\n' ' ')
check '[ "$steps" = "0 4 8 " ]' "log.gradients_every 4 over 9 steps: logged steps $steps (want 0 4 8) $(cat "$T/opts.err")"
hdr=$(head -1 "$T/opts/gradient_histograms.csv")
check '[ "${hdr##*,lo,hi,}" = "c0,c1,c2,c3,c4,c5,c6" ] || [ "$(echo "$hdr" | grep -o ",c[0-9]*" | wc -l)" -eq 7 ]' \
  "log.histograms.bins 7: gradient_histograms.csv's header $hdr"
check '[ "$(head -1 "$T/opts/gradients.csv" | grep -o ",p[0-9.]*" | tr -d "\n")" = ",p10,p90" ]' \
  "log.percentiles.q [10, 90]: gradients.csv's header $(head -1 "$T/opts/gradients.csv")"
finish backward_logs
