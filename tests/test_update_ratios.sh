#!/usr/bin/env bash
# log.update_ratios_every (run/updatelog.h) against float64 from the checkpoints: with momentum and weight decay on,
# every row's update_norm_ratio = ‖θ_{k} − θ_{k−1}‖/‖θ_{k−1}‖ and update_std_ratio = std(θ_k − θ_{k−1})/std(θ_{k−1}),
# recomputed in numpy float64 from the checkpoints of steps k−1 and k (one per step), agree to the log's 9
# significant digits (rel. 1e-8); negative control: the same rows against the checkpoints one step later do not. Off
# by default: no file, config.json unchanged. (A resumed run's file equal to an uninterrupted run's:
# tests/test_recorders.sh, for every log.)
# usage: test_update_ratios.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp upd
need_numpy "$ROOT"

RUN=(--set log.progress=never --set data.train_limit=600 --set train.epochs=null --set train.steps=6
     --set train.optimizer.momentum=0.9 --set train.optimizer.weight_decay=0.01 --set train.checkpoint.every=1
     --set train.checkpoint.keep=100 --set log.ics_every=0)
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --set log.update_ratios_every=1 --out "$T/on" >/dev/null \
  2>"$T/on.err"
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/on/update_ratios.csv" ]' "train with log.update_ratios_every: exit $rc, $(cat "$T/on.err")"
check '[ "$(head -1 "$T/on/update_ratios.csv")" = "step,layer,layer_type,tensor,n,update_norm_ratio,update_std_ratio,grad_std_ratio" ]' \
  "header: $(head -1 "$T/on/update_ratios.csv")"
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --out "$T/off" >/dev/null 2>&1
check '[ ! -e "$T/off/update_ratios.csv" ] && ! grep -q update_ratios "$T/off/config.json"' \
  "off by default: a file or a config.json key"

cat >"$T/check.py" <<'PY'
import csv, json, struct, sys
import numpy as np
run, shift = sys.argv[1], int(sys.argv[2])
def load(step):
    b = open("%s/checkpoints/step-%09d.safetensors" % (run, step), "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    return {k: np.frombuffer(b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], np.float32).astype(np.float64)
            for k, v in h.items() if k != "__metadata__" and v["dtype"] == "F32"}
rows, bad, worst, checked = list(csv.DictReader(open(run + "/update_ratios.csv"))), 0, 0.0, 0
for r in rows:
    k = int(r["step"]) + shift
    if k - 1 < 1 or k > 6:  # checkpoints exist for steps 1..6 (none at step 0)
        continue
    checked += 1
    a, b = load(k - 1)[r["tensor"]], load(k)[r["tensor"]]
    d = b - a
    # The step's gradient from the momentum buffers: v_k = 0.9 v_{k-1} + g + wd theta_{k-1} (wd 0.01 on dense weights)
    vk, vp = (load(j)["optimizer." + r["tensor"] + ".momentum_buffer"] for j in (k, k - 1))
    g = vk - 0.9 * vp - (0.01 * a if r["layer_type"] == "dense" and r["tensor"].endswith(".weight") else 0)
    for col, want, tol in (("update_norm_ratio", np.linalg.norm(d) / np.linalg.norm(a), 1e-8),
                           ("update_std_ratio", d.std() / a.std(), 1e-8),
                           ("grad_std_ratio", g.std() / a.std(), 1e-5)):  # g rebuilt from float32 buffers
        if r[col] == "":
            bad += not (a.std() == 0 or np.linalg.norm(a) == 0)
            continue
        rel = abs(float(r[col]) - want) / abs(want)
        worst = max(worst, rel / tol * 1e-8)
        bad += rel > tol  # %.9g rounds within 5e-9 relative; float64 sums agree far closer
print(len(rows), checked, bad, "%.3g" % worst)
PY
read -r n checked bad worst < <(/usr/bin/python3 "$T/check.py" "$T/on" 0 || echo "0 0 -1 0")
check '[ "$n" -eq 66 ] && [ "$checked" -eq 55 ] && [ "$bad" -eq 0 ]' \
  "$n rows (want 6 steps x 11 tensors), $checked checked (steps 2..6), $bad off float64 by > 1e-8 (worst $worst)"
read -r n checked bad worst < <(/usr/bin/python3 "$T/check.py" "$T/on" 1 || echo "0 0 0 0")
check '[ "$checked" -eq 55 ] && [ "$bad" -gt 0 ]' \
  "negative control: $checked rows checked against the next step's checkpoints, $bad off (worst $worst)"
# The cadence does what it says: log.update_ratios_every 3 over 7 steps writes the rows of steps 3 and 6 (every
# trainable tensor), none of the others.
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --set train.steps=7 --set train.checkpoint.every=0 \
  --set log.update_ratios_every=3 --out "$T/every3" >/dev/null 2>&1
steps=$(awk -F, 'NR > 1 { print $1 }' "$T/every3/update_ratios.csv" | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
check '[ "$steps" = "3:11 6:11 " ]' "log.update_ratios_every 3 over 7 steps: rows per step $steps (want 3:11 6:11)"
finish update_ratios
