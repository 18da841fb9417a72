#!/usr/bin/env python3
"""The browser lab's numbers against the native build's (tests/test_web.sh).

usage: web_numbers.py [--exact] NATIVE_METRICS_CSV PAGE_CSV

PAGE_CSV is the page's metrics table (columns step, train_loss, test_loss, test_acc, as the page shows them); the
native run's metrics.csv has them among its columns. The two must have the same evaluation steps in the same order
and, at each, agree: losses within a relative 2e-3 and test accuracies within 2 test images (0.001 of the 2,000);
with --exact, character for character (the same GEMM's summation order natively and in the browser).
Why not exact with another GEMM: float32 sums in another order differ in their last bits; after hundreds of SGD steps
through sigmoids the weights differ by float rounding, which moves a loss in its 4th-5th digit and can flip an image
or two of the test set (measured: see the output, the largest differences found).
Prints the largest differences; exits 1 on a disagreement, naming the row and column.
"""
import sys

COLS = ["step", "train_loss", "test_loss", "test_acc"]


def read(path, cols):
    lines = [l for l in open(path).read().splitlines() if l]
    head = lines[0].split(",")
    idx = [head.index(c) for c in cols]
    return [[r.split(",")[i] for i in idx] for r in lines[1:]]


def main():
    args = sys.argv[1:]
    exact = args[0] == "--exact"
    if exact:
        args = args[1:]
    native, page = read(args[0], COLS), read(args[1], COLS)
    if [r[0] for r in native] != [r[0] for r in page]:
        sys.exit("steps differ: native %s, page %s" % ([r[0] for r in native], [r[0] for r in page]))
    worst = {c: 0.0 for c in COLS[1:]}
    for n, p in zip(native, page):
        for k, c in enumerate(COLS[1:], 1):
            if n[k] == p[k]:
                continue
            if exact or n[k] == "" or p[k] == "":
                sys.exit("step %s, %s: native %r, page %r" % (n[0], c, n[k], p[k]))
            a, b = float(n[k]), float(p[k])
            d = abs(a - b) if c == "test_acc" else abs(a - b) / max(abs(a), 1e-12)
            worst[c] = max(worst[c], d)
            if d > (0.001 + 1e-12 if c == "test_acc" else 2e-3):
                sys.exit("step %s, %s: native %s, page %s (%s %.3g)" % (n[0], c, a, b,
                         "difference" if c == "test_acc" else "relative difference", d))
    same = sum(n == p for n, p in zip(native, page))
    print("%d rows, %d identical; largest differences: train_loss %.2g, test_loss %.2g (relative), test_acc %.4g"
          % (len(native), same, worst["train_loss"], worst["test_loss"], worst["test_acc"]))


if __name__ == "__main__":
    main()
