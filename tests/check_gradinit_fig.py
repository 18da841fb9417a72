#!/usr/bin/env python3
"""The gradinit figure (lab/fig_gradinit.c) read back from what bnlab plot wrote (DIR/plots/gradinit.gp and
DIR/plots/data/gradinit.dat) and compared with the measurement files it is drawn from (DIR/gradinit-*.csv, read here
with the csv module). Prints one line per mismatch; exit 1 if any, 0 if the figure is the files'.

usage: check_gradinit_fig.py DIR

Checked, for every file and for each of its measurements (when = init, after):
  - the panel "ACTIVATION: at initialization" / "ACTIVATION: after ..." has one error-bar curve per network of that
    activation, titled "NET, D layers" (NET: "BN" for norm bn, "no BN" for none) in the class's colour
    (no normalization #000000, BN #0072B2: view/variant.h's palette, written out here);
  - its points are (layer, mean, max(mean - std, mean / 10), mean + std) of the file's dW rows with mean > 0;
  - the panel's text has "NET, D layers: ×G (LO–HI) per layer" with the file's growth and interval, in that colour;
  - the fit's line (same colour, no title) joins fit_first and fit_last with a ratio growth^(last - first);
  - in an initialization panel with a theory, Yang et al.'s line (#555555) ends at the deepest such network's mean
    at fit_last and grows by the theory's factor per layer going backward, and the panel's text says the factor in grey.
"""
import csv
import glob
import math
import os
import re
import sys

COLOURS = {"none": "#000000", "bn": "#0072B2"}
QUOTED = r"'((?:[^']|'')*)'"
bad = []


def close(a, b, rel=1e-6):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


def read_gp(path):
    """Panels in order: {title, curves: [(index, kind, colour, title or None)], text: [(text, colour)]}."""
    panels, title, text, cmd = [], None, [], None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if cmd is not None or line.startswith("plot "):
            cmd = (cmd or "") + line.rstrip("\\")
            if line.endswith("\\"):
                continue
            curves = []
            for m in re.finditer(r"'data/gradinit\.dat' index (\d+) using (.*?) (?:title " + QUOTED + r"|notitle)",
                                 cmd):
                spec = m.group(2)
                colour = re.search(r"lc rgb '#(?:[0-9A-F]{2})?([0-9A-Fa-f]{6})'", spec)
                kind = "range" if "yerrorlines" in spec else "line"
                curves.append((int(m.group(1)), kind, "#" + colour.group(1).upper() if colour else None,
                               m.group(3).replace("''", "'") if m.group(3) is not None else None))
            if not cmd.startswith("plot [0:1] [0:1]"):  # not the legend strip or a note
                panels.append({"title": title, "curves": curves, "text": text})
            cmd, text = None, []
            continue
        m = re.match(r"set title " + QUOTED + "$", line)
        if m:
            title = m.group(1).replace("''", "'")
        m = re.match(r"set label 8\d " + QUOTED + r" at .* tc rgb '(#[0-9A-Fa-f]{6})'", line)
        if m:
            text.append((m.group(1).replace("''", "'"), m.group(2).upper()))
    return panels


def read_dat(path):
    """The data blocks in order: lists of rows (lists of floats)."""
    blocks, cur, blanks = [], [], 0
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line.startswith("#"):
            continue
        if not line:
            blanks += 1
            if blanks == 2 and cur:
                blocks.append(cur)
                cur = []
            continue
        blanks = 0
        cur.append([float(v) for v in line.split()])
    if cur:
        blocks.append(cur)
    return blocks


def num(v):
    return float(v) if v != "" else math.nan


def main():
    d = sys.argv[1]
    panels = read_gp(os.path.join(d, "plots", "gradinit.gp"))
    blocks = read_dat(os.path.join(d, "plots", "data", "gradinit.dat"))
    files = sorted(glob.glob(os.path.join(d, "gradinit-*.csv")))
    if not files:
        bad.append(f"{d}: no gradinit-*.csv")
    nets = []
    for f in files:
        rows = list(csv.DictReader(open(f, newline="", encoding="utf-8")))
        nets.append((f, rows))
    any_bn = any(r["bn"] == "1" for _, rows in nets for r in rows[:1])
    expected_curves = {}
    theory_at = {}  # (activation) -> (depth, mean at fit_last, fit_first, fit_last, theory)
    for f, rows in nets:
        for when in ("init", "after"):
            rs = [r for r in rows if r["when"] == when and r["quantity"] == "dW"]
            if not rs:
                continue
            r0 = rs[0]
            act, norm, depth = r0["activation"], r0["norm"], int(r0["depth"])
            word = "BN" if norm == "bn" else ("no BN" if any_bn else "no normalization") if norm == "none" else norm
            label = f"{word}, {depth} layers"
            colour = COLOURS.get(norm)
            head = f"{act}: at initialization" if when == "init" else f"{act}: after"
            ps = [p for p in panels if p["title"] and p["title"].startswith(head)]
            if len(ps) != 1:
                bad.append(f"{f}: {when}: {len(ps)} panels titled '{head}...'")
                continue
            p = ps[0]
            expected_curves[id(p)] = expected_curves.get(id(p), 0) + 1
            cs = [c for c in p["curves"] if c[1] == "range" and c[3] == label]
            if len(cs) != 1:
                bad.append(f"{f}: {when}: panel '{p['title']}' has {len(cs)} curves titled '{label}'")
                continue
            idx, _, col, _ = cs[0]
            if col != colour:
                bad.append(f"{f}: {when}: '{label}' drawn in {col}, its class's colour is {colour}")
            want = []
            for r in rs:
                mean, sd = num(r["mean"]), num(r["std"])
                if not mean > 0:
                    continue
                sd = sd if sd == sd else 0
                want.append([int(r["layer"]), mean, max(mean - sd, mean / 10), mean + sd])
            got = blocks[idx] if idx < len(blocks) else []
            if len(got) != len(want):
                bad.append(f"{f}: {when}: '{label}' has {len(got)} points, the file {len(want)} layers")
            for g, w in zip(got, want):
                if g[0] != w[0] or not all(close(a, b) for a, b in zip(g[1:], w[1:])):
                    bad.append(f"{f}: {when}: '{label}' at layer {w[0]}: drawn {g}, the file says {w}")
                    break
            growth, lo, hi = num(r0["growth"]), num(r0["growth_lo"]), num(r0["growth_hi"])
            if growth == growth:
                text = f"{label}: ×{growth:.3f} ({lo:.3f}–{hi:.3f}) per layer" if lo == lo else \
                    f"{label}: ×{growth:.3f} per layer"
                if (text, colour) not in p["text"]:
                    bad.append(f"{f}: {when}: the panel's text lacks '{text}' in {colour}: {p['text']}")
                first, last = int(r0["fit_first"]), int(r0["fit_last"])
                fits = [c for c in p["curves"] if c[1] == "line" and c[3] is None and c[2] == colour
                        and c[0] < len(blocks) and len(blocks[c[0]]) == 2
                        and [blocks[c[0]][0][0], blocks[c[0]][1][0]] == [first, last]
                        and close(blocks[c[0]][0][1] / blocks[c[0]][1][1], growth ** (last - first), 1e-6)]
                if not fits:
                    bad.append(f"{f}: {when}: no fit line of '{label}' from layer {first} to {last} growing x{growth}")
                th = num(r0["theory"])
                if when == "init" and th == th:
                    mean_last = [float(r["mean"]) for r in rs if int(r["layer"]) == last][0]
                    if act not in theory_at or depth > theory_at[act][0]:
                        theory_at[act] = (depth, mean_last, first, last, th)
    for p in panels:
        n = sum(1 for c in p["curves"] if c[1] == "range")
        if n != expected_curves.get(id(p), 0):
            bad.append(f"panel '{p['title']}': {n} networks drawn, the files have {expected_curves.get(id(p), 0)}")
        yang = [c for c in p["curves"] if c[3] and c[3].startswith("Yang et al. 2019")]
        act = (p["title"] or "").split(":")[0]
        want = theory_at.get(act) if (p["title"] or "").endswith("at initialization") else None
        if bool(yang) != bool(want):
            bad.append(f"panel '{p['title']}': Yang et al.'s line {'drawn' if yang else 'missing'}, expected "
                       f"{'one' if want else 'none'}")
        elif yang:
            depth, mean_last, first, last, th = want
            b = blocks[yang[0][0]]
            said = [t for t, c in p["text"] if t.startswith("Yang et al. 2019") and c == "#555555"]
            if len(said) != 1 or f"×{th:.3f} per layer" not in said[0]:
                bad.append(f"panel '{p['title']}': the text does not say Yang et al.'s ×{th:.3f} in grey: {p['text']}")
            if yang[0][2] != "#555555" or len(b) != 2 or \
                    [b[0][0], b[1][0]] != [first, last] or not close(b[1][1], mean_last) or \
                    not close(b[0][1] / b[1][1], th ** (last - first)):
                bad.append(f"panel '{p['title']}': Yang et al.'s line {yang[0]} {b} is not x{th} per layer from "
                           f"{mean_last} at layer {last}")
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
