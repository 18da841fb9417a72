// layers: every hidden layer's input to its nonlinearity over steps, all its units (percentiles.csv's "all" rows,
// log.percentiles), as a fan (Ioffe & Szegedy 2015, Fig. 1(b, c) for a whole layer): the outer pair of logged
// percentiles as a light band, the next pair in as a darker one, the middle percentile (when their number is odd) as
// a line, in shades of the variant's colour. A row of panels per variant (the one order of view/variant.h), a column
// per hidden layer; a column shares its y axis, so a layer's drift reads across variants. Each percentile is the
// median over the seeds at each step (view/series.h; not a percentile of the seeds pooled); a one-seed source (plot
// --seed, the report's seed chooser) draws that seed's.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lab/figures.h"
#include "run/percentiles.h"
#include "run/rundir.h"
#include "view/logread.h"

#define LY_MAX_HIDDEN 6  // hidden layers drawn
#define LY_MAX_Q 9       // percentile columns (a config has at most 9)

typedef struct {
    int nq;
    char name[LY_MAX_Q][24];  // the header's names (p10, ...)
} pct_cols_t;

// "10th" for "p10" (English ordinals: 1st, 2nd, 3rd, 11th, 21st, 2.5th).
static void ordinal(char *out, size_t cap, const char *col) {
    if (col[0] == 'p') col++;
    char *end;
    long v = strtol(col, &end, 10);
    const char *suffix = "th";
    if (*end == '\0' && !(v % 100 >= 11 && v % 100 <= 13))
        suffix = v % 10 == 1 ? "st" : v % 10 == 2 ? "nd" : v % 10 == 3 ? "rd" : "th";
    snprintf(out, cap, "%s%s", col, suffix);
}

// One run's whole-layer rows into s[h - 1] (rows (x, q_1 .. q_nq)), hidden layers 1..LY_MAX_HIDDEN. Its number of
// hidden layers with rows; 0 also without percentiles.csv (*exists says); -1 + message.
static int read_run(const char *run, double xk, series_t *s, pct_cols_t *pc, int *exists, double *last) {
    for (int h = 0; h < LY_MAX_HIDDEN; h++) last[h] = NAN;
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run, RUNDIR_PERCENTILES);
    csv_table_t t;
    int rc = logread_open(&t, path), col[4], nh = 0;
    *exists = rc == 0;
    if (rc != 0) return rc < 0 ? -1 : 0;
    static const char *const names[4] = {"step", "hidden", "unit", "n"};
    for (int c = 0; c < 4 && rc == 0; c++) rc = (col[c] = logread_column(&t, path, names[c])) < 0 ? -1 : 0;
    pct_cols_t here = {0};
    size_t len;
    const char *f;
    while (rc == 0 && (f = csv_field(t.header, col[3] + 1 + here.nq, &len)) != NULL) {
        if (here.nq == LY_MAX_Q || len == 0 || len >= sizeof here.name[0])
            rc = bnlab_fail("%s: header: expected up to %d percentile columns (p15, ...) after \"n\"", path, LY_MAX_Q);
        else snprintf(here.name[here.nq++], sizeof here.name[0], "%.*s", (int)len, f);
    }
    if (rc == 0 && here.nq == 0) rc = bnlab_fail("%s: header: expected percentile columns (p15, ...) after \"n\", found none", path);
    if (rc == 0 && pc->nq && (pc->nq != here.nq || memcmp(pc->name, here.name, sizeof here.name)))
        rc = bnlab_fail("%s: header: expected the percentile columns of the other runs (%s, ...), found %s, ...", path,
                        pc->name[0], here.name[0]);
    if (rc == 0) *pc = here;
    while (rc == 0 && (rc = logread_next(&t, path)) == 1) {
        long step, h;
        double row[1 + LY_MAX_Q];
        for (int k = 0; k <= LY_MAX_Q; k++) row[k] = NAN;
        rc = logread_integer(&t, path, col[0], 0, LOGREAD_STEP_MAX, &step) || logread_integer(&t, path, col[1], 1, 1 << 20, &h) ? -1 : 0;
        for (int k = 0; k < pc->nq && rc == 0; k++) rc = logread_number(&t, path, col[3] + 1 + k, &row[1 + k]);
        if (rc != 0 || !csv_field_is(t.row, col[2], "all") || h > LY_MAX_HIDDEN) continue;
        row[0] = (double)step * xk;
        series_add(&s[h - 1], row);
        last[h - 1] = isfinite(last[h - 1]) ? fmax(last[h - 1], row[0]) : row[0];
        if (h > nh) nh = (int)h;
    }
    csv_table_free(&t);
    return rc < 0 ? -1 : nh;
}

int fig_layers(figmodel_t *m, const figure_input_t *in) {
    const view_source_t *src = in->src;
    series_t (*all)[LY_MAX_HIDDEN] = xcalloc((size_t)src->nv, sizeof *all, "layers");
    pct_cols_t pc = {0};
    int rc = 0, nh = 0, logged = 0;
    double (*last)[LY_MAX_HIDDEN][VIEW_MAX_SEEDS] = xcalloc((size_t)src->nv, sizeof *last, "layers");
    for (int i = 0; i < src->nv; i++)
        for (int h = 0; h < LY_MAX_HIDDEN; h++) series_init(&all[i][h], 1 + LY_MAX_Q);
    for (int i = 0; i < src->nv && rc == 0; i++)
        for (int k = 0; k < src->ns && rc == 0; k++) {
            char run[BNLAB_PATH_MAX];
            view_run_dir(src, i, k, run, sizeof run);
            double l[LY_MAX_HIDDEN];
            int exists, n = read_run(run, in->xk[i], all[i], &pc, &exists, l);
            for (int h = 0; h < LY_MAX_HIDDEN; h++) last[i][h][k] = l[h];
            if (n < 0) rc = -1;
            logged += exists;
            if (n > nh) nh = n;
        }
    if (rc == 0 && nh == 0) {
        figmodel_init(m, "layers", 0, 1);
        snprintf(m->note, sizeof m->note, "Each hidden layer's input: not logged in this run (percentiles.csv; turn it "
                 "on with log.percentiles.every, e.g. --set log.percentiles.every=100).");
        if (!logged) rc = 1;
    } else if (rc == 0) {
        figmodel_init(m, "layers", src->nv * nh, nh);
        snprintf(m->xlabel, sizeof m->xlabel, "%s", in->xlabel);
        char which[LY_MAX_Q * 12] = "", seeds[48];
        for (int k = 0; k < pc.nq; k++) {
            char o[16];
            ordinal(o, sizeof o, pc.name[k]);
            size_t n = strlen(which);
            snprintf(which + n, sizeof which - n, "%s%s", k ? ", " : "", o);
        }
        if (src->ns > 1) snprintf(seeds, sizeof seeds, "median of %d seeds", src->ns);
        else snprintf(seeds, sizeof seeds, "seed %ld", src->seeds[0]);
        snprintf(m->title, sizeof m->title, "Each hidden layer's input to its nonlinearity (all its units), %s: the "
                 "%s percentiles%s", seeds, which, src->nv > 1 ? "; each column shares its y axis" : "");
        for (int i = 0; i < src->nv; i++) {
            const view_variant_t *v = &src->v[i];
            for (int h = 0; h < nh; h++) {
                figpanel_t *p = &m->p[i * nh + h];
                const char *nl = h < v->n_nonlin ? v->nonlin[h] : "nonlinearity";
                snprintf(p->title, sizeof p->title, "%s%shidden layer %d (%s)", src->is_compare ? v->label : "",
                         src->is_compare ? ": " : "", h + 1, nl);
                snprintf(p->ylabel, sizeof p->ylabel, "input value");
                snprintf(p->note, sizeof p->note, "not logged");
                series_t med;
                if (src->ns > 1) figmodel_progress(p, last[i][h], src->ns);
                series_median_by_step(&all[i][h], &med);
                int n = pc.nq;
                for (int k = 0; k < n / 2 && med.n; k++) {  // outer bands first, lighter
                    char label[64];
                    char a[16], b[16];
                    ordinal(a, sizeof a, pc.name[k]), ordinal(b, sizeof b, pc.name[n - 1 - k]);
                    snprintf(label, sizeof label, "%s to %s", a, b);
                    figmodel_add(p, CURVE_BAND, &med, 0, 1 + k, n - k, v->color, 0, 1, k ? 0.45 : 0.22, label);
                }
                if (n % 2 && med.n) {
                    char label[24];
                    ordinal(label, sizeof label, pc.name[n / 2]);
                    figmodel_add(p, CURVE_LINE, &med, 0, 1 + n / 2, 0, v->color, v->style, 3, 1, label);
                }
                series_free(&med);
            }
        }
        figmodel_finish(m, 0, 0, 1);
        for (int h = 0; h < nh; h++) {  // a column (a hidden layer) shares its y axis
            double lo = INFINITY, hi = -INFINITY;
            for (int i = 0; i < src->nv; i++)
                if (m->p[i * nh + h].nc) lo = fmin(lo, m->p[i * nh + h].y0), hi = fmax(hi, m->p[i * nh + h].y1);
            for (int i = 0; i < src->nv; i++) m->p[i * nh + h].y0 = lo, m->p[i * nh + h].y1 = hi;
        }
    }
    for (int i = 0; i < src->nv; i++)
        for (int h = 0; h < LY_MAX_HIDDEN; h++) series_free(&all[i][h]);
    free(all), free(last);
    return rc;
}
