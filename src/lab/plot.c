#include "lab/plot.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "io/csvtable.h"
#include "lab/figure.h"
#include "nn/registry.h"
#include "run/rundir.h"

#define PLOT_MAX_PANELS 8
#define PLOT_MAX_LAYERS 16
#define PLOT_MAX_PCT 9      // percentile columns drawn (a config has at most 9)
#define PLOT_MAX_SEEDS 1000
#define PLOT_MAX_LOG ((size_t)1 << 30)
// Curves with more points than this are drawn as plain lines; fewer (3 epochs, one ICS step) get their points.
#define PLOT_MARK_POINTS 40

typedef struct {
    char name[128];              // panel title and legend: a variant, or a run directory's last component
    char run[BNLAB_PATH_MAX];    // the run drawn in per-run panels (a comparison's variant: its first seed)
    long diverged_at;            // that run diverged at this step; -1 if it did not
} panel_t;

typedef struct {
    const char *dir;
    char plots[BNLAB_PATH_MAX];  // DIR/plots: gnuplot's working directory
    panel_t panels[PLOT_MAX_PANELS];
    int np, is_compare;
    long seeds[PLOT_MAX_SEEDS];  // a comparison's seeds (a run: one, unused)
    int ns;
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

// The step at which the run diverged (summary.json's "steps" when its status says so), or -1.
static long diverged_at(const char *run) {
    if (rundir_status(run) != RUN_DIVERGED) return -1;
    char path[BNLAB_PATH_MAX], *text;
    size_t len;
    rundir_file(path, sizeof path, run, RUNDIR_SUMMARY);
    if (read_whole_file(path, 1 << 20, &text, &len) != 0) return 0;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "steps");
    long step = cJSON_IsNumber(s) && s->valuedouble >= 0 ? (long)s->valuedouble : 0;
    cJSON_Delete(root);
    return step;
}

// A run's test accuracy curve: rows (step, test_acc). 0, 1 if not logged, -1 + message.
static int read_accuracy(const char *run, series_t *s) {
    static const char *const names[] = {"step", "test_acc"};
    int col[2];
    csv_table_t t;
    int rc = open_log(&t, run, RUNDIR_METRICS_CSV, names, 2, col);
    if (rc != 0) return rc;
    while (csv_table_next(&t)) {
        double r[2] = {field(t.row, col[0]), field(t.row, col[1])};
        if (isfinite(r[0])) series_add(s, r);
    }
    csv_table_free(&t);
    return 0;
}

static const char *style(const series_t *s) {
    return s->n > PLOT_MARK_POINTS ? "with lines" : "with linespoints pt 7 ps 0.7";
}

static double last_x(const series_t *s) { return s->n ? s->v[(size_t)(s->n - 1) * (size_t)s->cols] : 0; }

// The diverged runs among a comparison variant's seeds (or the one run): each one's accuracy curve as a thin dashed
// line and a cross at its divergence step, at its last logged accuracy (0 if none). One legend entry for them.
static int mark_diverged(const plot_t *p, int panel, figure_t *f, strbuf_t *b, double *xmax) {
    const panel_t *pn = &p->panels[panel];
    int n = p->is_compare ? p->ns : 1, k_div = 0;
    long lo = -1, hi = -1;
    series_t cross;
    series_init(&cross, 2);
    for (int k = 0; k < n; k++) {
        char run[BNLAB_PATH_MAX];
        if (p->is_compare) rundir_of_seed(run, sizeof run, p->dir, pn->name, p->seeds[k]);
        else path_fmt(run, sizeof run, "%s", pn->run);
        long at = diverged_at(run);
        if (at < 0) continue;
        series_t acc;
        series_init(&acc, 2);
        if (read_accuracy(run, &acc) < 0) {
            series_free(&acc), series_free(&cross);
            return -1;
        }
        int last = series_last_finite(&acc), block = figure_series(f, &acc);
        char spec[64];
        snprintf(spec, sizeof spec, "1:2 with lines lw 1 dt 2 lc %d", panel + 1);
        if (block >= 0) figure_curve(f, b, block, spec, NULL);
        double pt[2] = {(double)at, last >= 0 ? acc.v[2 * last + 1] : 0};
        series_add(&cross, pt);
        series_free(&acc);
        lo = k_div == 0 || at < lo ? at : lo, hi = at > hi ? at : hi;
        *xmax = fmax(*xmax, (double)at);
        k_div++;
    }
    if (k_div) {
        char title[256], spec[64];
        const char *who = p->is_compare ? pn->name : "";
        const char *sep = p->is_compare ? ": " : "";
        if (n == 1) snprintf(title, sizeof title, "%s%sdiverged at step %ld", who, sep, lo);
        else if (lo == hi) snprintf(title, sizeof title, "%s%s%d of %d seeds diverged (at step %ld)", who, sep, k_div, n, lo);
        else snprintf(title, sizeof title, "%s%s%d of %d seeds diverged (at steps %ld-%ld)", who, sep, k_div, n, lo, hi);
        snprintf(spec, sizeof spec, "1:2 with points pt 2 ps 3 lw 3 lc %d", panel + 1);
        figure_curve(f, b, figure_series(f, &cross), spec, title);
    }
    series_free(&cross);
    return 0;
}

// A comparison variant's median line and min-max band over seeds, from DIR/curves.csv. -1 + message.
static int variant_band(const plot_t *p, int panel, figure_t *f, strbuf_t *b, double *xmax) {
    static const char *const names[] = {"variant", "step", "min", "max", "median"};
    int col[5];
    csv_table_t t;
    int rc = open_log(&t, p->dir, CMPDIR_CURVES, names, 5, col);
    if (rc != 0) return rc < 0 ? -1 : 0;
    series_t s;
    series_init(&s, 4);
    while (csv_table_next(&t))
        if (csv_field_is(t.row, col[0], p->panels[panel].name)) {
            double r[4] = {field(t.row, col[1]), field(t.row, col[2]), field(t.row, col[3]), field(t.row, col[4])};
            series_add(&s, r);
        }
    csv_table_free(&t);
    int block = figure_series(f, &s);
    if (block >= 0) {
        char spec[80];
        snprintf(spec, sizeof spec, "1:2:3 with filledcurves lc %d", panel + 1);
        figure_curve(f, b, block, spec, NULL);
        snprintf(spec, sizeof spec, "1:4 %s lw 2 lc %d", style(&s), panel + 1);
        figure_curve(f, b, block, spec, p->panels[panel].name);
        *xmax = fmax(*xmax, last_x(&s));
    }
    series_free(&s);
    return 0;
}

static int accuracy_curves(const plot_t *p, figure_t *f, strbuf_t *b, double *xmax) {
    for (int i = 0; i < p->np; i++) {
        if (p->is_compare) {
            if (variant_band(p, i, f, b, xmax) != 0) return -1;
        } else if (p->panels[0].diverged_at < 0) {
            series_t s;
            series_init(&s, 2);
            if (read_accuracy(p->panels[0].run, &s) < 0) return -1;
            char spec[64];
            snprintf(spec, sizeof spec, "1:2 %s lw 2 lc 1", style(&s));
            int block = figure_series(f, &s);
            if (block >= 0) figure_curve(f, b, block, spec, "test accuracy");
            *xmax = fmax(*xmax, last_x(&s));
            series_free(&s);
        }
        if (mark_diverged(p, i, f, b, xmax) != 0) return -1;
    }
    return 0;
}

static int fig_accuracy(const plot_t *p) {
    figure_t f;
    if (figure_open(&f, p->plots, "accuracy") != 0) return -1;
    strbuf_t b = {0};
    double xmax = 0;
    int rc = accuracy_curves(p, &f, &b, &xmax);
    if (rc == 0) {
        if (p->is_compare)
            figure_cmd(&f, "set title", "", "Test accuracy during training (median, band: min-max over %d seed%s)",
                       p->ns, p->ns > 1 ? "s" : "");
        else figure_cmd(&f, "set title", "", "Test accuracy during training: %s", p->panels[0].name);
        fprintf(f.gp, "set xlabel 'training step'\nset ylabel 'test accuracy'\nset yrange [-0.02:1.02]\n"
                      "set key bottom right\nset style fill transparent solid 0.20 noborder\n");
        figure_xaxis(&f, 0, xmax, 1);
        figure_plot(&f, &b, "no evaluation logged");
    }
    free(b.s);
    int crc = figure_close(&f);
    return rc ? rc : crc;
}

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

// One run's percentiles of the chosen unit: rows (step, p...), the percentile columns being those after "n" in
// its header (one per log.percentiles.q: p15, p50, ...), titled from their names ("15th"). 0, 1 if not logged,
// -1 + message.
typedef struct {
    int n_pct;
    char titles[PLOT_MAX_PCT][32];
} pct_names_t;

static int read_percentiles(const char *run, long hidden, const char *unit, series_t *s, pct_names_t *pn) {
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
        row[0] = field(t.row, col[STEP]);
        for (int k = 0; k < pn->n_pct; k++) row[1 + k] = field(t.row, col[N] + 1 + k);
        if (isfinite(row[0])) series_add(s, row);
    }
    csv_table_free(&t);
    return 0;
}

// A cross at the divergence step, at y (the curve's last value), titled "diverged at step N".
static void cross_at(figure_t *f, strbuf_t *b, long at, double y) {
    series_t c;
    series_init(&c, 2);
    double pt[2] = {(double)at, y};
    series_add(&c, pt);
    char title[64];
    snprintf(title, sizeof title, "diverged at step %ld", at);
    figure_curve(f, b, figure_series(f, &c), "1:2 with points pt 2 ps 3 lw 3 lc rgb 'red'", title);
    series_free(&c);
}

static int percentile_panel(const plot_t *p, int i, long hidden, const char *unit, figure_t *f, pct_names_t *pn) {
    const panel_t *pl = &p->panels[i];
    series_t s;
    int rc = read_percentiles(pl->run, hidden, unit, &s, pn);
    if (rc < 0) return -1;
    if (pl->diverged_at >= 0) figure_cmd(f, "set title", "", "%s (diverged at step %ld)", pl->name, pl->diverged_at);
    else figure_cmd(f, "set title", "", "%s", pl->name);
    strbuf_t b = {0};
    double xmax = pl->diverged_at > 0 ? (double)pl->diverged_at : 0;
    if (rc == 0) {
        int block = figure_series(f, &s);
        for (int k = 0; block >= 0 && k < pn->n_pct; k++) {
            char spec[64];
            snprintf(spec, sizeof spec, "1:%d %s lw 2 lc %d", k + 2, style(&s), k + 1);
            figure_curve(f, &b, block, spec, pn->titles[k]);
        }
        int last = series_last_finite(&s);
        if (pl->diverged_at >= 0 && last >= 0)
            cross_at(f, &b, pl->diverged_at, s.v[(size_t)last * (size_t)s.cols + 1 + (size_t)pn->n_pct / 2]);
        xmax = fmax(xmax, last_x(&s));
        series_free(&s);
    }
    figure_xaxis(f, 0, xmax, 1);
    figure_plot(f, &b, rc == 0 ? "no finite percentiles" : "percentiles not logged");
    free(b.s);
    return 0;
}

static int fig_percentiles(const plot_t *p) {
    long hidden = 0;
    char unit[32];
    int rc = 1;
    for (int i = 0; i < p->np && rc == 1; i++)
        if ((rc = read_pct_unit(p->panels[i].run, &hidden, unit, sizeof unit)) < 0) return -1;
    if (rc == 1) return 1;  // nothing logged anywhere: no figure
    figure_t f;
    if (figure_open(&f, p->plots, "percentiles") != 0) return -1;
    // The legend comes from each panel's own header; the page title from the first panel that has one.
    pct_names_t pn = {0};
    for (int i = 0; i < p->np && pn.n_pct == 0; i++) {
        series_t s;
        if ((rc = read_percentiles(p->panels[i].run, hidden, unit, &s, &pn)) < 0) {
            figure_close(&f);
            return -1;
        }
        if (rc == 0) series_free(&s);
    }
    char layout[32];
    snprintf(layout, sizeof layout, "layout 1,%d", p->np);
    char which[PLOT_MAX_PCT * 40] = "";
    for (int k = 0; k < pn.n_pct; k++) {
        size_t n = strlen(which);
        snprintf(which + n, sizeof which - n, "%s%s", k ? ", " : "", pn.titles[k]);
    }
    fprintf(f.gp, "set xlabel 'training step'\nset ylabel 'input value'\nset key bottom right\n");
    figure_cmd(&f, "set multiplot title", layout, "Input to a sigmoid (hidden layer %ld, unit %s) during training: %s "
               "percentiles\n(Ioffe & Szegedy 2015, Fig. 1(b, c))", hidden, unit, which);
    rc = 0;
    for (int i = 0; i < p->np && rc == 0; i++) rc = percentile_panel(p, i, hidden, unit, &f, &pn);
    fprintf(f.gp, "unset multiplot\n");
    int crc = figure_close(&f);
    return rc ? rc : crc;
}

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

// One hidden layer's training-mode statistics per epoch: rows (epoch, mean - std, mean + std, mean).
static int read_layer_epochs(const char *run, int layer, series_t *s) {
    static const char *const names[] = {"epoch", "source", "layer", "mean", "std"};
    enum { EPOCH, SOURCE, LAYER, MEAN, STD };
    int col[5];
    csv_table_t t;
    int rc = open_log(&t, run, RUNDIR_LAYER_STATS, names, 5, col);
    if (rc != 0) return rc;
    long l;
    while (csv_table_next(&t))
        if (csv_field_is(t.row, col[SOURCE], "train") && csv_field_long(t.row, col[LAYER], &l) == 0 && l == layer) {
            double m = field(t.row, col[MEAN]), sd = field(t.row, col[STD]);
            double r[4] = {field(t.row, col[EPOCH]), m - sd, m + sd, m};
            if (isfinite(r[0])) series_add(s, r);
        }
    csv_table_free(&t);
    return 0;
}

static int layer_panel(const panel_t *pl, figure_t *f) {
    int idx[PLOT_MAX_LAYERS];
    char types[PLOT_MAX_LAYERS][32];
    int n = read_hidden_layers(pl->run, idx, types);
    if (n < 0) return -1;
    if (pl->diverged_at >= 0) figure_cmd(f, "set title", "", "%s (diverged at step %ld)", pl->name, pl->diverged_at);
    else figure_cmd(f, "set title", "", "%s", pl->name);
    strbuf_t b = {0};
    double emax = 1;
    for (int k = 0; k < n; k++) {
        series_t s;
        series_init(&s, 4);
        if (read_layer_epochs(pl->run, idx[k], &s) < 0) {
            series_free(&s), free(b.s);
            return -1;
        }
        int block = figure_series(f, &s);
        if (block >= 0) {
            char spec[64], title[640];
            snprintf(spec, sizeof spec, "1:2:3 with filledcurves lc %d", k + 1);
            figure_curve(f, &b, block, spec, NULL);
            snprintf(spec, sizeof spec, "1:4 %s lw 2 lc %d", style(&s), k + 1);
            snprintf(title, sizeof title, "hidden %d (%s, layer %d)", k + 1, types[k], idx[k]);
            figure_curve(f, &b, block, spec, title);
            emax = fmax(emax, last_x(&s));
        }
        series_free(&s);
    }
    figure_xaxis(f, 1, emax, 1);
    figure_plot(f, &b, pl->diverged_at >= 0 ? "no epoch completed before the run diverged" : "no layer statistics logged");
    free(b.s);
    return 0;
}

static int fig_layer_stats(const plot_t *p) {
    figure_t f;
    if (figure_open(&f, p->plots, "layer_stats") != 0) return -1;
    fprintf(f.gp, "set xlabel 'epoch'\nset ylabel 'activation'\nset key top right\n"
                  "set style fill transparent solid 0.15 noborder\n");
    char layout[32];
    snprintf(layout, sizeof layout, "layout 1,%d", p->np);
    figure_cmd(&f, "set multiplot title", layout,
               "Activations of each hidden layer during training: mean ± std over the epoch's batches");
    int rc = 0;
    for (int i = 0; i < p->np && rc == 0; i++) rc = layer_panel(&p->panels[i], &f);
    fprintf(f.gp, "unset multiplot\n");
    int crc = figure_close(&f);
    return rc ? rc : crc;
}

// The largest dense-layer number in a run's ics.csv (0 if none logged), or -1 + message.
static int ics_max_dense(const char *run) {
    static const char *const names[] = {"dense"};
    int col, max = 0;
    csv_table_t t;
    int rc = open_log(&t, run, RUNDIR_ICS, names, 1, &col);
    if (rc != 0) return rc < 0 ? -1 : 0;
    long d;
    while (csv_table_next(&t))
        if (csv_field_long(t.row, col, &d) == 0 && d > max && d < 1000) max = (int)d;
    csv_table_free(&t);
    return max;
}

// One dense layer's ICS rows (step, value) of one column; on a log axis (positive) only values > 0.
static int read_ics(const char *run, int dense, const char *what, int positive, series_t *s) {
    const char *names[] = {"step", "dense", what};
    int col[3];
    csv_table_t t;
    int rc = open_log(&t, run, RUNDIR_ICS, names, 3, col);
    if (rc != 0) return rc;
    long d;
    while (csv_table_next(&t))
        if (csv_field_long(t.row, col[1], &d) == 0 && d == dense) {
            double r[2] = {field(t.row, col[0]), field(t.row, col[2])};
            if (positive && !(r[1] > 0)) r[1] = NAN;
            if (isfinite(r[0])) series_add(s, r);
        }
    csv_table_free(&t);
    return 0;
}

static int ics_panel(const panel_t *pl, int w, figure_t *f) {
    static const char *const cols[2] = {"l2_diff", "cosine"}, *const what[2] = {"||G - G'||", "cos(G, G')"};
    int nd = ics_max_dense(pl->run);
    if (nd < 0) return -1;
    figure_cmd(f, "set title", "", "%s: %s%s", pl->name, what[w], pl->diverged_at >= 0 ? " (diverged)" : "");
    fprintf(f->gp, "%s\n", w ? "unset logscale y\nset yrange [*:1]" : "set logscale y\nset yrange [*:*]");
    strbuf_t b = {0};
    double xmax = pl->diverged_at > 0 ? (double)pl->diverged_at : 0, ylast = NAN;
    for (int d = 2; d <= nd; d++) {  // dense layers 2.. (the first has nothing below it)
        series_t s;
        series_init(&s, 2);
        if (read_ics(pl->run, d, cols[w], !w, &s) < 0) {
            series_free(&s), free(b.s);
            return -1;
        }
        int block = figure_series(f, &s), last = series_last_finite(&s);
        if (block >= 0) {
            char spec[64], title[32];
            snprintf(spec, sizeof spec, "1:2 %s lw 1.5 lc %d", style(&s), d - 1);
            snprintf(title, sizeof title, "dense %d", d);
            figure_curve(f, &b, block, spec, title);
            xmax = fmax(xmax, last_x(&s));
            ylast = s.v[2 * last + 1];
        }
        series_free(&s);
    }
    if (pl->diverged_at >= 0 && isfinite(ylast)) cross_at(f, &b, pl->diverged_at, ylast);
    figure_xaxis(f, 0, xmax, 1);
    if (!b.len) fprintf(f->gp, "unset logscale y\n");
    figure_plot(f, &b, "no finite values logged");
    free(b.s);
    return 0;
}

static int fig_ics(const plot_t *p) {
    int nd = ics_max_dense(p->panels[0].run);
    if (nd < 2) return nd < 0 ? -1 : 1;  // 1: not logged, no figure
    figure_t f;
    if (figure_open(&f, p->plots, "ics") != 0) return -1;
    fprintf(f.gp, "set xlabel 'training step'\nset key top right\n");
    char layout[32];
    snprintf(layout, sizeof layout, "layout 2,%d", p->np);
    figure_cmd(&f, "set multiplot title", layout, "Internal covariate shift (Santurkar et al. 2018, Def. 2.1): G = "
               "gradient of W_i before the step, G' = after updating only the layers below i");
    int rc = 0;
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < p->np && rc == 0; i++) rc = ics_panel(&p->panels[i], w, &f);
    fprintf(f.gp, "unset multiplot\n");
    int crc = figure_close(&f);
    return rc ? rc : crc;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

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
    const char *ext[] = {"png", "svg"};
    for (int k = 0; k < 2; k++) {
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
    } else if (rc == 0 && (rc = figure_open(&f, plots, "sweep")) == 0) {
        figure_cmd(&f, "set title", "", "Final test accuracy vs %s (mean, error bars: one std over seeds)", axis);
        figure_cmd(&f, "set xlabel", "", "%s", axis);
        fprintf(f.gp, "set ylabel 'final test accuracy'\nset key bottom left\nset yrange [0:1]\n");
        sweep_axis(&f, xs, nx);
        strbuf_t b = {0};
        for (int i = 0; i < nb; i++) {
            int block = figure_series(&f, &s[i]);
            char spec[64];
            snprintf(spec, sizeof spec, "1:2:3 with yerrorlines lw 2 pt 7 lc %d", i + 1);
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

// The panels of a comparison (one per variant, its first seed's run) and its seeds, from DIR/compare.json. -1 +
// message naming what is missing.
static int compare_panels(plot_t *p, const char *path) {
    char *text;
    size_t len;
    if (read_whole_file(path, 1 << 24, &text, &len) != 0) return -1;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(root, "variants");
    const cJSON *sd = cJSON_GetObjectItemCaseSensitive(root, "seeds");
    int rc = 0;
    if (!cJSON_IsArray(vars) || !cJSON_IsArray(sd) || cJSON_GetArraySize(sd) < 1)
        rc = bnlab_fail("%s: not a bnlab comparison file (expected \"variants\" and \"seeds\" arrays)", path);
    p->ns = 0;
    for (const cJSON *s = rc ? NULL : sd->child; s && p->ns < PLOT_MAX_SEEDS; s = s->next) {
        if (!cJSON_IsNumber(s)) rc = bnlab_fail("%s: seeds[%d]: expected a number", path, p->ns);
        p->seeds[p->ns++] = (long)s->valuedouble;
    }
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
            rundir_of_seed(pl->run, sizeof pl->run, p->dir, name->valuestring, p->seeds[0]);
            pl->diverged_at = diverged_at(pl->run);
        }
    }
    cJSON_Delete(root);
    return rc;
}

// A run directory: one panel named after the directory's last component.
static int run_panel(plot_t *p) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, p->dir, RUNDIR_METRICS_CSV);
    if (!path_exists(path))
        return bnlab_fail("%s: neither a run directory (metrics.csv) nor a comparison (compare.json)", p->dir);
    char name[BNLAB_PATH_MAX];
    snprintf(name, sizeof name, "%s", p->dir);
    size_t n = strlen(name);
    while (n > 1 && name[n - 1] == '/') name[--n] = '\0';
    const char *base = strrchr(name, '/');
    snprintf(p->panels[0].name, sizeof p->panels[0].name, "%s", base && base[1] ? base + 1 : name);
    path_fmt(p->panels[0].run, sizeof p->panels[0].run, "%s", p->dir);
    p->panels[0].diverged_at = diverged_at(p->dir);
    p->np = 1, p->ns = 1;
    return 0;
}

int plot_dir(const char *dir) {
    plot_t *p = xcalloc(1, sizeof *p, "plot");
    p->dir = dir;
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, dir, CMPDIR_SPEC);
    p->is_compare = path_exists(path);
    rundir_file(p->plots, sizeof p->plots, dir, RUNDIR_PLOTS);
    int rc = p->is_compare ? compare_panels(p, path) : run_panel(p);
    if (rc == 0 && p->np == 0) rc = bnlab_fail("%s: no variants", path);
    if (rc == 0) rc = make_dirs(p->plots);
    static const char *const names[] = {"accuracy", "percentiles", "layer_stats", "ics"};
    int (*const make[])(const plot_t *) = {fig_accuracy, fig_percentiles, fig_layer_stats, fig_ics};
    int made[4] = {0};
    for (int i = 0; i < 4 && rc == 0; i++) {
        int m = make[i](p);
        if (m < 0) rc = -1;
        made[i] = m == 0;
    }
    int failed = 0;
    for (int i = 0; i < 4 && rc == 0; i++) {
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
    free(p);
    return rc < 0 ? -1 : failed;
}
