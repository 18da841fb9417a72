// The percentile fans of report_panels.h: percentiles.csv's whole-layer rows, median over seeds, per hidden layer.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "view/logread.h"
#include "lab/report_panels.h"
#include "view/svg.h"
#include "run/rundir.h"

#define FAN_MAX_Q 16

typedef struct {
    series_t s[REPORT_MAX_HIDDEN];  // per hidden layer: rows (step, q_1 .. q_nq)
    int nh, nq, logged;             // hidden layers seen, percentiles per row, seeds with a percentiles.csv
    report_progress_t prog;         // how far each seed's percentiles.csv goes
    char qname[FAN_MAX_Q][24];      // the header's names of the percentile columns (p15, ...)
} fan_t;

// The percentile columns: those after "n", to the header's end (one per log.percentiles.q).
static int fan_columns(fan_t *v, const csv_table_t *t, const char *path, int cn) {
    size_t len;
    const char *name;
    int nq = 0;
    char names[FAN_MAX_Q][24] = {{0}};
    while ((name = csv_field(t->header, cn + 1 + nq, &len)) != NULL) {
        if (nq == FAN_MAX_Q || len == 0 || len >= sizeof names[0])
            return bnlab_fail("%s: header: expected up to %d percentile columns (p15, ...) after \"n\"", path,
                              FAN_MAX_Q);
        snprintf(names[nq++], sizeof names[0], "%.*s", (int)len, name);
    }
    if (nq == 0) return bnlab_fail("%s: header: expected percentile columns (p15, ...) after \"n\", found none", path);
    int same = nq == v->nq;
    for (int k = 0; k < nq && same; k++) same = !strcmp(names[k], v->qname[k]);
    if (v->logged > 1 && !same)
        return bnlab_fail("%s: header: expected the percentile columns of the variant's first seed (%s, ...), "
                          "found %s, ...", path, v->qname[0], names[0]);
    v->nq = nq;
    memcpy(v->qname, names, sizeof names[0] * (size_t)nq);
    return 0;
}

// Adds one run's whole-layer rows to v: 0, -1 + message. Rows of single units are checked, not drawn.
static int fan_read_run(fan_t *v, const char *run) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run, RUNDIR_PERCENTILES);
    csv_table_t t;
    int rc = logread_open(&t, path);
    if (rc != 0) return rc < 0 ? -1 : 0;
    v->logged++;
    int cs = logread_column(&t, path, "step"), ch = cs < 0 ? -1 : logread_column(&t, path, "hidden"),
        cu = ch < 0 ? -1 : logread_column(&t, path, "unit"), cn = cu < 0 ? -1 : logread_column(&t, path, "n");
    rc = cn < 0 ? -1 : fan_columns(v, &t, path, cn);
    double row[1 + FAN_MAX_Q], last = 0;
    long step, h, u, n;
    while (rc == 0 && (rc = logread_next(&t, path)) == 1) {
        rc = logread_integer(&t, path, cs, 0, LOGREAD_STEP_MAX, &step) || logread_integer(&t, path, ch, 1, 1 << 20, &h) ||
             logread_integer(&t, path, cn, 0, LOGREAD_STEP_MAX, &n) ? -1 : 0;
        for (int k = 0; k < v->nq && rc == 0; k++) rc = logread_number(&t, path, cn + 1 + k, &row[1 + k]);
        if (rc == 0 && !csv_field_is(t.row, cu, "all")) {
            rc = logread_integer(&t, path, cu, 0, 1 << 20, &u);  // a unit's row: checked, not drawn
            continue;
        }
        if (rc != 0 || h > REPORT_MAX_HIDDEN) continue;
        if (v->nh < h) {
            for (int k = v->nh; k < h; k++) series_init(&v->s[k], 1 + v->nq);
            v->nh = (int)h;
        }
        row[0] = (double)step;
        series_add(&v->s[h - 1], row);
        if (row[0] > last) last = row[0];
    }
    csv_table_free(&t);
    report_progress_add(&v->prog, last);
    return rc < 0 ? -1 : 0;
}

// Every seed's rows, then their median at each step, thinned.
static int fan_read(fan_t *v, const report_panel_t *p) {
    memset(v, 0, sizeof *v);
    for (int s = 0; s < p->n_runs; s++)
        if (fan_read_run(v, p->runs[s]) != 0) return -1;
    series_median_thin_all(v->s, v->nh, REPORT_MAX_POINTS);
    return 0;
}

static void fan_free(fan_t *v) {
    for (int k = 0; k < v->nh; k++) series_free(&v->s[k]);
}

// One panel: hidden layer k of variant i, in frame f.
static void fan_panel(strbuf_t *b, const svg_frame_t *f, const fan_t *v, const report_panel_t *p, int i, int k) {
    char title[192], seeds[96];
    snprintf(title, sizeof title, "%s: hidden layer %d", p->name, k + 1);
    const series_t *s = k < v->nh ? &v->s[k] : NULL;
    int nq = s && s->n ? v->nq : 0;
    strbuf_t attrs = {0};
    report_attrs(&attrs, p->name, nq);
    strbuf_printf(&attrs, " data-hidden=\"%d\"", k + 1);
    svg_open(b, f, "fan", attrs.s, title, "input to the nonlinearity");
    free(attrs.s);
    const char *c = p->color;
    (void)i;
    for (int q = 0; q < nq / 2; q++)  // nested bands: the outer pair palest
        svg_band(b, f, s->v, s->v + 1 + q, s->v + nq - q, s->cols, s->n, c, 0.12, "band");
    for (int q = 0; q < nq; q++)
        svg_line(b, f, s->v, s->cols, s->v + 1 + q, s->cols, s->n, c, nq % 2 && q == nq / 2 ? 2.5 : 1, 1, NULL);
    if (nq == 0) {
        strbuf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">%s</text>\n", f->w / 2,
                      f->h / 2 - 20, v->logged ? "nothing logged for this layer yet" : "percentiles.csv absent");
    } else {
        strbuf_t key = {0};
        for (int q = 0; q < nq; q++) strbuf_printf(&key, "%s%s", q ? ", " : "", v->qname[q]);
        report_seeds_text(seeds, sizeof seeds, p, v->logged);
        report_progress_mark(b, f, &v->prog);
        strbuf_printf(b, "<text x=\"60\" y=\"%d\" class=\"tick\">", f->h - 14);
        html_text(b, key.s);
        strbuf_printf(b, "; %s</text>\n", seeds);
        free(key.s);
    }
    strbuf_printf(b, "</svg>\n");
}

static int fan_section(strbuf_t *b, const report_panel_t *p, int np, fan_t *v) {
    int nh = 0, logged = 0;
    double x1 = 1;
    for (int i = 0; i < np; i++) {
        if (fan_read(&v[i], &p[i]) != 0) return -1;
        nh = v[i].nh > nh ? v[i].nh : nh, logged += v[i].logged;
        for (int k = 0; k < v[i].nh; k++)
            if (v[i].s[k].n && v[i].s[k].v[(size_t)(v[i].s[k].n - 1) * v[i].s[k].cols] > x1)
                x1 = v[i].s[k].v[(size_t)(v[i].s[k].n - 1) * v[i].s[k].cols];
    }
    strbuf_printf(b, "<h2 id=\"fans\">Each hidden layer's input to its nonlinearity: percentiles over steps "
                     "(Ioffe &amp; Szegedy Fig. 1(b, c))</h2>\n");
    if (!logged || !nh) {
        strbuf_printf(b, "<p class=\"note absent\" id=\"fans-absent\">No percentiles: %s (turn them on with "
                         "<code>log.percentiles.every</code>, e.g. <code>--set log.percentiles.every=100</code>).</p>\n",
                      logged ? "percentiles.csv has no whole-layer (unit \"all\") row yet" : "no percentiles.csv, not logged in this run");
        return 0;
    }
    strbuf_printf(b, "<p class=\"note\">From percentiles.csv (whole-layer rows): every logged percentile as a line, "
                     "the pairs around the middle as bands; the variants without normalization first; each row "
                     "shares its y axis. A comparison's lines are the median over its seeds at each step.</p>\n");
    for (int k = 0; k < nh; k++) {
        double lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < np; i++)
            if (k < v[i].nh) series_extent(&v[i].s[k], 1, v[i].nq, &lo, &hi);
        svg_frame_t f = {.w = report_panel_width(np), .h = 300, .x0 = 0, .x1 = x1};
        report_yrange(lo, hi, 0, &f.y0, &f.y1, &f.ylog);
        strbuf_printf(b, "<div class=\"row\">\n");
        for (int j = 0; j < np; j++) fan_panel(b, &f, &v[j], &p[j], j, k);
        strbuf_printf(b, "</div>\n");
    }
    return 0;
}

int report_fans(strbuf_t *b, const report_panel_t *p, int np) {
    fan_t *v = xcalloc((size_t)np, sizeof *v, "report fans");
    int rc = fan_section(b, p, np, v);
    for (int i = 0; i < np; i++) fan_free(&v[i]);
    free(v);
    return rc;
}
