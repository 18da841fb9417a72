// report_panels.h — the report's panels of what happens inside the network (lab/report.h), each drawn as inline SVG
// from a log of every seed of every variant, when that log exists (otherwise one line says which logs are absent):
//   fans       percentiles.csv, unit "all" rows (log.percentiles): each hidden layer's input to its nonlinearity
//              over steps as a fan (Ioffe & Szegedy Fig. 1(b, c)): every logged percentile as a line, the pairs
//              around the middle (first and last, second and second-to-last, ...) as nested bands; one row per
//              hidden layer sharing its y axis, the variants in the one order of view/variant.h
//   ics        ics.csv (log.ics_every): Santurkar et al. Def. 2.1 as logged, ||G - G'|| / ||G|| (l2_diff / grad_norm)
//              and cos(G, G'): one panel per dense layer 2.., the variants overlaid on its axes (BN and no BN compared
//              in one panel), each quantity a row on a shared y axis; fewer than two ICS steps: a line says why
//   landscape  landscape_band.csv (log.landscape, run/landscape.h; landscape.csv holds the points it summarizes):
//              Santurkar Fig. 4: the loss band [min, max] over the step sizes, the gradient-predictiveness band
//              [min, max] of ||grad L(x - eta g) - g||, and beta_eff, the variants overlaid on shared axes
// Seeds: each value is the median over the seeds that logged that step (bnlab's choice: a typical seed, robust to
// one diverged seed; for percentiles, the median of each percentile, not a percentile of the seeds pooled);
// values that are not finite (a diverged step) are left out of the median. Steps are thinned to at most
// REPORT_MAX_POINTS per line (evenly spread from the first to the last: logread.h), about a panel's pixel width.
// A y axis is logarithmic when its finite values are all > 0 and span at least a factor of 100 (ICS, landscape).
// Every log is read strictly (logread.h): a malformed one fails the report with one line naming file, line, column.
// Each drawn line or band has class "series", each panel's svg data-series (their number), for tests.
#ifndef BNLAB_REPORT_PANELS_H
#define BNLAB_REPORT_PANELS_H

#include "base/util.h"
#include "view/source.h"
#include "view/svg.h"

#define REPORT_MAX_PANELS 16
#define REPORT_MAX_SEEDS 16
#define REPORT_MAX_HIDDEN 32
#define REPORT_MAX_POINTS 500

typedef struct {
    char name[VIEW_NAME_MAX];  // the variant's label (view/source.h)
    char key[VIEW_NAME_MAX];   // its name (its directory)
    const char *color;         // its colour and line style everywhere on the page (view/variant.h)
    int style;
    char runs[REPORT_MAX_SEEDS][BNLAB_PATH_MAX];  // runs[0]: the first seed
    long seeds[REPORT_MAX_SEEDS];
    int n_runs;
} report_panel_t;
// Which runs a panel's lines come from, into out: "this run", "seed K", "the median over N seeds", or "the median
// over the L of N seeds logged so far" (logged: the seeds with this log).
void report_seeds_text(char *out, size_t cap, const report_panel_t *p, int logged);
// The seeds' logs so far: the smallest and largest of their last logged steps.
typedef struct {
    int logged;
    double last_min, last_max;
} report_progress_t;
// Adds a seed whose log ends at step last.
void report_progress_add(report_progress_t *g, double last);
// Where seeds still going leave fewer seeds in the median (last_min < last_max): a dashed line at last_min,
// labelled, in frame f. Nothing otherwise.
void report_progress_mark(strbuf_t *b, const svg_frame_t *f, const report_progress_t *g);
// data-variant="NAME" (escaped) data-series="N": a panel's attributes for tests, into b.
void report_attrs(strbuf_t *b, const char *name, int n_series);
// A panel's width in pixels: 460, or 360 for more than 3 variants in a row.
int report_panel_width(int np);
// A y axis over the finite [lo, hi] (nothing finite: [0, 1]); logarithmic (ylog) if allowed, lo > 0 and hi / lo
// >= 100; a linear one padded by 5 % (and widened around a single value).
void report_yrange(double lo, double hi, int allow_log, double *y0, double *y1, int *ylog);
// data-variant="NAME" (escaped) data-series="N": a panel's attributes for tests, into b.
void report_attrs(strbuf_t *b, const char *name, int n_series);
// Appends each section (its heading, panels or a line saying the log is absent). 0, or -1 + message.
int report_fans(strbuf_t *b, const report_panel_t *p, int np);
int report_ics(strbuf_t *b, const report_panel_t *p, int np);
int report_landscape(strbuf_t *b, const report_panel_t *p, int np);

#endif
