#include "lab/figures.h"
#include "lab/plot_params.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "io/csvtable.h"
#include "nn/registry.h"
#include "run/paramlog.h"
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
        rc = logread_integer(&t, path, col[STEP], 0, LOGREAD_STEP_MAX, &step) || logread_integer(&t, path, col[LAYER], 0, 1 << 20, &l) ||
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

static void extent(const series_t *s, int c0, int c1, double *lo, double *hi) {
    for (int r = 0; r < s->n; r++)
        for (int c = c0; c <= c1; c++) {
            double v = s->v[(size_t)r * C_COLS + c];
            if (isfinite(v)) *lo = fmin(*lo, v), *hi = fmax(*hi, v);
        }
}

// The figure: a top row of ‖W‖ per dense layer (log axis), a bottom row of γ (solid) and β (dashed) per BN layer
// with a ± 1 std band, every variant in its colour.
static void build(figmodel_t *m, const view_source_t *src, long seed, const char *xlabel, pp_data_t *d, int np) {
    int cols = 1, has_bn = 0, max_bn = 0;
    double wlo = INFINITY, whi = -INFINITY, blo = INFINITY, bhi = -INFINITY;
    for (int i = 0; i < np; i++) {
        cols = d->nw[i] > cols ? d->nw[i] : cols, cols = d->nb[i] > cols ? d->nb[i] : cols, has_bn |= d->nb[i] > 0;
        max_bn = d->nb[i] > max_bn ? d->nb[i] : max_bn;
        for (int k = 0; k < d->nw[i]; k++) extent(&d->w[i][k], C_NORM, C_NORM, &wlo, &whi);
        for (int k = 0; k < d->nb[i]; k++) extent(&d->g[i][k], C_LO, C_HI, &blo, &bhi), extent(&d->b[i][k], C_LO, C_HI, &blo, &bhi);
    }
    if (!(wlo > 0)) wlo = whi > 0 ? whi / 10 : 1e-3;  // a zero norm has no place on a log axis
    if (!(whi >= wlo)) whi = wlo * 10;
    figmodel_init(m, "params", cols + (has_bn ? max_bn : 0), cols);
    snprintf(m->xlabel, sizeof m->xlabel, "%s", xlabel);
    char dense[48] = "each dense layer", bns[48] = "each BN layer";
    if (d->total_w > cols) snprintf(dense, sizeof dense, "the first %d of %d dense layers", cols, d->total_w);
    if (d->total_b > max_bn) snprintf(bns, sizeof bns, "the first %d of %d BN layers", max_bn, d->total_b);
    snprintf(m->title, sizeof m->title, "Parameters over training (param_stats.csv), seed %ld: ‖W‖ of %s%s%s%s", seed,
             dense, has_bn ? ";\nγ and β of " : "", has_bn ? bns : "", has_bn ? " (mean over units, band ± 1 std)" : "");
    for (int k = 0; k < cols; k++) {
        figpanel_t *p = &m->p[k];
        snprintf(p->title, sizeof p->title, "dense layer %d: ‖W‖", k + 1);
        snprintf(p->ylabel, sizeof p->ylabel, "‖W‖ (L2)");
        snprintf(p->note, sizeof p->note, "no dense layer");
        for (int i = 0; i < np; i++)
            if (k < d->nw[i] && d->w[i][k].n)
                figmodel_add(p, CURVE_LINE, &d->w[i][k], C_X, C_NORM, 0, src->v[i].color, src->v[i].style, 3, 1, src->v[i].label);
    }
    for (int k = 0; has_bn && k < max_bn; k++) {
        figpanel_t *p = &m->p[cols + k];
        snprintf(p->title, sizeof p->title, "BN layer %d: γ (solid), β (dashed)", k + 1);
        snprintf(p->ylabel, sizeof p->ylabel, "γ, β: unit mean");
        snprintf(p->note, sizeof p->note, "no batchnorm layer");
        for (int i = 0; i < np; i++)
            for (int which = 0; k < d->nb[i] && which < 2; which++) {
                const series_t *s = which ? &d->b[i][k] : &d->g[i][k];
                if (!s->n) continue;
                char title[VIEW_NAME_MAX + 8];
                snprintf(title, sizeof title, "%s %s", src->v[i].label, which ? "β" : "γ");
                figmodel_add(p, CURVE_BAND, s, C_X, C_LO, C_HI, src->v[i].color, 0, 1, 0.25, NULL);
                figmodel_add(p, CURVE_LINE, s, C_X, C_MEAN, 0, src->v[i].color, which, 3, 1, title);
            }
    }
    figmodel_finish(m, 0, 0, 1);
    for (int k = 0; k < cols; k++) m->p[k].y0 = wlo, m->p[k].y1 = whi, m->p[k].ylog = 1, m->p[k].yfixed = 1;
    for (int k = 0; has_bn && k < max_bn; k++)
        m->p[cols + k].y0 = blo, m->p[cols + k].y1 = bhi, m->p[cols + k].yfixed = 1;
}

int fig_params(figmodel_t *m, const figure_input_t *in) {
    const view_source_t *src = in->src;
    pp_data_t *d = xcalloc(1, sizeof *d, "plot params");
    int rc = 0, any = 0, np = src->nv < PP_MAX_PANELS ? src->nv : PP_MAX_PANELS;
    for (int i = 0; i < np && rc == 0; i++) {
        params_panel_t p = {.name = src->v[i].label, .xscale = in->xk[i]};
        char run[BNLAB_PATH_MAX];
        view_run_dir(src, i, in->seed_index, run, sizeof run);
        p.run = run;
        int r = read_run(&p, d, i);
        if (r < 0) rc = -1;
        any |= r == 0;
    }
    if (rc == 0 && !any) {
        figmodel_init(m, "params", 0, 1);
        snprintf(m->note, sizeof m->note, "Parameters: not logged in this run (param_stats.csv; turn it on with "
                 "log.param_stats: true).");
        rc = 1;
    } else if (rc == 0) build(m, src, src->seeds[in->seed_index], in->xlabel, d, np);
    for (int i = 0; i < np; i++)
        for (int k = 0; d->logged[i] && k < PP_MAX_COLS; k++)
            series_free(&d->w[i][k]), series_free(&d->g[i][k]), series_free(&d->b[i][k]);
    free(d);
    return rc;
}
