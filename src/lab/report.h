// report.h — bnlab report DIR: one self-contained page, DIR/report.html, for a run, a comparison or a sweep; its header
// says which (a sweep: over which keys, grid points x variants x seeds). It opens from
// file:// with no network: the curves are inline SVG written here from metrics.csv, the histograms are a compact JSON
// array drawn by a small inline script of our own.
//   summary     a run: status, steps, final and best test accuracy (summary.json; "still running" without one);
//               a comparison: summary.md's tables as HTML tables, rows in the variants' order with their colour
//   curves      test accuracy, and training (dashed) and test (solid) loss against steps: a run's own, or every
//               seed of every variant faint and the median over seeds thick, in each variant's colour
//   figures     the kinds of lab/figures.h's table in its order, the same as bnlab plot's: those built on
//               view/figmodel.h (saturation, layer_stats, modes) rendered as SVG here; percentiles and params say
//               they are drawn by bnlab plot only
//   fans, ics, landscape   percentiles.csv, ics.csv, landscape_band.csv of every seed (report_panels.h); with
//               #selftest the page records what they draw in <div id="panels"> (panels and lines per class)
//   histograms  histograms.csv (log.histograms, run/histlog.h) of a run, or of each variant's first seed side by
//               side: one row per hidden layer, the variants on shared axes (x: the union of their edges, y: the
//               largest density of any frame), a step slider and a play button; at most 500 frames per layer
//               (evenly spread, the first and last kept), every row read strictly. Each panel shows its latest frame
//               at or before the chosen step. Bars are densities (count / (n x bin width)), so panels with different
//               edges compare. The page keeps, for tests, each panel's bar heights (pixels, comma-separated) in its
//               svg's data-heights, and the chosen step in body's data-step; opened with #selftest it moves the
//               slider from the first frame to the last and records both in <div id="selftest">; with #playtest it presses play
//               at the first frame and, a second later, records the step shown in <div id="playtest" data-step>.
// A comparison or a sweep (both have compare.json) shows up to 16 variants; a sweep's sweep.md follows summary.md.
// Works on a run still going (the logs so far; run it again to refresh). Written with write_file_atomic, only if
// every log read: a malformed one leaves no page.
#ifndef BNLAB_REPORT_H
#define BNLAB_REPORT_H

// Writes DIR/report.html. 0, or -1 + message (not a run or comparison directory, a malformed log, a write failure).
int report_dir(const char *dir);

#endif
