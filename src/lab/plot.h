// plot.h — bnlab plot DIR: figures through gnuplot for a slide (1600 x 900 or larger by the panel grid, 18 pt
// type, legends below the data), each as PNG, SVG and PDF. The kinds are lab/figures.h's table, walked in its
// order (--only: some of them); colours, line styles and the variants' order are view/variant.h's, the same in
// bnlab report.
//
// For a comparison directory (has compare.json) or a run directory:
//   accuracy     test accuracy vs steps: every seed faint, their median thick, in each variant's colour; when the
//                final accuracies lie within 5 points, an inset zooms on the last fifth of training
//   loss         training (dashed) and test (solid) loss, the same way
//   percentiles  Fig. 1(b, c): the configured percentiles of the chosen unit's input, one panel per variant
//   layers       every hidden layer's input, whole layer, as a percentile fan: a row per variant, a column per
//                hidden layer (lab/fig_layers.c)
//   saturation, layer_stats  each hidden layer's saturated fraction and mean output over steps (fig_saturation.c)
//   ics          ‖G − G′‖ / ‖G‖ and cos(G, G′): a panel per dense layer, the variants on its axes (a note panel if
//                fewer than two ICS steps were logged; no figure if ICS was not logged)
//   modes        test accuracy with BN's running vs each batch's own statistics, and training-batch accuracy
//                (fig_modes.c; only for runs with log.eval_batch_stats)
//   params       ‖W‖ of each dense layer, γ and β of each BN layer (plot_params.h)
// accuracy and loss start at step 0 (the initial network); its empty training loss leaves out that point only.
//   landscape, landscape_eta  Santurkar et al.'s Fig. 4 and Fig. 11 views over all seeds (lab/fig_landscape.c;
//                no figure if log.landscape was off)
// --xrange/--yrange/--xscale/--yscale set every axis of the figures drawn (view/figure.h); --label renames a
// variant's legend entry. Panels that are compared share their axes. --seed K draws every figure from seed K alone; without it
// the figures over seeds show the median (thick) and each seed (faint), and figures of one run per variant
// (percentiles) show seed 1, named in the title. Variants come in the one order of view/variant.h (no normalization first, as in the paper), each in
// its class's colour, in plot and report alike; variants of one class differ by line style. Titles name the nonlinearity from the runs' config.json. A run
// that diverged is drawn up to its divergence and marked there; a panel with nothing logged says so. More than 3
// panels go in a 2-row grid (up to 8); layers and ics wrap their rows after 4 variants.
//
// Each figure is DIR/plots/NAME.gp with its data in DIR/plots/data/NAME.dat, written by C from the logs; gnuplot
// runs in DIR/plots without a shell, so the directory may have any name (figure.h). Tick labels are chosen from
// the data's range, exact and distinct. Without gnuplot, bnlab says how to install it, keeps the scripts and data,
// and returns 1.
#ifndef BNLAB_PLOT_H
#define BNLAB_PLOT_H

#include "lab/figures.h"

#include "view/figure.h"

typedef enum { PLOT_X_AUTO, PLOT_X_STEPS, PLOT_X_EXAMPLES, PLOT_X_EPOCHS } plot_x_t;

typedef struct {
    long seed;   // every figure drawn from this seed alone; 0: medians over seeds, per-run figures from seed 1 (or the first)
    plot_x_t x;  // AUTO: examples seen (step x batch size) when the variants' batch sizes differ, else steps
    long ls_steps[FIG_MAX_LS_STEPS];  // landscape_eta's probe steps (lab/fig_landscape.c); n_ls_steps = 0: its defaults
    int n_ls_steps;
    const char *const *labels;  // --label VARIANT=TEXT (legend text), n_labels of them
    int n_labels;
    const char *only;           // --only KIND,KIND..: only these figures (NULL: all); the others are left as they are
    figure_overrides_t ov;      // --xrange, --yrange, --xscale, --yscale (view/figure.h)
} plot_opts_t;

// 0: all figures written; 1: gnuplot missing or failed on some figure (each message printed, naming the script and
// gnuplot's first error line); -1 + message: not a bnlab directory, an unreadable log or compare.json, a seed the
// comparison does not have.
int plot_dir(const char *dir, const plot_opts_t *o);

// DIR/plots/sweep.png: the sweep figure kind (lab/fig_sweep.c, as bnlab plot and bnlab report draw it), for bnlab
// sweep collect. A base variant without a completed run is left out, with a note on stdout; no figure (no completed
// run, one x value): the figure's note on stdout, any earlier sweep.png removed, return 0. 1: gnuplot missing
// (message printed); -1 + message: sweep.csv or compare.json unreadable, or gnuplot failed.
int plot_sweep(const char *dir);

#endif
