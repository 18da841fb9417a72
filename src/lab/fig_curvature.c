// curvature: the loss Hessian's top eigenvalue and the batch sharpness over training (run/curvature.h;
// docs/anatomy.md), from curvature.csv (log.curvature_every). Two panels on one y axis:
//   top eigenvalue   top_eig: power iteration on Hessian-vector products of the step's batch loss
//   batch sharpness  sharpness: gᵀHg/‖g‖², the curvature along the step's gradient
// every variant in its colour, each seed faint and the median over seeds thick, over steps; and Cohen et al. 2021's
// edge of stability, 2/η (the two_over_lr column), as a thin grey line: one per rate, over the steps of the variants
// trained at it (a variant whose rate changes over training, a schedule: its own line, named).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lab/figures.h"
#include "run/curvature.h"
#include "run/rundir.h"
#include "view/logread.h"

#define THEORY_COLOR "#555555"

enum { C_X, C_EIG, C_SHARP, C_TWO, C_COLS };

// One run's rows (x, top_eig, sharpness, 2/η) into s. 0 (also when absent: *exists says), -1 + message.
static int read_run(const char *run, double xk, series_t *s, int *exists) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run, RUNDIR_CURVATURE);
    csv_table_t t;
    int rc = logread_open(&t, path), col[4];
    *exists = rc == 0;
    if (rc != 0) return rc < 0 ? -1 : 0;
    static const char *const names[4] = {"step", "top_eig", "sharpness", "two_over_lr"};
    for (int c = 0; c < 4 && rc == 0; c++) rc = (col[c] = logread_column(&t, path, names[c])) < 0 ? -1 : 0;
    while (rc == 0 && (rc = logread_next(&t, path)) == 1) {
        long step;
        double v[C_COLS];
        rc = logread_integer(&t, path, col[0], 0, LOGREAD_STEP_MAX, &step) || logread_number(&t, path, col[1], &v[C_EIG]) ||
             logread_number(&t, path, col[2], &v[C_SHARP]) || logread_number(&t, path, col[3], &v[C_TWO]) ? -1 : 0;
        v[C_X] = (double)step * xk;
        if (rc == 0) series_add(s, v);
    }
    csv_table_free(&t);
    return rc < 0 ? -1 : 0;
}

int fig_curvature(figmodel_t *m, const figure_input_t *in) {
    const view_source_t *src = in->src;
    series_t (*seeds)[VIEW_MAX_SEEDS] = xcalloc((size_t)src->nv, sizeof *seeds, "curvature");
    int rc = 0, logged = 0, points = 0;
    for (int i = 0; i < src->nv && rc == 0; i++)
        for (int k = 0; k < src->ns && rc == 0; k++) {
            char run[BNLAB_PATH_MAX];
            view_run_dir(src, i, k, run, sizeof run);
            series_init(&seeds[i][k], C_COLS);
            int exists;
            rc = read_run(run, in->xk[i], &seeds[i][k], &exists);
            logged += exists, points += seeds[i][k].n;
        }
    if (rc == 0 && !logged) {
        figmodel_init(m, "curvature", 0, 1);
        snprintf(m->note, sizeof m->note, "Curvature (the loss Hessian's top eigenvalue and the batch sharpness): not "
                 "logged in this run (curvature.csv; turn it on with log.curvature_every: N).");
        rc = 1;
    } else if (rc == 0 && !points) {
        figmodel_init(m, "curvature", 0, 1);
        snprintf(m->note, sizeof m->note, "Curvature: curvature.csv has no row yet.");
    } else if (rc == 0) {
        figmodel_init(m, "curvature", 2, 2);
        m->one_key = 1;
        snprintf(m->xlabel, sizeof m->xlabel, "%s", in->xlabel);
        // What the loss was measured on (log.curvature_source: the step's batch, the default, or the probe sample).
        int on[2] = {0, 0};
        for (int i = 0; i < src->nv; i++) {
            char run[BNLAB_PATH_MAX];
            view_run_dir(src, i, 0, run, sizeof run);
            cJSON *cfg = figure_run_config(run);
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cfg, "log"), "curvature_source");
            on[cJSON_IsString(c) && !strcmp(c->valuestring, "probe")] = 1;
            cJSON_Delete(cfg);
        }
        snprintf(m->title, sizeof m->title, "Curvature of the loss on %s, and the edge of stability 2/η (Cohen et al. "
                 "2021): %s", on[0] && on[1] ? "each probed step's mini-batch or the probe images (per variant)"
                 : on[1] ? "the fixed probe images" : "each probed step's mini-batch",
                 src->ns > 1 ? "median over seeds thick, each seed faint" : "one seed");
        snprintf(m->p[0].title, sizeof m->p[0].title, "Top eigenvalue of the Hessian");
        snprintf(m->p[1].title, sizeof m->p[1].title, "Batch sharpness gᵀHg / ‖g‖² along the gradient");
        snprintf(m->p[0].ylabel, sizeof m->p[0].ylabel, "top eigenvalue");
        snprintf(m->p[1].ylabel, sizeof m->p[1].ylabel, "sharpness");
        series_t med[VIEW_MAX_VARIANTS];
        double rate[VIEW_MAX_VARIANTS];  // a variant's 2/η when the same in every row, else NaN (a schedule)
        for (int i = 0; i < src->nv; i++) {
            series_t all;
            series_init(&all, C_COLS);
            rate[i] = NAN;
            int constant = 1;
            for (int k = 0; k < src->ns; k++)
                for (int r = 0; r < seeds[i][k].n; r++) {
                    const double *row = seeds[i][k].v + (size_t)r * C_COLS;
                    series_add(&all, row);
                    if (isfinite(row[C_TWO])) {
                        if (isnan(rate[i])) rate[i] = row[C_TWO];
                        constant &= row[C_TWO] == rate[i];
                    }
                }
            if (!constant) rate[i] = NAN;
            series_median_by_step(&all, &med[i]);
            series_free(&all);
        }
        for (int j = 0; j < 2; j++) {
            figpanel_t *p = &m->p[j];
            for (int i = 0; i < src->nv; i++) {
                const view_variant_t *v = &src->v[i];
                for (int k = 0; k < src->ns && src->ns > 1; k++)
                    if (seeds[i][k].n) figmodel_add(p, CURVE_LINE, &seeds[i][k], C_X, C_EIG + j, 0, v->color, v->style, 1.2, 0.35, NULL);
                if (med[i].n)
                    figmodel_add(p, CURVE_LINE, &med[i], C_X, C_EIG + j, 0, v->color, v->style, 3, 1, src->is_compare ? v->label : NULL);
            }
            // The lines: one per constant 2/η over the steps of every variant that has it; a variant whose rate
            // changes (a schedule) its own, named.
            for (int i = 0; i < src->nv; i++) {
                if (!med[i].n) continue;
                char t[320];
                series_t line;
                series_init(&line, C_COLS);
                if (isfinite(rate[i])) {
                    int first = 1;
                    for (int j2 = 0; j2 < i; j2++) first &= !(med[j2].n && rate[j2] == rate[i]);
                    if (!first) {
                        series_free(&line);
                        continue;
                    }
                    double x0 = INFINITY, x1 = -INFINITY;
                    for (int j2 = i; j2 < src->nv; j2++)
                        if (med[j2].n && rate[j2] == rate[i]) series_extent(&med[j2], C_X, C_X, &x0, &x1);
                    series_add(&line, (double[C_COLS]){x0, NAN, NAN, rate[i]});
                    series_add(&line, (double[C_COLS]){x1, NAN, NAN, rate[i]});
                    snprintf(t, sizeof t, "2/η = %g (edge of stability)", rate[i]);
                } else {
                    for (int r = 0; r < med[i].n; r++) series_add(&line, med[i].v + (size_t)r * C_COLS);
                    snprintf(t, sizeof t, "2/η: %s", src->v[i].label);
                }
                figcurve_t *c = figmodel_add(p, CURVE_LINE, &line, C_X, C_TWO, 0, THEORY_COLOR, 1, 2, 1, t);
                if (c) c->bare = 1;
                series_free(&line);
            }
        }
        for (int i = 0; i < src->nv; i++) series_free(&med[i]);
        figmodel_finish(m, 1, 1, 1);
    }
    for (int i = 0; i < src->nv; i++)
        for (int k = 0; k < src->ns; k++) series_free(&seeds[i][k]);
    free(seeds);
    return rc;
}
