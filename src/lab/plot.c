#include "lab/plot.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "io/csvtable.h"
#include "io/jsonpath.h"
#include "lab/figure.h"
#include "lab/plot_modes.h"
#include "lab/plot_params.h"
#include "lab/plot_landscape.h"
#include "lab/spec.h"
#include "nn/registry.h"
#include "run/rundir.h"

#define PLOT_MAX_PANELS 8
#define PLOT_MAX_LAYERS 16
#define PLOT_MAX_CFG_LAYERS 64
#define PLOT_MAX_ROWS 6     // hidden layers drawn in the whole-layer figure
#define PLOT_MAX_PCT 9      // percentile columns drawn (a config has at most 9)
#define PLOT_MAX_SEEDS 1000
#define PLOT_MAX_LOG ((size_t)1 << 30)
// Curves with more points than this are drawn as plain lines; fewer (3 epochs, one ICS step) get their points.
#define PLOT_MARK_POINTS 40
// Transparency of the seeds drawn behind a median ('#AARRGGBB', AA = 0 is opaque) and of bands.
#define PLOT_FAINT "A8"

typedef struct {
    char name[128];              // panel title and legend: a variant, or a run directory's last component
    char run[BNLAB_PATH_MAX];    // the run drawn in per-run panels: the chosen seed's
    long diverged_at;            // that run diverged at this step; -1 if it did not
    int bn;                      // its config has a batchnorm layer
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
    int examples;                // x axis in examples seen (step x batch size) rather than steps
} plot_t;

// Opens DIR/FILE as a table and looks up names[0..n) (0-based, for csv_field). 0: open; 1: no such file (nothing
// logged); -1 + message.
static int open_log(csv_table_t *t, const char *dir, const char *file, const char *const *names, int n, int *cols) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, dir, file);
    if (!path_exists(path)) return 1;
    if (csv_table_read(t, path, PLOT_MAX_LOG) != 0) return -1;
    for (int i = 0; i < n; i++)
        if ((cols[i] = csv_column(t->header, names[i], path)) < 0) {
            csv_table_free(t);
            return -1;
        }
    return 0;
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

// What the figures need from a run's config.json: batchnorm or not, the batch size, the seed and the
// nonlinearities' names (percentiles.csv's layer_type is the layer feeding one, not its name). A run without a
// readable config (not expected) is drawn as no-BN, one example per step, nonlinearities unnamed.
static void read_run_config(const char *run, panel_t *pl) {
    pl->bn = 0, pl->fig1 = 1, pl->batch = 1, pl->seed = 1, pl->n_nonlin = 0;
    cJSON *root = read_json(run, RUNDIR_CONFIG);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(model, "layers");
    const cJSON *l;
    cJSON_ArrayForEach(l, layers) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(l, "type");
        if (!cJSON_IsString(type)) continue;
        if (!strcmp(type->valuestring, "batchnorm")) pl->bn = 1;
        else if (strcmp(type->valuestring, "dense") && strcmp(type->valuestring, "sigmoid")) pl->fig1 = 0;
        int k = layer_kind_find(type->valuestring);
        if (k >= 0 && layer_kind((layer_kind_t)k)->nonlinearity && pl->n_nonlin < PLOT_MAX_LAYERS)
            snprintf(pl->nonlin[pl->n_nonlin++], sizeof pl->nonlin[0], "%s", type->valuestring);
    }
    const cJSON *batch = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "train"), "batch_size");
    if (cJSON_IsNumber(batch) && batch->valuedouble >= 1) pl->batch = batch->valuedouble;
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(root, "seed");
    if (cJSON_IsNumber(seed)) pl->seed = (long)seed->valuedouble;
    cJSON_Delete(root);
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
static void run_of(const plot_t *p, int i, int k, char *out, size_t cap) {
    if (p->is_compare) rundir_of_seed(out, cap, p->dir, p->panels[i].name, p->seeds[k]);
    else path_fmt(out, cap, "%s", p->panels[i].run);
}

// x of a logged step in panel i: the step, or the examples seen by then.
static double xscale(const plot_t *p, int i) { return p->examples ? p->panels[i].batch : 1; }

static const char *xlabel(const plot_t *p) {
    return p->examples ? "examples seen (step x batch size)" : "training step";
}

static const char *style(const series_t *s) {
    return s->n > PLOT_MARK_POINTS ? "with lines" : "with linespoints pt 7 ps 1.5";
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

// A run's metrics: rows (x, test_acc, train_loss, test_loss). 0, 1 if not logged, -1 + message.
static int read_metrics(const char *run, double xk, series_t *s) {
    static const char *const names[] = {"step", "test_acc", "train_loss", "test_loss"};
    int col[4];
    csv_table_t t;
    int rc = open_log(&t, run, RUNDIR_METRICS_CSV, names, 4, col);
    if (rc != 0) return rc;
    while (csv_table_next(&t)) {
        double r[M_COLS] = {field(t.row, col[0]) * xk, field(t.row, col[1]), field(t.row, col[2]), field(t.row, col[3])};
        if (isfinite(r[0])) series_add(s, r);
    }
    csv_table_free(&t);
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// The median over runs[0..n) of each value column, at the x values of the longest run (a run that stopped early
// or diverged counts only where it has finite values).
static void median_series(const series_t *runs, int n, series_t *out) {
    int longest = 0;
    for (int k = 1; k < n; k++)
        if (runs[k].n > runs[longest].n) longest = k;
    series_init(out, runs[longest].cols);
    double *v = xmalloc((size_t)n * sizeof *v, "plot median");
    int *pos = xcalloc((size_t)n, sizeof *pos, "plot median");
    for (int i = 0; i < runs[longest].n; i++) {
        double x = at(&runs[longest], i, 0), row[M_COLS] = {x};
        for (int c = 1; c < out->cols && c < M_COLS; c++) {
            int m = 0;
            for (int k = 0; k < n; k++) {
                while (pos[k] < runs[k].n && at(&runs[k], pos[k], 0) < x) pos[k]++;
                if (pos[k] < runs[k].n && at(&runs[k], pos[k], 0) == x && isfinite(at(&runs[k], pos[k], c)))
                    v[m++] = at(&runs[k], pos[k], c);
            }
            qsort(v, (size_t)m, sizeof *v, cmp_double);
            row[c] = m == 0 ? NAN : m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
        }
        series_add(out, row);
    }
    free(v), free(pos);
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
        snprintf(spec, sizeof spec, "1:2 with points pt 2 ps 4 lw 4 lc %d", i + 1);
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
                         double *yhi, double *first) {
    series_t *runs = xcalloc((size_t)p->ns, sizeof *runs, "plot runs");
    int rc = 0;
    for (int k = 0; k < p->ns && rc == 0; k++) {
        char run[BNLAB_PATH_MAX];
        run_of(p, i, k, run, sizeof run);
        series_init(&runs[k], M_COLS);
        if (read_metrics(run, xscale(p, i), &runs[k]) < 0) rc = -1;
    }
    int col = loss ? M_TEST_LOSS : M_ACC;
    char spec[96], title[192];
    const char *name = p->is_compare ? p->panels[i].name : (loss ? "test" : "test accuracy");
    for (int k = 0; rc == 0 && p->ns > 1 && k < p->ns; k++) {  // each seed, faint, behind
        int block = column_block(f, &runs[k], col);
        snprintf(spec, sizeof spec, "1:2 with lines lw 1.5 lc rgb '#" PLOT_FAINT "%s'", figure_color(i + 1) + 1);
        if (block >= 0) figure_curve(f, b, block, spec, NULL);
    }
    series_t med;
    if (rc == 0) {
        median_series(runs, p->ns, &med);
        int block = column_block(f, &med, col);
        if (block >= 0) {
            int train = loss ? column_block(f, &med, M_TRAIN_LOSS) : -1;
            if (train >= 0) {
                snprintf(spec, sizeof spec, "1:2 %s lw 2.5 dt 2 lc %d", style(&med), i + 1);
                snprintf(title, sizeof title, "%s%s", p->is_compare ? p->panels[i].name : "", p->is_compare ? " train" : "train");
                figure_curve(f, b, train, spec, title);
            }
            snprintf(spec, sizeof spec, "1:2 %s lw 3.5 lc %d", style(&med), i + 1);
            snprintf(title, sizeof title, "%s%s", name, loss && p->is_compare ? " test" : "");
            figure_curve(f, b, block, spec, title);
            *xmax = fmax(*xmax, last_x(&med));
            y_extent(&med, loss ? M_TRAIN_LOSS : M_ACC, col, ylo, yhi);
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
    double xmax = 0, ylo = INFINITY, yhi = -INFINITY, first = 0;
    int rc = 0;
    for (int i = 0; i < p->np && rc == 0; i++) rc = metric_curves(p, i, loss, &f, &b, &xmax, &ylo, &yhi, &first);
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
        figure_plot(&f, &b, "no evaluation logged");
    }
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
    if ((rc = open_log(&t, run, RUNDIR_PERCENTILES, names, 2, col)) != 0) return rc;
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
    int rc = open_log(&t, run, RUNDIR_PERCENTILES, names, 2, col);
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
    int rc = open_log(&t, run, RUNDIR_PERCENTILES, names, 4, col);
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
            snprintf(spec, sizeof spec, "1:%d:%d:%d with yerrorbars pt 7 ps 1.5 lw %d lc %d", 2 + n / 2, k + 2,
                     n + 1 - k, 3 - k, i + 1);
        else
            snprintf(spec, sizeof spec, "1:%d:%d with filledcurves lc rgb '#%s%s'", k + 2, n + 1 - k,
                     k ? "90" : "C0", figure_color(i + 1) + 1);
        snprintf(title, sizeof title, "%s-%s", pn->titles[k], pn->titles[n - 1 - k]);
        figure_curve(f, &b, block, spec, title);
    }
    for (int k = 0; block >= 0 && k < n; k++) {
        if (fan && k != n / 2) continue;
        if (fan && n % 2 == 0) break;  // an even number of percentiles: bands only
        snprintf(spec, sizeof spec, "1:%d %s lw %s lc %d", k + 2, style(s), fan ? "3" : "3", fan ? i + 1 : k + 1);
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

static int fig_percentiles(const plot_t *p) {
    long hidden = 0;
    char unit[32];
    int rc = 1;
    for (int i = 0; i < p->np && rc == 1; i++)
        if ((rc = read_pct_unit(p->panels[i].run, &hidden, unit, sizeof unit)) < 0) return -1;
    if (rc == 1) return 1;  // nothing logged anywhere: no figure
    pct_row_t *r = xcalloc(1, sizeof *r, "plot percentiles");
    if (read_pct_row(p, hidden, unit, r) != 0) {
        free_pct_row(p, r), free(r);
        return -1;
    }
    int rows, cols;
    figure_grid(p->np, &rows, &cols);
    figure_t f;
    if (figure_open(&f, p->plots, "percentiles", rows, cols) != 0) {
        free_pct_row(p, r), free(r);
        return -1;
    }
    char which[PLOT_MAX_PCT * 40], title[1024];
    pct_list(row_names(p, r), which, sizeof which);
    const char *nl = common_nonlin(p, hidden);
    // The paper's Fig. 1(b, c) is a sigmoid network with or without BN: cite it only for such networks (not for
    // ReLU, noise or dropout variants).
    int fig1 = 1;
    for (int i = 0; i < p->np; i++) fig1 &= p->panels[i].fig1;
    snprintf(title, sizeof title, "Input to unit %s of hidden layer %ld's %s, seed %ld: %s percentiles%s", unit,
             hidden, nl ? nl : "nonlinearity", p->seed, which,
             fig1 ? "\n(compare Ioffe & Szegedy 2015, Fig. 1(b) without BN, (c) with BN)" : "");
    figure_cmd(&f, "set xlabel", "", "%s", xlabel(p));
    fprintf(f.gp, "set ylabel 'input value'\n");
    page_title(&f, rows, cols, title);
    for (int i = 0; i < p->np; i++) {
        char what[64];
        snprintf(what, sizeof what, "%s input", nonlin_name(&p->panels[i], hidden));
        pct_panel(p, i, r, 0, nl ? "" : what, cols, &f);
    }
    fprintf(f.gp, "unset multiplot\n");
    free_pct_row(p, r), free(r);
    return figure_close(&f);
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
// layer_stats: each nonlinearity's output per epoch.

// Indices of nonlinearity layers (from the first epoch's train rows of layer_stats.csv) and their types; their
// number (0 if nothing logged), or -1 + message.
static int read_hidden_layers(const char *run, int *idx, char types[][32]) {
    static const char *const names[] = {"epoch", "source", "layer", "layer_type"};
    enum { EPOCH, SOURCE, LAYER, TYPE };
    int col[4], n = 0;
    csv_table_t t;
    int rc = open_log(&t, run, RUNDIR_LAYER_STATS, names, 4, col);
    if (rc != 0) return rc < 0 ? -1 : 0;
    while (csv_table_next(&t) && n < PLOT_MAX_LAYERS) {
        long epoch, layer;
        if (csv_field_long(t.row, col[EPOCH], &epoch) != 0 || csv_field_long(t.row, col[LAYER], &layer) != 0) continue;
        if (epoch != 1) break;
        size_t len;
        const char *type = csv_field(t.row, col[TYPE], &len);
        char kind[32];
        snprintf(kind, sizeof kind, "%.*s", (int)len, type);
        int k = layer_kind_find(kind), nonlinear = k >= 0 && layer_kind((layer_kind_t)k)->nonlinearity;
        if (csv_field_is(t.row, col[SOURCE], "train") && nonlinear) {
            idx[n] = (int)layer;
            snprintf(types[n], 32, "%s", kind);
            n++;
        }
    }
    csv_table_free(&t);
    return n;
}

// One layer's training-mode output per epoch: rows (epoch, min, max, mean). An activation's output is bounded
// (a sigmoid's in (0, 1)) or one-sided (ReLU): mean +- std would leave its range, min-max does not.
static int read_layer_epochs(const char *run, int layer, series_t *s) {
    static const char *const names[] = {"epoch", "source", "layer", "mean", "min", "max"};
    enum { EPOCH, SOURCE, LAYER, MEAN, MIN, MAX };
    int col[6];
    csv_table_t t;
    int rc = open_log(&t, run, RUNDIR_LAYER_STATS, names, 6, col);
    if (rc != 0) return rc;
    long l;
    while (csv_table_next(&t))
        if (csv_field_is(t.row, col[SOURCE], "train") && csv_field_long(t.row, col[LAYER], &l) == 0 && l == layer) {
            double r[4] = {field(t.row, col[EPOCH]), field(t.row, col[MIN]), field(t.row, col[MAX]), field(t.row, col[MEAN])};
            if (isfinite(r[0])) series_add(s, r);
        }
    csv_table_free(&t);
    return 0;
}

typedef struct {
    series_t s[PLOT_MAX_PANELS][PLOT_MAX_LAYERS];
    int n[PLOT_MAX_PANELS], idx[PLOT_MAX_PANELS][PLOT_MAX_LAYERS];
    char types[PLOT_MAX_PANELS][PLOT_MAX_LAYERS][32];
} layer_data_t;

// The y extent shared by the panels whose first nonlinearity is panel i's (sigmoid panels keep their (0, 1)
// scale beside a ReLU network's).
static void layer_extent(const plot_t *p, const layer_data_t *d, int i, double *ylo, double *yhi) {
    *ylo = INFINITY, *yhi = -INFINITY;
    for (int j = 0; j < p->np; j++)
        if (!strcmp(nonlin_name(&p->panels[j], 1), nonlin_name(&p->panels[i], 1)))
            for (int k = 0; k < d->n[j]; k++) y_extent(&d->s[j][k], 1, 3, ylo, yhi);
    if (!(*yhi >= *ylo)) *ylo = 0, *yhi = 1;
    if (*ylo >= 0 && *yhi <= 1) *ylo = 0, *yhi = 1;  // a sigmoid's whole range
}

static void layer_panel(const panel_t *pl, layer_data_t *d, int i, double emax, double ylo, double yhi, figure_t *f) {
    panel_title(f, pl, "", 1);
    strbuf_t b = {0};
    for (int k = 0; k < d->n[i]; k++) {
        int block = figure_series(f, &d->s[i][k]);
        if (block < 0) continue;
        char spec[96], title[160];
        for (int c = 2; c <= 3; c++) {  // min and max: thin, so that overlapping layers stay legible
            snprintf(spec, sizeof spec, "1:%d with lines lw 1.5 dt 2 lc %d", c, k + 1);
            figure_curve(f, &b, block, spec, NULL);
        }
        snprintf(spec, sizeof spec, "1:4 %s lw 3 lc %d", style(&d->s[i][k]), k + 1);
        snprintf(title, sizeof title, "hidden %d (%s)", k + 1, d->types[i][k]);
        figure_curve(f, &b, block, spec, title);
    }
    figure_xaxis(f, 1, emax, 1);
    figure_axis(f, 'y', ylo, yhi, 0);
    figure_plot(f, &b, pl->diverged_at >= 0 ? "no epoch completed before the run diverged" : "no layer statistics logged");
    free(b.s);
}

static int fig_layer_stats(const plot_t *p) {
    layer_data_t *d = xcalloc(1, sizeof *d, "plot layer stats");
    double emax = 1, ylo, yhi;
    int rc = 0;
    for (int i = 0; i < p->np && rc == 0; i++) {
        if ((d->n[i] = read_hidden_layers(p->panels[i].run, d->idx[i], d->types[i])) < 0) rc = -1, d->n[i] = 0;
        for (int k = 0; k < d->n[i] && rc == 0; k++) {
            series_init(&d->s[i][k], 4);
            rc = read_layer_epochs(p->panels[i].run, d->idx[i][k], &d->s[i][k]) < 0 ? -1 : 0;
            emax = fmax(emax, last_x(&d->s[i][k]));
        }
    }
    int rows, cols;
    figure_grid(p->np, &rows, &cols);
    figure_t f;
    if (rc == 0 && (rc = figure_open(&f, p->plots, "layer_stats", rows, cols)) == 0) {
        fprintf(f.gp, "set xlabel 'epoch'\nset ylabel 'output of the nonlinearity'\n");
        char title[256];
        snprintf(title, sizeof title, "Output of each hidden layer's nonlinearity, per epoch of training batches, "
                 "seed %ld:\nmean (thick) and min, max (thin dashed) over all its units and examples", p->seed);
        page_title(&f, rows, cols, title);
        for (int i = 0; i < p->np; i++) {
            layer_extent(p, d, i, &ylo, &yhi);
            layer_panel(&p->panels[i], d, i, emax, ylo, yhi, &f);
        }
        fprintf(f.gp, "unset multiplot\n");
        rc = figure_close(&f);
    }
    for (int i = 0; i < p->np; i++)
        for (int k = 0; k < d->n[i]; k++) series_free(&d->s[i][k]);
    free(d);
    return rc;
}

// ---------------------------------------------------------------------------------------------------------------
// ics: Santurkar et al.'s internal covariate shift, relative to the gradient's size, and its cosine.

// The largest dense-layer number in a run's ics.csv: 0 if it has no rows, -2 if there is no ics.csv, -1 + message.
static int ics_max_dense(const char *run) {
    static const char *const names[] = {"dense"};
    int col, max = 0;
    csv_table_t t;
    int rc = open_log(&t, run, RUNDIR_ICS, names, 1, &col);
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
    int rc = open_log(&t, run, RUNDIR_ICS, names, 5, col);
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

static void ics_panel(const plot_t *p, int i, int w, int cols, const ics_data_t *d, figure_t *f) {
    static const char *const what[2] = {"||G - G'|| / ||G||", "cos(G, G')"};
    const panel_t *pl = &p->panels[i];
    panel_title(f, pl, what[w], cols);
    figure_cmd(f, "set ylabel", "", "%s", what[w]);
    strbuf_t b = {0};
    double ylast = NAN;
    for (int k = 2; k <= d->nd[i]; k++) {  // dense layers 2.. (the first has nothing below it)
        const series_t *s = &d->s[i][k - 2];
        series_t one;
        series_init(&one, 2);
        for (int r = 0; r < s->n; r++) {
            double row[2] = {at(s, r, 0), at(s, r, 1 + w)};
            series_add(&one, row);
        }
        int block = figure_series(f, &one), last = series_last_finite(&one);
        if (block >= 0) {
            char spec[64], title[32];
            snprintf(spec, sizeof spec, "1:2 %s lw 3 lc %d", style(&one), k - 1);
            snprintf(title, sizeof title, "dense %d", k);
            figure_curve(f, &b, block, spec, title);
            ylast = at(&one, last, 1);
        }
        series_free(&one);
    }
    if (pl->diverged_at >= 0 && isfinite(ylast))
        cross_at(f, &b, pl->diverged_at, (double)pl->diverged_at * xscale(p, i), ylast);
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
    int any_file = 0, any_rows = 0, rc = 0, cols, bands;
    d->lo[0] = d->lo[1] = INFINITY, d->hi[0] = d->hi[1] = -INFINITY;
    for (int i = 0; i < p->np && rc == 0; i++) {
        const panel_t *pl = &p->panels[i];
        int nd = ics_max_dense(pl->run);
        if (nd == -1) rc = -1;
        any_file |= nd >= 0, any_rows |= nd >= 2;
        d->nd[i] = nd < 0 ? 0 : nd > PLOT_MAX_LAYERS + 1 ? PLOT_MAX_LAYERS + 1 : nd;
        if (pl->diverged_at > 0) d->xmax = fmax(d->xmax, (double)pl->diverged_at * xscale(p, i));
        for (int k = 2; k <= d->nd[i] && rc == 0; k++) {
            series_t *s = &d->s[i][k - 2];
            series_init(s, 3);
            rc = read_ics(pl->run, k, xscale(p, i), s) < 0 ? -1 : 0;
            d->xmax = fmax(d->xmax, last_x(s));
            y_extent(s, 1, 1, &d->lo[0], &d->hi[0]);
            y_extent(s, 2, 2, &d->lo[1], &d->hi[1]);
        }
    }
    figure_t f;
    if (rc == 0 && !any_file) rc = 1;  // not logged (log.ics_every = 0): no figure
    else if (rc == 0 && !any_rows) {   // logged, but the run stopped before the first ICS step: say so
        if ((rc = figure_open(&f, p->plots, "ics", 1, 1)) == 0) {
            figure_cmd(&f, "set title", "", ICS_TITLE, p->seed);
            strbuf_t b = {0};
            figure_plot(&f, &b, "No ICS step was logged: the run stopped before the first of log.ics_every steps.");
            rc = figure_close(&f);
        }
    } else if (rc == 0 && (wrap(p->np, &cols, &bands), rc = figure_open(&f, p->plots, "ics", 2 * bands, cols)) == 0) {
        figure_cmd(&f, "set xlabel", "", "%s", xlabel(p));
        char title[512];
        snprintf(title, sizeof title, ICS_TITLE, p->seed);
        page_title(&f, 2 * bands, cols, title);
        for (int w = 0; w < 2; w++)
            for (int i = 0; i < p->np; i++) {
                ics_panel(p, i, w, cols, d, &f);
                wrap_pad(&f, i, p->np, cols);
            }
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

// One base variant's sweep points from sweep.csv: rows (x, final_mean, final_std) of its runs with at least one
// completed seed, in x order.
static int read_sweep_points(const char *dir, const char *axis, const char *base, series_t *s) {
    const char *names[] = {"base", axis, "completed", "final_mean", "final_std"};
    enum { BASE, X, DONE, MEAN, STD };
    int col[5];
    csv_table_t t;
    int rc = open_log(&t, dir, CMPDIR_SWEEP_CSV, names, 5, col);
    if (rc != 0) return rc > 0 ? bnlab_fail("%s/%s: missing", dir, CMPDIR_SWEEP_CSV) : -1;
    long done;
    while (csv_table_next(&t))
        if (csv_field_is(t.row, col[BASE], base) && csv_field_long(t.row, col[DONE], &done) == 0 && done > 0) {
            double sd = field(t.row, col[STD]);
            double r[3] = {field(t.row, col[X]), field(t.row, col[MEAN]), isfinite(sd) ? sd : 0};  // one seed: no std
            if (isfinite(r[0]) && isfinite(r[1])) series_add(s, r);
        }
    csv_table_free(&t);
    if (s->n > 1) qsort(s->v, (size_t)s->n, 3 * sizeof *s->v, cmp_double);  // rows sort by their first value, x
    return 0;
}

// The distinct x values of all series (sorted) into xs; their number.
static int distinct_x(const series_t *s, int n, double *xs, int cap) {
    int m = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < s[i].n && m < cap; k++) xs[m++] = s[i].v[(size_t)k * 3];
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
    series_t s[PLOT_MAX_BASES];
    int rc = 0, nb = 0, total = 0;
    for (; nb < n_bases && rc == 0; nb++) {
        series_init(&s[nb], 3);
        rc = read_sweep_points(dir, axis, bases[nb], &s[nb]);
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
    } else if (rc == 0 && (rc = figure_open(&f, plots, "sweep", 1, 1)) == 0) {
        figure_cmd(&f, "set title", "", "Final test accuracy vs %s (mean, error bars: one std over seeds)", axis);
        figure_cmd(&f, "set xlabel", "", "%s", axis);
        fprintf(f.gp, "set ylabel 'final test accuracy'\n");
        figure_axis(&f, 'y', 0, 1, 0);
        sweep_axis(&f, xs, nx);
        strbuf_t b = {0};
        for (int i = 0; i < nb; i++) {
            int block = figure_series(&f, &s[i]);
            char spec[64];
            snprintf(spec, sizeof spec, "1:2:3 with yerrorlines lw 3 pt 7 ps 1.5 lc %d", i + 1);
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
    for (int i = 0; i < nb; i++) series_free(&s[i]);
    return rc;
}

// ---------------------------------------------------------------------------------------------------------------
// panels

// The panels of a comparison (one per variant, the chosen seed's run) and its seeds, from DIR/compare.json. -1 +
// message naming what is missing.
static int compare_panels(plot_t *p, const char *path, long want_seed) {
    cJSON *root = compare_json_read(path);
    if (!root) return -1;
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(root, "variants");
    const cJSON *sd = cJSON_GetObjectItemCaseSensitive(root, "seeds");
    int rc = 0;
    p->ns = 0;
    for (const cJSON *s = rc ? NULL : sd->child; s && p->ns < PLOT_MAX_SEEDS; s = s->next) {
        if (!cJSON_IsNumber(s)) rc = bnlab_fail("%s: seeds[%d]: expected a number", path, p->ns);
        p->seeds[p->ns++] = (long)s->valuedouble;
    }
    // The seed drawn in per-run figures: the one asked for, else 1, else the first.
    p->seed = rc ? 0 : p->seeds[0];
    for (int k = 0; k < p->ns && rc == 0; k++)
        if (p->seeds[k] == (want_seed ? want_seed : 1)) p->seed = p->seeds[k];
    if (rc == 0 && want_seed && p->seed != want_seed)
        rc = bnlab_fail("%s: no seed %ld in this comparison (its seeds: %ld..%ld)", path, want_seed, p->seeds[0],
                        p->seeds[p->ns - 1]);
    p->np = 0;
    int k = 0;
    for (const cJSON *v = rc ? NULL : vars->child; v && rc == 0; v = v->next, k++) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(v, "name");
        if (!cJSON_IsString(name) || !name_valid(name->valuestring))
            rc = bnlab_fail("%s: variants[%d]: expected a \"name\" (letters, digits, -_.), found %s", path, k,
                            name ? (cJSON_IsString(name) ? name->valuestring : "another type") : "none");
        else if (p->np < PLOT_MAX_PANELS) {
            panel_t *pl = &p->panels[p->np++];
            snprintf(pl->name, sizeof pl->name, "%s", name->valuestring);
            rundir_of_seed(pl->run, sizeof pl->run, p->dir, name->valuestring, p->seed);
        }
    }
    if (rc == 0 && k > PLOT_MAX_PANELS)
        printf("plot: %d variants; the figures show the first %d\n", k, PLOT_MAX_PANELS);
    cJSON_Delete(root);
    return rc;
}

// A run directory: one panel named after the directory's last component.
static int run_panel(plot_t *p, long want_seed) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, p->dir, RUNDIR_METRICS_CSV);
    if (!path_exists(path))
        return bnlab_fail("%s: neither a run directory (metrics.csv) nor a comparison (compare.json)", p->dir);
    path_basename(p->panels[0].name, sizeof p->panels[0].name, p->dir);
    path_fmt(p->panels[0].run, sizeof p->panels[0].run, "%s", p->dir);
    read_run_config(p->dir, &p->panels[0]);
    p->np = 1, p->ns = 1, p->seed = p->seeds[0] = p->panels[0].seed;
    if (want_seed && want_seed != p->seed)
        return bnlab_fail("%s: one run, of seed %ld (--seed chooses among a comparison's seeds)", p->dir, p->seed);
    return 0;
}

// Each panel's config and divergence; the paper's order, (b) without BN then (c) with BN, for a comparison of
// exactly one BN and one no-BN network; the x axis in examples when asked or when the batch sizes differ.
static void finish_panels(plot_t *p, plot_x_t x) {
    for (int i = 0; i < p->np; i++) {
        if (p->is_compare) read_run_config(p->panels[i].run, &p->panels[i]);
        p->panels[i].diverged_at = diverged_at(p->panels[i].run);
    }
    if (p->np == 2 && p->panels[0].bn && !p->panels[1].bn) {
        panel_t t = p->panels[0];
        p->panels[0] = p->panels[1], p->panels[1] = t;
    }
    int differ = 0;
    for (int i = 1; i < p->np; i++) differ |= p->panels[i].batch != p->panels[0].batch;
    p->examples = x == PLOT_X_EXAMPLES || (x == PLOT_X_AUTO && differ);
}

// The modes figure (lab/plot_modes.h): each panel's runs, one per seed.
static int fig_modes(const plot_t *p) {
    modes_panel_t mp[PLOT_MAX_PANELS];
    char (*runs)[BNLAB_PATH_MAX] = xcalloc((size_t)p->np * (size_t)p->ns, BNLAB_PATH_MAX, "plot modes");
    const char **ptr = xcalloc((size_t)p->np * (size_t)p->ns, sizeof *ptr, "plot modes");
    for (int i = 0; i < p->np; i++) {
        for (int k = 0; k < p->ns; k++) {
            run_of(p, i, k, runs[i * p->ns + k], BNLAB_PATH_MAX);
            ptr[i * p->ns + k] = runs[i * p->ns + k];
        }
        mp[i] = (modes_panel_t){.name = p->panels[i].name, .runs = ptr + i * p->ns, .n_runs = p->ns,
                                .bn = p->panels[i].bn, .xscale = xscale(p, i), .diverged_at = p->panels[i].diverged_at};
    }
    char seeds[48];
    if (p->ns > 1) snprintf(seeds, sizeof seeds, "median of %d seeds", p->ns);
    else snprintf(seeds, sizeof seeds, "seed %ld", p->seeds[0]);
    int rc = plot_modes(p->plots, mp, p->np, xlabel(p), seeds);
    free(runs), free(ptr);
    return rc;
}

// The "params" figure (lab/plot_params.h) from the panels.
static int fig_params(const plot_t *p) {
    params_panel_t pp[PLOT_MAX_PANELS];
    for (int i = 0; i < p->np; i++) pp[i] = (params_panel_t){p->panels[i].name, p->panels[i].run, xscale(p, i)};
    return plot_params(p->plots, pp, p->np, p->seed, xlabel(p));
}

#define N_FIGURES 8

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
        v[i] = (lsplot_variant_t){p->panels[i].name, i + 1, xscale(p, i), p->ns, rp + (size_t)i * (size_t)p->ns,
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


int plot_dir(const char *dir, const plot_opts_t *o) {
    plot_t *p = xcalloc(1, sizeof *p, "plot");
    p->dir = dir;
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, dir, CMPDIR_SPEC);
    p->is_compare = path_exists(path);
    rundir_file(p->plots, sizeof p->plots, dir, RUNDIR_PLOTS);
    int rc = p->is_compare ? compare_panels(p, path, o->seed) : run_panel(p, o->seed);
    if (rc == 0 && p->np == 0) rc = bnlab_fail("%s: no variants", path);
    if (rc == 0) finish_panels(p, o->x);
    if (rc == 0) rc = make_dirs(p->plots);
    static const char *const names[N_FIGURES] = {"accuracy", "loss", "percentiles", "layers", "layer_stats", "ics",
                                                 "modes", "params"};
    int made[N_FIGURES] = {0};
    for (int i = 0; i < N_FIGURES && rc == 0; i++) {
        int m = i == 0 ? fig_metric(p, 0) : i == 1 ? fig_metric(p, 1) : i == 2 ? fig_percentiles(p)
              : i == 3 ? fig_layers(p) : i == 4 ? fig_layer_stats(p) : i == 5 ? fig_ics(p)
              : i == 6 ? fig_modes(p) : fig_params(p);
        if (m < 0) rc = -1;
        made[i] = m == 0;
    }
    int failed = 0;
    for (int i = 0; i < N_FIGURES && rc == 0; i++) {
        if (!made[i]) {
            remove_figure(p->plots, names[i]);  // not logged this time: no stale figure from an earlier plot
            continue;
        }
        int r = figure_render(p->plots, names[i]);
        if (r == 0) printf("plot: %s/%s.png\n", p->plots, names[i]);
        else fprintf(stderr, "bnlab: %s\n", bnlab_errmsg());
        failed |= r != 0;
        if (r > 0) break;  // gnuplot missing: once is enough
    }
    if (rc == 0 && !failed) {
        int r = fig_landscape(p, o);
        if (r < 0) rc = -1;
        failed |= r == 1;
    }
    free(p);
    return rc < 0 ? -1 : failed;
}
