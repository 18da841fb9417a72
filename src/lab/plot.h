// plot.h — bnlab plot DIR: PNG figures through gnuplot (pngcairo), sized for a slide (1280 x 720).
//
// For a comparison directory (has compare.json): accuracy.png (test accuracy vs steps, median line and
// min-max band over seeds per variant), percentiles.png (Fig. 1(b, c): 15/50/85th percentiles of the chosen
// unit's sigmoid input, one panel per variant, seed 1), layer_stats.png (per hidden layer, the nonlinearity
// input's mean +- std over epochs, one panel per variant) and ics.png when ICS was logged. For a run
// directory: the same figures for that one run. The gnuplot scripts are written beside the PNGs
// (DIR/plots/*.gp) so a user can restyle them; without gnuplot, bnlab says how to install it, keeps the
// scripts, and returns 1.
#ifndef BNLAB_PLOT_H
#define BNLAB_PLOT_H

// 0: all plots written; 1: gnuplot missing or failed (message printed); -1 + message: not a bnlab directory.
int plot_dir(const char *dir);

// DIR/plots/sweep.png from DIR/sweep.csv: final test accuracy (mean, error bars: one std over seeds) against the
// first grid path (log scale when its values span more than a factor of 20), one line per base variant. Columns
// are found by name in sweep.csv's header (axis is one of them). -1 + message; 1: gnuplot missing or failed.
int plot_sweep(const char *dir, const char *axis, const char *const *bases, int n_bases);

#endif
