#include "lab/plot.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "io/csvtable.h"
#include "io/jsonpath.h"
#include "run/percentiles.h"
#include "run/runlog.h"
#include "view/figure.h"
#include "lab/figures.h"
#include "lab/plot_params.h"
#include "lab/spec.h"
#include "nn/registry.h"
#include "run/rundir.h"
#include "view/logread.h"
#include "view/source.h"

#define PLOT_MAX_PANELS VIEW_MAX_VARIANTS  // every variant a view_source_t keeps
#define PLOT_MAX_LAYERS VIEW_MAX_NONLIN
#define PLOT_MAX_CFG_LAYERS 64
#define PLOT_MAX_ROWS 6     // hidden layers drawn in the whole-layer figure
#define PLOT_MAX_PCT 9      // percentile columns drawn (a config has at most 9)
#define PLOT_MAX_SEEDS VIEW_MAX_SEEDS
#define PLOT_MAX_LOG ((size_t)1 << 30)
// Curves with more points than this are drawn as plain lines; fewer (3 epochs, one ICS step) get their points.
#define PLOT_MARK_POINTS 40
// Transparency of the seeds drawn behind a median ('#AARRGGBB', AA = 0 is opaque) and of bands.
#define PLOT_FAINT "A8"

typedef struct {
    char name[VIEW_NAME_MAX];    // panel title and legend: a variant's label (view/source.h)
    const char *color;           // its colour and line style (view/variant.h)
    int style;
    char run[BNLAB_PATH_MAX];    // the run drawn in per-run panels: the chosen seed's
    long diverged_at;            // that run diverged at this step; -1 if it did not
    double xk;                   // x of a step: 1 (steps), the batch size (examples) or 1 / steps per epoch
    int bn;                      // it normalizes by batch statistics (BN and its variants)
    int fig1;                    // only dense, batchnorm and sigmoid layers: a network of the paper's Fig. 1
    double batch;                // train.batch_size (examples per step)
    long seed;                   // the config's seed
    char nonlin[PLOT_MAX_LAYERS][32];  // the k-th nonlinearity's type (hidden layer k + 1)
    int n_nonlin;
} panel_t;

typedef struct {
    const char *dir;
    char plots[BNLAB_PATH_MAX];  // DIR/plots: gnuplot's working directory
    panel_t panels[PLOT_MAX_PANELS];
    int np, is_compare;
    long seeds[PLOT_MAX_SEEDS];  // a comparison's seeds (a run: its own)
    int ns;
    long seed;                   // the seed drawn in per-run figures
    int examples;                // x axis: 0 steps, 1 examples seen (step x batch size), 2 epochs
    view_source_t *src;          // what the panels come from
} plot_t;

// Opens DIR/FILE as a table, looks up names[0..n) (0-based, for csv_field) and checks every row strictly
// (view/logread.h: kinds[k] says what column names[k] holds; rest >= 0: every column from the one after names[rest]
// on is a number). 0: open; 1: no such file (nothing logged); -1 + message.
static int open_log(csv_table_t *t, const char *dir, const char *file, const char *const *names, int n, int *cols,
                    const char *kinds, int rest) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, dir, file);
    int rc = logread_open(t, path);
    if (rc != 0) return rc;
    for (int i = 0; i < n && rc == 0; i++) rc = (cols[i] = logread_column(t, path, names[i])) < 0 ? -1 : 0;
    if (rc == 0) rc = logread_check_all(t, path, cols, kinds, n, rest >= 0 ? cols[rest] + 1 : -1);
    if (rc != 0) csv_table_free(t);
    return rc;
}

// Field col as a number; NaN when it is empty or not one ("nan", "inf" are numbers: a diverged run logs them).
static double field(const char *row, int col) {
    double v;
    return csv_field_double(row, col, &v) == 0 ? v : NAN;
}

static cJSON *read_json(const char *dir, const char *file) {
    char path[BNLAB_PATH_MAX], *text;
    size_t len;
    rundir_file(path, sizeof path, dir, file);
    if (read_whole_file(path, 1 << 24, &text, &len) != 0) return NULL;
    cJSON *root = jp_parse_all(text, len, NULL);
    free(text);
    return root;
}

// The step at which the run diverged (summary.json's "steps" when its status says so), or -1.
static long diverged_at(const char *run) {
    if (rundir_status(run) != RUN_DIVERGED) return -1;
    cJSON *root = read_json(run, RUNDIR_SUMMARY);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "steps");
    long step = cJSON_IsNumber(s) && s->valuedouble >= 0 ? (long)s->valuedouble : 0;
    cJSON_Delete(root);
    return step;
}

// The name of hidden layer k's (1-based) nonlinearity in panel pl, or "nonlinearity" when unknown.
static const char *nonlin_name(const panel_t *pl, long k) {
    return k >= 1 && k <= pl->n_nonlin ? pl->nonlin[k - 1] : "nonlinearity";
}

// Hidden layer k's nonlinearity if every panel has the same one there, else NULL.
static const char *common_nonlin(const plot_t *p, long k) {
    const char *name = nonlin_name(&p->panels[0], k);
    for (int i = 1; i < p->np; i++)
        if (strcmp(nonlin_name(&p->panels[i], k), name)) return NULL;
    return name;
}


// x of a logged step in panel i: the step, or the examples seen by then.
static double xscale(const plot_t *p, int i) { return p->panels[i].xk; }

static const char *xlabel(const plot_t *p) {
    return p->examples == 1 ? "examples seen (step x batch size)" : p->examples == 2 ? "epoch" : "training step";
}


static double last_x(const series_t *s) { return s->n ? s->v[(size_t)(s->n - 1) * (size_t)s->cols] : 0; }

static double at(const series_t *s, int row, int col) { return s->v[(size_t)row * (size_t)s->cols + (size_t)col]; }

// Widens [*lo, *hi] to the finite values of columns c0..c1 of s.
static void y_extent(const series_t *s, int c0, int c1, double *lo, double *hi) {
    for (int i = 0; i < s->n; i++)
        for (int c = c0; c <= c1; c++) {
            double v = at(s, i, c);
            if (isfinite(v)) *lo = fmin(*lo, v), *hi = fmax(*hi, v);
        }
}



// Figures with a row of panels per quantity (a hidden layer, an ICS measure) wrap more than 4 variants onto
// further rows: *cols panels a row, *bands rows per quantity.



// "15th" for a percentile column "p15" (English ordinals: 1st, 2nd, 3rd, 11th, 21st, 2.5th).
static void ordinal(char *out, size_t cap, const char *col, size_t len) {
    if (len && col[0] == 'p') col++, len--;
    char num[24];
    snprintf(num, sizeof num, "%.*s", (int)len, col);
    char *end;
    long v = strtol(num, &end, 10);
    const char *suffix = "th";
    if (*end == '\0' && !(v % 100 >= 11 && v % 100 <= 13))
        suffix = v % 10 == 1 ? "st" : v % 10 == 2 ? "nd" : v % 10 == 3 ? "rd" : "th";
    snprintf(out, cap, "%s%s", num, suffix);
}

// ---------------------------------------------------------------------------------------------------------------
// percentiles: one unit's input (Fig. 1(b, c)) and every hidden layer's input as a fan.

// The first per-unit row of percentiles.csv: which hidden layer and unit it follows. 0, 1 if none (nothing
// logged), -1 + message.
static int read_pct_unit(const char *run, long *hidden, char *unit, size_t cap) {
    static const char *const names[] = {"hidden", "unit"};
    int col[2], rc;
    csv_table_t t;
    if ((rc = open_log(&t, run, RUNDIR_PERCENTILES, names, 2, col, "iu", -1)) != 0) return rc;
    rc = 1;
    long u;
    while (rc == 1 && csv_table_next(&t))
        if (csv_field_long(t.row, col[0], hidden) == 0 && csv_field_long(t.row, col[1], &u) == 0) {
            snprintf(unit, cap, "%ld", u);
            rc = 0;
        }
    csv_table_free(&t);
    return rc;
}


// One run's percentiles of a unit (or "all", the whole layer): rows (x, p...), the percentile columns being those
// after "n" in its header (one per log.percentiles.q: p15, p50, ...), titled from their names ("15th"). 0, 1 if
// not logged, -1 + message.
typedef struct {
    int n_pct;
    char titles[PLOT_MAX_PCT][32];
} pct_names_t;

static int read_percentiles(const char *run, long hidden, const char *unit, double xk, series_t *s, pct_names_t *pn) {
    static const char *const names[] = {"step", "hidden", "unit", "n"};
    enum { STEP, HIDDEN, UNIT, N };
    int col[4];
    csv_table_t t;
    int rc = open_log(&t, run, RUNDIR_PERCENTILES, names, 4, col, "iiui", 3);
    if (rc != 0) return rc;
    size_t len;
    const char *name;
    pn->n_pct = 0;
    while (pn->n_pct < PLOT_MAX_PCT && (name = csv_field(t.header, col[N] + 1 + pn->n_pct, &len)) != NULL)
        ordinal(pn->titles[pn->n_pct++], sizeof pn->titles[0], name, len);
    if (pn->n_pct == 0) {
        csv_table_free(&t);
        return bnlab_fail("%s/%s: no percentile columns after \"n\" in its header", run, RUNDIR_PERCENTILES);
    }
    series_init(s, 1 + pn->n_pct);
    double row[1 + PLOT_MAX_PCT];
    long h;
    while (csv_table_next(&t)) {
        if (csv_field_long(t.row, col[HIDDEN], &h) != 0 || h != hidden || !csv_field_is(t.row, col[UNIT], unit)) continue;
        row[0] = field(t.row, col[STEP]) * xk;
        for (int k = 0; k < pn->n_pct; k++) row[1 + k] = field(t.row, col[N] + 1 + k);
        if (isfinite(row[0])) series_add(s, row);
    }
    csv_table_free(&t);
    return 0;
}


// The panels' series of one unit (or "all") of hidden layer `hidden`, their common x end and y extent. rc[i]: 0
// read, 1 not logged.
typedef struct {
    series_t s[PLOT_MAX_PANELS];
    int rc[PLOT_MAX_PANELS];
    pct_names_t pn[PLOT_MAX_PANELS];
    double xmax, ylo, yhi;
} pct_row_t;

static int read_pct_row(const plot_t *p, long hidden, const char *unit, pct_row_t *r) {
    r->xmax = 0, r->ylo = INFINITY, r->yhi = -INFINITY;
    for (int i = 0; i < p->np; i++) {
        const panel_t *pl = &p->panels[i];
        r->s[i] = (series_t){0};
        r->rc[i] = read_percentiles(pl->run, hidden, unit, xscale(p, i), &r->s[i], &r->pn[i]);
        if (r->rc[i] < 0) return -1;
        if (pl->diverged_at > 0) r->xmax = fmax(r->xmax, (double)pl->diverged_at * xscale(p, i));
        if (r->rc[i] == 0) {
            r->xmax = fmax(r->xmax, last_x(&r->s[i]));
            y_extent(&r->s[i], 1, r->pn[i].n_pct, &r->ylo, &r->yhi);
        }
    }
    if (!(r->yhi >= r->ylo)) r->ylo = 0, r->yhi = 1;
    return 0;
}

static void free_pct_row(const plot_t *p, pct_row_t *r) {
    for (int i = 0; i < p->np; i++) series_free(&r->s[i]);
}


static void pct_list(const pct_names_t *pn, char *out, size_t cap) {
    out[0] = '\0';
    for (int k = 0; k < pn->n_pct; k++) {
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%s", k ? ", " : "", pn->titles[k]);
    }
}

// The first panel's percentile names that were read (for page titles).
static const pct_names_t *row_names(const plot_t *p, const pct_row_t *r) {
    for (int i = 0; i < p->np; i++)
        if (r->rc[i] == 0) return &r->pn[i];
    return &r->pn[0];
}

// The panels of a figure input (lab/figures.h) as this file's panels: the run of the chosen seed, its x scale,
// nonlinearities and divergence.
static void panels_of_input(plot_t *p, const figure_input_t *in) {
    const view_source_t *src = in->src;
    p->src = (view_source_t *)src, p->is_compare = src->is_compare, p->ns = src->ns;
    memcpy(p->seeds, src->seeds, sizeof p->seeds[0] * (size_t)src->ns);
    p->seed = src->seeds[in->seed_index];
    p->np = src->nv < PLOT_MAX_PANELS ? src->nv : PLOT_MAX_PANELS;
    for (int i = 0; i < p->np; i++) {
        const view_variant_t *v = &src->v[i];
        panel_t *pl = &p->panels[i];
        snprintf(pl->name, sizeof pl->name, "%s", v->label);
        pl->color = v->color, pl->style = v->style, pl->fig1 = v->fig1, pl->xk = in->xk[i], pl->seed = p->seed;
        pl->n_nonlin = v->n_nonlin;
        memcpy(pl->nonlin, v->nonlin, sizeof pl->nonlin);
        view_run_dir(src, i, in->seed_index, pl->run, sizeof pl->run);
        pl->diverged_at = diverged_at(pl->run);
    }
}

// percentiles (Fig. 1(b, c)): the percentiles of one unit's input, one panel per variant on a shared y axis, each
// percentile a shade of the variant's colour, the run of one seed; a cross where a run diverged. Built on
// view/figmodel.h, so bnlab plot and bnlab report draw the same figure.
int fig_percentiles(figmodel_t *m, const figure_input_t *in) {
    plot_t *p = xcalloc(1, sizeof *p, "percentiles");
    panels_of_input(p, in);
    long hidden = 0;
    char unit[32];
    int rc = 1;
    for (int i = 0; i < p->np && rc == 1; i++) rc = read_pct_unit(p->panels[i].run, &hidden, unit, sizeof unit);
    pct_row_t *r = rc == 0 ? xcalloc(1, sizeof *r, "plot percentiles") : NULL;
    if (rc == 1) {
        figmodel_init(m, "percentiles", 0, 1);
        snprintf(m->note, sizeof m->note, "One unit's percentiles: not logged in this run (percentiles.csv; turn them "
                 "on with log.percentiles.every, e.g. --set log.percentiles.every=100).");
    } else if (rc == 0 && read_pct_row(p, hidden, unit, r) != 0) rc = -1;
    else if (rc == 0) {
        int rows, cols;
        figure_grid(p->np, &rows, &cols);
        figmodel_init(m, "percentiles", p->np, cols);
        snprintf(m->xlabel, sizeof m->xlabel, "%s", in->xlabel);
        char which[PLOT_MAX_PCT * 40];
        pct_list(row_names(p, r), which, sizeof which);
        const char *nl = common_nonlin(p, hidden);
        // The paper's Fig. 1(b, c) is a sigmoid network with or without BN: cite it only for such networks (not for
        // ReLU, noise or dropout variants).
        int fig1 = 1;
        for (int i = 0; i < p->np; i++) fig1 &= p->panels[i].fig1;
        snprintf(m->title, sizeof m->title, "Input to unit %s of hidden layer %ld's %s, seed %ld: %s percentiles%s",
                 unit, hidden, nl ? nl : "nonlinearity", p->seed, which,
                 fig1 ? "\n(compare Ioffe & Szegedy 2015, Fig. 1(b) without BN, (c) with BN)" : "");
        for (int i = 0; i < p->np; i++) {
            const panel_t *pl = &p->panels[i];
            figpanel_t *fp = &m->p[i];
            const pct_names_t *pn = &r->pn[i];
            char div[64] = "";
            if (pl->diverged_at >= 0) snprintf(div, sizeof div, " (diverged at step %ld)", pl->diverged_at);
            snprintf(fp->title, sizeof fp->title, "%s%s%s%s input%s", pl->name, nl ? "" : cols > 2 ? "\n" : ": ",
                     nl ? "" : nonlin_name(pl, hidden), nl ? "" : "", div);
            if (nl) snprintf(fp->title, sizeof fp->title, "%s%s", pl->name, div);
            snprintf(fp->ylabel, sizeof fp->ylabel, "input value");
            snprintf(fp->note, sizeof fp->note, "%s", r->rc[i] == 0 ? "no finite percentiles" : "percentiles not logged");
            const series_t *sr = &r->s[i];
            for (int k = 0; r->rc[i] == 0 && k < pn->n_pct; k++) {
                figcurve_t *c = figmodel_add(fp, CURVE_LINE, sr, 0, 1 + k, 0, pl->color, pl->style, 3, 1, pn->titles[k]);
                if (c) {  // a shade of the variant's colour per percentile, darkest first
                    static char shades[PLOT_MAX_PANELS][PLOT_MAX_PCT][8];
                    view_shade(shades[i][k], pl->color, k, pn->n_pct);
                    c->color = shades[i][k];
                }
            }
            int last = r->rc[i] == 0 ? series_last_finite(sr) : -1;
            if (pl->diverged_at >= 0 && last >= 0) {
                series_t x;
                series_init(&x, 2);
                series_add(&x, (double[2]){(double)pl->diverged_at * pl->xk, at(sr, last, 1 + pn->n_pct / 2)});
                char t[64];
                snprintf(t, sizeof t, "diverged at step %ld", pl->diverged_at);
                figmodel_add(fp, CURVE_POINTS, &x, 0, 1, 0, pl->color, FIG_CROSS, 4, 1, t);
                series_free(&x);
            }
        }
        figmodel_finish(m, 1, 0, 1);
    }
    if (r) free_pct_row(p, r), free(r);
    free(p);
    return rc;
}

// ---------------------------------------------------------------------------------------------------------------
// sweep

static void remove_figure(const char *plots, const char *name) {
    const char *ext[] = {"png", "svg", "pdf"};
    for (int k = 0; k < 3; k++) {
        char path[BNLAB_PATH_MAX];
        path_fmt(path, sizeof path, "%s/%s.%s", plots, name, ext[k]);
        remove(path);
    }
}

int plot_sweep(const char *dir) {
    char plots[BNLAB_PATH_MAX];
    rundir_file(plots, sizeof plots, dir, RUNDIR_PLOTS);
    if (make_dirs(plots) != 0) return -1;
    figmodel_t m;
    int rc = fig_sweep_dir(&m, dir, 1);
    if (rc < 0) return -1;
    if (rc > 0) {  // no figure: why, and no stale one
        printf("sweep: %s\n", m.note);
        remove_figure(plots, "sweep");
        figmodel_free(&m);
        return 0;
    }
    rc = figmodel_gnuplot(plots, &m);
    figmodel_free(&m);
    if (rc == 0) rc = figure_render(plots, "sweep");
    if (rc == 0) printf("plot: %s/sweep.png\n", plots);
    else if (rc > 0) fprintf(stderr, "bnlab: %s\n", bnlab_errmsg());
    return rc;
}

// ---------------------------------------------------------------------------------------------------------------
// panels

// Steps per epoch of a run: the step of layer_stats.csv's first row of epoch 1 (the end of the first epoch). 0 if
// there is none, -1 + message (a malformed log).
static long steps_per_epoch(const char *run) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run, RUNDIR_LAYER_STATS);
    csv_table_t t;
    int rc = logread_open(&t, path), ce = -1, cs = -1;
    if (rc != 0) return rc < 0 ? -1 : 0;
    if ((ce = logread_column(&t, path, "epoch")) < 0 || (cs = logread_column(&t, path, "step")) < 0) rc = -1;
    long epoch, step, spe = 0;
    while (rc == 0 && spe == 0 && (rc = logread_next(&t, path)) == 1) {
        rc = logread_integer(&t, path, ce, 0, LOGREAD_EPOCH_MAX, &epoch) || logread_integer(&t, path, cs, 0, LOGREAD_STEP_MAX, &step) ? -1 : 0;
        if (rc == 0 && epoch == 1) spe = step;
    }
    csv_table_free(&t);
    return rc < 0 ? -1 : spe;
}

// The panels from the one reader of the directory (view/source.h): one per variant in its order, with its colour
// and style, drawing the chosen seed's run in per-run figures (the one asked for, else 1, else the first); the x axis
// in examples when asked or when the batch sizes differ.
static int load_panels(plot_t *p, const plot_opts_t *o) {
    view_source_t *src = xcalloc(1, sizeof *src, "plot source");
    view_source_opts_t so = {.labels = o->labels, .n_labels = o->n_labels};
    int rc = view_source_load(src, p->dir, &so);
    p->is_compare = src->is_compare;
    p->ns = src->ns;
    memcpy(p->seeds, src->seeds, sizeof p->seeds[0] * (size_t)src->ns);
    p->seed = p->seeds[0];
    for (int k = 0; k < p->ns && rc == 0; k++)
        if (p->seeds[k] == (o->seed ? o->seed : 1)) p->seed = p->seeds[k];
    if (rc == 0 && o->seed && p->seed != o->seed)
        rc = p->is_compare ? bnlab_fail("%s: no seed %ld in this comparison (its seeds: %ld..%ld)", p->dir, o->seed,
                                        p->seeds[0], p->seeds[p->ns - 1])
                           : bnlab_fail("%s: one run, of seed %ld (--seed chooses among a comparison's seeds)", p->dir,
                                        p->seed);
    if (rc == 0 && src->nv > PLOT_MAX_PANELS)
        printf("plot: %d variants; the figures show the first %d\n", src->nv, PLOT_MAX_PANELS);
    p->np = rc == 0 ? (src->nv < PLOT_MAX_PANELS ? src->nv : PLOT_MAX_PANELS) : 0;
    for (int i = 0; i < p->np; i++) {
        const view_variant_t *v = &src->v[i];
        panel_t *pl = &p->panels[i];
        snprintf(pl->name, sizeof pl->name, "%s", v->label);
        pl->color = v->color, pl->style = v->style;
        pl->bn = view_class_batch_stats(v->cls), pl->fig1 = v->fig1, pl->batch = v->batch, pl->seed = p->seed;
        pl->n_nonlin = v->n_nonlin;
        memcpy(pl->nonlin, v->nonlin, sizeof pl->nonlin);
        int k = 0;
        while (k < p->ns - 1 && p->seeds[k] != p->seed) k++;
        view_run_dir(src, i, k, pl->run, sizeof pl->run);
        pl->diverged_at = diverged_at(pl->run);
    }
    int differ = 0;
    for (int i = 1; i < p->np; i++) differ |= p->panels[i].batch != p->panels[0].batch;
    p->examples = o->x == PLOT_X_EPOCHS ? 2 : o->x == PLOT_X_EXAMPLES || (o->x == PLOT_X_AUTO && differ);
    for (int i = 0; i < p->np && rc == 0; i++) {
        panel_t *pl = &p->panels[i];
        pl->xk = p->examples == 1 ? pl->batch : 1;
        if (p->examples == 2) {
            long spe = steps_per_epoch(pl->run);
            if (spe < 0) rc = -1;
            else if (spe == 0)
                rc = bnlab_fail("%s: --x epochs needs the steps per epoch, which layer_stats.csv gives once an epoch "
                                "has ended (log.stats); this run has no such row", pl->run);
            else pl->xk = 1.0 / (double)spe;
        }
    }
    p->src = src;
    return rc;
}






int plot_dir(const char *dir, const plot_opts_t *o) {
    if (figure_only_check(o->only) != 0) return -1;
    plot_t *p = xcalloc(1, sizeof *p, "plot");
    p->dir = dir;
    rundir_file(p->plots, sizeof p->plots, dir, RUNDIR_PLOTS);
    int rc = load_panels(p, o);
    if (rc == 0) rc = make_dirs(p->plots);
    // --seed K: every figure drawn from seed K alone (the report's seed chooser draws the same); else the medians
    // over seeds, and figures of one run per variant from seed 1 (or the first).
    view_source_t *one = NULL;
    figure_input_t in = {.src = p->src, .xlabel = xlabel(p), .ls_steps = o->ls_steps, .n_ls_steps = o->n_ls_steps};
    while (in.seed_index < p->ns - 1 && p->seeds[in.seed_index] != p->seed) in.seed_index++;
    if (rc == 0 && o->seed && p->src->is_compare) {
        one = xcalloc(1, sizeof *one, "plot seed");
        view_source_one_seed(one, p->src, in.seed_index);
        in.src = one, in.seed_index = 0;
    }
    for (int i = 0; i < VIEW_MAX_VARIANTS; i++) in.xk[i] = i < p->np ? p->panels[i].xk : 1;
    figure_set_overrides(&o->ov);
    if (rc == 0 && p->src->is_gradinit && !figure_only_has(o->only, FIG_GRADINIT_KIND))
        printf("plot: %s holds bnlab gradinit's files alone: only the gradinit figure draws from it\n", dir);
    int failed = 0;
    for (int k = 0; k < N_FIGURE_KINDS && rc == 0 && !failed; k++) {
        const figure_kind_t *kind = &FIGURE_KINDS[k];
        if (!figure_only_has(o->only, kind->name) || (p->src->is_gradinit && strcmp(kind->name, FIG_GRADINIT_KIND))) continue;
        figmodel_t fm;
        int m = kind->build(&fm, &in);
        if (m == 0 && figmodel_gnuplot(p->plots, &fm) != 0) m = -1;
        // Asked for by name and not logged: said, with the key that turns it on (the note of the figure).
        if (m > 0 && o->only && fm.note[0]) printf("plot: no %s figure: %s\n", kind->name, fm.note);
        int cats = 0;
        for (int i = 0; m == 0 && i < fm.np; i++) cats |= fm.p[i].nycat > 0;
        if (cats && (o->ov.has_range[1] || o->ov.scale[1] >= 0))
            printf("plot: %s: its y axis names the rows, so --yrange and --yscale leave it as it is (--xrange and "
                   "--xscale set its numbers)\n", kind->name);
        if (m >= 0) figmodel_free(&fm);
        if (m < 0) rc = -1;
        else if (m > 0) remove_figure(p->plots, kind->name);  // not logged this time: no stale figure from an earlier plot
        else {
            int r = figure_render(p->plots, kind->name);
            if (r == 0) printf("plot: %s/%s.png\n", p->plots, kind->name);
            else fprintf(stderr, "bnlab: %s\n", bnlab_errmsg());
            failed |= r != 0;  // gnuplot missing or failing: once is enough
        }
    }
    figure_set_overrides(NULL);
    free(one);
    free(p->src);
    free(p);
    return rc < 0 ? -1 : failed;
}
