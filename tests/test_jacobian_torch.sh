#!/usr/bin/env bash
# jacobian.csv (log.jacobian_every, run/jaclog.h) of a training run against PyTorch in float64 from the run's
# checkpoint at a probed step and the same probe images (the first min(log.probe_size, train.batch_size) test images;
# (b) the first 8 of them): every row's n, median, p10, p90, max and frac_near1 recomputed by differentiating each
# block's forward pass with torch.autograd (no Jacobian formula written here) and torch.linalg.svdvals in double —
# (a) per example with the batch statistics detached (held fixed), (b) the whole batch's Jacobian with BN's
# statistics computed from the batch (the 2 x units zeros its projection makes left out). Issue #24's "each new
# statistic equals an independent float64 computation from a checkpoint and the same batch". A BN net (sigmoid) and
# a net without normalization (ReLU, (b) block-diagonal). Negative controls: the same rows against the next probe's
# checkpoint, and (b) with BN's statistics detached (the coupling left out), fail the same comparison.
# usage: test_jacobian_torch.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp jactorch
need_torch "$ROOT"
RUN=(--set log.progress=never --set data.train_limit=600 --set data.test_limit=100 --set train.epochs=null
     --set train.steps=60 --set train.eval_every=30 --set train.checkpoint.every=30 --set log.probe_size=20
     --set log.jacobian_every=30 --set log.ics_every=0)
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --out "$T/bn" >/dev/null 2>"$T/bn.err"
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/bn/jacobian.csv" ]' "train BN with log.jacobian_every: exit $rc, $(cat "$T/bn.err")"
"$BNLAB" train "$ROOT/configs/quick-nobn.json" "${RUN[@]}" --set 'model.layers[1].type=relu' \
  --set 'model.layers[3].type=relu' --set 'model.layers[5].type=relu' --out "$T/nobn" >/dev/null 2>"$T/nobn.err"
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/nobn/jacobian.csv" ]' "train no-BN ReLU with log.jacobian_every: exit $rc, $(cat "$T/nobn.err")"
cat >"$T/jac.py" <<'PY'
import csv, gzip, json, sys
import numpy as np, torch
sys.path.insert(0, sys.argv[4] + "/scripts")
from torch_load import build, read_safetensors
run, step, ckstep, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[5]
tensors, meta = read_safetensors("%s/checkpoints/step-%09d.safetensors" % (run, ckstep))
cfg = json.loads(meta["config"])
net = build(meta).double()
net.load_state_dict({k[len("layers."):]: v.double() for k, v in tensors.items() if k.startswith("layers.")}, strict=True)
kinds = [l["type"] for l in cfg["model"]["layers"]]
raw = gzip.open(cfg["data"]["test_images"]).read()
X = torch.tensor(np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 784).astype(np.float64) * cfg["data"]["scale"])
B = min(cfg["log"]["probe_size"], cfg["train"]["batch_size"])
blocks = [i for i, k in enumerate(kinds) if k == "dense"][:-1]  # a hidden block per dense layer but the last

def layer(i, h, stats):  # layer i on h (B, .); batchnorm by the batch's statistics, or by stats (mu, var) held fixed
    m = net[i]
    if kinds[i] != "batchnorm":
        return m(h)
    mu, var = stats if stats is not None else (h.mean(0), h.var(0, unbiased=False))
    return (h - mu) / torch.sqrt(var + m.eps) * m.weight + m.bias

def block_fn(first, last, fixed):  # x (n, in) -> y (n, out) through layers first..last
    def f(x):
        h = x
        for i in range(first, last + 1):
            h = layer(i, h, fixed.get(i))
        return h
    return f

def summary(sv, drop):
    s = np.sort(np.asarray(sv, np.float64))[drop:]
    return {"n": len(s), "median": np.percentile(s, 50), "p10": np.percentile(s, 10), "p90": np.percentile(s, 90),
            "max": s[-1], "frac_near1": float(((s >= 0.5) & (s <= 2)).mean())}

def measure(n_ex, which):
    h, out = X[:n_ex], {}
    for k, first in enumerate(blocks):
        last = blocks[k + 1] - 1 if k + 1 < len(blocks) else len(kinds) - 2
        stats, z = {}, h  # the batch statistics of this block's normalization, for (a) to hold fixed
        for i in range(first, last + 1):
            if kinds[i] == "batchnorm":
                stats[i] = (z.mean(0).detach(), z.var(0, unbiased=False).detach())
            z = layer(i, z, stats.get(i))
        norm = any(kinds[i] == "batchnorm" for i in range(first, last + 1))
        if which == "example":
            f = block_fn(first, last, stats)
            sv = [torch.linalg.svdvals(torch.autograd.functional.jacobian(f, h[b:b + 1]).reshape(-1, h.shape[1]))
                  for b in range(n_ex)]
            out[k] = summary(torch.cat(sv).numpy(), 0)
        elif h.shape[1] * n_ex <= 2048:
            f = block_fn(first, last, stats if mode == "detached" else {})
            J = torch.autograd.functional.jacobian(f, h).reshape(n_ex * z.shape[1], n_ex * h.shape[1])
            out[k] = summary(torch.linalg.svdvals(J).numpy(), 2 * z.shape[1] if norm else 0)
        h = z.detach()
    return out

want = {"example": measure(B, "example"), "batch": measure(min(B, 8), "batch")}
rows = [r for r in csv.DictReader(open(run + "/jacobian.csv")) if int(r["step"]) == step]
worst, bad, checked = 0.0, [], 0
for r in rows:
    w = want[r["which"]].get(int(r["block"]))
    if w is None:
        bad.append("row %s %s: not expected" % (r["block"], r["which"]))
        continue
    checked += 1
    if int(r["n"]) != w["n"]:
        bad.append("block %s %s: n %s, want %d" % (r["block"], r["which"], r["n"], w["n"]))
    for c in ("median", "p10", "p90", "max"):  # float32 LAPACK against float64: relative to the block's largest
        e = abs(float(r[c]) - w[c]) / w["max"]
        worst = max(worst, e)
        if e > 1e-4:
            bad.append("block %s %s %s: %s, float64 %.9g" % (r["block"], r["which"], c, r[c], w[c]))
    if abs(float(r["frac_near1"]) - w["frac_near1"]) * w["n"] > 2:  # values on the edges 0.5 and 2: at most 2 moved
        bad.append("block %s %s frac_near1: %s, float64 %.9g" % (r["block"], r["which"], r["frac_near1"], w["frac_near1"]))
missing = sum(len(v) for v in want.values()) - checked
print(checked, missing, len(bad), "%.3g" % worst, "; ".join(bad[:3]).replace(" ", "_") or "-")
PY
for net in bn nobn; do
  read -r checked missing nbad worst why < <(/usr/bin/python3 "$T/jac.py" "$T/$net" 30 30 "$ROOT" coupled 2>"$T/py.err" || echo "0 0 -1 0 error")
  want=5  # (a) of the 3 blocks, (b) of the two with 100 inputs (the first's 8 x 784 columns: not measured)
  check '[ "$checked" -eq "$want" ] && [ "$missing" -eq 0 ] && [ "$nbad" -eq 0 ]' \
    "$net: jacobian.csv at step 30 against torch float64 from its checkpoint: $checked rows checked (want $want), $missing expected rows absent, $nbad off (worst $worst of the largest singular value): $why $(head -c 300 "$T/py.err")"
  read -r checked missing nbad worst why < <(/usr/bin/python3 "$T/jac.py" "$T/$net" 30 60 "$ROOT" coupled 2>/dev/null || echo "0 0 0 0 error")
  check '[ "$checked" -eq "$want" ] && [ "$nbad" -gt 0 ]' "negative control ($net): the rows of step 30 against the checkpoint of step 60 passed"
done
read -r checked missing nbad worst why < <(/usr/bin/python3 "$T/jac.py" "$T/bn" 30 30 "$ROOT" detached 2>/dev/null || echo "0 0 0 0 error")
check '[ "$checked" -eq 5 ] && [ "$nbad" -gt 0 ] && [ "${why#*batch}" != "$why" ]' \
  "negative control: (b) without BN's batch coupling passed ($nbad off: $why)"
finish jacobian_torch
