#include "lab/plot.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "io/csvtable.h"
#include "io/jsonpath.h"
#include "view/figure.h"
#include "lab/figures.h"
#include "lab/plot_params.h"
#include "lab/plot_landscape.h"
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

// Seed k's run of panel i (a run directory: the run itself).
static void run_of(const plot_t *p, int i, int k, char *out, size_t cap) { view_run_dir(p->src, i, k, out, cap); }

// x of a logged step in panel i: the step, or the examples seen by then.
static double xscale(const plot_t *p, int i) { return p->panels[i].xk; }

static const char *xlabel(const plot_t *p) {
    return p->examples == 1 ? "examples seen (step x batch size)" : p->examples == 2 ? "epoch" : "training step";
}

// How a curve of n points in line style st is drawn: every point marked when there are few; else a marker of the
// style's shape on about 8 of them, placed differently per style, so that a curve lying on another stays visible.
static const char *style(const series_t *s, int st) {
    static char buf[4][80];
    static int next;
    char *b = buf[next++ % 4];
    int pt = view_point_gnuplot(st);
    if (s->n <= PLOT_MARK_POINTS) snprintf(b, 80, "with linespoints pt %d ps 1.5", pt);
    else snprintf(b, 80, "with linespoints pt %d ps 1.5 pi %d", pt, s->n / 8 + 1 + 3 * st);
    return b;
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

// "set title" for a panel: its name, what it shows, and its divergence. In a grid wider than 2 panels, what it
// shows goes on a second line (titles side by side would run into each other).
static void panel_title(figure_t *f, const panel_t *pl, const char *what, int cols) {
    char div[64] = "";
    if (pl->diverged_at >= 0) snprintf(div, sizeof div, " (diverged at step %ld)", pl->diverged_at);
    const char *sep = !what[0] ? "" : cols > 2 ? "\n" : ": ";
    figure_cmd(f, "set title", "", "%s%s%s%s", pl->name, sep, what, div);
}

// "set multiplot title" over a rows x cols grid, in page-title type.
static void page_title(figure_t *f, int rows, int cols, const char *text) {
    char layout[96];
    snprintf(layout, sizeof layout, "font bnlab_font(24) layout %d,%d", rows, cols);
    figure_cmd(f, "set multiplot title", layout, "%s", text);
}

// Figures with a row of panels per quantity (a hidden layer, an ICS measure) wrap more than 4 variants onto
// further rows: *cols panels a row, *bands rows per quantity.
#define PLOT_WRAP 4
static void wrap(int np, int *cols, int *bands) {
    *cols = np < PLOT_WRAP ? np : PLOT_WRAP;
    *bands = (np + *cols - 1) / *cols;
}

// After panel i of a quantity's row(s): skips the grid's empty cells after its last panel.
static void wrap_pad(figure_t *f, int i, int np, int cols) {
    if (i == np - 1)
        for (int k = np % cols ? cols - np % cols : 0; k > 0; k--) fprintf(f->gp, "set multiplot next\n");
}

// ---------------------------------------------------------------------------------------------------------------
// accuracy and loss: every seed faint, their median on top.

enum { M_X, M_ACC, M_TRAIN_LOSS, M_TEST_LOSS, M_COLS };

// A run's metrics.csv read strictly (view/logread.h): rows (x, test_acc, train_loss, test_loss), the training loss
// empty at step 0. 0, 1 if not logged, -1 + message.
static int read_metrics(const char *run, double xk, series_t *s) {
    static const char *const names[] = {"step", "test_acc", "train_loss", "test_loss"};
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run, RUNDIR_METRICS_CSV);
    csv_table_t t;
    int rc = logread_open(&t, path), col[4];
    if (rc != 0) return rc;
    for (int c = 0; c < 4 && rc == 0; c++) rc = (col[c] = logread_column(&t, path, names[c])) < 0 ? -1 : 0;
    while (rc == 0 && (rc = logread_next(&t, path)) == 1) {
        long step;
        double r[M_COLS];
        rc = logread_integer(&t, path, col[0], 0, 1L << 50, &step) || logread_number(&t, path, col[1], &r[M_ACC]) ||
             logread_optional(&t, path, col[2], &r[M_TRAIN_LOSS]) || logread_number(&t, path, col[3], &r[M_TEST_LOSS]) ? -1 : 0;
        r[M_X] = (double)step * xk;
        if (rc == 0) series_add(s, r);
    }
    csv_table_free(&t);
    return rc < 0 ? -1 : 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// The median over runs[0..n) of each value column at each step (view/series.h: the one aggregation over seeds).
static void median_series(const series_t *runs, int n, series_t *out) {
    series_t all;
    series_init(&all, M_COLS);
    for (int k = 0; k < n; k++)
        for (int r = 0; r < runs[k].n; r++) series_add(&all, runs[k].v + (size_t)r * M_COLS);
    series_median_by_step(&all, out);
    series_free(&all);
}

// The diverged runs among panel i's seeds: a cross at each divergence, at the run's last finite value of column
// col. One legend entry for them.
static void mark_diverged(const plot_t *p, int i, const series_t *runs, int col, figure_t *f, strbuf_t *b,
                          double *xmax) {
    int k_div = 0;
    long lo = -1, hi = -1;
    series_t cross;
    series_init(&cross, 2);
    for (int k = 0; k < p->ns; k++) {
        char run[BNLAB_PATH_MAX];
        run_of(p, i, k, run, sizeof run);
        long step = diverged_at(run);
        if (step < 0) continue;
        double y = 0;
        for (int r = runs[k].n - 1; r >= 0; r--)
            if (isfinite(at(&runs[k], r, col))) {
                y = at(&runs[k], r, col);
                break;
            }
        double pt[2] = {(double)step * xscale(p, i), y};
        series_add(&cross, pt);
        *xmax = fmax(*xmax, pt[0]);
        lo = k_div == 0 || step < lo ? step : lo, hi = step > hi ? step : hi;
        k_div++;
    }
    if (k_div) {
        char title[256], spec[64];
        const char *who = p->is_compare ? p->panels[i].name : "";
        const char *sep = p->is_compare ? ": " : "";
        if (p->ns == 1) snprintf(title, sizeof title, "%s%sdiverged at step %ld", who, sep, lo);
        else if (lo == hi) snprintf(title, sizeof title, "%s%s%d of %d seeds diverged (at step %ld)", who, sep, k_div, p->ns, lo);
        else snprintf(title, sizeof title, "%s%s%d of %d seeds diverged (at steps %ld-%ld)", who, sep, k_div, p->ns, lo, hi);
        char lc[24];
        figure_lc(lc, p->panels[i].color, NULL);
        snprintf(spec, sizeof spec, "1:2 with points pt 2 ps 4 lw 4 %s", lc);
        figure_curve(f, b, figure_series(f, &cross), spec, title);
    }
    series_free(&cross);
}

// Column col of s as a block of (x, value) rows: a row is left out only where this column is not finite (step 0 has
// no training loss, but its test values are the curves' start). Its index, or -1 if nothing is finite.
static int column_block(figure_t *f, const series_t *s, int col) {
    series_t c;
    series_init(&c, 2);
    for (int r = 0; r < s->n; r++) series_add(&c, (double[2]){at(s, r, 0), at(s, r, col)});
    int block = figure_series(f, &c);
    series_free(&c);
    return block;
}

// Panel i's curves in the accuracy (loss = 0) or loss figure; widens *xmax and the y extent.
static int metric_curves(const plot_t *p, int i, int loss, figure_t *f, strbuf_t *b, double *xmax, double *ylo,
                         double *yhi, double *first, double *final) {
    series_t *runs = xcalloc((size_t)p->ns, sizeof *runs, "plot runs");
    int rc = 0;
    for (int k = 0; k < p->ns && rc == 0; k++) {
        char run[BNLAB_PATH_MAX];
        run_of(p, i, k, run, sizeof run);
        series_init(&runs[k], M_COLS);
        if (read_metrics(run, xscale(p, i), &runs[k]) < 0) rc = -1;
    }
    int col = loss ? M_TEST_LOSS : M_ACC;
    char spec[128], title[VIEW_NAME_MAX + 64], lc[24], faint[24];
    const panel_t *pl = &p->panels[i];
    figure_lc(lc, pl->color, NULL);
    figure_lc(faint, pl->color, PLOT_FAINT);
    const char *name = p->is_compare ? p->panels[i].name : (loss ? "test" : "test accuracy");
    for (int k = 0; rc == 0 && p->ns > 1 && k < p->ns; k++) {  // each seed, faint, behind
        int block = column_block(f, &runs[k], col);
        snprintf(spec, sizeof spec, "1:2 with lines lw 1.5 dt %s %s", view_dash_gnuplot(pl->style), faint);
        if (block >= 0) figure_curve(f, b, block, spec, NULL);
    }
    series_t med;
    if (rc == 0) {
        median_series(runs, p->ns, &med);
        int block = column_block(f, &med, col);
        if (block >= 0) {
            int train = loss ? column_block(f, &med, M_TRAIN_LOSS) : -1;
            if (train >= 0) {
                snprintf(spec, sizeof spec, "1:2 %s lw 2 dt 2 %s", style(&med, pl->style), lc);  // dashed: training
                snprintf(title, sizeof title, "%s%s", p->is_compare ? p->panels[i].name : "", p->is_compare ? " train" : "train");
                figure_curve(f, b, train, spec, title);
            }
            snprintf(spec, sizeof spec, "1:2 %s lw 3.5 dt %s %s", style(&med, pl->style), view_dash_gnuplot(pl->style), lc);
            snprintf(title, sizeof title, "%s%s", name, loss && p->is_compare ? " test" : "");
            figure_curve(f, b, block, spec, title);
            *xmax = fmax(*xmax, last_x(&med));
            y_extent(&med, loss ? M_TRAIN_LOSS : M_ACC, col, ylo, yhi);
            for (int r = med.n - 1; r >= 0 && !isfinite(*final); r--) *final = at(&med, r, col);
            for (int c = M_TRAIN_LOSS; loss && c <= M_TEST_LOSS; c++)
                if (med.n && isfinite(at(&med, 0, c))) *first = fmax(*first, at(&med, 0, c));
        }
        series_free(&med);
        mark_diverged(p, i, runs, col, f, b, xmax);
        for (int k = 0; k < p->ns; k++)
            *xmax = fmax(*xmax, last_x(&runs[k]));
    }
    for (int k = 0; k < p->ns; k++) series_free(&runs[k]);
    free(runs);
    return rc;
}

static int fig_metric(const plot_t *p, int loss) {
    figure_t f;
    const char *name = loss ? "loss" : "accuracy";
    if (figure_open(&f, p->plots, name, 1, 1) != 0) return -1;
    strbuf_t b = {0};
    double xmax = 0, ylo = INFINITY, yhi = -INFINITY, first = 0, flo = INFINITY, fhi = -INFINITY;
    int rc = 0;
    for (int i = 0; i < p->np && rc == 0; i++) {
        double final = NAN;
        rc = metric_curves(p, i, loss, &f, &b, &xmax, &ylo, &yhi, &first, &final);
        if (isfinite(final)) flo = fmin(flo, final), fhi = fmax(fhi, final);
    }
    // Paper scale: final accuracies within a few points of each other (98 % vs 97 %) are one line on a 0-1 axis. An
    // inset then shows the last fifth of training with the y axis around them.
    int zoom = !loss && p->np >= 2 && flo > 0.5 && fhi - flo < 0.05 && xmax > 0;
    char *curves = zoom && b.s ? strdup(b.s) : NULL;
    if (rc == 0) {
        const char *what = loss ? "Loss (training: dashed, test: solid)" : "Test accuracy";
        if (p->is_compare && p->ns > 1)
            figure_cmd(&f, "set title", "", "%s during training: median of %d seeds (thick), each seed (faint)", what, p->ns);
        else if (p->is_compare) figure_cmd(&f, "set title", "", "%s during training (seed %ld)", what, p->seeds[0]);
        else figure_cmd(&f, "set title", "", "%s during training: %s (seed %ld)", what, p->panels[0].name, p->seed);
        figure_cmd(&f, "set xlabel", "", "%s", xlabel(p));
        figure_cmd(&f, "set ylabel", "", "%s", loss ? "cross-entropy loss" : "test accuracy");
        fprintf(f.gp, "set key title ''\n");
        figure_xaxis(&f, 0, xmax, 1);
        if (loss) {
            // A diverging run's loss would flatten every other curve: the axis stops at 1.5 x the initial loss.
            double top = isfinite(yhi) ? yhi : 1;
            if (first > 0) top = fmin(top, 1.5 * first);
            figure_axis(&f, 'y', 0, top, 0);
        } else figure_axis(&f, 'y', 0, 1, 0);
        if (curves) fprintf(f.gp, "set multiplot\n");
        figure_plot(&f, &b, "no evaluation logged");
        if (curves) {
            double pad = fmax(0.01, 0.5 * (fhi - flo));
            fprintf(f.gp, "set origin 0.42,0.2\nset size 0.5,0.45\nset object 1 rectangle from graph 0,0 to graph 1,1 "
                          "behind fillcolor rgb 'white' fillstyle solid 1.0 noborder\nset key off\nunset xlabel\n"
                          "unset ylabel\n");
            figure_cmd(&f, "set title", "font bnlab_font(18)", "the end of training, zoomed (final: %.1f%% to %.1f%%)",
                       100 * flo, 100 * fhi);
            figure_axis(&f, 'x', 0.8 * xmax, xmax, 1);
            figure_axis(&f, 'y', flo - pad, fmin(1, fhi + pad), 0);
            fprintf(f.gp, "plot %s\nunset object 1\nunset multiplot\n", curves);
        }
    }
    free(curves);
    free(b.s);
    int crc = figure_close(&f);
    return rc ? rc : crc;
}

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

// The largest hidden layer with whole-layer rows (unit "all") in a run's percentiles.csv; 0 if none, -1 + message.
static int read_pct_layers(const char *run) {
    static const char *const names[] = {"hidden", "unit"};
    int col[2], max = 0;
    csv_table_t t;
    int rc = open_log(&t, run, RUNDIR_PERCENTILES, names, 2, col, "iu", -1);
    if (rc != 0) return rc < 0 ? -1 : 0;
    long h;
    while (csv_table_next(&t))
        if (csv_field_is(t.row, col[1], "all") && csv_field_long(t.row, col[0], &h) == 0 && h > max && h < 1000)
            max = (int)h;
    csv_table_free(&t);
    return max;
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

// A cross at the divergence, at y (the curve's last value), titled "diverged at step N".
static void cross_at(figure_t *f, strbuf_t *b, long step, double x, double y) {
    series_t c;
    series_init(&c, 2);
    double pt[2] = {x, y};
    series_add(&c, pt);
    char title[64];
    snprintf(title, sizeof title, "diverged at step %ld", step);
    figure_curve(f, b, figure_series(f, &c), "1:2 with points pt 2 ps 4 lw 4 lc rgb '#000000'", title);
    series_free(&c);
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

// Panel i of a percentile row: every percentile as a line (fan = 0), or (fan = 1) the outer percentiles as a band,
// the next ones in as a darker band and the middle one as a line. Axes shared by the row (r's extent).
static void pct_panel(const plot_t *p, int i, const pct_row_t *r, int fan, const char *what, int cols, figure_t *f) {
    const panel_t *pl = &p->panels[i];
    const series_t *s = &r->s[i];
    const pct_names_t *pn = &r->pn[i];
    panel_title(f, pl, what, cols);
    strbuf_t b = {0};
    int block = r->rc[i] == 0 ? figure_series(f, s) : -1, n = pn->n_pct;
    char spec[96], title[96];
    // A band needs two steps; one logged step (a short run) shows its percentiles as an error bar instead.
    int one = block >= 0 && s->n < 2;
    for (int k = 0; block >= 0 && fan && k < n / 2; k++) {
        if (one)
            snprintf(spec, sizeof spec, "1:%d:%d:%d with yerrorbars pt 7 ps 1.5 lw %d lc rgb '%s'", 2 + n / 2, k + 2,
                     n + 1 - k, 3 - k, pl->color);
        else
            snprintf(spec, sizeof spec, "1:%d:%d with filledcurves lc rgb '#%s%s'", k + 2, n + 1 - k,
                     k ? "90" : "C0", pl->color + 1);
        snprintf(title, sizeof title, "%s-%s", pn->titles[k], pn->titles[n - 1 - k]);
        figure_curve(f, &b, block, spec, title);
    }
    for (int k = 0; block >= 0 && k < n; k++) {
        if (fan && k != n / 2) continue;
        if (fan && n % 2 == 0) break;  // an even number of percentiles: bands only
        char shade[8], lc[24];
        view_shade(shade, pl->color, fan ? 0 : k, fan ? 1 : n);  // percentiles: shades of the variant's colour
        figure_lc(lc, shade, NULL);
        snprintf(spec, sizeof spec, "1:%d %s lw 3 %s", k + 2, style(s, pl->style), lc);
        figure_curve(f, &b, block, spec, pn->titles[k]);
    }
    int last = block >= 0 ? series_last_finite(s) : -1;
    if (pl->diverged_at >= 0 && last >= 0)
        cross_at(f, &b, pl->diverged_at, (double)pl->diverged_at * xscale(p, i), at(s, last, 1 + n / 2));
    figure_xaxis(f, 0, r->xmax, 1);
    figure_axis(f, 'y', r->ylo, r->yhi, 0);
    figure_plot(f, &b, r->rc[i] == 0 ? "no finite percentiles" : "percentiles not logged");
    free(b.s);
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
                figmodel_add(fp, CURVE_POINTS, &x, 0, 1, 0, pl->color, 0, 4, 1, t);
                series_free(&x);
            }
        }
        figmodel_finish(m, 1, 0, 1);
    }
    if (r) free_pct_row(p, r), free(r);
    free(p);
    return rc;
}

// Every hidden layer's input, whole layer: one row per hidden layer, one column per panel, each row on shared axes.
static int fig_layers(const plot_t *p) {
    int rows = 0;
    for (int i = 0; i < p->np; i++) {
        int n = read_pct_layers(p->panels[i].run);
        if (n < 0) return -1;
        rows = n > rows ? n : rows;
    }
    if (rows == 0) return 1;
    if (rows > PLOT_MAX_ROWS) rows = PLOT_MAX_ROWS;
    figure_t f;
    int cols, bands;
    wrap(p->np, &cols, &bands);
    if (figure_open(&f, p->plots, "layers", rows * bands, cols) != 0) return -1;
    pct_row_t *r = xcalloc(1, sizeof *r, "plot layers");
    figure_cmd(&f, "set xlabel", "", "%s", xlabel(p));
    fprintf(f.gp, "set ylabel 'input value'\n");
    int rc = 0;
    for (int h = 1; h <= rows && rc == 0; h++) {
        if ((rc = read_pct_row(p, h, "all", r)) != 0) break;
        if (h == 1) {
            char which[PLOT_MAX_PCT * 40], title[1024];
            pct_list(row_names(p, r), which, sizeof which);
            snprintf(title, sizeof title, "Every hidden layer's input during training (all its units), seed %ld: %s "
                     "percentiles%s", p->seed, which, p->np > 1 ? ";\neach row shares its y axis" : "");
            page_title(&f, rows * bands, cols, title);
        }
        for (int i = 0; i < p->np; i++) {
            char what[96];
            snprintf(what, sizeof what, "hidden %d, %s input", h, nonlin_name(&p->panels[i], h));
            pct_panel(p, i, r, 1, what, cols, &f);
            wrap_pad(&f, i, p->np, cols);
        }
        free_pct_row(p, r);
    }
    if (rc) free_pct_row(p, r);
    free(r);
    fprintf(f.gp, "unset multiplot\n");
    int crc = figure_close(&f);
    return rc ? rc : crc;
}

// ---------------------------------------------------------------------------------------------------------------
// ics: Santurkar et al.'s internal covariate shift, relative to the gradient's size, and its cosine.

// The largest dense-layer number in a run's ics.csv: 0 if it has no rows, -2 if there is no ics.csv, -1 + message.
static int ics_max_dense(const char *run) {
    static const char *const names[] = {"dense"};
    int col, max = 0;
    csv_table_t t;
    int rc = open_log(&t, run, RUNDIR_ICS, names, 1, &col, "i", -1);
    if (rc != 0) return rc < 0 ? -1 : -2;
    long d;
    while (csv_table_next(&t))
        if (csv_field_long(t.row, col, &d) == 0 && d > max && d < 1000) max = (int)d;
    csv_table_free(&t);
    return max;
}

// One dense layer's ICS rows (x, ||G - G'|| / ||G||, cos(G, G')); a relative size that is not > 0 is left out
// (its axis may be logarithmic).
static int read_ics(const char *run, int dense, double xk, series_t *s) {
    static const char *const names[] = {"step", "dense", "grad_norm", "l2_diff", "cosine"};
    int col[5];
    csv_table_t t;
    int rc = open_log(&t, run, RUNDIR_ICS, names, 5, col, "iinnn", -1);
    if (rc != 0) return rc;
    long d;
    while (csv_table_next(&t))
        if (csv_field_long(t.row, col[1], &d) == 0 && d == dense) {
            double g = field(t.row, col[2]), rel = field(t.row, col[3]) / g;
            double r[3] = {field(t.row, col[0]) * xk, rel > 0 ? rel : NAN, field(t.row, col[4])};
            if (isfinite(r[0])) series_add(s, r);
        }
    csv_table_free(&t);
    return 0;
}

typedef struct {
    series_t s[PLOT_MAX_PANELS][PLOT_MAX_LAYERS];
    int nd[PLOT_MAX_PANELS];
    double xmax, lo[2], hi[2];
} ics_data_t;

// Panel (w, k): quantity w of dense layer k, every variant's line on the same axes (BN and no BN compared where
// the text compares them, not across panels).
static void ics_panel(const plot_t *p, int w, int k, const ics_data_t *d, figure_t *f) {
    static const char *const what[2] = {"‖G − G′‖ / ‖G‖", "cos(G, G′)"};
    figure_cmd(f, "set title", "", "dense layer %d: %s", k, what[w]);
    figure_cmd(f, "set ylabel", "", "%s", what[w]);
    strbuf_t b = {0};
    for (int i = 0; i < p->np; i++) {
        const panel_t *pl = &p->panels[i];
        if (k > d->nd[i]) continue;
        const series_t *s = &d->s[i][k - 2];
        series_t one;
        series_init(&one, 2);
        for (int r = 0; r < s->n; r++) series_add(&one, (double[2]){at(s, r, 0), at(s, r, 1 + w)});
        int block = figure_series(f, &one), last = series_last_finite(&one);
        if (block >= 0) {
            char spec[128], lc[24];
            figure_lc(lc, pl->color, NULL);
            snprintf(spec, sizeof spec, "1:2 %s lw 3 dt %s %s", style(&one, pl->style), view_dash_gnuplot(pl->style), lc);
            figure_curve(f, &b, block, spec, p->is_compare ? pl->name : NULL);  // one run: no legend needed
            if (pl->diverged_at >= 0)
                cross_at(f, &b, pl->diverged_at, (double)pl->diverged_at * xscale(p, i), at(&one, last, 1));
        }
        series_free(&one);
    }
    figure_xaxis(f, 0, d->xmax, 1);
    double lo = d->lo[w], hi = d->hi[w];
    if (!(hi >= lo)) lo = 0, hi = 1;
    if (w == 0 && lo > 0 && hi / lo >= 10) figure_yaxis_log(f, lo, hi);
    else figure_axis(f, 'y', w ? fmin(lo, 0) : lo, w ? 1 : hi, 0);
    figure_plot(f, &b, "no finite values logged");
    free(b.s);
}

static const char ICS_TITLE[] = "Internal covariate shift (Santurkar et al. 2018, Def. 2.1), seed %ld\nG: the gradient "
                                "of W_i before a step; G': the same after updating only the layers below i";

static int fig_ics(const plot_t *p) {
    ics_data_t *d = xcalloc(1, sizeof *d, "plot ics");
    int any_file = 0, rc = 0, max_nd = 0, max_points = 0;
    d->lo[0] = d->lo[1] = INFINITY, d->hi[0] = d->hi[1] = -INFINITY;
    for (int i = 0; i < p->np && rc == 0; i++) {
        const panel_t *pl = &p->panels[i];
        int nd = ics_max_dense(pl->run);
        if (nd == -1) rc = -1;
        any_file |= nd >= 0;
        d->nd[i] = nd < 0 ? 0 : nd > PLOT_MAX_LAYERS + 1 ? PLOT_MAX_LAYERS + 1 : nd;
        if (d->nd[i] > max_nd) max_nd = d->nd[i];
        if (pl->diverged_at > 0) d->xmax = fmax(d->xmax, (double)pl->diverged_at * xscale(p, i));
        for (int k = 2; k <= d->nd[i] && rc == 0; k++) {
            series_t *s = &d->s[i][k - 2];
            series_init(s, 3);
            rc = read_ics(pl->run, k, xscale(p, i), s) < 0 ? -1 : 0;
            d->xmax = fmax(d->xmax, last_x(s));
            if (s->n > max_points) max_points = s->n;
            y_extent(s, 1, 1, &d->lo[0], &d->hi[0]);
            y_extent(s, 2, 2, &d->lo[1], &d->hi[1]);
        }
    }
    figure_t f;
    int cols = max_nd - 1;
    if (rc == 0 && !any_file) rc = 1;  // not logged (log.ics_every = 0): no figure
    else if (rc == 0 && (max_nd < 2 || max_points < 2)) {  // a line needs two ICS steps: say why there is none
        if ((rc = figure_open(&f, p->plots, "ics", 1, 1)) == 0) {
            figure_cmd(&f, "set title", "", ICS_TITLE, p->seed);
            strbuf_t b = {0};
            figure_plot(&f, &b, max_nd < 2 ? "No ICS step was logged: the run stopped before the first of log.ics_every steps."
                                           : "One ICS step was logged: a line needs two (a smaller log.ics_every, or a longer run).");
            rc = figure_close(&f);
        }
    } else if (rc == 0 && (rc = figure_open(&f, p->plots, "ics", 2, cols)) == 0) {
        figure_cmd(&f, "set xlabel", "", "%s", xlabel(p));
        char title[512];
        snprintf(title, sizeof title, ICS_TITLE, p->seed);
        page_title(&f, 2, cols, title);
        for (int w = 0; w < 2; w++)
            for (int k = 2; k <= max_nd; k++) ics_panel(p, w, k, d, &f);
        fprintf(f.gp, "unset multiplot\n");
        rc = figure_close(&f);
    }
    for (int i = 0; i < p->np; i++)
        for (int k = 2; k <= d->nd[i]; k++) series_free(&d->s[i][k - 2]);
    free(d);
    return rc;
}

// ---------------------------------------------------------------------------------------------------------------
// sweep

// One base variant's sweep points from sweep.csv: rows (x, final_median, final_min, final_max, steps) of its runs
// with at least one completed seed, in x order, read strictly (view/logread.h); *variant: the name of its first
// run (its class gives the base's colour); steps: the first completed seed's summary.json "steps" (NaN if none).
static int read_sweep_points(const char *dir, const char *axis, const char *base, series_t *s, char *variant,
                             size_t cap, long seed) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, dir, CMPDIR_SWEEP_CSV);
    const char *names[] = {"variant", "base", axis, "completed", "final_median", "final_min", "final_max"};
    enum { VAR, BASE, X, DONE, MED, MIN, MAX, NCOL };
    int col[NCOL];
    csv_table_t t;
    int rc = logread_open(&t, path);
    if (rc != 0) return rc > 0 ? bnlab_fail("%s: missing", path) : -1;
    for (int c = 0; c < NCOL && rc == 0; c++) rc = (col[c] = logread_column(&t, path, names[c])) < 0 ? -1 : 0;
    variant[0] = '\0';
    long done;
    while (rc == 0 && (rc = logread_next(&t, path)) == 1) {
        rc = 0;
        if (!csv_field_is(t.row, col[BASE], base)) continue;
        if ((rc = logread_integer(&t, path, col[DONE], 0, 1L << 30, &done)) != 0 || done == 0) continue;
        double r[5];
        rc = logread_finite(&t, path, col[X], &r[0]) || logread_number(&t, path, col[MED], &r[1]) ||
             logread_number(&t, path, col[MIN], &r[2]) || logread_number(&t, path, col[MAX], &r[3]) ? -1 : 0;
        size_t len;
        const char *v = csv_field(t.row, col[VAR], &len);
        char run[BNLAB_PATH_MAX], name[VIEW_NAME_MAX];
        snprintf(name, sizeof name, "%.*s", (int)len, v);
        if (!variant[0]) snprintf(variant, cap, "%s", name);
        rundir_of_seed(run, sizeof run, dir, name, seed);
        cJSON *sum = read_json(run, RUNDIR_SUMMARY);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(sum, "steps");
        r[4] = cJSON_IsNumber(st) ? st->valuedouble : NAN;
        cJSON_Delete(sum);
        if (rc == 0 && isfinite(r[1])) series_add(s, r);
    }
    csv_table_free(&t);
    if (s->n > 1) qsort(s->v, (size_t)s->n, 5 * sizeof *s->v, cmp_double);  // rows sort by their first value, x
    return rc < 0 ? -1 : 0;
}

// A grid key in words for an axis label.
static const char *key_words(const char *key) {
    static const char *const words[][2] = {{"train.batch_size", "batch size (examples per step)"},
                                           {"train.optimizer.lr", "learning rate η"},
                                           {"train.optimizer.momentum", "momentum"},
                                           {"train.optimizer.weight_decay", "weight decay"},
                                           {"train.epochs", "epochs"}, {"train.steps", "training steps"}};
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (!strcmp(key, words[k][0])) return words[k][1];
    return key;
}

// The distinct x values of all series (sorted) into xs; their number.
static int distinct_x(const series_t *s, int n, double *xs, int cap) {
    int m = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < s[i].n && m < cap; k++) xs[m++] = s[i].v[(size_t)k * (size_t)s[i].cols];
    if (m > 1) qsort(xs, (size_t)m, sizeof *xs, cmp_double);
    int u = 0;
    for (int k = 0; k < m; k++)
        if (u == 0 || xs[k] != xs[u - 1]) xs[u++] = xs[k];
    return u;
}

static void remove_figure(const char *plots, const char *name) {
    const char *ext[] = {"png", "svg", "pdf"};
    for (int k = 0; k < 3; k++) {
        char path[BNLAB_PATH_MAX];
        path_fmt(path, sizeof path, "%s/%s.%s", plots, name, ext[k]);
        remove(path);
    }
}

// The x axis of the sweep figure, from the points themselves: logarithmic when every value is > 0 and they span
// at least a factor of 10; ticks at the values when there are few, else round ones.
static void sweep_axis(figure_t *f, const double *xs, int nx) {
    int log = xs[0] > 0 && xs[nx - 1] / xs[0] >= 10;
    if (log || nx <= 12) figure_xaxis_at(f, xs, nx, log);
    else figure_xaxis(f, xs[0], xs[nx - 1], 0);
}

#define PLOT_MAX_BASES 64

int plot_sweep(const char *dir, const char *axis, const char *const *bases, int n_bases) {
    char plots[BNLAB_PATH_MAX];
    rundir_file(plots, sizeof plots, dir, RUNDIR_PLOTS);
    if (make_dirs(plots) != 0) return -1;
    if (n_bases > PLOT_MAX_BASES) n_bases = PLOT_MAX_BASES;
    view_source_t *src = xcalloc(1, sizeof *src, "sweep source");
    int rc = view_source_load(src, dir, NULL), nb = 0, total = 0;
    series_t s[PLOT_MAX_BASES];
    // Each base's colour and style: what its first run is, from that run's config.json (a sweep has more runs than
    // src keeps: its first VIEW_MAX_VARIANTS variants only); bases of one class differ by line style.
    view_variant_t look[PLOT_MAX_BASES];
    int count[VC_COUNT] = {0};
    for (; nb < n_bases && rc == 0; nb++) {
        series_init(&s[nb], 5);
        char first[VIEW_NAME_MAX], run[BNLAB_PATH_MAX];
        rc = read_sweep_points(dir, axis, bases[nb], &s[nb], first, sizeof first, src->seeds[0]);
        rundir_of_seed(run, sizeof run, dir, first, src->seeds[0]);
        (void)view_run_variant(run, &look[nb]);
        look[nb].style = count[look[nb].cls]++;
        total += s[nb].n;
        if (rc == 0 && s[nb].n == 0)
            printf("sweep: %s has no completed run: left out of the plot\n", bases[nb]);
    }
    double *xs = xmalloc((size_t)(total ? total : 1) * sizeof *xs, "sweep x values");
    int nx = rc == 0 ? distinct_x(s, nb, xs, total) : 0;
    figure_t f;
    if (rc == 0 && nx == 0) {
        printf("sweep: no run completed, so no plot\n");
        remove_figure(plots, "sweep");
    } else if (rc == 0 && nx == 1) {  // no line from a single point: say why instead
        printf("sweep: every completed run is at %s = %g: a figure needs two values of it, so no plot\n", axis, xs[0]);
        remove_figure(plots, "sweep");
    } else if (rc == 0 && (rc = figure_open(&f, plots, "sweep", 1, 1)) == 0) {
        int log = xs[0] > 0 && xs[nx - 1] / xs[0] >= 10;
        // What differs across the x axis besides x: the steps each point trained for (the first base's runs).
        strbuf_t note = {0};
        for (int i = 0; i < nb && !note.len; i++)
            for (int r = 0; r < s[i].n; r++) {
                double st = s[i].v[(size_t)r * 5 + 4];
                if (isfinite(st)) strbuf_printf(&note, "%s%.0f at %g", note.len ? ", " : "steps per point: ", st, s[i].v[(size_t)r * 5]);
            }
        figure_cmd(&f, "set title", "", "Final test accuracy vs %s: median over seeds, error bar: their range%s%s%s",
                   key_words(axis), nb > 1 ? "\n(points of different variants offset sideways a little, so that none hides another)" : "",
                   note.len ? "\n" : "", note.len ? note.s : "");
        free(note.s);
        figure_cmd(&f, "set xlabel", "", "%s", key_words(axis));
        fprintf(f.gp, "set ylabel 'final test accuracy'\n");
        double lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < nb; i++) series_extent(&s[i], 1, 3, &lo, &hi);
        figure_axis(&f, 'y', fmin(lo, 1), fmax(hi, lo + 0.01), 0);
        sweep_axis(&f, xs, nx);
        strbuf_t b = {0};
        int order[PLOT_MAX_BASES];  // the bases in the one order of their variants (view/variant.h)
        for (int i = 0; i < nb; i++) order[i] = i;
        for (int i = 1; i < nb; i++)
            for (int j = i; j > 0 && look[order[j]].cls < look[order[j - 1]].cls; j--) {
                int t = order[j];
                order[j] = order[j - 1], order[j - 1] = t;
            }
        for (int oi = 0; oi < nb; oi++) {
            int i = order[oi];
            // Offsets: a factor on a log axis, a fraction of the span on a linear one.
            double off = nb > 1 ? ((double)oi - (nb - 1) / 2.0) / nb : 0;
            for (int r = 0; r < s[i].n; r++) {
                double *x = &s[i].v[(size_t)r * 5];
                *x = log ? *x * pow(1.12, off) : *x + off * 0.03 * (xs[nx - 1] - xs[0]);
            }
            int block = figure_series(&f, &s[i]);
            char spec[128], lc[24];
            figure_lc(lc, look[i].color, NULL);
            snprintf(spec, sizeof spec, "1:2:3:4 with yerrorlines lw 3 dt %s pt %d ps 1.8 %s",
                     view_dash_gnuplot(look[i].style), view_point_gnuplot(oi), lc);
            if (block >= 0) figure_curve(&f, &b, block, spec, bases[i]);
        }
        figure_plot(&f, &b, "no completed run");
        free(b.s);
        rc = figure_close(&f);
        if (rc == 0) rc = figure_render(plots, "sweep");
        if (rc == 0) printf("plot: %s/sweep.png\n", plots);
        else if (rc > 0) fprintf(stderr, "bnlab: %s\n", bnlab_errmsg());
    }
    free(xs);
    free(src);
    for (int i = 0; i < nb; i++) series_free(&s[i]);
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
        rc = logread_integer(&t, path, ce, 0, 1L << 40, &epoch) || logread_integer(&t, path, cs, 0, 1L << 50, &step) ? -1 : 0;
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



// The landscape views (plot_landscape.c) over every seed of every panel: 0, 2 not logged, 1 gnuplot failed, -1.
static int fig_landscape(const plot_t *p, const plot_opts_t *o) {
    size_t n = (size_t)p->np * (size_t)p->ns;
    char (*runs)[BNLAB_PATH_MAX] = xmalloc(n * sizeof *runs, "plot landscape");
    const char **rp = xmalloc(n * sizeof *rp, "plot landscape");
    long *div = xmalloc(n * sizeof *div, "plot landscape");
    lsplot_variant_t v[PLOT_MAX_PANELS];
    for (int i = 0; i < p->np; i++) {
        for (int k = 0; k < p->ns; k++) {
            size_t j = (size_t)i * (size_t)p->ns + (size_t)k;
            run_of(p, i, k, runs[j], sizeof runs[j]);
            rp[j] = runs[j], div[j] = diverged_at(runs[j]);
        }
        v[i] = (lsplot_variant_t){p->panels[i].name, p->panels[i].color, xscale(p, i), p->ns, rp + (size_t)i * (size_t)p->ns,
                                  div + (size_t)i * (size_t)p->ns};
    }
    char seeds[64];
    if (p->ns > 1) snprintf(seeds, sizeof seeds, "%d seeds", p->ns);
    else snprintf(seeds, sizeof seeds, "seed %ld", p->seeds[0]);
    lsplot_opts_t lo = {.xlabel = xlabel(p), .seeds = seeds, .n_seeds = p->ns, .n_steps = o->n_ls_steps};
    memcpy(lo.steps, o->ls_steps, sizeof lo.steps);
    int rc = plot_landscape(p->plots, v, p->np, &lo);
    free(runs), free(rp), free(div);
    return rc;
}


// A kind of the table drawn by this file's own code (figures.h: build is NULL): 0 written, 1 not logged, -1.
static int legacy(const plot_t *p, const char *name) {
    if (!strcmp(name, "accuracy")) return fig_metric(p, 0);
    if (!strcmp(name, "loss")) return fig_metric(p, 1);
    if (!strcmp(name, "layers")) return fig_layers(p);
    if (!strcmp(name, "ics")) return fig_ics(p);
    return bnlab_fail("plot: figure kind %s has no drawing code", name);
}

int plot_dir(const char *dir, const plot_opts_t *o) {
    if (figure_only_check(o->only) != 0) return -1;
    plot_t *p = xcalloc(1, sizeof *p, "plot");
    p->dir = dir;
    rundir_file(p->plots, sizeof p->plots, dir, RUNDIR_PLOTS);
    int rc = load_panels(p, o);
    if (rc == 0) rc = make_dirs(p->plots);
    figure_input_t in = {.src = p->src, .xlabel = xlabel(p)};
    while (in.seed_index < p->ns - 1 && p->seeds[in.seed_index] != p->seed) in.seed_index++;
    for (int i = 0; i < VIEW_MAX_VARIANTS; i++) in.xk[i] = i < p->np ? p->panels[i].xk : 1;
    figure_set_overrides(&o->ov);
    int failed = 0;
    for (int k = 0; k < N_FIGURE_KINDS && rc == 0 && !failed; k++) {
        const figure_kind_t *kind = &FIGURE_KINDS[k];
        if (!figure_only_has(o->only, kind->name)) continue;
        if (!strcmp(kind->name, "landscape")) {  // two figures, rendered by plot_landscape.c itself
            int r = fig_landscape(p, o);
            if (r < 0) rc = -1;
            failed |= r == 1;
            continue;
        }
        int m;
        if (kind->build) {
            figmodel_t fm;
            m = kind->build(&fm, &in);
            if (m == 0 && figmodel_gnuplot(p->plots, &fm) != 0) m = -1;
            // Asked for by name and not logged: said, with the key that turns it on (the note of the figure).
            if (m > 0 && o->only && fm.note[0]) printf("plot: no %s figure: %s\n", kind->name, fm.note);
            int cats = 0;
            for (int i = 0; m == 0 && i < fm.np; i++) cats |= fm.p[i].nycat > 0;
            if (cats && (o->ov.has_range[1] || o->ov.scale[1] >= 0))
                printf("plot: %s: its y axis names the rows, so --yrange and --yscale leave it as it is (--xrange and "
                       "--xscale set its numbers)\n", kind->name);
            if (m >= 0) figmodel_free(&fm);
        } else m = legacy(p, kind->name);
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
    free(p->src);
    free(p);
    return rc < 0 ? -1 : failed;
}
