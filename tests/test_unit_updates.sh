#!/usr/bin/env bash
# log.unit_updates_every (run/unitlog.h) against float64 from the checkpoints: with momentum and weight decay on,
# every row's per-unit numbers recomputed in numpy float64 from the checkpoints of steps k−1 and k (one per step) with
# an independent formula for the angle — θ_i = 2·atan2(‖â − b̂‖, ‖â + b̂‖), â, b̂ the unit rows before and after (Kahan's
# stable angle) — agree: angles to 1e-7 rad + 1e-6 relative (the log prints 9 digits; the recorder's sums run in
# double over float rows), eff_lr = lr/‖w_i‖² and norm_mean to 1e-8 relative. Negative controls: the same rows
# against the checkpoints one step later, and per column of W (the wrong axis) instead of per row, do not agree.
# bn_after is 1 for the dense layers before a batchnorm and 0 for the head. Off by default: no file, config.json
# unchanged. Also: with a 1e-6 learning rate the angles are ~1e-7 rad and still match (acos would return 0 or
# 3e-4). (A resumed run's file equal to an uninterrupted run's: tests/test_recorders.sh, for every log.)
# usage: test_unit_updates.sh BNLAB SOURCE_ROOT
set -u
BNLAB=$1
ROOT=$2
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
test_tmp unit
need_numpy "$ROOT"

RUN=(--set log.progress=never --set data.train_limit=600 --set train.epochs=null --set train.steps=6
     --set train.optimizer.momentum=0.9 --set train.optimizer.weight_decay=0.01 --set train.checkpoint.every=1
     --set train.checkpoint.keep=100 --set log.ics_every=0)
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --set log.unit_updates_every=1 --out "$T/on" >/dev/null \
  2>"$T/on.err"
rc=$?
check '[ $rc -eq 0 ] && [ -s "$T/on/unit_updates.csv" ]' "train with log.unit_updates_every: exit $rc, $(cat "$T/on.err")"
H="step,layer,tensor,units,bn_after,lr,norm_mean,eff_lr_mean,eff_lr_min,eff_lr_max,angle_mean,angle_rms,angle_min,angle_max"
check '[ "$(head -1 "$T/on/unit_updates.csv")" = "$H" ]' "header: $(head -1 "$T/on/unit_updates.csv")"
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --set train.optimizer.lr=1e-6 --set log.unit_updates_every=1 \
  --out "$T/tiny" >/dev/null 2>&1
"$BNLAB" train "$ROOT/configs/quick-bn.json" "${RUN[@]}" --out "$T/off" >/dev/null 2>&1
check '[ ! -e "$T/off/unit_updates.csv" ] && ! grep -q unit_updates "$T/off/config.json"' \
  "off by default: a file or a config.json key"

cat >"$T/check.py" <<'PY'
import csv, json, struct, sys
import numpy as np
run, shift, axis = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(step):
    b = open("%s/checkpoints/step-%09d.safetensors" % (run, step), "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    return {k: np.frombuffer(b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], np.float32)
            .astype(np.float64).reshape(v["shape"]) for k, v in h.items() if k != "__metadata__" and v["dtype"] == "F32"}
rows, bad, worst, checked, bn = list(csv.DictReader(open(run + "/unit_updates.csv"))), 0, 0.0, 0, []
for r in rows:
    k = int(r["step"]) + shift
    bn.append(r["bn_after"])
    if k - 1 < 1 or k > 6:  # checkpoints exist for steps 1..6 (none at step 0)
        continue
    checked += 1
    a, b = load(k - 1)[r["tensor"]], load(k)[r["tensor"]]
    if axis: a, b = a.T, b.T
    na, nb = np.linalg.norm(a, axis=1, keepdims=True), np.linalg.norm(b, axis=1, keepdims=True)
    th = 2 * np.arctan2(np.linalg.norm(a / na - b / nb, axis=1), np.linalg.norm(a / na + b / nb, axis=1))
    eff = float(r["lr"]) / (na[:, 0] ** 2)
    for col, want, abs_tol in (("angle_mean", th.mean(), 1e-7), ("angle_rms", np.sqrt((th ** 2).mean()), 1e-7),
                               ("angle_min", th.min(), 1e-7), ("angle_max", th.max(), 1e-7),
                               ("eff_lr_mean", eff.mean(), 0), ("eff_lr_min", eff.min(), 0),
                               ("eff_lr_max", eff.max(), 0), ("norm_mean", na.mean(), 0)):
        err = abs(float(r[col]) - want)
        tol = abs_tol + (1e-6 if abs_tol else 1e-8) * abs(want)
        worst = max(worst, err / tol)
        bad += err > tol
print(len(rows), checked, bad, "%.3g" % worst, "".join(bn[:4]))
PY
read -r n checked bad worst bn < <(/usr/bin/python3 "$T/check.py" "$T/on" 0 0 || echo "0 0 -1 0 x")
check '[ "$n" -eq 24 ] && [ "$checked" -eq 20 ] && [ "$bad" -eq 0 ] && [ "$bn" = 1110 ]' \
  "$n rows (want 6 steps x 4 dense layers), $checked checked (steps 2..6), $bad off float64 (worst $worst of the tolerance), bn_after $bn (want 1110)"
read -r n checked bad worst bn < <(/usr/bin/python3 "$T/check.py" "$T/tiny" 0 0 || echo "0 0 -1 0 x")
check '[ "$checked" -eq 20 ] && [ "$bad" -eq 0 ]' "lr 1e-6 (angles ~1e-7 rad): $bad off float64 (worst $worst of the tolerance)"
check '[ -n "$(awk -F, "NR > 1 && \$11 > 0 && \$11 < 1e-5" "$T/tiny/unit_updates.csv")" ]' \
  "lr 1e-6: angles under 1e-5 rad are logged as measured, not 0: $(sed -n 2p "$T/tiny/unit_updates.csv")"
read -r n checked bad worst bn < <(/usr/bin/python3 "$T/check.py" "$T/on" 1 0 || echo "0 0 0 0 x")
check '[ "$checked" -eq 20 ] && [ "$bad" -gt 0 ]' \
  "negative control: $checked rows checked against the next step's checkpoints, $bad off (worst $worst)"
read -r n checked bad worst bn < <(/usr/bin/python3 "$T/check.py" "$T/on" 0 1 || echo "0 0 0 0 x")
check '[ "$checked" -eq 20 ] && [ "$bad" -gt 0 ]' \
  "negative control: per column of W instead of per row, $bad off (worst $worst)"
finish unit_updates
