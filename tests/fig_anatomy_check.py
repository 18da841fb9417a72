#!/usr/bin/env python3
"""The figures of issue 25 (ladder, unit_updates, curvature) read back from bnlab plot's scripts and data, and compared
with what they are drawn from: summary.json for the ladder, unit_updates.csv and curvature.csv (the median over seeds
at each step) for the others. Prints one line per mismatch and exits 1 if any; 0 and "ok N values" otherwise.

usage: fig_anatomy_check.py ladder|unit_updates|curvature COMPARISON_DIR [PLOTS_DIR]
  PLOTS_DIR (default COMPARISON_DIR/plots): a copy with a planted error must fail (the test's negative control).
"""
import csv
import json
import math
import os
import re
import statistics
import sys

# The words the ladder's rows and every legend give each variant of configs/ablations.json (view_name_variants: from
# its config.json, not its name).
WORDS = {
    "bn": "BN", "mean-only": "BN: centring only", "variance-only": "BN: scaling only", "no-affine": "BN: no γ, β",
    "frozen-affine": "BN: γ, β fixed", "freeze-stats-50": "BN: statistics fixed after step 50",
    "population-stats": "BN: population statistics", "bn-last-hidden": "BN in hidden layer 3 only",
    "lsuv-nobn": "no BN, LSUV init", "nobn": "no BN",
}


def gnuplot_string(s):
    """A gnuplot single-quoted string's text ('' is a quote)."""
    return s.replace("''", "'")


def panels(gp_path):
    """Each panel of a bnlab gnuplot script: its title, its y tick names by position, and its curves (index, style
    text, title)."""
    out, cur = [], None
    text = open(gp_path, encoding="utf-8").read()
    text = text.replace("\\\n", " ")
    for line in text.split("\n"):
        m = re.match(r"set title '((?:[^']|'')*)'$", line)
        if m:
            cur = {"title": gnuplot_string(m.group(1)), "ycat": {}, "curves": []}
            out.append(cur)
            continue
        if cur is None:
            continue
        if line.startswith("set ytics (") and "'" in line:
            for name, pos in re.findall(r"'((?:[^']|'')*)' ([-0-9.e+]+)", line):
                cur["ycat"][round(float(pos))] = gnuplot_string(name)
        if line.startswith("plot "):
            for idx, spec, title in re.findall(r"index (\d+) using (.*?) (?:title '((?:[^']|'')*)'|notitle)", line):
                cur["curves"].append({"index": int(idx), "spec": spec, "title": gnuplot_string(title)})
    return out


def blocks(dat_path):
    """The data file's blocks (two blank lines end one), each a list of rows of floats."""
    text = open(dat_path).read()
    out = []
    for b in re.split(r"\n\n\n", text.split("\n", 1)[1]):
        rows = [[float(v) for v in l.split()] for l in b.split("\n") if l.strip() and not l.startswith("#")]
        out.append(rows)
    return out


bad = []
checked = 0


def same(what, got, want, rel=1e-9):
    global checked
    checked += 1
    if want is None or got is None or not math.isclose(got, want, rel_tol=rel, abs_tol=1e-12):
        bad.append(f"{what}: drawn {got}, expected {want}")


def median_by_step(rows):
    """{step: median} over rows (step, value) of several seeds."""
    by = {}
    for s, v in rows:
        if math.isfinite(v):
            by.setdefault(s, []).append(v)
    return {s: statistics.median(v) for s, v in by.items()}


def check_ladder(cmp, plots):
    summ = json.load(open(os.path.join(cmp, "summary.json")))
    variants = {v["name"]: v for v in summ["variants"]}
    ps = panels(os.path.join(plots, "ladder.gp"))
    data = blocks(os.path.join(plots, "data", "ladder.dat"))
    if not ps:
        bad.append("ladder.gp: no panel")
    for p in ps:
        # the median marks: the large points (ps 3.5); their y is the row, their x the median
        meds = {}
        for c in p["curves"]:
            if "with points" in c["spec"] and " ps 3.5 " in c["spec"]:
                x, y = data[c["index"]][0][:2]
                meds[round(y)] = x
        words = {}
        for pos, name in p["ycat"].items():
            base = re.sub(r": (never|\d+ of \d+ never|not completed)$", "", name)
            words[base] = (pos, name)
        for v, w in WORDS.items():
            if v not in variants:
                continue
            if w not in words:
                bad.append(f"{p['title']}: no row named '{w}' for {v} (rows: {sorted(words)})")
                continue
            pos, name = words[w]
            if p["title"] == "Final test accuracy":
                same(f"{p['title']}, {v}", meds.get(pos), variants[v]["final_test_acc"]["median"])
            else:
                m = re.match(r"Steps to ([0-9.]+) % test accuracy", p["title"])
                t = float(m.group(1)) / 100
                e = [s for s in variants[v]["steps_to_target"] if math.isclose(s["target"], t)][0]
                if e["median"] is None:
                    if pos in meds:
                        bad.append(f"{p['title']}, {v}: a median drawn at {meds[pos]}, summary.json says never")
                    if e["seeds_reached"] == 0 and not name.endswith(": never"):
                        bad.append(f"{p['title']}, {v}: row '{name}' does not say never")
                    checked_never()
                else:
                    same(f"{p['title']}, {v}", meds.get(pos), e["median"])


def checked_never():
    global checked
    checked += 1


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def seed_dirs(cmp, variant):
    d = os.path.join(cmp, variant)
    return sorted(os.path.join(d, s) for s in os.listdir(d) if s.startswith("seed-") and os.path.isdir(os.path.join(d, s)))


def curve(p, title):
    for c in p["curves"]:
        if c["title"] == title:
            return c
    return None


def check_series(what, got_rows, want, xk=1.0):
    """got_rows: (x, y) drawn; want: {step: value}."""
    got = {round(r[0] / xk): r[1] for r in got_rows}
    if sorted(got) != sorted(want):
        bad.append(f"{what}: drawn at steps {sorted(got)[:5]}..., logged at {sorted(want)[:5]}...")
        return
    for s in want:
        same(f"{what}, step {s}", got[s], want[s])


def running_mean(by_step, w):
    """{step: value} replaced by the centred running mean over w rows in step order (the finite values there)."""
    steps = sorted(by_step)
    out = {}
    for r, s in enumerate(steps):
        vals = [by_step[steps[q]] for q in range(r - w // 2, r + w // 2 + 1)
                if 0 <= q < len(steps) and math.isfinite(by_step[steps[q]])]
        out[s] = sum(vals) / len(vals) if vals else math.nan
    return out


def check_unit_updates(cmp, plots, variant, xk):
    gp = open(os.path.join(plots, "unit_updates.gp"), encoding="utf-8").read()
    m = re.search(r"running mean over (\d+) logged steps", gp.replace("'.\"\\n\".'", " ").replace("\n", " "))
    w = int(m.group(1)) if m else 1
    if os.environ.get("WANT_SMOOTHING") and w < 3:
        bad.append(f"unit_updates: the angles are not smoothed (window {w})")
    ps = panels(os.path.join(plots, "unit_updates.gp"))
    data = blocks(os.path.join(plots, "data", "unit_updates.dat"))
    rows = [r for d in seed_dirs(cmp, variant) for r in read_csv(os.path.join(d, "unit_updates.csv"))]
    layers = sorted({int(r["layer"]) for r in rows})
    cfg = json.load(open(os.path.join(seed_dirs(cmp, variant)[0], "config.json")))
    opt = cfg["train"]["optimizer"]
    for h, layer in enumerate(layers):
        angle = running_mean(median_by_step([(int(r["step"]), float(r["angle_rms"])) for r in rows
                                             if int(r["layer"]) == layer]), w)
        eff = median_by_step([(int(r["step"]), float(r["eff_lr_mean"])) for r in rows if int(r["layer"]) == layer])
        pa = [p for p in ps if re.match(rf"dense layer {h + 1}(,|$)", p["title"])][0]
        pe = [p for p in ps if p["title"] == f"dense layer {h + 1}: lr / ‖w_i‖²"][0]
        title = WORDS.get(variant, variant)
        ca, ce = curve(pa, title), curve(pe, title)
        if not ca or not ce:
            bad.append(f"unit_updates: layer {h + 1}: no curve titled {title}")
            continue
        check_series(f"unit_updates: angle, layer {h + 1}, {variant}", data[ca["index"]], angle, xk)
        check_series(f"unit_updates: lr/|w|^2, layer {h + 1}, {variant}", data[ce["index"]], eff, xk)
        after = {r["bn_after"] for r in rows if int(r["layer"]) == layer}
        # this variant's line: named after it, or the one line all variants share (no name)
        wan = [c for c in pa["curves"] if re.match(r"Wan et al\.: [0-9.e+-]+ rad(: " + re.escape(title) + ")?$", c["title"])]
        if after == {"1"} and opt["weight_decay"] > 0:
            want = math.sqrt(2 * opt["lr"] * opt["weight_decay"] / (1 + opt["momentum"]))
            if not wan:
                bad.append(f"unit_updates: layer {h + 1} is followed by BN but has no Wan et al. line")
            for c in wan:
                for r in data[c["index"]]:
                    same(f"unit_updates: Wan et al.'s line, layer {h + 1}", r[1], want)
        elif after == {"0"} and "no BN after it" in pa["title"]:
            checked_never()
            if wan:
                bad.append(f"unit_updates: layer {h + 1} is followed by no BN in any run but has a Wan et al. line")


def check_curvature(cmp, plots, variant, xk):
    ps = panels(os.path.join(plots, "curvature.gp"))
    data = blocks(os.path.join(plots, "data", "curvature.dat"))
    rows = [r for d in seed_dirs(cmp, variant) for r in read_csv(os.path.join(d, "curvature.csv"))]
    title = WORDS.get(variant, variant)
    for p, col in zip(ps, ["top_eig", "sharpness"]):
        c = curve(p, title)
        if not c:
            bad.append(f"curvature: {p['title']}: no curve titled {title}")
            continue
        check_series(f"curvature: {col}, {variant}", data[c["index"]],
                     median_by_step([(int(r["step"]), float(r[col])) for r in rows]), xk)
        # this variant's line: the one of its rate ("2/η = V ..."), or its own (a schedule: "2/η: NAME")
        rate = 2 / float(rows[0]["lr"])
        two = [c2 for c2 in p["curves"] if c2["title"] == f"2/η: {title}" or
               (c2["title"].startswith("2/η = ") and math.isclose(float(c2["title"].split()[2]), rate, rel_tol=1e-5))]
        if not two:
            bad.append(f"curvature: {p['title']}: no 2/η line for {variant} (2/η = {rate})")
        for c2 in two:
            for r in data[c2["index"]]:
                same(f"curvature: 2/η line", r[1], rate)


def main():
    kind, cmp = sys.argv[1], sys.argv[2]
    plots = sys.argv[3] if len(sys.argv) > 3 else os.path.join(cmp, "plots")
    variant = os.environ.get("VARIANT", "bn")
    xk = float(os.environ.get("XK", "1"))
    if kind == "ladder":
        check_ladder(cmp, plots)
    elif kind == "unit_updates":
        check_unit_updates(cmp, plots, variant, xk)
    elif kind == "curvature":
        check_curvature(cmp, plots, variant, xk)
    for b in bad[:10]:
        print(b)
    if bad or checked == 0:
        print(f"{kind}: {len(bad)} mismatches of {checked} values")
        return 1
    print(f"ok {checked} values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
