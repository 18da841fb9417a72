// The ICS and landscape panels of report_panels.h (Santurkar et al. 2018, Def. 2.1 and Fig. 4): ics.csv and
// landscape_band.csv of every seed, the median over seeds at each step.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "view/logread.h"
#include "lab/report_panels.h"
#include "view/svg.h"
#include "view/variant.h"
#include "run/rundir.h"

// Rows of a run's log by key (a dense layer; 0 for a log with one row per step) into s[key], each row the named
// columns as numbers, the first (the step) an integer. The ICS rows become (step, l2_diff / grad_norm, cosine).
typedef struct {
    const char *file;
    const char *key;  // column of the key, or NULL
    const char *cols[6];
    int ncols;
} log_spec_t;

static const log_spec_t ICS = {RUNDIR_ICS, "dense", {"step", "grad_norm", "l2_diff", "cosine"}, 4};
static const log_spec_t BAND = {RUNDIR_LANDSCAPE_BAND, NULL,
                                {"step", "loss_min", "loss_max", "grad_diff_min", "grad_diff_max", "beta_eff"}, 6};

typedef struct {
    series_t s[REPORT_MAX_HIDDEN];
    int nk, logged;  // keys seen (s[0..nk)), seeds with the log
    report_progress_t prog;
} keyed_t;

static int read_row(const csv_table_t *t, const char *path, const log_spec_t *sp, const int *col, double *row) {
    long step;
    if (logread_integer(t, path, col[0], 0, LOGREAD_STEP_MAX, &step) != 0) return -1;
    row[0] = (double)step;
    for (int c = 1; c < sp->ncols; c++)
        if (logread_number(t, path, col[c], &row[c]) != 0) return -1;
    if (sp == &ICS) row[1] = row[2] / row[1], row[2] = row[3];  // ||G - G'|| / ||G||, cos(G, G')
    return 0;
}

static int keyed_read_run(keyed_t *v, const log_spec_t *sp, const char *run) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run, sp->file);
    csv_table_t t;
    int rc = logread_open(&t, path), col[6], ck = -1;
    if (rc != 0) return rc < 0 ? -1 : 0;
    v->logged++;
    for (int c = 0; c < sp->ncols && rc == 0; c++) rc = (col[c] = logread_column(&t, path, sp->cols[c])) < 0 ? -1 : 0;
    if (rc == 0 && sp->key) rc = (ck = logread_column(&t, path, sp->key)) < 0 ? -1 : 0;
    int out_cols = sp == &ICS ? 3 : sp->ncols;
    double row[6], last = 0;
    long key = 1;
    while (rc == 0 && (rc = logread_next(&t, path)) == 1) {
        rc = read_row(&t, path, sp, col, row) || (ck >= 0 && logread_integer(&t, path, ck, 1, 1 << 20, &key)) ? -1 : 0;
        if (rc != 0 || key > REPORT_MAX_HIDDEN) continue;
        for (; v->nk < key; v->nk++) series_init(&v->s[v->nk], out_cols);
        series_add(&v->s[key - 1], row);
        if (row[0] > last) last = row[0];
    }
    csv_table_free(&t);
    report_progress_add(&v->prog, last);
    return rc < 0 ? -1 : 0;
}

static int keyed_read(keyed_t *v, const log_spec_t *sp, const report_panel_t *p) {
    memset(v, 0, sizeof *v);
    for (int s = 0; s < p->n_runs; s++)
        if (keyed_read_run(v, sp, p->runs[s]) != 0) return -1;
    series_median_thin_all(v->s, v->nk, REPORT_MAX_POINTS);
    return 0;
}

static void keyed_free(keyed_t *v, int np) {
    for (int i = 0; i < np; i++)
        for (int k = 0; k < v[i].nk; k++) series_free(&v[i].s[k]);
    free(v);
}

// Reads every panel's log; the x end over all of them; the number of panels with the log.
static int keyed_all(keyed_t *v, const log_spec_t *sp, const report_panel_t *p, int np, double *x1, int *logged) {
    *x1 = 1, *logged = 0;
    for (int i = 0; i < np; i++) {
        if (keyed_read(&v[i], sp, &p[i]) != 0) return -1;
        *logged += v[i].logged > 0;
        for (int k = 0; k < v[i].nk; k++)
            if (v[i].s[k].n && v[i].s[k].v[(size_t)(v[i].s[k].n - 1) * v[i].s[k].cols] > *x1)
                *x1 = v[i].s[k].v[(size_t)(v[i].s[k].n - 1) * v[i].s[k].cols];
    }
    return 0;
}

static void absent_note(strbuf_t *b, const char *text, const keyed_t *v, int np) {
    int logged = 0;
    for (int i = 0; i < np; i++) logged += v[i].logged > 0;
    if (logged && logged < np) strbuf_printf(b, "<p class=\"note\">%s: logged by %d of the %d variants.</p>\n", text,
                                             logged, np);
}

// Every variant's colour and line style, once above a section's panels.
static void variant_legend(strbuf_t *b, const report_panel_t *p, int np) {
    svg_entry_t e[REPORT_MAX_PANELS];
    for (int i = 0; i < np; i++) e[i] = (svg_entry_t){p[i].color, view_dash_svg(p[i].style), p[i].name};
    svg_legend(b, e, np);
}

// ---- ICS: per dense layer k >= 2, the relative size (w = 0) or the cosine (w = 1), one line per variant

static void ics_panel(strbuf_t *b, const svg_frame_t *f, const keyed_t *v, const report_panel_t *p, int np, int k,
                      int w) {
    static const char *const what[2] = {"\u2016G \u2212 G\u2032\u2016 / \u2016G\u2016", "cos(G, G\u2032)"};
    char title[192];
    int n = 0;
    for (int i = 0; i < np; i++) n += k < v[i].nk && v[i].s[k].n > 0;
    char attrs[96];
    snprintf(attrs, sizeof attrs, "data-dense=\"%d\" data-series=\"%d\" data-quantity=\"%s\"", k + 1, n,
             w ? "cosine" : "relative");
    snprintf(title, sizeof title, "dense layer %d: %s", k + 1, what[w]);
    svg_open(b, f, "ics", attrs, title, what[w]);
    for (int i = 0; i < np; i++) {
        if (k >= v[i].nk || !v[i].s[k].n) continue;
        const series_t *s = &v[i].s[k];
        svg_line(b, f, s->v, s->cols, s->v + 1 + w, s->cols, s->n, p[i].color, 2.5, 1, view_dash_svg(p[i].style));
        report_progress_mark(b, f, &v[i].prog);
    }
    strbuf_printf(b, "</svg>\n");
}

static int ics_section(strbuf_t *b, const report_panel_t *p, int np, keyed_t *v) {
    double x1;
    int logged, nk = 0, points = 0;
    if (keyed_all(v, &ICS, p, np, &x1, &logged) != 0) return -1;
    for (int i = 0; i < np; i++) {
        if (v[i].nk > nk) nk = v[i].nk;
        for (int k = 1; k < v[i].nk; k++) points = v[i].s[k].n > points ? v[i].s[k].n : points;
    }
    strbuf_printf(b, "<h2 id=\"ics\">Internal covariate shift (Santurkar et al. 2018, Def. 2.1)</h2>\n");
    if (!logged) {
        strbuf_printf(b, "<p class=\"note absent\" id=\"ics-absent\">ICS: not logged in this run (turn it on with "
                         "<code>log.ics_every</code>, e.g. <code>--set log.ics_every=500</code>).</p>\n");
        return 0;
    }
    if (points < 2) {
        strbuf_printf(b, "<p class=\"note absent\" id=\"ics-absent\">ICS: %s, and a line needs two (a smaller "
                         "<code>log.ics_every</code>, or a longer run).</p>\n",
                      points ? "one ICS step was logged" : "no ICS step was logged yet");
        return 0;
    }
    strbuf_printf(b, "<p class=\"note\">From ics.csv: G is the gradient of dense layer i's weights before a step, "
                     "G\u2032 the same after updating only the layers below i, on the same batch; plotted as logged "
                     "(l2_diff / grad_norm, and cosine); one panel per dense layer from the second, the variants on "
                     "its axes; each row shares its y axis. ");
    char seeds[96];
    report_seeds_text(seeds, sizeof seeds, &p[0], v[0].logged);
    strbuf_printf(b, "Lines: %s.</p>\n", seeds);
    absent_note(b, "ics.csv", v, np);
    variant_legend(b, p, np);
    for (int w = 0; w < 2; w++) {
        double lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < np; i++)
            for (int k = 1; k < v[i].nk; k++) series_extent(&v[i].s[k], 1 + w, 1 + w, &lo, &hi);
        svg_frame_t f = {.w = report_panel_width(nk - 1), .h = 310, .x0 = 0, .x1 = x1};
        report_yrange(lo, hi, !w, &f.y0, &f.y1, &f.ylog);
        if (w) f.y0 = fmin(f.y0, 0), f.y1 = 1;  // a cosine: from 0 (or below) to 1, so "close to 1" looks it
        strbuf_printf(b, "<div class=\"row\">\n");
        for (int k = 1; k < nk; k++) ics_panel(b, &f, v, p, np, k, w);
        strbuf_printf(b, "</div>\n");
    }
    return 0;
}

int report_ics(strbuf_t *b, const report_panel_t *p, int np) {
    keyed_t *v = xcalloc((size_t)np, sizeof *v, "report ics");
    int rc = ics_section(b, p, np, v);
    keyed_free(v, np);
    return rc;
}

// ---- landscape: three panels (loss band, gradient-predictiveness band, beta_eff), the variants overlaid

static void ls_panel(strbuf_t *b, const report_panel_t *p, int np, const keyed_t *v, double x1,
                     int q) {
    static const char *const title[3] = {"(a) loss: L(x \u2212 \u03b7g), min to max",
                                         "(b) \u2016\u2207L(x \u2212 \u03b7g) \u2212 g\u2016, min to max",
                                         "(c) \u03b2_eff: max of (b) / \u2016\u03b7g\u2016"};
    static const char *const ylabel[3] = {"loss", "\u2016\u2207L(x \u2212 \u03b7g) \u2212 g\u2016", "\u03b2_eff"};
    static const char *const quantity[3] = {"loss", "grad_diff", "beta_eff"};
    double lo = INFINITY, hi = -INFINITY;
    int n = 0;
    for (int i = 0; i < np; i++)
        if (v[i].nk) series_extent(&v[i].s[0], 1 + 2 * q, q == 2 ? 5 : 2 + 2 * q, &lo, &hi), n += v[i].s[0].n > 0;
    svg_frame_t f = {.w = report_panel_width(np), .h = 320, .x0 = 0, .x1 = x1};
    report_yrange(lo, hi, 1, &f.y0, &f.y1, &f.ylog);
    char attrs[96];
    snprintf(attrs, sizeof attrs, "data-quantity=\"%s\" data-series=\"%d\"", quantity[q], n);
    svg_open(b, &f, "landscape", attrs, title[q], ylabel[q]);
    for (int j = 0; j < np; j++) {
        const series_t *s = v[j].nk ? &v[j].s[0] : NULL;
        if (!s || !s->n) continue;
        const char *c = p[j].color, *dash = view_dash_svg(p[j].style);
        if (q < 2) svg_band(b, &f, s->v, s->v + 1 + 2 * q, s->v + 2 + 2 * q, s->cols, s->n, c, 0.3, "series");
        else svg_line(b, &f, s->v, s->cols, s->v + 5, s->cols, s->n, c, 2, 1, dash);
    }
    strbuf_printf(b, "</svg>\n");
}

static int ls_section(strbuf_t *b, const report_panel_t *p, int np, keyed_t *v) {
    double x1;
    int logged;
    if (keyed_all(v, &BAND, p, np, &x1, &logged) != 0) return -1;
    strbuf_printf(b, "<h2 id=\"landscape\">Loss landscape along the gradient (Santurkar et al. 2018, Fig. 4)</h2>\n");
    if (!logged) {
        strbuf_printf(b, "<p class=\"note absent\" id=\"landscape-absent\">Landscape: not logged in this run "
                         "(landscape_band.csv; turn it on with <code>log.landscape.every</code>, e.g. "
                         "<code>--set log.landscape.every=1000</code>).</p>\n");
        return 0;
    }
    strbuf_printf(b, "<p class=\"note\">From landscape_band.csv: at a probe step, with g the step's own gradient, "
                     "the loss and the gradient are measured at x \u2212 \u03b7g for each step size \u03b7 of "
                     "log.landscape (the points are in landscape.csv); bands are their [min, max] over \u03b7, "
                     "\u03b2_eff the largest gradient change per unit of distance. The variants share each "
                     "panel's axes; a step whose values are not finite (a diverged point) is left out.</p>\n");
    absent_note(b, "landscape_band.csv", v, np);
    variant_legend(b, p, np);
    strbuf_printf(b, "<div class=\"row\">\n");
    for (int q = 0; q < 3; q++) ls_panel(b, p, np, v, x1, q);
    strbuf_printf(b, "</div>\n<p class=\"note\">");
    for (int j = 0; j < np; j++) {
        char seeds[96];
        report_seeds_text(seeds, sizeof seeds, &p[j], v[j].logged);
        strbuf_printf(b, "%s", j ? "; " : "");
        html_text(b, p[j].name);
        strbuf_printf(b, ": %s", seeds);
        if (v[j].prog.last_min < v[j].prog.last_max)
            strbuf_printf(b, " (fewer after step %.0f: seeds still going)", v[j].prog.last_min);
    }
    strbuf_printf(b, ".</p>\n");
    return 0;
}

int report_landscape(strbuf_t *b, const report_panel_t *p, int np) {
    keyed_t *v = xcalloc((size_t)np, sizeof *v, "report landscape");
    int rc = ls_section(b, p, np, v);
    keyed_free(v, np);
    return rc;
}
