#!/usr/bin/env python3
"""The backward-pass figures (lab/fig_backward.c, lab/fig_sweep_map.c) read back from what bnlab plot wrote
(plots/KIND.gp and plots/data/KIND.dat) and compared with an independent computation from the logs (the runs' CSVs,
and for the sweep map sweep.csv and each run's summary.json). Prints one line per mismatch; exit 1 if any.

usage: check_backward_figs.py KIND DIR [VARIANT...]
  gradients DIR        every panel "VARIANT: hidden layer H": each percentile curve = the median over seeds of
                       gradients.csv's p<q> (act_input rows of hidden H)
  update_ratios DIR    panel j of the top row, curve VARIANT = the median over seeds of update_norm_ratio of the
                       j-th dense weight matrix; bottom row: grad_std_ratio
  jacobian DIR         panel "block B, per example" / "whole batch", curve VARIANT = median over seeds of the median
                       column (which = example / batch, block B - 1)
  gradient_depth DIR   panel "at initialization (step 0)", curve VARIANT = (h, median over seeds of n (std² + mean²))
                       at step 0; the Yang et al. line, if drawn, grows by π/(π−1) per layer going backward
  dead_units DIR       panel "hidden layer H", curve VARIANT = the median over seeds of dead_units x batch / n
                       (act_input rows of hidden H; batch: the run's config.json train.batch_size)
  sweep_map DIR        every cell's label = sweep.csv's final_median to 2 decimals (and in the second row its
                       median steps to the first target, or "never"), or "diverged" where a seed's summary.json says so
"""
import csv
import json
import math
import os
import re
import statistics
import sys

QUOTED = r"'((?:[^']|'')*)'"
# A gnuplot string of several lines, as view/figure.c writes it: 'line 1'."\n".'line 2'
MULTI = r"('(?:[^']|'')*'(?:\.\"\\n\"\.'(?:[^']|'')*')*)"


def unq_multi(s):
    return "\n".join(unq(part[1:-1]) for part in s.split('."\\n".'))


def unq(s):
    return s.replace("''", "'")


def read_gp(path):
    """Panels in order: (title, [(block, using, title or None)], [(label text, x, y)])."""
    panels, title, labels, cmd = [], None, [], None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if cmd is not None:
            cmd += line
            if not line.endswith("\\"):
                panels.append((title, curves(cmd), labels))
                cmd, labels = None, []
            continue
        m = re.match(r"set title " + QUOTED, line)
        if m:
            title = unq(m.group(1))
        m = re.match(r"set label \d+ " + MULTI + r" at ([-0-9.e]+),([-0-9.e]+) center", line)
        if m:
            labels.append((unq_multi(m.group(1)), float(m.group(2)), float(m.group(3))))
        if line.startswith("plot "):
            if line.startswith("plot [0:1] [0:1] NaN"):  # a panel with nothing drawn: its note
                panels.append((title, [], labels))
                labels = []
            elif line.endswith("\\"):
                cmd = line
            else:
                panels.append((title, curves(line), labels))
                labels = []
    return panels


def curves(cmd):
    out = []
    for m in re.finditer(r"index (\d+) using (\S+) .*?(?:title " + QUOTED + r"|notitle)", cmd):
        out.append((int(m.group(1)), m.group(2), unq(m.group(3)) if m.group(3) is not None else None))
    return out


def read_dat(path):
    blocks, cur = [], []
    text = open(path, encoding="utf-8").read()
    for chunk in re.split(r"\n\n\n", text):
        rows = []
        for line in chunk.split("\n"):
            if not line.strip() or line.startswith("#"):
                continue
            rows.append([float(v) for v in line.split()])
        if rows:
            blocks.append(rows)
    return blocks


def compare_json(d):
    return json.load(open(os.path.join(d, "compare.json")))


def runs(d, variant):
    if os.path.exists(os.path.join(d, "compare.json")):
        return [os.path.join(d, variant, "seed-%d" % s) for s in compare_json(d)["seeds"]]
    return [d]


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def median_by_step(per_seed):
    """{step: [values]} -> sorted [(step, median)]."""
    out = []
    for step in sorted(per_seed):
        v = [x for x in per_seed[step] if math.isfinite(x)]
        out.append((step, statistics.median(v) if v else float("nan")))
    return out


problems = []


def same(what, got, want):
    """got: rows (x, y); want: [(x, y)]."""
    got = [(r[0], r[1]) for r in got]
    want = [(x, y) for x, y in want if math.isfinite(y)]
    if len(got) != len(want):
        problems.append("%s: %d points drawn, %d in the logs" % (what, len(got), len(want)))
        return
    for (gx, gy), (wx, wy) in zip(got, want):
        if gx != wx or abs(gy - wy) > 1e-8 * max(abs(wy), 1e-300):
            problems.append("%s: drawn (%g, %.10g), the logs give (%g, %.10g)" % (what, gx, gy, wx, wy))
            return


def curve(panels, blocks, panel_title, curve_title, nth=0):
    found = [p for p in panels if p[0] == panel_title]
    if len(found) <= nth:
        problems.append("no panel titled %r" % panel_title)
        return None
    for b, _, t in found[nth][1]:
        if t == curve_title:
            return blocks[b]
    problems.append("panel %r: no curve titled %r" % (panel_title, curve_title))
    return None


LABELS = {}


def L(v):
    """Variant v's legend text."""
    return LABELS.get(v, v)


def check_gradients(d, variants):
    panels, blocks = read_gp(os.path.join(d, "plots/gradients.gp")), read_dat(os.path.join(d, "plots/data/gradients.dat"))
    for v in variants:
        logs = [rows(os.path.join(r, "gradients.csv")) for r in runs(d, v)]
        qs = [c for c in logs[0][0].keys() if re.fullmatch(r"p[0-9.]+", c)]
        hidden = sorted({int(r["hidden"]) for r in logs[0] if r["where"] == "act_input"})
        for h in hidden:
            for q in qs:
                per = {}
                for log in logs:
                    for r in log:
                        if r["where"] == "act_input" and int(r["hidden"]) == h:
                            per.setdefault(int(r["step"]), []).append(float(r[q]))
                sep = ": " if len(variants) <= 2 else "\n"
                got = curve(panels, blocks, "%s%shidden layer %d" % (L(v), sep, h), "%s, %sth percentile" % (L(v), q[1:]))
                if got is not None:
                    same("gradients %s hidden %d %s" % (v, h, q), got, median_by_step(per))


def check_update_ratios(d, variants):
    panels, blocks = read_gp(os.path.join(d, "plots/update_ratios.gp")), read_dat(os.path.join(d, "plots/data/update_ratios.dat"))
    for v in variants:
        logs = [rows(os.path.join(r, "update_ratios.csv")) for r in runs(d, v)]
        tensors = []
        for r in logs[0]:
            if r["layer_type"] == "dense" and r["tensor"].endswith(".weight") and r["tensor"] not in tensors:
                tensors.append(r["tensor"])
        for j, tensor in enumerate(tensors):
            title = "dense layer %d%s" % (j + 1, " (output)" if j + 1 == len(tensors) else "")
            for row, col in enumerate(("update_norm_ratio", "grad_std_ratio")):
                per = {}
                for log in logs:
                    for r in log:
                        if r["tensor"] == tensor:
                            per.setdefault(int(r["step"]), []).append(float(r[col]) if r[col] else float("nan"))
                got = curve(panels, blocks, title, L(v), row)
                if got is not None:
                    same("update_ratios %s %s %s" % (v, tensor, col), got, median_by_step(per))


def check_dead_units(d, variants):
    panels, blocks = read_gp(os.path.join(d, "plots/dead_units.gp")), read_dat(os.path.join(d, "plots/data/dead_units.dat"))
    for v in variants:
        per_h = {}
        for run in runs(d, v):
            batch = json.load(open(os.path.join(run, "config.json")))["train"]["batch_size"]
            for r in rows(os.path.join(run, "gradients.csv")):
                if r["where"] == "act_input":
                    per_h.setdefault(int(r["hidden"]), {}).setdefault(int(r["step"]), []).append(
                        float(r["dead_units"]) * batch / float(r["n"]))
        for h, per in sorted(per_h.items()):
            got = curve(panels, blocks, "hidden layer %d" % h, L(v))
            if got is not None:
                same("dead_units %s hidden %d" % (v, h), got, median_by_step(per))


def check_jacobian(d, variants):
    panels, blocks = read_gp(os.path.join(d, "plots/jacobian.gp")), read_dat(os.path.join(d, "plots/data/jacobian.dat"))
    for v in variants:
        logs = [rows(os.path.join(r, "jacobian.csv")) for r in runs(d, v)]
        for which, word in (("example", "per example"), ("batch", "whole batch")):
            for b in sorted({int(r["block"]) for r in logs[0] if r["which"] == which}):
                per = {}
                for log in logs:
                    for r in log:
                        if r["which"] == which and int(r["block"]) == b:
                            per.setdefault(int(r["step"]), []).append(float(r["median"]))
                got = curve(panels, blocks, "block %d, %s" % (b + 1, word), L(v))
                if got is not None:
                    same("jacobian %s block %d %s" % (v, b + 1, which), got, median_by_step(per))


def check_gradient_depth(d, variants):
    panels, blocks = read_gp(os.path.join(d, "plots/gradient_depth.gp")), read_dat(os.path.join(d, "plots/data/gradient_depth.dat"))
    for v in variants:
        per = {}
        for r in runs(d, v):
            for row in rows(os.path.join(r, "gradients.csv")):
                if row["where"] == "act_input" and row["step"] == "0":
                    n, mean, std = float(row["n"]), float(row["mean"]), float(row["std"])
                    per.setdefault(int(row["hidden"]), []).append(n * (std * std + mean * mean))
        got = curve(panels, blocks, "at initialization (step 0)", L(v))
        if got is not None:
            same("gradient_depth %s" % v, got, median_by_step(per))
    for p in panels:
        for b, _, t in p[1]:
            if t and t.startswith("Yang et al."):
                pts = blocks[b]
                for (h0, y0), (h1, y1) in zip(pts, pts[1:]):
                    if abs(y0 / y1 - math.pi / (math.pi - 1)) > 1e-6:
                        problems.append("gradient_depth: the theory line grows by %g from layer %g to %g, not π/(π−1)" % (y0 / y1, h1, h0))


def check_sweep_map(d, variants):
    panels = read_gp(os.path.join(d, "plots/sweep_map.gp"))
    spec = compare_json(d)
    keys = list(spec["variants"][0]["grid"].keys())
    table = rows(os.path.join(d, "sweep.csv"))
    n_cells = 0
    # A panel's title names its base in words (view_name_variants: the class's), "BN: final accuracy".
    words = {"BN": "bn", "no BN": "nobn"}
    for title, _, labels in panels:
        name, what = title.rsplit(": ", 1)
        base = words.get(name, name)
        steps = what.startswith("steps to ")
        mine = [r for r in table if r["base"] == base]
        ys = sorted({float(r[keys[0]]) for r in table})
        xs = sorted({float(r[keys[1]]) for r in table})
        for r in mine:
            x, y = xs.index(float(r[keys[1]])), ys.index(float(r[keys[0]]))
            text = [t for t, lx, ly in labels if lx == x and ly == y]
            diverged = 0
            for s in spec["seeds"]:
                try:
                    diverged += json.load(open(os.path.join(d, r["variant"], "seed-%d" % s, "summary.json")))["status"] == "diverged"
                except FileNotFoundError:
                    pass
            if steps:  # sweep.csv's median steps to the first target; empty: most seeds never reached it
                col = "steps_to_%g_median" % spec["targets"][0]
                cell = ("%.0f" % float(r[col]) if r[col] else "never") if r["completed"] != "0" else "no run"
            else:
                cell = "%.2f" % float(r["final_median"]) if r["final_median"] else "no run"
            # Every seed diverged: "diverged"; some: the others' value, then how many diverged.
            want = cell if not diverged else "diverged" if r["completed"] == "0" else cell + "\n%d of %d diverged" % (diverged, len(spec["seeds"]))
            if len(text) != 1 or not text[0].startswith(want):
                problems.append("sweep_map %s %s: the cell says %r, the logs %r" % (title, r["variant"], text, want))
            n_cells += 1
    rows_of_panels = 2 if spec.get("targets") else 1
    if n_cells != rows_of_panels * len(table):
        problems.append("sweep_map: %d cells checked, sweep.csv has %d runs (x %d rows)" % (n_cells, len(table), rows_of_panels))


if __name__ == "__main__":
    # A variant as NAME (its directory and its legend text) or NAME=LABEL (a legend in words: view/source.h names a
    # comparison's only variant of a kind by the kind, "BN", "no BN").
    kind, d, variants = sys.argv[1], sys.argv[2], []
    for a in sys.argv[3:]:
        name, _, label = a.partition("=")
        LABELS[name] = label or name
        variants.append(name)
    globals()["check_" + kind](d, variants)
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)
