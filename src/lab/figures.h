// figures.h — the figure kinds of bnlab plot and bnlab report: one table, walked by both. A kind is a row here and,
// for the kinds built on view/figmodel.h, one file with its builder (fig_NAME.c): the builder reads the logs of every
// seed of every variant (view/source.h, view/logread.h), aggregates over seeds (view/series.h: every seed faint, the
// median thick) and describes the figure once; plot renders it through gnuplot, report as inline SVG.
//
// Adding a kind: write fig_NAME.c with `int fig_NAME(figmodel_t *m, const figure_input_t *in)`, declare it below,
// add its row to FIGURE_KINDS (figures.c), and its file to meson.build.
#ifndef BNLAB_FIGURES_H
#define BNLAB_FIGURES_H

#include "view/figmodel.h"
#include "view/source.h"

#define FIG_MAX_LS_STEPS 4  // panels of landscape_eta

typedef struct {
    const view_source_t *src;       // a one-seed source (plot --seed, the report's seed chooser): that seed alone
    double xk[VIEW_MAX_VARIANTS];  // x of a logged step of variant i: step x xk[i] (1, the batch size, 1/steps per epoch)
    const char *xlabel;            // "training step", ...
    int seed_index;                // the seed drawn by figures of one seed per variant: src->seeds[seed_index]
    const long *ls_steps;          // landscape_eta's probe steps (n_ls_steps of them; 0: its defaults)
    int n_ls_steps;
} figure_input_t;

// 0: built; 1: not logged in any run (m has no panel and m->note says so, naming the key that turns the log on);
// -1 + message: a log could not be read (view/logread.h's strict rule).
typedef int (*figure_build_t)(figmodel_t *m, const figure_input_t *in);

typedef struct {
    const char *name;      // plots/NAME.{png,svg,pdf}, --only NAME, the report's section id
    const char *heading;   // the report's section heading
    figure_build_t build;
} figure_kind_t;
// The one kind drawn from a directory of bnlab gradinit's files alone (the others need runs).
#define FIG_GRADINIT_KIND "gradinit"

extern const figure_kind_t FIGURE_KINDS[];
extern const int N_FIGURE_KINDS;
// The row of kind name, or NULL.
const figure_kind_t *figure_kind_find(const char *name);
// --only's list "a,b,c": -1 + message naming a word that is no kind (and the kinds there are), else 0.
int figure_only_check(const char *only);
// 1 if kind name is in the list (NULL: every kind).
int figure_only_has(const char *only, const char *name);

// A run's config.json parsed (the run as it ran), or NULL when it has none (yet) or it does not parse. Caller frees.
cJSON *figure_run_config(const char *run);

// A sweep's grid key (a config path) in words for an axis label or title, by its last component: "learning rate η",
// "batch size (examples per step)", "depth (repeated blocks)", ...; a key without words: the path itself. The one
// table for sweep.png (lab/plot.c) and the sweep map (lab/fig_sweep_map.c).
const char *fig_grid_key_words(const char *path);

// Crosses where variant i's seeds diverged (view_diverged_at), at each run's last finite value of column col of
// runs[0..src->ns) (x in column 0, a step times xk), as points in the variant's colour with one legend entry
// ("NAME: 2 of 3 diverged (steps 120-140)": short, to fit below a panel a third of a slide wide).
void fig_mark_diverged(figpanel_t *p, const view_source_t *src, int i, double xk, const series_t *runs, int col);

int fig_accuracy(figmodel_t *m, const figure_input_t *in);
int fig_loss(figmodel_t *m, const figure_input_t *in);
int fig_layers(figmodel_t *m, const figure_input_t *in);
int fig_ics(figmodel_t *m, const figure_input_t *in);
int fig_landscape(figmodel_t *m, const figure_input_t *in);
int fig_landscape_eta(figmodel_t *m, const figure_input_t *in);
int fig_saturation(figmodel_t *m, const figure_input_t *in);
int fig_layer_stats(figmodel_t *m, const figure_input_t *in);
int fig_modes(figmodel_t *m, const figure_input_t *in);
int fig_params(figmodel_t *m, const figure_input_t *in);
int fig_percentiles(figmodel_t *m, const figure_input_t *in);  // lab/plot.c
// The backward pass (issue 24), lab/fig_backward.c and lab/fig_sweep_map.c.
int fig_gradients(figmodel_t *m, const figure_input_t *in);
int fig_update_ratios(figmodel_t *m, const figure_input_t *in);
int fig_jacobian(figmodel_t *m, const figure_input_t *in);
int fig_gradient_depth(figmodel_t *m, const figure_input_t *in);
// Dead units (issue #24 item 3): per hidden layer (6 evenly spread at most), the fraction of units whose output is 0
// for the whole training batch (gradients.csv's dead_units over n / train.batch_size), over steps, every variant.
int fig_dead_units(figmodel_t *m, const figure_input_t *in);
int fig_sweep_map(figmodel_t *m, const figure_input_t *in);
// bnlab gradinit's measurement from every gradinit-NAME.csv in the directory (lab/fig_gradinit.c): the only kind drawn
// from a directory of such files alone (view/source.h is_gradinit).
int fig_gradinit(figmodel_t *m, const figure_input_t *in);
// A sweep over one grid key: final accuracy against it (lab/fig_sweep.c).
int fig_sweep(figmodel_t *m, const figure_input_t *in);
// The same from sweep directory dir (its compare.json and sweep.csv); say: also print which bases have no completed
// run (bnlab sweep collect's sweep.png, lab/plot.h plot_sweep).
int fig_sweep_dir(figmodel_t *m, const char *dir, int say);
// What BN is made of (docs/anatomy.md, issue 25).
int fig_ladder(figmodel_t *m, const figure_input_t *in);
int fig_unit_updates(figmodel_t *m, const figure_input_t *in);
int fig_curvature(figmodel_t *m, const figure_input_t *in);

#endif
