// landscape and landscape_eta: Santurkar, Tsipras, Ilyas & Mądry (2018, arXiv:1805.11604) Fig. 4 and Fig. 11 views,
// from the runs' landscape_band.csv and landscape.csv (log.landscape, run/landscape.h).
//   landscape      three panels, every variant on the same axes in its colour:
//                  (a) loss landscape: the band min_η .. max_η of L(θ_t − η g_t) against step t;
//                  (b) gradient predictiveness: the band min_η .. max_η of ‖∇L(θ_t − η g_t) − g_t‖;
//                  (c) effective β-smoothness: β_eff(t) = max_η ‖∇L(θ_t − η g_t) − g_t‖ / ‖η g_t‖.
//                  Over seeds (bnlab's choice; view/series.h): in (a, b) the dark band runs from the median over seeds
//                  of the η-band's lower end to the median of its upper end, the light band from the lowest lower end
//                  to the highest upper end; in (c) the line is the median over seeds and the light band their range.
//                  Every light band is drawn first, then every dark one (translucent), then the lines, so that no
//                  variant's band hides another's. Over more than 100 probes (c)'s median is a thin line under its
//                  running median over 21 probes (centred; fewer at the ends): a 10,000-step run probed every 50
//                  steps (200 probes, configs/landscape-relu.json) zigzags too much to read otherwise.
//   landscape_eta  Fig. 11's view: ‖∇L(θ_t − η g_t) − g_t‖ against η at a few probe steps t (a panel each, shared
//                  axes; figure_input_t.ls_steps, or the probes nearest to 1/10, 1/2 and all of the last probe step of
//                  the run probed furthest), the median over seeds with their range as a band.
// A y axis is logarithmic when every value drawn is > 0 and they span a factor of 100 or more (view/figmodel.h).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lab/figures.h"
#include "run/landscape.h"
#include "run/rundir.h"
#include "view/logread.h"

#define LS_SMOOTH_ABOVE 100
#define LS_SMOOTH_WINDOW 21

enum { B_X, B_LMIN, B_LMAX, B_DMIN, B_DMAX, B_BETA, B_STEP, B_COLS };

// One run's probes: rows (x, loss_min, loss_max, grad_diff_min, grad_diff_max, beta_eff, step). 0 (also without
// landscape_band.csv: *exists says), -1 + message.
static int read_band(const char *run, double xk, series_t *s, int *exists) {
    static const char *const names[] = {"step", "loss_min", "loss_max", "grad_diff_min", "grad_diff_max", "beta_eff"};
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run, RUNDIR_LANDSCAPE_BAND);
    csv_table_t t;
    int rc = logread_open(&t, path), col[6];
    *exists = rc == 0;
    if (rc != 0) return rc < 0 ? -1 : 0;
    for (int c = 0; c < 6 && rc == 0; c++) rc = (col[c] = logread_column(&t, path, names[c])) < 0 ? -1 : 0;
    while (rc == 0 && (rc = logread_next(&t, path)) == 1) {
        long step;
        double r[B_COLS];
        rc = logread_integer(&t, path, col[0], 0, LOGREAD_STEP_MAX, &step) ? -1 : 0;
        for (int c = 1; c < 6 && rc == 0; c++) rc = logread_number(&t, path, col[c], &r[c]);
        r[B_X] = (double)step * xk, r[B_STEP] = (double)step;
        if (rc == 0) series_add(s, r);
    }
    csv_table_free(&t);
    return rc < 0 ? -1 : 0;
}

// Rows (x, median of column col over the finite values of the window rows centred on each row) of a.
static void running_median(const series_t *a, int col, series_t *out) {
    series_t w;
    series_init(out, 2);
    for (int i = 0; i < a->n; i++) {
        series_init(&w, 2);
        for (int j = i - LS_SMOOTH_WINDOW / 2; j <= i + LS_SMOOTH_WINDOW / 2; j++)
            if (j >= 0 && j < a->n) series_add(&w, (double[2]){0, a->v[(size_t)j * (size_t)a->cols + (size_t)col]});
        series_t med;
        series_median_by_step(&w, &med);  // one step (0): the median of the window
        series_add(out, (double[2]){a->v[(size_t)i * (size_t)a->cols], med.n ? med.v[1] : NAN});
        series_free(&med), series_free(&w);
    }
}

static const char *const PANEL_TITLE[3] = {
    "(a) loss landscape\nL(w − η g): min to max over η",
    "(b) gradient predictiveness\n‖∇L(w − η g) − g‖: min to max over η",
    "(c) effective β-smoothness\nmax over η of (b) / ‖η g‖"};
static const char *const PANEL_Y[3] = {"training loss on the step's batch", "l2 distance to the step's gradient",
                                       "β_eff"};

// Every seed's probes of every variant: runs[i][k]. The number of runs with landscape_band.csv, or -1.
static int read_all(const figure_input_t *in, series_t (*runs)[VIEW_MAX_SEEDS]) {
    const view_source_t *src = in->src;
    int logged = 0;
    for (int i = 0; i < src->nv; i++)
        for (int k = 0; k < src->ns; k++) {
            char run[BNLAB_PATH_MAX];
            view_run_dir(src, i, k, run, sizeof run);
            series_init(&runs[i][k], B_COLS);
            int exists;
            if (read_band(run, in->xk[i], &runs[i][k], &exists) != 0) return -1;
            logged += exists;
        }
    return logged;
}

static void free_all(const view_source_t *src, series_t (*runs)[VIEW_MAX_SEEDS]) {
    for (int i = 0; i < src->nv; i++)
        for (int k = 0; k < src->ns; k++) series_free(&runs[i][k]);
    free(runs);
}

static const char NOT_LOGGED[] = "Landscape: not logged in this run (landscape_band.csv; turn it on with "
                                 "log.landscape.every, e.g. --set log.landscape.every=1000).";

static void seeds_text(char *out, size_t cap, const view_source_t *src) {
    if (src->ns > 1) snprintf(out, cap, "%d seeds", src->ns);
    else snprintf(out, cap, "seed %ld", src->seeds[0]);
}

int fig_landscape(figmodel_t *m, const figure_input_t *in) {
    const view_source_t *src = in->src;
    series_t (*runs)[VIEW_MAX_SEEDS] = xcalloc((size_t)src->nv, sizeof *runs, "landscape");
    int logged = read_all(in, runs), rc = logged < 0 ? -1 : 0;
    if (rc == 0 && !logged) {
        figmodel_init(m, "landscape", 0, 1);
        snprintf(m->note, sizeof m->note, "%s", NOT_LOGGED);
        rc = 1;
    } else if (rc == 0) {
        figmodel_init(m, "landscape", 3, 3);
        snprintf(m->xlabel, sizeof m->xlabel, "%s", in->xlabel);
        char seeds[32];
        seeds_text(seeds, sizeof seeds, src);
        snprintf(m->title, sizeof m->title, "Along the step's gradient g, as in Santurkar et al. 2018, Fig. 4 (%s)%s",
                 seeds, src->ns > 1 ? "\ndark: the median over seeds of each end (of β_eff in (c)); light: their range over seeds" : "");
        series_t med[VIEW_MAX_VARIANTS], lo[VIEW_MAX_VARIANTS], hi[VIEW_MAX_VARIANTS];
        for (int i = 0; i < src->nv; i++) {
            series_t all, copy;
            series_init(&all, B_COLS);
            for (int k = 0; k < src->ns; k++)
                for (int r = 0; r < runs[i][k].n; r++) series_add(&all, runs[i][k].v + (size_t)r * B_COLS);
            series_reduce_by_step(&all, &med[i], SERIES_MEDIAN);
            copy = all;  // sorted already: the other reductions need no copy of their own
            series_reduce_by_step(&copy, &lo[i], SERIES_MIN);
            series_reduce_by_step(&copy, &hi[i], SERIES_MAX);
            series_free(&all);
        }
        static const int cl[3] = {B_LMIN, B_DMIN, B_BETA}, ch[3] = {B_LMAX, B_DMAX, B_BETA};
        for (int q = 0; q < 3; q++) {
            figpanel_t *p = &m->p[q];
            snprintf(p->ylabel, sizeof p->ylabel, "%s", PANEL_Y[q]);
            snprintf(p->note, sizeof p->note, "no finite probe logged");
            int smooth = 0;
            for (int i = 0; i < src->nv; i++) smooth |= q == 2 && med[i].n > LS_SMOOTH_ABOVE;
            snprintf(p->title, sizeof p->title, "%s", PANEL_TITLE[q]);
            // In the figure's title, not the panel's: a third title line would push (c)'s frame below (a)'s and (b)'s
            // and overflow a third of a slide's width.
            if (smooth && strlen(m->title) + 48 < sizeof m->title)
                strcat(m->title, src->ns > 1 ? "; thick in (c): a running median of 21 probes"
                                             : "\nthick in (c): a running median of 21 probes");
            for (int i = 0; i < src->nv && src->ns > 1; i++) {  // light bands: the range over seeds, all first
                series_t band;
                series_init(&band, 3);
                for (int r = 0; r < lo[i].n; r++)
                    series_add(&band, (double[3]){lo[i].v[(size_t)r * B_COLS], lo[i].v[(size_t)r * B_COLS + cl[q]],
                                                  hi[i].v[(size_t)r * B_COLS + ch[q]]});
                figmodel_add(p, CURVE_BAND, &band, 0, 1, 2, src->v[i].color, 0, 1, 0.15, NULL);
                series_free(&band);
            }
            for (int i = 0; i < src->nv; i++) {
                const view_variant_t *v = &src->v[i];
                if (q < 2) figmodel_add(p, CURVE_BAND, &med[i], 0, cl[q], ch[q], v->color, 0, 1, 0.45, v->label);
            }
            for (int i = 0; i < src->nv; i++) {
                const view_variant_t *v = &src->v[i];
                if (q == 2 && med[i].n > LS_SMOOTH_ABOVE) {  // many probes: a thin line each, their running median on top
                    figmodel_add(p, CURVE_LINE, &med[i], 0, B_BETA, 0, v->color, v->style, 1, 0.45, NULL);
                    series_t r;
                    running_median(&med[i], B_BETA, &r);
                    figmodel_add(p, CURVE_LINE, &r, 0, 1, 0, v->color, v->style, 3.5, 1, v->label);
                    series_free(&r);
                } else if (q == 2) figmodel_add(p, CURVE_LINE, &med[i], 0, B_BETA, 0, v->color, v->style, 3, 1, v->label);
                fig_mark_diverged(p, src, i, in->xk[i], runs[i], q < 2 ? ch[q] : B_BETA);
            }
        }
        for (int i = 0; i < src->nv; i++) series_free(&med[i]), series_free(&lo[i]), series_free(&hi[i]);
        figmodel_finish(m, 0, 1, 1);
    }
    free_all(src, runs);
    return rc;
}

// ---- landscape_eta

// One run's rows (eta, grad_diff) of the probe at `step` from landscape.csv. 0, -1 + message.
static int read_eta(const char *run, long step, series_t *s) {
    static const char *const names[] = {"step", "eta", "grad_diff"};
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run, RUNDIR_LANDSCAPE);
    csv_table_t t;
    int rc = logread_open(&t, path), col[3];
    if (rc != 0) return rc < 0 ? -1 : 0;
    for (int c = 0; c < 3 && rc == 0; c++) rc = (col[c] = logread_column(&t, path, names[c])) < 0 ? -1 : 0;
    while (rc == 0 && (rc = logread_next(&t, path)) == 1) {
        long k;
        double eta, d;
        rc = logread_integer(&t, path, col[0], 0, LOGREAD_STEP_MAX, &k) || logread_finite(&t, path, col[1], &eta) ||
             logread_number(&t, path, col[2], &d) ? -1 : 0;
        if (rc == 0 && k == step) series_add(s, (double[2]){eta, d});
    }
    csv_table_free(&t);
    return rc < 0 ? -1 : 0;
}

int fig_landscape_eta(figmodel_t *m, const figure_input_t *in) {
    const view_source_t *src = in->src;
    series_t (*runs)[VIEW_MAX_SEEDS] = xcalloc((size_t)src->nv, sizeof *runs, "landscape");
    int logged = read_all(in, runs), rc = logged < 0 ? -1 : 0;
    long steps[FIG_MAX_LS_STEPS];
    int ns = in->n_ls_steps;
    if (ns > 0) memcpy(steps, in->ls_steps, (size_t)ns * sizeof *steps);
    else if (rc == 0) {  // the probes of the run probed furthest nearest to 1/10, 1/2 and all of its last probe step
        const series_t *first = NULL;
        for (int i = 0; i < src->nv; i++)
            for (int k = 0; k < src->ns; k++)
                if (runs[i][k].n && (!first || runs[i][k].v[(size_t)(runs[i][k].n - 1) * B_COLS + B_STEP] >
                                                   first->v[(size_t)(first->n - 1) * B_COLS + B_STEP]))
                    first = &runs[i][k];
        static const double frac[3] = {0.1, 0.5, 1};
        for (int f = 0; first && f < 3; f++) {
            double last = first->v[(size_t)(first->n - 1) * B_COLS + B_STEP];
            int best = 0;
            for (int r = 1; r < first->n; r++)
                if (fabs(first->v[(size_t)r * B_COLS + B_STEP] - frac[f] * last) <
                    fabs(first->v[(size_t)best * B_COLS + B_STEP] - frac[f] * last))
                    best = r;
            long s = lround(first->v[(size_t)best * B_COLS + B_STEP]);
            if (ns == 0 || steps[ns - 1] != s) steps[ns++] = s;
        }
    }
    if (rc == 0 && (!logged || ns == 0)) {
        figmodel_init(m, "landscape_eta", 0, 1);
        snprintf(m->note, sizeof m->note, "%s", NOT_LOGGED);
        rc = 1;
    } else if (rc == 0) {
        figmodel_init(m, "landscape_eta", ns, ns);
        snprintf(m->xlabel, sizeof m->xlabel, "step size η");
        char seeds[32];
        seeds_text(seeds, sizeof seeds, src);
        snprintf(m->title, sizeof m->title, "Gradient predictiveness against the step size η, as in Santurkar et al. "
                 "2018, Fig. 11 (%s)%s", seeds, src->ns > 1 ? "\n‖∇L(w − η g) − g‖: median over seeds (line), their "
                 "range (band)" : "");
        for (int p = 0; p < ns && rc == 0; p++) {
            figpanel_t *fp = &m->p[p];
            snprintf(fp->title, sizeof fp->title, "at step %ld", steps[p]);
            snprintf(fp->ylabel, sizeof fp->ylabel, "l2 distance to the step's gradient");
            snprintf(fp->note, sizeof fp->note, "not probed at this step");
            for (int i = 0; i < src->nv && rc == 0; i++) {
                series_t all, med, lo, hi, band;
                series_init(&all, 2);
                for (int k = 0; k < src->ns && rc == 0; k++) {
                    char run[BNLAB_PATH_MAX];
                    view_run_dir(src, i, k, run, sizeof run);
                    rc = read_eta(run, steps[p], &all);
                }
                series_reduce_by_step(&all, &med, SERIES_MEDIAN);
                series_reduce_by_step(&all, &lo, SERIES_MIN);
                series_reduce_by_step(&all, &hi, SERIES_MAX);
                series_init(&band, 3);
                for (int r = 0; r < med.n; r++) series_add(&band, (double[3]){med.v[2 * r], lo.v[2 * r + 1], hi.v[2 * r + 1]});
                if (src->ns > 1) figmodel_add(fp, CURVE_BAND, &band, 0, 1, 2, src->v[i].color, 0, 1, 0.3, NULL);
                figmodel_add(fp, CURVE_LINE, &med, 0, 1, 0, src->v[i].color, src->v[i].style, 3, 1, src->v[i].label);
                series_free(&all), series_free(&med), series_free(&lo), series_free(&hi), series_free(&band);
            }
        }
        figmodel_finish(m, 1, 1, 0);
    }
    free_all(src, runs);
    return rc;
}
