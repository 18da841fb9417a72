#include "lab/plot_params.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "io/csvtable.h"
#include "nn/registry.h"
#include "view/figure.h"
#include "view/logread.h"
#include "view/variant.h"
#include "run/rundir.h"

#define PP_MAX_PANELS 8
#define PP_MAX_COLS 4  // dense / BN layers drawn (the first ones)
#define PP_MARK_POINTS 40

enum { C_X, C_NORM, C_MEAN, C_LO, C_HI, C_COLS };  // a series row: x, ‖θ‖, mean, mean − std, mean + std

typedef struct {
    series_t w[PP_MAX_PANELS][PP_MAX_COLS];            // k-th dense weight
    series_t g[PP_MAX_PANELS][PP_MAX_COLS], b[PP_MAX_PANELS][PP_MAX_COLS];  // k-th BN layer's γ, β
    int nw[PP_MAX_PANELS], nb[PP_MAX_PANELS], logged[PP_MAX_PANELS];
    int total_w, total_b;  // the most dense / BN layers of any run (more than PP_MAX_COLS: the first are drawn)
} pp_data_t;


// Ordinal of layer index l among the layers of its kind seen so far (rows come in layer order at each step).
static int ordinal(int *seen, int *n, int l) {
    for (int k = 0; k < *n; k++)
        if (seen[k] == l) return k;
    if (*n == 64) return 64;
    seen[*n] = l;
    return (*n)++;
}

// One run's param_stats.csv, read strictly (view/logread.h), into d's panel i: the weights of the layers that are
// linear maps and the γ, β of the layers that normalize by batch statistics with an affine map (the registry's facts,
// nn/registry.h). 0, 1 if not logged, -1 + message.
static int read_run(const params_panel_t *p, pp_data_t *d, int i) {
    static const char *const names[] = {"step", "layer", "layer_type", "tensor", "norm", "mean", "std"};
    enum { STEP, LAYER, TYPE, TENSOR, NORM, MEAN, STD };
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, p->run, RUNDIR_PARAM_STATS);
    csv_table_t t;
    int col[7], dense[64], bn[64], nd = 0, nbn = 0, rc = logread_open(&t, path);
    if (rc != 0) return rc;
    for (int c = 0; c < 7 && rc == 0; c++) rc = (col[c] = logread_column(&t, path, names[c])) < 0 ? -1 : 0;
    for (int k = 0; k < PP_MAX_COLS; k++)
        series_init(&d->w[i][k], C_COLS), series_init(&d->g[i][k], C_COLS), series_init(&d->b[i][k], C_COLS);
    d->logged[i] = 1;
    while (rc == 0 && (rc = logread_next(&t, path)) == 1) {
        long l, step;
        double m, sd, norm;
        rc = logread_integer(&t, path, col[STEP], 0, 1L << 50, &step) || logread_integer(&t, path, col[LAYER], 0, 1 << 20, &l) ||
             logread_number(&t, path, col[NORM], &norm) || logread_number(&t, path, col[MEAN], &m) ||
             logread_number(&t, path, col[STD], &sd) ? -1 : 0;
        size_t len, tl;
        const char *name = csv_field(t.row, col[TENSOR], &len), *type = csv_field(t.row, col[TYPE], &tl);
        char kind[32];
        snprintf(kind, sizeof kind, "%.*s", (int)(tl < 31 ? tl : 31), type ? type : "");
        int kk = layer_kind_find(kind);
        if (rc != 0 || !name || kk < 0) continue;
        const layer_kind_info_t *info = layer_kind((layer_kind_t)kk);
        int is_weight = len >= 7 && !strncmp(name + len - 7, ".weight", 7);
        double r[C_COLS] = {(double)step * p->xscale, norm, m, m - sd, m + sd};
        if (info->linear && is_weight) {
            int k = ordinal(dense, &nd, (int)l);
            if (k < PP_MAX_COLS) series_add(&d->w[i][k], r);
        } else if (info->uses_batch_statistics && info->has_affine) {
            int k = ordinal(bn, &nbn, (int)l);
            if (k < PP_MAX_COLS) series_add(is_weight ? &d->g[i][k] : &d->b[i][k], r);
        }
    }
    csv_table_free(&t);
    d->nw[i] = nd < PP_MAX_COLS ? nd : PP_MAX_COLS, d->nb[i] = nbn < PP_MAX_COLS ? nbn : PP_MAX_COLS;
    d->total_w = nd > d->total_w ? nd : d->total_w, d->total_b = nbn > d->total_b ? nbn : d->total_b;
    return rc < 0 ? -1 : 0;
}

static const char *style(const series_t *s) {
    return s->n > PP_MARK_POINTS ? "with lines" : "with linespoints pt 7 ps 1.5";
}

static void extent(const series_t *s, int c0, int c1, double *lo, double *hi, double *xmax) {
    for (int r = 0; r < s->n; r++) {
        *xmax = fmax(*xmax, s->v[(size_t)r * C_COLS]);
        for (int c = c0; c <= c1; c++) {
            double v = s->v[(size_t)r * C_COLS + c];
            if (isfinite(v)) *lo = fmin(*lo, v), *hi = fmax(*hi, v);
        }
    }
}

// Top row: panel k, ‖W‖ of dense layer k + 1 for every run that has it.
static void weight_panel(figure_t *f, const params_panel_t *p, int np, pp_data_t *d, int k, double lo, double hi,
                         double xmax) {
    figure_cmd(f, "set title", "", "dense layer %d: ||W||", k + 1);
    figure_cmd(f, "set ylabel", "", "||W|| (L2, log scale)");
    strbuf_t b = {0};
    for (int i = 0; i < np; i++) {
        if (k >= d->nw[i]) continue;
        int block = figure_series(f, &d->w[i][k]);
        char spec[64];
        snprintf(spec, sizeof spec, "1:2 %s lw 3 dt %s lc rgb '%s'", style(&d->w[i][k]), view_dash_gnuplot(p[i].style), p[i].color);
        if (block >= 0) figure_curve(f, &b, block, spec, p[i].name);
    }
    figure_xaxis(f, 0, xmax, 1);
    figure_yaxis_log(f, lo, hi);
    figure_plot(f, &b, "no dense layer");
    free(b.s);
}

// Bottom row: panel k, γ and β of BN layer k + 1: mean, ± one std band.
static void bn_panel(figure_t *f, const params_panel_t *p, int np, pp_data_t *d, int k, double lo, double hi,
                     double xmax) {
    figure_cmd(f, "set title", "", "BN layer %d: γ (solid), β (dashed)", k + 1);
    figure_cmd(f, "set ylabel", "", "mean over units, band ± 1 std");
    strbuf_t b = {0};
    for (int i = 0; i < np; i++) {
        if (k >= d->nb[i]) continue;
        for (int which = 0; which < 2; which++) {
            series_t *s = which ? &d->b[i][k] : &d->g[i][k];
            int block = figure_series(f, s);
            if (block < 0) continue;
            char spec[96], title[160];
            snprintf(spec, sizeof spec, "1:4:5 with filledcurves lc rgb '#C0%s'", p[i].color + 1);
            figure_curve(f, &b, block, spec, NULL);
            snprintf(spec, sizeof spec, "1:3 %s lw 3 dt %d lc rgb '%s'", style(s), which ? 2 : 1, p[i].color);
            snprintf(title, sizeof title, "%s %s", p[i].name, which ? "β" : "γ");
            figure_curve(f, &b, block, spec, title);
        }
    }
    figure_xaxis(f, 0, xmax, 1);
    figure_axis(f, 'y', lo, hi, 0);
    figure_plot(f, &b, "no batchnorm layer");
    free(b.s);
}

static int draw(const char *plots, const params_panel_t *p, int np, long seed, const char *xlabel, pp_data_t *d) {
    int cols = 1, has_bn = 0, max_bn = 0;
    double wlo = INFINITY, whi = -INFINITY, blo = INFINITY, bhi = -INFINITY, xmax = 1;
    for (int i = 0; i < np; i++) {
        cols = d->nw[i] > cols ? d->nw[i] : cols, cols = d->nb[i] > cols ? d->nb[i] : cols, has_bn |= d->nb[i] > 0;
        max_bn = d->nb[i] > max_bn ? d->nb[i] : max_bn;
        for (int k = 0; k < d->nw[i]; k++) extent(&d->w[i][k], C_NORM, C_NORM, &wlo, &whi, &xmax);
        for (int k = 0; k < d->nb[i]; k++)
            extent(&d->g[i][k], C_LO, C_HI, &blo, &bhi, &xmax), extent(&d->b[i][k], C_LO, C_HI, &blo, &bhi, &xmax);
    }
    if (!(wlo > 0)) wlo = whi > 0 ? whi / 10 : 1e-3;  // a zero norm has no place on a log axis
    if (!(whi >= wlo)) whi = wlo * 10;
    if (!(bhi >= blo)) blo = 0, bhi = 1;
    int rows = has_bn ? 2 : 1;
    figure_t f;
    if (figure_open(&f, plots, "params", rows, cols) != 0) return -1;
    figure_cmd(&f, "set xlabel", "", "%s", xlabel);
    char layout[96];
    snprintf(layout, sizeof layout, "font bnlab_font(24) layout %d,%d", rows, cols);
    char dense[48] = "each dense layer", bns[48] = "each BN layer";
    if (d->total_w > cols) snprintf(dense, sizeof dense, "the first %d of %d dense layers", cols, d->total_w);
    if (d->total_b > max_bn) snprintf(bns, sizeof bns, "the first %d of %d BN layers", max_bn, d->total_b);
    figure_cmd(&f, "set multiplot title", layout,
               "Parameters over training (param_stats.csv), seed %ld: ||W|| of %s%s%s%s", seed, dense,
               has_bn ? ";\nγ and β of " : "", has_bn ? bns : "", has_bn ? " (mean over units, band ± 1 std)" : "");
    for (int k = 0; k < cols; k++) weight_panel(&f, p, np, d, k, wlo, whi, xmax);
    for (int k = 0; has_bn && k < max_bn; k++) bn_panel(&f, p, np, d, k, blo, bhi, xmax);
    fprintf(f.gp, "unset multiplot\n");
    return figure_close(&f);
}

int plot_params(const char *plots, const params_panel_t *p, int np, long seed, const char *xlabel) {
    pp_data_t *d = xcalloc(1, sizeof *d, "plot params");
    int rc = 0, any = 0;
    np = np < PP_MAX_PANELS ? np : PP_MAX_PANELS;
    for (int i = 0; i < np && rc == 0; i++) {
        int r = read_run(&p[i], d, i);
        if (r < 0) rc = -1;
        any |= r == 0;
    }
    if (rc == 0) rc = any ? draw(plots, p, np, seed, xlabel, d) : 1;
    for (int i = 0; i < np; i++)
        for (int k = 0; d->logged[i] && k < PP_MAX_COLS; k++)
            series_free(&d->w[i][k]), series_free(&d->g[i][k]), series_free(&d->b[i][k]);
    free(d);
    return rc;
}
