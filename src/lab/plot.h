// plot.h — bnlab plot DIR: figures through gnuplot, PNG (pngcairo, 1280 x 720, for a slide) and SVG of each.
//
// For a comparison directory (has compare.json): accuracy (test accuracy vs steps, median line and min-max band
// over seeds per variant), percentiles (Fig. 1(b, c): the configured percentiles of the chosen unit's sigmoid
// input, one panel per variant, its first seed; the legend comes from percentiles.csv's header), layer_stats (per
// hidden layer, the nonlinearity input's mean +- std over epochs, one panel per variant) and ics when ICS was
// logged. For a run directory: the same figures for that one run. A run that diverged is drawn up to its
// divergence and marked there (a cross, "diverged at step N" in the legend); a panel with nothing logged says so.
//
// Each figure is DIR/plots/NAME.gp with its data in DIR/plots/data/NAME.dat, written by C from the logs; gnuplot
// runs in DIR/plots without a shell, so the directory may have any name (figure.h). Tick labels are chosen from
// the data's range, exact and distinct. Without gnuplot, bnlab says how to install it, keeps the scripts and data,
// and returns 1.
#ifndef BNLAB_PLOT_H
#define BNLAB_PLOT_H

// 0: all figures written; 1: gnuplot missing or failed on some figure (each message printed, naming the script and
// gnuplot's first error line); -1 + message: not a bnlab directory, an unreadable log or compare.json.
int plot_dir(const char *dir);

// DIR/plots/sweep.png from DIR/sweep.csv: final test accuracy (mean, error bars: one std over seeds) against the
// first grid path, one line per base variant, over the runs with a completed seed. The x axis is logarithmic when
// every value is > 0 and they span a factor of 10 or more; ticks sit at the grid's values. A base variant without
// a completed run is left out, with a note on stdout; with none at all there is no figure (a note, return 0).
// Columns are found by name in sweep.csv's header (axis is one of them). 0; 1: gnuplot missing (message printed);
// -1 + message: sweep.csv unreadable or gnuplot failed.
int plot_sweep(const char *dir, const char *axis, const char *const *bases, int n_bases);

#endif
