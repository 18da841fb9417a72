// axis.h — the one axis and tick routine of every figure (gnuplot's scripts, the report's SVG, the histograms'
// rows): total — any pair of ends, finite or not, equal, adjacent doubles or 1e-300..1e300 — gives a finite range
// and at most AXIS_MAX_TICKS ticks, each label exact and different from the others.
//   linear  round steps (1, 2 or 5 x 10^k), about `target` of them; labels as plain decimals with as many places as
//           the step needs, "10k" style thousands when every tick is a multiple of 1,000, scientific (2.5e+20)
//           beyond 1e6 or below 1e-4
//   log     powers of ten labelled as such (10⁻³, 10⁰, 10²: Unicode superscripts, in gnuplot and SVG alike), every
//           e-th decade when there are many; over at most 2 decades also 2 and 5 x 10^k, as unlabelled minor ticks
#ifndef BNLAB_VIEW_AXIS_H
#define BNLAB_VIEW_AXIS_H

#define AXIS_MAX_TICKS 24

typedef struct {
    double v;
    char label[40];  // "" for a minor tick
} axis_tick_t;

typedef struct {
    double lo, hi;  // the range shown (log: lo > 0)
    int log;
    int n;
    axis_tick_t t[AXIS_MAX_TICKS];
} axis_t;

// The axis over the data's [lo, hi]: non-finite ends are replaced (an infinite end by ±1e300, NaN by the other end
// or 0), swapped ends put in order, a degenerate range (equal ends, or ends so close that no round step fits
// between them) widened around its middle; log (asked) only if the range then lies in (0, inf), clamped to
// [1e-300, 1e300] and widened to whole decades. integer: no step below 1. target: ticks wanted (2..12).
void axis_make(axis_t *a, double lo, double hi, int log, int integer, int target);

#endif
