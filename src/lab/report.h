// report.h — bnlab report DIR: one self-contained page, DIR/report.html, for a run, a comparison or a sweep; its header
// says which (a sweep: over which keys, grid points x variants x seeds). It opens from file:// with no network: the
// figures are inline SVG written here, the histograms a compact JSON array drawn by a small inline script of our own.
//   summary     a run: status, steps, final and best test accuracy (summary.json; "still running" without one);
//               a comparison: summary.md's tables as HTML tables, rows in the variants' order with their colour
//               and legend name
//   seeds       a comparison of several seeds: a chooser (page/seeds.js) between the figures over all seeds (the
//               median thick, each seed faint; the default) and those of one seed alone (#seed=K opens with K)
//   figures     every kind of lab/figures.h's table in its order, built by the same builders as bnlab plot's
//               (view/figmodel.h) and rendered as SVG (figmodel_svg): the same colours, order, medians and axes;
//               built once per view of the seed chooser. A kind not logged says so, naming the key that turns it
//               on. With #selftest the page records per kind the panels shown and the lines each draws in a div
//               of id "panels" (page/selftest.js)
//   histograms  histograms.csv (log.histograms, run/histlog.h) of a run, or of one seed of each variant side by
//               side — the seed the seed chooser shows (page/histograms.js follows it: #seed=K opens with seed K's),
//               the first seed while the figures show all seeds, and the page says which (b#hseed; body's
//               data-hseed) — one row per hidden layer, the variants on shared axes (x: the union of their edges, y: the
//               90th percentile over frames of the tallest bar, taller bars cut and marked), the values outside
//               the edges as bins of their own beyond the axis (an older log without under/over: edge bins
//               outlined), a step slider and a play button; at most 500 frames per layer (evenly spread, the first
//               and last kept), every row read strictly. Bars are densities (count / (n x bin width)), so panels
//               with different edges compare. The page keeps, for tests, each panel's bar heights (pixels,
//               comma-separated) in its svg's data-heights and its outside counts in data-outside, and the chosen
//               step in body's data-step; opened with #selftest it moves the slider from the first frame to the
//               last and records both in <div id="selftest">; with #playtest it presses play at the first frame
//               and, a second later, records the step shown in <div id="playtest" data-step>.
// Each section is an h2 whose id names it — a figure kind's name (its panels: svg.figure with data-kind), "histograms"
// — so that a page that embeds this one (web/app.js) finds them; the histograms' data (script#hdata: the first seed's,
// its "seed"; each other seed's of a comparison in a script.hdata-seed with data-seed=K) give each panel its legend
// text ("name"), its variant's directory name ("variant") and its colour ("color").
// A comparison or a sweep (both have compare.json) shows up to 16 variants; a sweep's sweep.md follows summary.md.
// Works on a run still going (the logs so far; run it again to refresh). Written with write_file_atomic, only if
// every log read: a malformed one leaves no page.
#ifndef BNLAB_REPORT_H
#define BNLAB_REPORT_H

// Writes DIR/report.html. 0, or -1 + message (not a run or comparison directory, a malformed log, a write failure).
int report_dir(const char *dir);

#endif
