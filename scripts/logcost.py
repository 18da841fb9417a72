#!/usr/bin/env python3
"""What a log costs: interleaved A/B pairs of `bnlab train` runs, the log off (A) and on (B), user CPU of each run.

Issue #24's targets, on the paper's network (configs/mnist-bn.json / mnist-nobn.json, the MNIST subset):
  ratios       log.update_ratios_every 1 against 0, 3,000 steps, nothing else logged or evaluated (the step alone)
  ratios-own   the same with the config's own logging (evaluations, percentiles, layer statistics)
  probes-bn    log.gradients_every 100 + log.jacobian_every 1000 against 0 + 0, configs/backward.json's cadence
  probes-nobn  (5,000 steps, its other keys in both runs: update ratios every 50, histograms every 500, ...)
Each round runs A and B back to back, the order alternating (ABBA...), so both see the same load; each pair's B/A
ratio of user CPU is printed, then the median and the range over the rounds. Absolute seconds move with the machine's
load; compare ratios. --bin-b times a second binary instead of a second setting (the same case, that binary's log
on against this binary's log on: e.g. a branch against main).

  usage: python3 scripts/logcost.py [--bnlab build/bnlab] [--rounds 7] [--steps N] [--bin-b OTHER] CASE...
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROBES = ("log.gradients_every", "log.jacobian_every")


def backward_set():
    """configs/backward.json's "set" but the probes and train.steps: what both runs of a probes case share."""
    with open(os.path.join(ROOT, "configs", "backward.json")) as f:
        s = json.load(f)["set"]
    return [f"{k}={json.dumps(v)}" for k, v in s.items() if k not in PROBES and k != "train.steps"]


BACKWARD_SET = backward_set()
QUIET = ["log.ics_every=0", "log.percentiles.every=0", "train.eval_every=0"]

CASES = {
    # name: (config, default steps, settings of both runs, A's settings, B's settings)
    "ratios": ("mnist-bn.json", 3000, QUIET, ["log.update_ratios_every=0"], ["log.update_ratios_every=1"]),
    "ratios-own": ("mnist-bn.json", 3000, [], ["log.update_ratios_every=0"], ["log.update_ratios_every=1"]),
    "probes-bn": ("mnist-bn.json", 5000, BACKWARD_SET, ["log.gradients_every=0", "log.jacobian_every=0"],
                  ["log.gradients_every=100", "log.jacobian_every=1000"]),
    "probes-nobn": ("mnist-nobn.json", 5000, BACKWARD_SET, ["log.gradients_every=0", "log.jacobian_every=0"],
                    ["log.gradients_every=100", "log.jacobian_every=1000"]),
}


def run(binary, config, steps, settings, out):
    """One run; returns (user CPU s, wall s). Exits with the run's stderr if it fails."""
    args = [binary, "train", os.path.join(ROOT, "configs", config), "--out", out, "--set", f"train.steps={steps}"]
    for s in settings:
        args += ["--set", s]
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"logcost: {' '.join(args)} failed: {err.decode(errors='replace').strip()}")
    shutil.rmtree(out)
    return ru.ru_utime, wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="+", metavar="CASE", help=", ".join(CASES))
    ap.add_argument("--bnlab", default=os.path.join(ROOT, "build", "bnlab"), help="binary A (and B) (build/bnlab)")
    ap.add_argument("--bin-b", help="time this binary's log-on run against --bnlab's log-on run instead")
    ap.add_argument("--rounds", type=int, default=7, help="pairs per case (7)")
    ap.add_argument("--steps", type=int, help="train.steps (default: the case's)")
    a = ap.parse_args()
    for c in a.cases:
        if c not in CASES:
            sys.exit(f"logcost: unknown case '{c}'; expected one of {', '.join(CASES)}")
    if a.rounds < 1:
        sys.exit(f"logcost: --rounds {a.rounds}; expected at least 1")
    for b in [a.bnlab] + ([a.bin_b] if a.bin_b else []):
        if not os.access(b, os.X_OK):
            sys.exit(f"logcost: {b}: not an executable (build it: meson setup build && ninja -C build)")
    tmp = tempfile.mkdtemp(prefix="bnlab-logcost-")
    try:
        for c in a.cases:
            config, steps, both, off, on = CASES[c]
            steps = a.steps or steps
            if a.bin_b:
                runs = [(a.bnlab, both + on), (a.bin_b, both + on)]
                what = f"{a.bin_b} / {a.bnlab}, both with {' '.join(on)}"
            else:
                runs = [(a.bnlab, both + off), (a.bnlab, both + on)]
                what = f"({' '.join(on)}) / ({' '.join(off)})"
            print(f"{c}: {config}, {steps} steps, {' '.join(both) or 'its own logging'}; user CPU {what}")
            ratios = []
            for r in range(a.rounds):
                t = [0.0, 0.0]
                w = [0.0, 0.0]
                for k in ((0, 1) if r % 2 == 0 else (1, 0)):
                    t[k], w[k] = run(runs[k][0], config, steps, runs[k][1], os.path.join(tmp, f"run{k}"))
                ratios.append(t[1] / t[0])
                print(f"  pair {r + 1}: A {t[0]:.3f} s  B {t[1]:.3f} s  B/A {t[1] / t[0]:.3f}   "
                      f"(wall {w[0]:.2f} / {w[1]:.2f} s, load {os.getloadavg()[0]:.1f})", flush=True)
            print(f"  median B/A {statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f}, "
                  f"{len(ratios)} pairs)", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
