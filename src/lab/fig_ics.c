// ics: internal covariate shift as Santurkar, Tsipras, Ilyas & Mądry (2018, Def. 2.1) define it, from ics.csv
// (log.ics_every): for dense layer i, G is the gradient of its weights before a step and G′ the same after updating
// only the layers below i, on the same batch. Two rows of panels, a column per dense layer from the second: the
// relative size ‖G − G′‖ / ‖G‖ (l2_diff / grad_norm; a logarithmic axis when it spans a factor of 100) and the cosine
// cos(G, G′) (0 or below to 1, so that "close to 1" looks it). Every variant on the same axes in its colour (BN and
// no BN compared in one panel, as the text compares them), each seed faint and the median over seeds thick. Fewer
// than two ICS steps logged: no panel, a line says why.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lab/figures.h"
#include "run/ics.h"
#include "run/rundir.h"
#include "view/logread.h"

#define ICS_MAX_DENSE 16

// One run's rows s[d - 1] = (x, l2_diff / grad_norm, cosine) of dense layer d (a relative size that is not > 0 is
// left out: its axis may be logarithmic). Its largest dense layer; 0 also without ics.csv (*exists says); -1.
static int read_run(const char *run, double xk, series_t *s, int *exists) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run, RUNDIR_ICS);
    csv_table_t t;
    int rc = logread_open(&t, path), col[5], nd = 0;
    *exists = rc == 0;
    if (rc != 0) return rc < 0 ? -1 : 0;
    static const char *const names[5] = {"step", "dense", "grad_norm", "l2_diff", "cosine"};
    for (int c = 0; c < 5 && rc == 0; c++) rc = (col[c] = logread_column(&t, path, names[c])) < 0 ? -1 : 0;
    while (rc == 0 && (rc = logread_next(&t, path)) == 1) {
        long step, d;
        double g, l2, cs;
        rc = logread_integer(&t, path, col[0], 0, LOGREAD_STEP_MAX, &step) || logread_integer(&t, path, col[1], 1, 1 << 20, &d) ||
             logread_number(&t, path, col[2], &g) || logread_number(&t, path, col[3], &l2) ||
             logread_number(&t, path, col[4], &cs) ? -1 : 0;
        if (rc != 0 || d > ICS_MAX_DENSE) continue;
        double rel = l2 / g;
        series_add(&s[d - 1], (double[3]){(double)step * xk, rel > 0 ? rel : NAN, cs});
        if (d > nd) nd = (int)d;
    }
    csv_table_free(&t);
    return rc < 0 ? -1 : nd;
}

int fig_ics(figmodel_t *m, const figure_input_t *in) {
    const view_source_t *src = in->src;
    series_t (*runs)[ICS_MAX_DENSE][VIEW_MAX_SEEDS] = xcalloc((size_t)src->nv, sizeof *runs, "ics");
    int rc = 0, nd = 0, logged = 0, points = 0;
    for (int i = 0; i < src->nv && rc == 0; i++)
        for (int k = 0; k < src->ns && rc == 0; k++) {
            char run[BNLAB_PATH_MAX];
            view_run_dir(src, i, k, run, sizeof run);
            series_t s[ICS_MAX_DENSE];
            for (int d = 0; d < ICS_MAX_DENSE; d++) series_init(&s[d], 3);
            int exists, n = read_run(run, in->xk[i], s, &exists);
            if (n < 0) rc = -1;
            logged += exists;
            if (n > nd) nd = n;
            for (int d = 0; d < ICS_MAX_DENSE; d++) {
                runs[i][d][k] = s[d];
                if (d >= 1 && s[d].n > points) points = s[d].n;
            }
        }
    static const char TITLE[] = "Internal covariate shift (Santurkar et al. 2018, Def. 2.1), %s\nG: W_i's gradient "
                                "before a step; G′: the same after updating only the layers below i";
    char seeds[96];
    if (src->ns > 1) snprintf(seeds, sizeof seeds, "%d seeds: median thick, each faint", src->ns);
    else snprintf(seeds, sizeof seeds, "seed %ld", src->seeds[0]);
    if (rc == 0 && !logged) {
        figmodel_init(m, "ics", 0, 1);
        snprintf(m->note, sizeof m->note, "ICS: not logged in this run (ics.csv; turn it on with log.ics_every, e.g. "
                 "--set log.ics_every=500).");
        rc = 1;
    } else if (rc == 0 && (nd < 2 || points < 2)) {  // a line needs two ICS steps: say why there is none
        figmodel_init(m, "ics", 0, 1);
        snprintf(m->title, sizeof m->title, TITLE, seeds);
        snprintf(m->note, sizeof m->note, "%s", nd < 2 || points == 0
                 ? "No ICS step was logged: the run stopped before the first of log.ics_every steps."
                 : "One ICS step was logged: a line needs two (a smaller log.ics_every, or a longer run).");
    } else if (rc == 0) {
        int cols = nd - 1;
        figmodel_init(m, "ics", 2 * cols, cols);
        snprintf(m->xlabel, sizeof m->xlabel, "%s", in->xlabel);
        snprintf(m->title, sizeof m->title, TITLE, seeds);
        static const char *const what[2] = {"‖G − G′‖ / ‖G‖", "cos(G, G′)"};
        for (int w = 0; w < 2; w++)
            for (int d = 2; d <= nd; d++) {
                figpanel_t *p = &m->p[w * cols + d - 2];
                snprintf(p->title, sizeof p->title, "dense layer %d: %s", d, what[w]);
                snprintf(p->ylabel, sizeof p->ylabel, "%s", what[w]);
                snprintf(p->note, sizeof p->note, "no finite values logged");
                for (int i = 0; i < src->nv; i++) {
                    const view_variant_t *v = &src->v[i];
                    figmodel_add_seeds(p, runs[i][d - 1], src->ns, 1 + w, v->color, v->style, src->is_compare ? v->label : NULL);
                    fig_mark_diverged(p, src, i, in->xk[i], runs[i][d - 1], 1 + w);
                }
            }
        figmodel_finish(m, 0, 0, 1);
        for (int w = 0; w < 2; w++) {  // a row shares its y axis
            double lo = INFINITY, hi = -INFINITY;
            for (int c = 0; c < cols; c++) lo = fmin(lo, m->p[w * cols + c].y0), hi = fmax(hi, m->p[w * cols + c].y1);
            if (!(hi >= lo)) lo = 0, hi = 1;
            if (w == 1) lo = fmin(lo, 0), hi = 1;
            for (int c = 0; c < cols; c++) {
                figpanel_t *p = &m->p[w * cols + c];
                p->y0 = lo, p->y1 = hi, p->yfixed = 1, p->ylog = w == 0 && lo > 0 && hi / lo >= 100;
            }
        }
    }
    for (int i = 0; i < src->nv; i++)
        for (int d = 0; d < ICS_MAX_DENSE; d++)
            for (int k = 0; k < src->ns; k++) series_free(&runs[i][d][k]);
    free(runs);
    return rc;
}
