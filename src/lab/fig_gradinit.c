// gradinit: bnlab gradinit's measurement (run/gradinit.h) drawn from every gradinit-NAME.csv in the directory
// (bnlab gradinit CONFIG --out DIR, once per network): per dense layer l the squared weight-gradient norm
// ‖∂L/∂W_l‖² — the quantity whose growth gradinit fits — against l on a log y axis, its mean over the samples (inits
// x batches at initialization, batches after the steps) with an error bar of ± one sample std (cut at a tenth of the
// mean where it would reach zero or below; the title says so then); one curve per network in the colour of its
// normalization class (view/variant.h: black no normalization, blue BN, ...), networks of one class and activation
// told apart by line style and marker in the order of their depth; behind each, a faint thick line of its fitted
// growth over the layers it was fitted over (through the geometric mean of those layers' means), the factor and its
// 95 % interval in its legend entry; in the initialization panels, Yang et al. 2019's growth (the file's "theory":
// ReLU's π/(π−1) after BN) as a grey dashed line from the last fitted layer of the deepest network that has it.
// Panels: a row per activation (in the registry's order), a column at initialization and, when any file has them,
// one after the SGD steps. No file in the directory: no figure, a note naming the command that writes one.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lab/figures.h"
#include "nn/registry.h"
#include "run/gradinit.h"
#include "view/logread.h"
#include "view/variant.h"

// What one figure draws at most; a directory with more is refused in one line (never a figure that leaves some out):
// files, activations (a row of panels each) and networks of one activation (a line of the panel's text each, with
// Yang et al.'s line: FIG_MAX_TEXT).
#define GI_MAX_FILES 32
#define GI_MAX_ACT 8
#define GI_MAX_NETS (FIG_MAX_TEXT - 1)
#define GI_REF_COLOR "#555555"  // a theory's line: no variant's colour (as lab/fig_backward.c's references)

typedef struct {
    series_t s;             // rows (layer, mean, lo, hi) of quantity dW
    double growth, lo, hi, theory;
    long fit_first, fit_last, units, steps, n_min;
    int present, fitted;
} gi_when_t;

typedef struct {
    char name[128], act[32];
    view_class_t cls;
    long depth;
    int style;
    gi_when_t w[2];  // init, after
} gi_meas_t;

enum { C_NAME, C_NORM, C_ACT, C_DEPTH, C_WHEN, C_STEPS, C_Q, C_LAYER, C_MEAN, C_STD, C_N, C_G, C_GLO, C_GHI,
       C_UNITS, C_FIRST, C_LAST, C_THEORY, C_COUNT };

static view_class_t class_of(const char *key, size_t len) {
    for (int c = 0; c < VC_COUNT; c++)
        if (strlen(view_class_info((view_class_t)c)->key) == len && !memcmp(view_class_info((view_class_t)c)->key, key, len))
            return (view_class_t)c;
    return VC_OTHER;
}

// One file into g (strictly: view/logread.h). *clipped: an error bar was cut at a tenth of its mean. 0, -1 + message.
static int read_file(const char *path, gi_meas_t *g, int *clipped) {
    static const char *const names[C_COUNT] = {"name", "norm", "activation", "depth", "when", "steps", "quantity",
                                               "layer", "mean", "std", "n", "growth", "growth_lo", "growth_hi",
                                               "growth_units", "fit_first", "fit_last", "theory"};
    static const char kinds[C_COUNT + 1] = "sssisisiooiooooooo";
    int col[C_COUNT];
    csv_table_t t;
    int rc = logread_open(&t, path);
    if (rc != 0) return rc > 0 ? bnlab_fail("%s: missing", path) : -1;
    for (int c = 0; c < C_COUNT && rc == 0; c++) rc = (col[c] = logread_column(&t, path, names[c])) < 0 ? -1 : 0;
    if (rc == 0) rc = logread_check_all(&t, path, col, kinds, C_COUNT, -1);
    memset(g, 0, sizeof *g);
    for (int w = 0; w < 2; w++) series_init(&g->w[w].s, 4);
    int rows = 0;
    while (rc == 0 && csv_table_next(&t)) {
        size_t len;
        const char *f;
        if (!rows++) {
            f = csv_field(t.row, col[C_NAME], &len);
            snprintf(g->name, sizeof g->name, "%.*s", (int)(len < 127 ? len : 127), f);
            f = csv_field(t.row, col[C_ACT], &len);
            snprintf(g->act, sizeof g->act, "%.*s", (int)(len < 31 ? len : 31), f);
            f = csv_field(t.row, col[C_NORM], &len);
            g->cls = class_of(f, len);
            csv_field_long(t.row, col[C_DEPTH], &g->depth);
        }
        if (!csv_field_is(t.row, col[C_Q], "dW")) continue;
        int after = csv_field_is(t.row, col[C_WHEN], "after");
        if (!after && !csv_field_is(t.row, col[C_WHEN], "init")) {
            f = csv_field(t.row, col[C_WHEN], &len);
            rc = bnlab_fail("%s: column \"when\": expected init or after, found \"%.*s\"", path, (int)(len < 40 ? len : 40), f);
            break;
        }
        gi_when_t *w = &g->w[after];
        double v[C_COUNT];
        for (int c = C_LAYER; c < C_COUNT; c++)
            if (csv_field_double(t.row, col[c], &v[c]) != 0) v[c] = NAN;  // an empty field: NaN (checked above)
        long n = (long)v[C_N];
        if (!w->present) {
            w->present = 1, w->n_min = n;
            csv_field_long(t.row, col[C_STEPS], &w->steps);
            w->growth = v[C_G], w->lo = v[C_GLO], w->hi = v[C_GHI], w->theory = v[C_THEORY];
            w->fitted = isfinite(v[C_G]) && isfinite(v[C_FIRST]) && isfinite(v[C_LAST]);
            w->fit_first = w->fitted ? (long)v[C_FIRST] : 0, w->fit_last = w->fitted ? (long)v[C_LAST] : 0;
            w->units = isfinite(v[C_UNITS]) ? (long)v[C_UNITS] : 0;
        }
        w->n_min = n < w->n_min ? n : w->n_min;
        double mean = v[C_MEAN], sd = isfinite(v[C_STD]) ? v[C_STD] : 0, lo = mean - sd;
        if (!(mean > 0)) continue;  // nothing to draw on a log axis (no finite sample)
        if (lo < mean / 10) lo = mean / 10, *clipped |= sd > 0;
        series_add(&w->s, (double[4]){v[C_LAYER], mean, lo, mean + sd});
    }
    csv_table_free(&t);
    if (rc == 0 && !g->w[0].present && !g->w[1].present) rc = bnlab_fail("%s: no rows of quantity dW", path);
    return rc;
}

static int no_figure(figmodel_t *m, const char *why) {
    figmodel_init(m, "gradinit", 0, 1);
    snprintf(m->note, sizeof m->note, "%s", why);
    return 1;
}

// The faint thick line of a fitted growth g over layers first..last, through the geometric mean of those layers'
// means at their mean layer (a line of slope -log g on the log axis).
static void add_fit(figpanel_t *p, const gi_when_t *w, const char *color) {
    double sl = 0, sx = 0;
    int n = 0;
    for (int r = 0; r < w->s.n; r++) {
        const double *row = w->s.v + (size_t)r * 4;
        if (row[0] >= w->fit_first && row[0] <= w->fit_last) sx += row[0], sl += log(row[1]), n++;
    }
    if (n < 2) return;
    series_t f;
    series_init(&f, 2);
    for (long l = w->fit_first; l <= w->fit_last; l += w->fit_last - w->fit_first)
        series_add(&f, (double[2]){(double)l, exp(sl / n - (l - sx / n) * log(w->growth))});
    figcurve_t *c = figmodel_add(p, CURVE_LINE, &f, 0, 1, 0, color, 0, 9, 0.25, NULL);
    if (c) c->bare = 1;
    series_free(&f);
}

int fig_gradinit(figmodel_t *m, const figure_input_t *in) {
    char *files[GI_MAX_FILES];
    int nf = view_gradinit_files(in->src->dir, files, GI_MAX_FILES);
    if (nf == 0)
        return no_figure(m, "The gradient at initialization, averaged: no gradinit-NAME.csv in this directory (bnlab "
                            "gradinit CONFIG --out DIR writes one).");
    if (nf > GI_MAX_FILES) {
        for (int i = 0; i < GI_MAX_FILES; i++) free(files[i]);
        return bnlab_fail("%s: %d gradinit-NAME.csv files; the gradinit figure draws at most %d (move some into "
                          "another directory)", in->src->dir, nf, GI_MAX_FILES);
    }
    gi_meas_t *g = xcalloc(GI_MAX_FILES, sizeof *g, "gradinit figure");
    int rc = 0, clipped = 0, n = 0, torn = 0;  // torn: g[n], a file that failed to read, holds series to free
    for (int i = 0; i < nf; i++) {
        if (rc == 0) rc = read_file(files[i], &g[n], &clipped), n += rc == 0, torn = rc != 0;
        free(files[i]);
    }
    // The activations in the registry's order (unknown names after, in file order); after-steps columns if any.
    const char *acts[GI_MAX_FILES];
    int na = 0, after = 0, any_bn = 0;
    for (int i = 0; i < n; i++) after |= g[i].w[1].present, any_bn |= view_class_batch_stats(g[i].cls);
    const int nk = layer_kind_count();
    for (int k = 0; k <= nk && rc == 0; k++)
        for (int i = 0; i < n; i++) {
            int kind = layer_kind_find(g[i].act);
            if (k < nk ? kind != k : kind >= 0) continue;
            int seen = 0;
            for (int a = 0; a < na; a++) seen |= !strcmp(acts[a], g[i].act);
            if (!seen) acts[na++] = g[i].act;
        }
    if (rc == 0 && na > GI_MAX_ACT)
        rc = bnlab_fail("%s: networks of %d activations; the gradinit figure draws at most %d (a row of panels each)",
                        in->src->dir, na, GI_MAX_ACT);
    for (int a = 0; a < na && rc == 0; a++) {
        int nets = 0;
        for (int i = 0; i < n; i++) nets += !strcmp(g[i].act, acts[a]);
        if (nets > GI_MAX_NETS)
            rc = bnlab_fail("%s: %d networks with activation %s; the gradinit figure draws at most %d of one activation "
                            "(a line of its panel's text each)", in->src->dir, nets, acts[a], GI_MAX_NETS);
    }
    // Line styles: within a class and activation, by depth (then file order).
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (j != i && g[j].cls == g[i].cls && !strcmp(g[j].act, g[i].act) &&
                (g[j].depth < g[i].depth || (g[j].depth == g[i].depth && j < i)))
                g[i].style++;
    if (rc == 0) {
        int cols = after ? 2 : 1;  // a row per activation: at initialization, after the steps
        figmodel_init(m, "gradinit", na * cols, na == 1 ? 1 : cols);  // one activation: stacked, wide panels
        snprintf(m->xlabel, sizeof m->xlabel, "dense layer l (the gradient flows right to left)");
        long steps = -1;
        int same = 1;
        for (int i = 0; i < n; i++)
            if (g[i].w[1].present) same &= steps < 0 || g[i].w[1].steps == steps, steps = g[i].w[1].steps;
        char st[64] = "";
        if (after && same) snprintf(st, sizeof st, " and after %ld SGD step%s", steps, steps == 1 ? "" : "s");
        else if (after) snprintf(st, sizeof st, " and after the first SGD steps");
        snprintf(m->title, sizeof m->title, "‖∂L/∂W_l‖² per dense layer l (l = depth + 1: the output layer) at "
                 "initialization%s\nmean ± 1 sample std%s; in each panel: the growth per layer going "
                 "backward, fitted over the faint line's layers, with its 95 %% interval", st, clipped ? " (cut at a tenth of the mean)" : "");
        for (int a = 0; a < na; a++)
            for (int w = 0; w < cols; w++) {
                figpanel_t *p = &m->p[a * cols + w];
                int k = layer_kind_find(acts[a]);
                const char *an = k >= 0 ? layer_kind((layer_kind_t)k)->name : acts[a];
                if (w == 0) snprintf(p->title, sizeof p->title, "%s: at initialization", an);
                else if (same) snprintf(p->title, sizeof p->title, "%s: after %ld SGD step%s of one init", an, steps, steps == 1 ? "" : "s");
                else snprintf(p->title, sizeof p->title, "%s: after the SGD steps of one init", an);
                snprintf(p->ylabel, sizeof p->ylabel, "‖∂L/∂W_l‖²");
                snprintf(p->note, sizeof p->note, "not measured");
                // The networks: by class (the one order), then depth.
                int order[GI_MAX_FILES], no = 0;
                for (int i = 0; i < n; i++)
                    if (!strcmp(g[i].act, acts[a]) && g[i].w[w].present) order[no++] = i;
                for (int i = 1; i < no; i++)
                    for (int j = i; j > 0; j--) {
                        const gi_meas_t *x = &g[order[j - 1]], *y = &g[order[j]];
                        if (x->cls < y->cls || (x->cls == y->cls && x->style <= y->style)) break;
                        int tmp = order[j];
                        order[j] = order[j - 1], order[j - 1] = tmp;
                    }
                int theory = -1;
                for (int o = 0; o < no; o++) {
                    const gi_meas_t *x = &g[order[o]];
                    const gi_when_t *wh = &x->w[w];
                    const char *color = view_class_info(x->cls)->color;
                    const char *word = x->cls == VC_NONE && any_bn ? "no BN"
                                       : view_class_info(x->cls)->word ? view_class_info(x->cls)->word : view_class_info(x->cls)->key;
                    char label[160];
                    snprintf(label, sizeof label, "%s, %ld layers", word, x->depth);
                    int twin = 0;  // another network the label would not tell from this one: its name says which
                    for (int i = 0; i < n; i++)
                        twin |= &g[i] != x && g[i].cls == x->cls && g[i].depth == x->depth && !strcmp(g[i].act, x->act);
                    if (twin) snprintf(label + strlen(label), sizeof label - strlen(label), " (%.40s)", x->name);
                    if (wh->fitted && p->ntext < FIG_MAX_TEXT) {  // the panel's numbers: the fitted growth
                        if (isfinite(wh->lo))
                            snprintf(p->text[p->ntext], sizeof p->text[0], "%.48s: ×%.3f (%.3f–%.3f) per layer", label,
                                     wh->growth, wh->lo, wh->hi);
                        else snprintf(p->text[p->ntext], sizeof p->text[0], "%.48s: ×%.3f per layer", label, wh->growth);
                        p->text_color[p->ntext++] = color;
                    }
                    if (wh->fitted) add_fit(p, wh, color);
                    figcurve_t *c = figmodel_add(p, CURVE_RANGE, &wh->s, 0, 1, 2, color, x->style, 3, 1, label);
                    if (c) c->marker = x->style + 1;
                    if (w == 0 && wh->fitted && isfinite(wh->theory) && wh->theory > 0 &&
                        (theory < 0 || x->depth > g[theory].depth))
                        theory = order[o];
                }
                if (theory >= 0) {  // Yang et al.: x theory per layer going backward from the last fitted layer
                    const gi_when_t *wh = &g[theory].w[0];
                    double last = NAN;
                    for (int r = 0; r < wh->s.n; r++)
                        if (wh->s.v[(size_t)r * 4] == wh->fit_last) last = wh->s.v[(size_t)r * 4 + 1];
                    series_t th;
                    series_init(&th, 2);
                    for (long l = wh->fit_first; isfinite(last) && l <= wh->fit_last; l += wh->fit_last - wh->fit_first)
                        series_add(&th, (double[2]){(double)l, last * pow(wh->theory, (double)(wh->fit_last - l))});
                    figcurve_t *c = th.n == 2 ? figmodel_add(p, CURVE_LINE, &th, 0, 1, 0, GI_REF_COLOR, 0, 2.5, 1,
                                                             "Yang et al. 2019") : NULL;
                    if (c) c->bare = 1, c->dashed = 1;
                    if (c && p->ntext < FIG_MAX_TEXT) {
                        snprintf(p->text[p->ntext], sizeof p->text[0], "Yang et al. 2019, %s after BN: ×%.3f per layer",
                                 an, wh->theory);
                        p->text_color[p->ntext++] = GI_REF_COLOR;
                    }
                    series_free(&th);
                }
            }
        figmodel_finish(m, 0, 1, 0);
        for (int i = 0; i < m->np; i++) {
            figpanel_t *p = &m->p[i];
            p->ylog = p->y0 > 0;  // a growth per layer: always a log axis
            // The panel's numbers in the corner where they cover no data; when there is none, headroom above the
            // data for them. Their box: the larger of the slide's and the report's (view/figmodel.h).
            double w, h;
            figmodel_text_box(m, p, &w, &h);
            if (p->ntext && figmodel_place_text(p, w, h) > 0 && p->ylog && p->y1 > p->y0) {
                double free = h + 0.04 < 0.85 ? h + 0.04 : 0.85;  // the box and a gap below it: the data's top
                p->y1 = p->y0 * pow(p->y1 / p->y0, 1 / (1 - free)), p->yfixed = 1;  // and an error bar's end touched it
                figmodel_place_text(p, w, h);
            }
        }
        m->one_key = 1;  // the legend's entries mean the same in every panel: one legend (the numbers are the panels')
    }
    for (int i = 0; i < n + torn; i++)
        for (int w = 0; w < 2; w++) series_free(&g[i].w[w].s);
    free(g);
    return rc < 0 ? -1 : 0;
}
