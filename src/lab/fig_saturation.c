// Two kinds from layer_stats.csv (the training batches of each epoch, per layer), drawn alike: one panel per hidden
// layer on a shared y axis, every variant in its colour, each seed faint and the median over seeds thick, over steps.
//   saturation   the fraction of the nonlinearity's outputs that are saturated (frac_saturated: a sigmoid output
//                below 0.02 or above 0.98, run/stats.h); a variant whose nonlinearity does not saturate (ReLU) has no
//                curve there
//   layer_stats  the mean of the nonlinearity's output over its units and examples
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lab/figures.h"
#include "nn/registry.h"
#include "run/rundir.h"
#include "run/runlog.h"
#include "view/logread.h"

#define SAT_MAX_HIDDEN 16

// One run's rows: s[h] = (x, fraction) of hidden layer h + 1 (the nonlinearities in layer order). Its number of
// hidden layers (0 also when layer_stats.csv is absent: *exists says), -1 + message.
static int read_run(const char *run, const char *column, double xk, series_t *s, char types[][32], int *exists) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run, RUNDIR_LAYER_STATS);
    csv_table_t t;
    int rc = logread_open(&t, path), col[5], nh = 0;
    *exists = rc == 0;
    if (rc != 0) return rc < 0 ? -1 : 0;
    const char *const names[5] = {"step", "source", "layer", "layer_type", column};
    for (int c = 0; c < 5 && rc == 0; c++) rc = (col[c] = logread_column(&t, path, names[c])) < 0 ? -1 : 0;
    long layers[SAT_MAX_HIDDEN];  // model.layers index of hidden layer h + 1's nonlinearity
    while (rc == 0 && (rc = logread_next(&t, path)) == 1) {
        long step, layer;
        double frac;
        rc = 0;
        if (!csv_field_is(t.row, col[1], "train")) continue;
        rc = logread_integer(&t, path, col[0], 0, LOGREAD_STEP_MAX, &step) || logread_integer(&t, path, col[2], 0, 1 << 20, &layer) ||
             logread_optional(&t, path, col[4], &frac) ? -1 : 0;
        size_t len;
        const char *type = csv_field(t.row, col[3], &len);
        char kind[32];
        snprintf(kind, sizeof kind, "%.*s", (int)(len < 31 ? len : 31), type ? type : "");
        int k = layer_kind_find(kind);
        if (rc != 0 || k < 0 || !layer_kind((layer_kind_t)k)->nonlinearity) continue;
        int h = 0;
        while (h < nh && layers[h] != layer) h++;
        if (h == nh) {
            if (nh == SAT_MAX_HIDDEN) continue;
            layers[nh] = layer, snprintf(types[nh], 32, "%s", kind), nh++;
        }
        int sat = !strcmp(column, "frac_saturated");  // its -1 or empty: not a sigmoid
        if (sat ? frac >= 0 && frac <= 1 : isfinite(frac)) series_add(&s[h], (double[2]){(double)step * xk, frac});
    }
    csv_table_free(&t);
    return rc < 0 ? -1 : nh;
}

static int build(figmodel_t *m, const figure_input_t *in, int sat) {
    const char *name = sat ? "saturation" : "layer_stats", *what = sat ? "Saturation" : "The nonlinearities' output";
    const view_source_t *src = in->src;
    int nh = 0, logged = 0, points = 0, rc = 0;
    series_t (*seeds)[VIEW_MAX_SEEDS][SAT_MAX_HIDDEN] = xcalloc((size_t)src->nv, sizeof *seeds, "saturation");
    char types[SAT_MAX_HIDDEN][32] = {{0}};
    for (int i = 0; i < src->nv && rc == 0; i++)
        for (int k = 0; k < src->ns && rc == 0; k++) {
            char run[BNLAB_PATH_MAX], ty[SAT_MAX_HIDDEN][32];
            view_run_dir(src, i, k, run, sizeof run);
            for (int h = 0; h < SAT_MAX_HIDDEN; h++) series_init(&seeds[i][k][h], 2);
            int exists, n = read_run(run, sat ? "frac_saturated" : "mean", in->xk[i], seeds[i][k], ty, &exists);
            if (n < 0) rc = -1;
            logged += exists;
            for (int h = 0; h < n; h++) {
                if (!types[h][0]) memcpy(types[h], ty[h], sizeof types[h]);
                if (seeds[i][k][h].n > points) points = seeds[i][k][h].n;
            }
            if (n > nh) nh = n;
        }
    if (rc == 0 && !logged) {
        figmodel_init(m, name, 0, 1);
        snprintf(m->note, sizeof m->note, "%s: not logged in this run (layer_stats.csv; turn it on with log.stats: true).", what);
        rc = 1;
    } else if (rc == 0 && points < 2) {
        figmodel_init(m, name, 0, 1);
        snprintf(m->note, sizeof m->note, "%s: %s epoch%s logged (layer_stats.csv is written once per epoch), "
                 "and a line needs two: train for more epochs.", what, points ? "one" : "no", points ? " was" : "s were");
    } else if (rc == 0) {
        figmodel_init(m, name, nh, nh <= 4 ? nh : 4);
        snprintf(m->xlabel, sizeof m->xlabel, "%s", in->xlabel);
        snprintf(m->title, sizeof m->title, "%s of each hidden layer's nonlinearity, training batches of each epoch: %s",
                 sat ? "Saturated outputs (a sigmoid output < 0.02 or > 0.98)" : "The mean output over units and examples",
                 src->ns > 1 ? "median over seeds (thick), each seed (faint)" : "one seed");
        for (int h = 0; h < nh; h++) {
            figpanel_t *p = &m->p[h];
            snprintf(p->title, sizeof p->title, "hidden layer %d (%s)", h + 1, types[h]);
            snprintf(p->ylabel, sizeof p->ylabel, "%s", sat ? "fraction saturated" : "mean output");
            snprintf(p->note, sizeof p->note, "%s", sat ? "no saturating nonlinearity here" : "nothing logged");
            for (int i = 0; i < src->nv; i++) {
                const view_variant_t *v = &src->v[i];
                series_t all;
                series_init(&all, 2);
                for (int k = 0; k < src->ns; k++) {
                    const series_t *s = &seeds[i][k][h];
                    if (src->ns > 1 && s->n) figmodel_add(p, CURVE_LINE, s, 0, 1, 0, v->color, v->style, 1.2, 0.35, NULL);
                    for (int r = 0; r < s->n; r++) series_add(&all, s->v + (size_t)r * 2);
                }
                series_t med;
                series_median_by_step(&all, &med);
                if (med.n) figmodel_add(p, CURVE_LINE, &med, 0, 1, 0, v->color, v->style, 3, 1, src->is_compare ? v->label : NULL);
                series_free(&all), series_free(&med);
            }
        }
        figmodel_finish(m, 1, 0, 1);
        for (int h = 0; sat && h < nh; h++) m->p[h].y0 = 0, m->p[h].y1 = fmax(m->p[h].y1, 0.05), m->p[h].yfixed = 1;
    }
    for (int i = 0; i < src->nv; i++)
        for (int k = 0; k < src->ns; k++)
            for (int h = 0; h < SAT_MAX_HIDDEN; h++) series_free(&seeds[i][k][h]);
    free(seeds);
    return rc;
}

int fig_saturation(figmodel_t *m, const figure_input_t *in) { return build(m, in, 1); }

int fig_layer_stats(figmodel_t *m, const figure_input_t *in) { return build(m, in, 0); }
