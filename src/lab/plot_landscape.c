#include "lab/plot_landscape.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "io/csvtable.h"
#include "view/figure.h"
#include "view/logread.h"
#include "run/rundir.h"

#define LS_MAX_LOG ((size_t)1 << 30)
// Curves with more points than this are plain lines; fewer get their points (as in plot.c).
#define LS_MARK_POINTS 40
// β_eff of more probes than this (a noisy line each) gets a running median over this many probes on top.
#define LS_SMOOTH_ABOVE 200
#define LS_SMOOTH_WINDOW 21
#define LS_SMOOTH_WINDOW_TEXT "21"

// The per-probe columns of landscape_band.csv drawn here, in series column order after x.
enum { B_X, B_LMIN, B_LMAX, B_DMIN, B_DMAX, B_BETA, B_COLS };
// The aggregate over seeds: for each of the three quantities q, (median lo, median hi, lowest lo, highest hi); β has
// lo = hi (its median twice, its min and max over seeds).
enum { A_X, A_COLS = 1 + 3 * 4 };

static double at(const series_t *s, int row, int col) { return s->v[(size_t)row * (size_t)s->cols + (size_t)col]; }

static double field(const char *row, int col) {
    double v;
    return csv_field_double(row, col, &v) == 0 ? v : NAN;
}

// Opens RUN/FILE, finds names[0..n) and checks every row strictly (kinds: view/logread.h). 0; 1 if the file does
// not exist; -1 + message.
static int open_csv(csv_table_t *t, const char *run, const char *file, const char *const *names, int n, int *col,
                    const char *kinds) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run, file);
    int rc = logread_open(t, path);
    if (rc != 0) return rc;
    for (int i = 0; i < n && rc == 0; i++) rc = (col[i] = logread_column(t, path, names[i])) < 0 ? -1 : 0;
    if (rc == 0) rc = logread_check_all(t, path, col, kinds, n, -1);  // strictly, by view/logread.h's rule
    if (rc != 0) csv_table_free(t);
    return rc;
}

// One run's probes: rows (x, loss_min, loss_max, grad_diff_min, grad_diff_max, beta_eff). 0, 1 not logged, -1.
static int read_band(const char *run, double xk, series_t *s) {
    static const char *const names[] = {"step", "loss_min", "loss_max", "grad_diff_min", "grad_diff_max", "beta_eff"};
    int col[B_COLS];
    csv_table_t t;
    int rc = open_csv(&t, run, RUNDIR_LANDSCAPE_BAND, names, B_COLS, col, "innnnn");
    if (rc != 0) return rc;
    while (csv_table_next(&t)) {
        double r[B_COLS];
        for (int c = 0; c < B_COLS; c++) r[c] = field(t.row, col[c]);
        r[B_X] *= xk;
        if (isfinite(r[B_X])) series_add(s, r);
    }
    csv_table_free(&t);
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Median of v[0..n) (sorts it); NaN when n = 0.
static double median(double *v, int n) {
    if (n == 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The finite values of column c at x over the runs (each run's row at x, found from pos[k] on); their number.
static int values_at(const series_t *runs, int n, int *pos, double x, int c, double *v) {
    int m = 0;
    for (int k = 0; k < n; k++) {
        while (pos[k] < runs[k].n && at(&runs[k], pos[k], 0) < x) pos[k]++;
        if (pos[k] < runs[k].n && at(&runs[k], pos[k], 0) == x && isfinite(at(&runs[k], pos[k], c)))
            v[m++] = at(&runs[k], pos[k], c);
    }
    return m;
}

// Over seeds at each x of the longest run: per quantity (median of its lower end, median of its upper end, lowest
// lower end, highest upper end). A seed counts where its value is finite.
static void aggregate(const series_t *runs, int n, series_t *out) {
    int longest = 0;
    for (int k = 1; k < n; k++)
        if (runs[k].n > runs[longest].n) longest = k;
    series_init(out, A_COLS);
    double *v = xmalloc((size_t)n * sizeof *v, "landscape median");
    int *pos = xmalloc((size_t)n * sizeof *pos, "landscape median");
    static const int lo_col[3] = {B_LMIN, B_DMIN, B_BETA}, hi_col[3] = {B_LMAX, B_DMAX, B_BETA};
    for (int i = 0; i < runs[longest].n; i++) {
        double x = at(&runs[longest], i, 0), row[A_COLS] = {x};
        for (int q = 0; q < 3; q++)
            for (int end = 0; end < 2; end++) {
                memset(pos, 0, (size_t)n * sizeof *pos);
                int m = values_at(runs, n, pos, x, end ? hi_col[q] : lo_col[q], v);
                double med = median(v, m);  // v is sorted now
                row[1 + 4 * q + end] = med;
                row[1 + 4 * q + 2 + end] = m == 0 ? NAN : end ? v[m - 1] : v[0];
            }
        series_add(out, row);
    }
    free(v), free(pos);
}

// Widens [*lo, *hi] to the finite values of columns c0..c1; *nonpos counts values <= 0.
static void extent(const series_t *s, int c0, int c1, double *lo, double *hi, int *nonpos) {
    for (int i = 0; i < s->n; i++)
        for (int c = c0; c <= c1; c++) {
            double v = at(s, i, c);
            if (!isfinite(v)) continue;
            *lo = fmin(*lo, v), *hi = fmax(*hi, v);
            *nonpos += v <= 0;
        }
}

// A y axis over [lo, hi]: logarithmic when every value is > 0 and they span a factor of 10 or more.
static void y_axis(figure_t *f, double lo, double hi, int nonpos) {
    if (!(hi >= lo)) lo = 0, hi = 1;
    if (!nonpos && lo > 0 && hi / lo >= 10) figure_yaxis_log(f, lo, hi);
    else figure_axis(f, 'y', nonpos || lo <= 0 ? fmin(lo, 0) : lo, hi, 0);
}

// Rows (x, median of column col over the finite values among the window rows centred on each row) of a.
static void running_median(const series_t *a, int col, int window, series_t *out) {
    series_init(out, 2);
    double v[LS_SMOOTH_WINDOW];
    for (int i = 0; i < a->n; i++) {
        int m = 0;
        for (int j = i - window / 2; j <= i + window / 2; j++)
            if (j >= 0 && j < a->n && m < LS_SMOOTH_WINDOW && isfinite(at(a, j, col))) v[m++] = at(a, j, col);
        double row[2] = {at(a, i, 0), median(v, m)};
        series_add(out, row);
    }
}

// The curves of quantity q (0 loss, 1 gradient difference, 2 β_eff) of one variant: the light band over seeds,
// the dark band (or line) of the medians. With one x, error bars instead of bands.
static void quantity_curves(figure_t *f, strbuf_t *b, const series_t *a, int block, int q, const char *color, int seeds,
                            const char *name) {
    const char *c = color + 1;
    int m = 2 + 4 * q, one = a->n < 2;  // gnuplot column of the median of the lower end
    char spec[160];
    if (seeds > 1) {
        if (one) snprintf(spec, sizeof spec, "1:%d:%d:%d with yerrorbars pt 7 ps 1 lw 1.5 lc rgb '#80%s'", m, m + 2, m + 3, c);
        else snprintf(spec, sizeof spec, "1:%d:%d with filledcurves lc rgb '#C8%s'", m + 2, m + 3, c);
        figure_curve(f, b, block, spec, NULL);  // the page title says what the light band is
    }
    if (q < 2) {
        if (one) snprintf(spec, sizeof spec, "1:%d:%d:%d with yerrorbars pt 7 ps 1.5 lw 3 lc rgb '%s'", m, m, m + 1, color);
        else snprintf(spec, sizeof spec, "1:%d:%d with filledcurves lc rgb '#60%s'", m, m + 1, c);
    } else if (a->n > LS_SMOOTH_ABOVE) {  // many probes: a thin line each, and their running median on top
        snprintf(spec, sizeof spec, "1:%d with lines lw 1 lc rgb '#90%s'", m, c);
        figure_curve(f, b, block, spec, NULL);
        series_t r;
        running_median(a, m - 1, LS_SMOOTH_WINDOW, &r);
        snprintf(spec, sizeof spec, "1:2 with lines lw 4 lc rgb '%s'", color);
        figure_curve(f, b, figure_series(f, &r), spec, name);  // the panel title says what the thick line is
        series_free(&r);
        return;
    } else
        snprintf(spec, sizeof spec, "1:%d %s lw 3 lc rgb '%s'", m, a->n > LS_MARK_POINTS ? "with lines" : "with linespoints pt 7 ps 1.5",
                 color);
    figure_curve(f, b, block, spec, name);
}

// A cross at each diverged run's divergence, at the variant's last finite value of gnuplot column ycol; one legend
// entry.
static void mark_diverged(figure_t *f, strbuf_t *b, const lsplot_variant_t *v, const series_t *a, int ycol) {
    int nd = 0;
    long lo = 0, hi = 0;
    double y = NAN;
    for (int i = a->n - 1; i >= 0 && !isfinite(y); i--) y = at(a, i, ycol - 1);
    series_t c;
    series_init(&c, 2);
    for (int k = 0; k < v->n_runs; k++) {
        long s = v->diverged_at[k];
        if (s < 0) continue;
        double pt[2] = {(double)s * v->xk, isfinite(y) ? y : 0};
        series_add(&c, pt);
        lo = nd == 0 || s < lo ? s : lo, hi = s > hi ? s : hi;
        nd++;
    }
    if (nd) {
        char title[192], spec[64];
        if (v->n_runs == 1) snprintf(title, sizeof title, "%s: diverged at step %ld", v->name, lo);
        else if (lo == hi) snprintf(title, sizeof title, "%s: %d of %d diverged (step %ld)", v->name, nd, v->n_runs, lo);
        else snprintf(title, sizeof title, "%s: %d of %d diverged (steps %ld-%ld)", v->name, nd, v->n_runs, lo, hi);
        snprintf(spec, sizeof spec, "1:2 with points pt 2 ps 4 lw 4 lc rgb '%s'", v->color);
        figure_curve(f, b, figure_series(f, &c), spec, title);
    }
    series_free(&c);
}

// ---------------------------------------------------------------------------------------------------------------
// landscape: Fig. 4 (a, b, c)

static const char *const PANEL_TITLE[3] = {
    "(a) loss landscape\nL(w − η g): min to max over η",
    "(b) gradient predictiveness\n‖∇L(w − η g) − g‖: min to max over η",
    "(c) effective β-smoothness\nmax over η of (b) / ‖η g‖"};
static const char *const PANEL_Y[3] = {"training loss on the step's batch", "l2 distance to the step's gradient",
                                       "β_eff"};

static int fig_fig4(const char *plots, const lsplot_variant_t *v, int nv, const series_t *agg, const lsplot_opts_t *o) {
    figure_t f;
    if (figure_open(&f, plots, "landscape", 1, 3) != 0) return -1;
    figure_cmd(&f, "set multiplot title", "font bnlab_font(24) layout 1,3",
               "Along the step's gradient g, as in Santurkar et al. 2018, Fig. 4 (%s)%s", o->seeds, o->n_seeds > 1
               ? "\ndark: median over seeds of the band's ends (of β_eff in (c)); light: their range over seeds" : "");
    figure_cmd(&f, "set xlabel", "", "%s", o->xlabel);
    fprintf(f.gp, "set key width 0\n");  // three panels a row: the shared key's padding would not fit a divergence's entry
    int block[8];
    double xmax = 0;
    for (int i = 0; i < nv; i++) {
        block[i] = figure_series(&f, &agg[i]);
        if (agg[i].n) xmax = fmax(xmax, at(&agg[i], agg[i].n - 1, 0));
        for (int k = 0; k < v[i].n_runs; k++)
            if (v[i].diverged_at[k] >= 0) xmax = fmax(xmax, (double)v[i].diverged_at[k] * v[i].xk);
    }
    strbuf_t b = {0};
    for (int q = 0; q < 3; q++) {
        double lo = INFINITY, hi = -INFINITY;
        int nonpos = 0;
        for (int i = 0; i < nv; i++) extent(&agg[i], 1 + 4 * q, 4 + 4 * q, &lo, &hi, &nonpos);
        int smooth = 0;
        for (int i = 0; i < nv; i++) smooth |= q == 2 && agg[i].n > LS_SMOOTH_ABOVE;
        figure_cmd(&f, "set title", "", "%s%s", PANEL_TITLE[q], smooth ? "\nthick: median of "
                   LS_SMOOTH_WINDOW_TEXT " probes" : "");
        figure_cmd(&f, "set ylabel", "", "%s", PANEL_Y[q]);
        figure_xaxis(&f, 0, xmax, 1);
        y_axis(&f, lo, hi, nonpos);
        for (int i = 0; i < nv; i++) {
            if (block[i] < 0) continue;
            quantity_curves(&f, &b, &agg[i], block[i], q, v[i].color, v[i].n_runs, v[i].name);
            mark_diverged(&f, &b, &v[i], &agg[i], q < 2 ? 3 + 4 * q : 2 + 4 * q);
        }
        figure_plot(&f, &b, "no finite probe logged");
    }
    free(b.s);
    fprintf(f.gp, "unset multiplot\n");
    return figure_close(&f);
}

// ---------------------------------------------------------------------------------------------------------------
// landscape_eta: Fig. 11's view, the gradient difference against η at chosen steps

// One run's rows (eta, grad_diff) of the probe at `step`. 0, 1 not logged, -1.
static int read_eta(const char *run, long step, series_t *s) {
    static const char *const names[] = {"step", "eta", "grad_diff"};
    int col[3];
    csv_table_t t;
    int rc = open_csv(&t, run, RUNDIR_LANDSCAPE, names, 3, col, "inn");
    if (rc != 0) return rc;
    long k;
    while (csv_table_next(&t))
        if (csv_field_long(t.row, col[0], &k) == 0 && k == step) {
            double r[2] = {field(t.row, col[1]), field(t.row, col[2])};
            if (isfinite(r[0])) series_add(s, r);
        }
    csv_table_free(&t);
    if (s->n > 1) qsort(s->v, (size_t)s->n, 2 * sizeof *s->v, cmp_double);  // rows sort by η, their first value
    return 0;
}

// Over seeds at each η: rows (eta, median, min, max).
static void aggregate_eta(const series_t *runs, int n, series_t *out) {
    int longest = 0;
    for (int k = 1; k < n; k++)
        if (runs[k].n > runs[longest].n) longest = k;
    series_init(out, 4);
    double *v = xmalloc((size_t)n * sizeof *v, "landscape eta");
    int *pos = xcalloc((size_t)n, sizeof *pos, "landscape eta");
    for (int i = 0; i < runs[longest].n; i++) {
        double x = at(&runs[longest], i, 0);
        int m = values_at(runs, n, pos, x, 1, v);
        double med = median(v, m), row[4] = {x, med, m ? v[0] : NAN, m ? v[m - 1] : NAN};
        series_add(out, row);
    }
    free(v), free(pos);
}

// The default steps: the probes of the run probed furthest nearest to 1/10, 1/2 and all of its last probe step,
// distinct. Their number (0: no probe).
static int default_steps(const series_t *first, double xk, long *steps) {
    if (first->n == 0) return 0;
    double last = at(first, first->n - 1, 0);
    static const double frac[3] = {0.1, 0.5, 1};
    int n = 0;
    for (int k = 0; k < 3; k++) {
        int best = 0;
        for (int i = 1; i < first->n; i++)
            if (fabs(at(first, i, 0) - frac[k] * last) < fabs(at(first, best, 0) - frac[k] * last)) best = i;
        long s = lround(at(first, best, 0) / xk);
        if (n == 0 || steps[n - 1] != s) steps[n++] = s;
    }
    return n;
}

static int fig_eta(const char *plots, const lsplot_variant_t *v, int nv, const long *steps, int ns,
                   const lsplot_opts_t *o) {
    series_t agg[LSPLOT_MAX_STEPS][8];
    double lo = INFINITY, hi = -INFINITY, xlo = INFINITY, xhi = -INFINITY;
    int nonpos = 0, rc = 0;
    for (int p = 0; p < ns; p++)
        for (int i = 0; i < nv; i++) {
            series_t *runs = xcalloc((size_t)v[i].n_runs, sizeof *runs, "landscape eta");
            for (int k = 0; k < v[i].n_runs; k++) {
                series_init(&runs[k], 2);
                if (rc == 0 && read_eta(v[i].runs[k], steps[p], &runs[k]) < 0) rc = -1;
            }
            aggregate_eta(runs, v[i].n_runs, &agg[p][i]);
            for (int k = 0; k < v[i].n_runs; k++) series_free(&runs[k]);
            free(runs);
            extent(&agg[p][i], 1, 3, &lo, &hi, &nonpos);
            extent(&agg[p][i], 0, 0, &xlo, &xhi, &(int){0});
        }
    figure_t f;
    if (rc == 0 && (rc = figure_open(&f, plots, "landscape_eta", 1, ns)) == 0) {
        char layout[64];
        snprintf(layout, sizeof layout, "font bnlab_font(24) layout 1,%d", ns);
        figure_cmd(&f, "set multiplot title", layout, "Gradient predictiveness against the step size η, as in "
                   "Santurkar et al. 2018, Fig. 11 (%s)%s", o->seeds, o->n_seeds > 1 ?
                   "\n‖∇L(w − η g) − g‖: median over seeds (line), their range (band)" : "");
        fprintf(f.gp, "set xlabel 'step size η'\nset ylabel 'l2 distance to the step''s gradient'\n");
        strbuf_t b = {0};
        for (int p = 0; p < ns; p++) {
            figure_cmd(&f, "set title", "", "at step %ld", steps[p]);
            if (isfinite(xlo)) figure_axis(&f, 'x', xlo, xhi, 0);
            else figure_axis(&f, 'x', 0, 1, 0);
            y_axis(&f, lo, hi, nonpos);
            for (int i = 0; i < nv; i++) {
                int block = figure_series(&f, &agg[p][i]);
                if (block < 0) continue;
                char spec[128];
                if (v[i].n_runs > 1) {
                    const char *c = v[i].color + 1;
                    if (agg[p][i].n < 2) snprintf(spec, sizeof spec, "1:2:3:4 with yerrorbars pt 7 ps 1 lw 1.5 lc rgb '#80%s'", c);
                    else snprintf(spec, sizeof spec, "1:3:4 with filledcurves lc rgb '#B0%s'", c);
                    figure_curve(&f, &b, block, spec, NULL);  // the page title says what the band is
                }
                snprintf(spec, sizeof spec, "1:2 with linespoints pt 7 ps 1.5 lw 3 lc rgb '%s'", v[i].color);
                figure_curve(&f, &b, block, spec, v[i].name);
            }
            figure_plot(&f, &b, "not probed at this step");
        }
        free(b.s);
        fprintf(f.gp, "unset multiplot\n");
        rc = figure_close(&f);
    }
    for (int p = 0; p < ns; p++)
        for (int i = 0; i < nv; i++) series_free(&agg[p][i]);
    return rc;
}

// ---------------------------------------------------------------------------------------------------------------

static void remove_outputs(const char *plots, const char *name) {
    static const char *const ext[] = {"png", "svg", "pdf"};
    for (int k = 0; k < 3; k++) {
        char path[BNLAB_PATH_MAX];
        path_fmt(path, sizeof path, "%s/%s.%s", plots, name, ext[k]);
        remove(path);
    }
}

static int render(const char *plots, const char *name) {
    int r = figure_render(plots, name);
    if (r == 0) printf("plot: %s/%s.png\n", plots, name);
    else fprintf(stderr, "bnlab: %s\n", bnlab_errmsg());
    return r;
}

int plot_landscape(const char *plots, const lsplot_variant_t *v, int nv, const lsplot_opts_t *o) {
    if (nv > 8) nv = 8;
    series_t agg[8], first = {0};
    double first_xk = 1;
    int rc = 0, any = 0;
    for (int i = 0; i < nv; i++) {
        series_t *runs = xcalloc((size_t)v[i].n_runs, sizeof *runs, "landscape runs");
        for (int k = 0; k < v[i].n_runs; k++) {
            series_init(&runs[k], B_COLS);
            int r = rc == 0 ? read_band(v[i].runs[k], v[i].xk, &runs[k]) : 1;
            if (r < 0) rc = -1;
            any |= r == 0;
        }
        aggregate(runs, v[i].n_runs, &agg[i]);
        for (int k = 0; k < v[i].n_runs; k++)  // the run probed furthest, for the default steps
            if (runs[k].n && (!first.n || at(&runs[k], runs[k].n - 1, 0) / v[i].xk > at(&first, first.n - 1, 0) / first_xk))
                series_free(&first), first = runs[k], first_xk = v[i].xk, runs[k] = (series_t){0};
        for (int k = 0; k < v[i].n_runs; k++) series_free(&runs[k]);
        free(runs);
    }
    if (rc == 0 && !any) {
        remove_outputs(plots, "landscape"), remove_outputs(plots, "landscape_eta");
        rc = 2;
    }
    long steps[LSPLOT_MAX_STEPS];
    int ns = o->n_steps;
    if (ns > 0) memcpy(steps, o->steps, (size_t)ns * sizeof *steps);
    else ns = default_steps(&first, first_xk, steps);
    if (rc == 0) rc = fig_fig4(plots, v, nv, agg, o);
    if (rc == 0 && ns > 0) rc = fig_eta(plots, v, nv, steps, ns, o);
    if (rc == 0 && ns == 0) remove_outputs(plots, "landscape_eta");  // band files without a probe: no stale figure
    if (rc == 0) rc = render(plots, "landscape") != 0 ? 1 : 0;
    if (rc == 0 && ns > 0) rc = render(plots, "landscape_eta") != 0 ? 1 : 0;
    for (int i = 0; i < nv; i++) series_free(&agg[i]);
    series_free(&first);
    return rc;
}
