// The backward pass made visible (issue 24): five kinds drawn from the backward logs of every seed of every variant,
// each seed's rows read strictly (view/logread.h) and aggregated as every figure is (view/series.h: the median over
// seeds at each logged step).
//   gradients       gradients.csv (log.gradients_every), the act_input rows: the percentiles of ∂L/∂h at each hidden
//                   layer's nonlinearity input over steps; a row of panels per hidden layer, a column per variant,
//                   each percentile a shade of the variant's colour (darkest first) as in the forward percentile
//                   figures, named "VARIANT, Qth percentile" in one legend; a row's panels share their y axis
//   update_ratios   update_ratios.csv (log.update_ratios_every): per dense layer's weight matrix W, ‖ΔW‖/‖W‖ of the
//                   update the optimizer applied (top row) and std(∂L/∂W)/std(W) (bottom row) on a log axis, every
//                   variant in its colour (seeds faint, median thick), a dashed reference line at 1e-3
//   jacobian        jacobian.csv (log.jacobian_every): per hidden block, the median singular value of its Jacobian
//                   (thick) and the band between p10 and p90 over steps, (a) per example with the batch statistics
//                   held fixed, (b) the whole batch where logged; a dashed line at 1 (Ioffe & Szegedy §3.3)
//   gradient_depth  gradients.csv again: ‖∂L/∂h‖² (n (std² + mean²): the squared norm over the batch and the units) per
//                   hidden layer at step 0 (the initialization) and at the first logged step after it, on a log
//                   axis, with Yang et al. 2019's growth per layer going backward (the registry's bn_grad_growth: ReLU's
//                   π/(π−1)) drawn from the last hidden layer of the first BN variant with such nonlinearities
//   dead_units      gradients.csv again: per hidden layer whose nonlinearity can die (the registry's can_die: ReLU),
//                   the fraction of its units whose output is 0 for every example of the step's batch
//                   (dead_units x train.batch_size / n), over steps, every variant in its colour (seeds faint, median
//                   thick), on [0, 1]; a run without such layers gets no figure and a note saying why
// update_ratios and dead_units mark a diverged seed with a cross at its last value (its curve ends there).
// A deep net's layers: at most 6 rows (gradients) or columns (update_ratios, jacobian, dead_units), evenly spread.
// A kind whose log no run has gives no panel and a note naming the key that turns it on.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lab/figures.h"
#include "nn/registry.h"
#include "run/gradlog.h"
#include "run/jaclog.h"
#include "run/rundir.h"
#include "run/updatelog.h"
#include "view/logread.h"

#define BW_MAX_KEYS 65   // hidden layers, dense layers, blocks read: a 64-block net's 65 dense layers; a log with more
                         // is refused in one line (never a figure that leaves the deepest layers out)
#define BW_MAX_ROWS 6    // rows of panels of the gradients figure, columns of update_ratios and jacobian: a deeper net
                         // shows 6 of its layers, evenly spread from the first to the last (the title says so)
#define BW_MAX_VALS 12   // value columns read per row
#define BW_REF_COLOR "#555555"  // a reference line (a rule of thumb, a theory's value): no variant's colour

// One log of one kind: which file, the column whose distinct values (in order of first appearance in a run) are the
// panels' quantity, the value columns, and which rows count.
typedef struct {
    const char *file, *key_col, *type_col;
    const char *vals[BW_MAX_VALS];
    int nvals;
    const char *keep_col, *keep_val;  // only rows whose keep_col is keep_val (NULL: every row)
    int dense_weights;                // update ratios: only the weight matrices W of linear layers (dense)
    int key_base;                     // > 0: the key is the column's integer value minus key_base - 1 (a block's
                                      // number, 0-based: key_base 1); 0: the order of first appearance in the run
} bw_log_t;

typedef struct {
    series_t s[VIEW_MAX_VARIANTS][VIEW_MAX_SEEDS][BW_MAX_KEYS];  // rows (x, vals...) per variant, seed, key
    char type[BW_MAX_KEYS][32];  // the key's layer_type in the first run that has it
    int nk, logged, points;      // keys, runs with the file, the most rows of one line
} bw_data_t;

// Whether a log's "type" field names a layer kind whose registry row is a learned linear map (its ".weight" is W).
static int type_is_linear(const char *type, size_t tl) {
    char name[32];
    if (tl >= sizeof name) return 0;
    memcpy(name, type, tl), name[tl] = '\0';
    int k = layer_kind_find(name);
    return k >= 0 && layer_kind((layer_kind_t)k)->linear;
}

// One run's rows into s[key] (x = step x xk). 0 (also when the file is absent: *exists), -1 + message.
static int bw_read_run(const char *run, const bw_log_t *L, double xk, series_t *s, bw_data_t *d, int *exists) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run, L->file);
    csv_table_t t;
    int rc = logread_open(&t, path);
    *exists = rc == 0;
    if (rc != 0) return rc < 0 ? -1 : 0;
    int cs = -1, ck = -1, ct = -1, cf = -1, cv[BW_MAX_VALS];
    if ((cs = logread_column(&t, path, "step")) < 0 || (ck = logread_column(&t, path, L->key_col)) < 0 ||
        (L->type_col && (ct = logread_column(&t, path, L->type_col)) < 0) ||
        (L->keep_col && (cf = logread_column(&t, path, L->keep_col)) < 0))
        rc = -1;
    for (int v = 0; v < L->nvals && rc == 0; v++) rc = (cv[v] = logread_column(&t, path, L->vals[v])) < 0 ? -1 : 0;
    char keys[BW_MAX_KEYS][64];
    int nk = 0;
    while (rc == 0 && (rc = logread_next(&t, path)) == 1) {
        rc = 0;
        if (cf >= 0 && !csv_field_is(t.row, cf, L->keep_val)) continue;
        size_t kl, tl = 0;
        const char *key = csv_field(t.row, ck, &kl), *type = ct >= 0 ? csv_field(t.row, ct, &tl) : "";
        if (!key) continue;
        if (L->dense_weights && !(type_is_linear(type, tl) && kl > 7 && !memcmp(key + kl - 7, ".weight", 7))) continue;
        long step;
        double row[1 + BW_MAX_VALS];
        if (logread_integer(&t, path, cs, 0, LOGREAD_STEP_MAX, &step) != 0) rc = -1;
        for (int v = 0; v < L->nvals && rc == 0; v++) rc = logread_optional(&t, path, cv[v], &row[1 + v]);
        if (rc != 0) break;
        row[0] = (double)step * xk;
        int k = 0;
        if (L->key_base > 0) {
            long kv;
            if (logread_integer(&t, path, ck, 0, 1 << 20, &kv) != 0) {
                rc = -1;
                break;
            }
            if (kv - (L->key_base - 1) < 0) continue;
            if (kv - (L->key_base - 1) >= BW_MAX_KEYS) {
                rc = bnlab_fail("%s: line %d, column \"%s\": %ld; the backward figures draw at most %d (a 64-block net's)",
                                path, t.lineno, L->key_col, kv, BW_MAX_KEYS + L->key_base - 1);
                break;
            }
            k = (int)(kv - (L->key_base - 1));
        } else {
            while (k < nk && !(strlen(keys[k]) == kl && !memcmp(keys[k], key, kl))) k++;
            if (k == nk) {
                if (kl >= sizeof keys[0]) continue;
                if (nk == BW_MAX_KEYS) {
                    rc = bnlab_fail("%s: line %d: more than %d values of column \"%s\"; the backward figures draw at most "
                                    "%d (a 64-block net's)", path, t.lineno, BW_MAX_KEYS, L->key_col, BW_MAX_KEYS);
                    break;
                }
                memcpy(keys[k], key, kl), keys[k][kl] = '\0', nk++;
            }
        }
        if (k >= d->nk || !d->type[k][0]) {
            snprintf(d->type[k], sizeof d->type[k], "%.*s", (int)(tl < 31 ? tl : 31), type ? type : "");
            if (k >= d->nk) d->nk = k + 1;
        }
        series_add(&s[k], row);
        if (s[k].n > d->points) d->points = s[k].n;
    }
    csv_table_free(&t);
    return rc < 0 ? -1 : 0;
}

// Every run of every variant. 0, -1 + message.
static int bw_read(bw_data_t *d, const figure_input_t *in, const bw_log_t *L) {
    const view_source_t *src = in->src;
    memset(d->type, 0, sizeof d->type);
    d->nk = d->logged = d->points = 0;
    for (int i = 0; i < src->nv; i++)
        for (int k = 0; k < src->ns; k++)
            for (int j = 0; j < BW_MAX_KEYS; j++) series_init(&d->s[i][k][j], 1 + L->nvals);
    int rc = 0;
    for (int i = 0; i < src->nv && rc == 0; i++)
        for (int k = 0; k < src->ns && rc == 0; k++) {
            char run[BNLAB_PATH_MAX];
            int exists;
            view_run_dir(src, i, k, run, sizeof run);
            rc = bw_read_run(run, L, in->xk[i], d->s[i][k], d, &exists);
            d->logged += exists;
        }
    return rc;
}

static void bw_free(bw_data_t *d, const view_source_t *src) {
    for (int i = 0; i < src->nv; i++)
        for (int k = 0; k < src->ns; k++)
            for (int j = 0; j < BW_MAX_KEYS; j++) series_free(&d->s[i][k][j]);
}

// The median over the seeds of variant i's key j (all columns), into out.
static void bw_median(const bw_data_t *d, const view_source_t *src, int i, int j, series_t *out) {
    series_t all;
    series_init(&all, d->s[i][0][j].cols);
    for (int k = 0; k < src->ns; k++)
        for (int r = 0; r < d->s[i][k][j].n; r++) series_add(&all, d->s[i][k][j].v + (size_t)r * (size_t)all.cols);
    series_median_by_step(&all, out);
    series_free(&all);
}

// Crosses where variant i's seeds diverged (lab/figures.h fig_mark_diverged), at each one's last finite value of
// column col of key j: the median after that step counts fewer seeds.
static void bw_mark_diverged(figpanel_t *p, const bw_data_t *d, const view_source_t *src, const figure_input_t *in,
                             int i, int j, int col) {
    series_t runs[VIEW_MAX_SEEDS];
    for (int k = 0; k < src->ns; k++) runs[k] = d->s[i][k][j];  // shallow: read only
    fig_mark_diverged(p, src, i, in->xk[i], runs, col);
}

static const char *seeds_text(const view_source_t *src, char *buf, size_t cap) {
    if (src->ns > 1) snprintf(buf, cap, "median over %d seeds", src->ns);
    else snprintf(buf, cap, "seed %ld", src->seeds[0]);
    return buf;
}

// No run has the log, or too few rows: the figure is a note. 1 not logged; 0 otherwise (a note in m, no panel).
static int bw_absent(figmodel_t *m, const char *name, const bw_data_t *d, const char *what, const char *file,
                     const char *key, int every) {
    figmodel_init(m, name, 0, 1);
    if (!d->logged) {
        snprintf(m->note, sizeof m->note, "%s: not logged in this run (%s; turn it on with %s, e.g. --set %s=%d).", what,
                 file, key, key, every);
        return 1;
    }
    snprintf(m->note, sizeof m->note, "%s: %s has no rows to draw yet.", what, file);
    return 0;
}

// Which of nk keys a figure shows: all of them up to BW_MAX_ROWS, else BW_MAX_ROWS evenly spread from the first to
// the last, into pick; their number. which: "" or " (6 of the 65, evenly spread)" for the title.
static int bw_spread(int nk, int pick[BW_MAX_ROWS], char *which, size_t cap) {
    int n = nk < BW_MAX_ROWS ? nk : BW_MAX_ROWS;
    for (int r = 0; r < n; r++) pick[r] = n > 1 ? r * (nk - 1) / (n - 1) : 0;
    if (n < nk) snprintf(which, cap, " (%d of the %d, evenly spread)", n, nk);
    else if (cap) which[0] = '\0';
    return n;
}

// Each row of a grid of rows x cols panels on one y axis (its own range; the other rows theirs).
static void share_rows(figmodel_t *m, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
        double lo = INFINITY, hi = -INFINITY;
        for (int c = 0; c < cols; c++) {
            const figpanel_t *p = &m->p[r * cols + c];
            for (int k = 0; k < p->nc; k++) series_extent(&p->c[k].data, 1, p->c[k].data.cols - 1, &lo, &hi);
        }
        for (int c = 0; c < cols; c++) {
            figpanel_t *p = &m->p[r * cols + c];
            if (lo <= hi) p->y0 = lo, p->y1 = hi;
            p->yfixed = 1;
        }
    }
}

// A log y axis over [lo, hi] (widened to include ref) for every panel.
static void log_axes(figmodel_t *m, double ref) {
    for (int i = 0; i < m->np; i++) {
        figpanel_t *p = &m->p[i];
        double lo = INFINITY, hi = -INFINITY;
        for (int k = 0; k < p->nc; k++)
            for (int r = 0; r < p->c[k].data.n; r++)
                for (int c = 1; c < p->c[k].data.cols; c++) {
                    double v = p->c[k].data.v[(size_t)r * (size_t)p->c[k].data.cols + (size_t)c];
                    if (isfinite(v) && v > 0) lo = fmin(lo, v), hi = fmax(hi, v);
                }
        if (ref > 0) lo = fmin(lo, ref / 2), hi = fmax(hi, ref * 2);
        if (!(lo <= hi)) lo = ref > 0 ? ref / 10 : 0.1, hi = ref > 0 ? ref * 10 : 10;
        p->y0 = lo, p->y1 = hi, p->ylog = 1, p->yfixed = 1;
    }
}

// A horizontal dashed line at y across the panel's x range.
static void ref_line(figpanel_t *p, double y, const char *label) {
    if (!(p->x1 >= p->x0)) return;
    series_t s;
    series_init(&s, 2);
    series_add(&s, (double[2]){p->x0, y});
    series_add(&s, (double[2]){p->x1, y});
    figcurve_t *c = figmodel_add(p, CURVE_LINE, &s, 0, 1, 0, BW_REF_COLOR, 1, 2, 1, label);
    if (c) c->bare = 1, c->dashed = 1;  // a reference, not data: no markers
    series_free(&s);
}

// ---- gradients

int fig_gradients(figmodel_t *m, const figure_input_t *in) {
    const view_source_t *src = in->src;
    bw_log_t L = {.file = RUNDIR_GRADIENTS, .key_col = "hidden", .type_col = "layer_type", .keep_col = "where",
                  .keep_val = "act_input", .key_base = 2};
    // The percentile columns: every "p<q>" of the first gradients.csv found (log.percentiles.q, the forward log's).
    char pnames[BW_MAX_VALS][16];
    for (int i = 0; i < src->nv && !L.nvals; i++)
        for (int k = 0; k < src->ns && !L.nvals; k++) {
            char run[BNLAB_PATH_MAX], path[BNLAB_PATH_MAX];
            view_run_dir(src, i, k, run, sizeof run);
            rundir_file(path, sizeof path, run, RUNDIR_GRADIENTS);
            csv_table_t t;
            int rc = logread_open(&t, path);
            if (rc < 0) return -1;
            if (rc) continue;
            for (const char *h = t.header; *h && *h != '\n' && L.nvals < BW_MAX_VALS;) {
                size_t len = strcspn(h, ",\n");
                if (len > 1 && len < sizeof pnames[0] && h[0] == 'p' && strspn(h + 1, "0123456789.") == len - 1) {
                    memcpy(pnames[L.nvals], h, len), pnames[L.nvals][len] = '\0';
                    L.vals[L.nvals] = pnames[L.nvals], L.nvals++;
                }
                h += len + (h[len] == ',');
            }
            csv_table_free(&t);
            if (!L.nvals) L.nvals = -1;  // a gradients.csv without percentiles: read nothing more
        }
    bw_data_t *d = xcalloc(1, sizeof *d, "gradients figure");
    int rc = L.nvals > 0 ? bw_read(d, in, &L) : 0;
    if (rc == 0 && (L.nvals <= 0 || d->points == 0)) {
        if (L.nvals < 0) d->logged = 1;
        rc = bw_absent(m, "gradients", d, "Gradients", "gradients.csv", "log.gradients_every", 100);
    } else if (rc == 0) {
        int layer[BW_MAX_ROWS], cols = src->nv;
        char which[64];
        int rows = bw_spread(d->nk, layer, which, sizeof which);
        figmodel_init(m, "gradients", rows * cols, cols);
        snprintf(m->xlabel, sizeof m->xlabel, "%s", in->xlabel);
        char list[BW_MAX_VALS * 12] = "", st[48];
        for (int v = 0; v < L.nvals; v++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%sth", v ? ", " : "", L.vals[v] + 1);
        snprintf(m->title, sizeof m->title, "The gradient ∂L/∂h at each hidden layer's nonlinearity input%s, training "
                 "batches: its %s percentiles (%s)", which, list, seeds_text(src, st, sizeof st));
        static char shades[VIEW_MAX_VARIANTS][BW_MAX_VALS][8];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < cols; i++) {
                const view_variant_t *v = &src->v[i];
                const int h = layer[r];
                figpanel_t *p = &m->p[r * cols + i];
                snprintf(p->title, sizeof p->title, "%s%shidden layer %d", v->label, cols > 2 ? "\n" : ": ", h + 1);
                snprintf(p->ylabel, sizeof p->ylabel, "∂L/∂h");
                snprintf(p->note, sizeof p->note, "not logged");
                series_t med;
                bw_median(d, src, i, h, &med);
                for (int q = 0; q < L.nvals && med.n; q++) {
                    char lab[160];  // the variant's name too: one legend for the figure (the shades differ by variant)
                    snprintf(lab, sizeof lab, "%.120s, %sth percentile", v->label, L.vals[q] + 1);
                    figcurve_t *c = figmodel_add(p, CURVE_LINE, &med, 0, 1 + q, 0, v->color, v->style, 3, 1, lab);
                    if (c) view_shade(shades[i][q], v->color, q, L.nvals), c->color = shades[i][q];
                }
                series_free(&med);
            }
        figmodel_finish(m, 0, 0, 1);
        share_rows(m, rows, cols);
        m->one_key = 1;  // every panel's entries are the figure's: one legend below the panels, in a projector's type
    }
    bw_free(d, src);
    free(d);
    return rc;
}

// ---- update ratios

int fig_update_ratios(figmodel_t *m, const figure_input_t *in) {
    const view_source_t *src = in->src;
    bw_log_t L = {.file = RUNDIR_UPDATE_RATIOS, .key_col = "tensor", .type_col = "layer_type",
                  .vals = {"update_norm_ratio", "grad_std_ratio"}, .nvals = 2, .dense_weights = 1};
    bw_data_t *d = xcalloc(1, sizeof *d, "update ratios figure");
    int rc = bw_read(d, in, &L);
    if (rc == 0 && d->points == 0) rc = bw_absent(m, "update_ratios", d, "Update ratios", "update_ratios.csv",
                                                  "log.update_ratios_every", 10);
    else if (rc == 0) {
        int pick[BW_MAX_ROWS];
        char which[64], st[48];
        int cols = bw_spread(d->nk, pick, which, sizeof which);
        figmodel_init(m, "update_ratios", 2 * cols, cols);
        snprintf(m->xlabel, sizeof m->xlabel, "%s", in->xlabel);
        snprintf(m->title, sizeof m->title, "How far each step moves each dense layer's weights W%s: the update "
                 "‖ΔW‖/‖W‖ the optimizer applied (top) and the gradient std(∂L/∂W)/std(W) (bottom); %s thick%s", which,
                 seeds_text(src, st, sizeof st), src->ns > 1 ? ", each seed faint" : "");
        for (int row = 0; row < 2; row++)
            for (int c = 0; c < cols; c++) {
                const int j = pick[c];
                figpanel_t *p = &m->p[row * cols + c];
                snprintf(p->title, sizeof p->title, "dense layer %d%s", j + 1, j + 1 == d->nk ? " (output)" : "");
                snprintf(p->ylabel, sizeof p->ylabel, "%s", row ? "std(∂L/∂W) / std(W)" : "‖ΔW‖ / ‖W‖");
                snprintf(p->note, sizeof p->note, "not logged");
                for (int i = 0; i < src->nv; i++) {
                    const view_variant_t *v = &src->v[i];
                    for (int k = 0; k < src->ns && src->ns > 1; k++)
                        if (d->s[i][k][j].n) figmodel_add(p, CURVE_LINE, &d->s[i][k][j], 0, 1 + row, 0, v->color, v->style, 1.2, 0.35, NULL);
                    series_t med;
                    bw_median(d, src, i, j, &med);
                    if (med.n) figmodel_add(p, CURVE_LINE, &med, 0, 1 + row, 0, v->color, v->style, 3, 1, v->label);
                    series_free(&med);
                    bw_mark_diverged(p, d, src, in, i, j, 1 + row);
                }
            }
        figmodel_finish(m, 0, 0, 1);
        log_axes(m, 1e-3);
        for (int j = 0; j < cols; j++)
            if (m->p[j].nc) ref_line(&m->p[j], 1e-3, "10⁻³, the rule of thumb");
        m->one_key = 1;  // the entries mean the same in every panel: one legend, in a projector's type
    }
    bw_free(d, src);
    free(d);
    return rc;
}

// ---- Jacobian spectra

enum { J_MED = 1, J_P10, J_P90, J_NEAR1 };

int fig_jacobian(figmodel_t *m, const figure_input_t *in) {
    const view_source_t *src = in->src;
    static const char *const which[2] = {"example", "batch"};
    bw_data_t *d[2];
    int rc = 0, rows = 0, blocks = 0;
    for (int w = 0; w < 2; w++) {
        bw_log_t L = {.file = RUNDIR_JACOBIAN, .key_col = "block", .vals = {"median", "p10", "p90", "frac_near1"},
                      .nvals = 4, .keep_col = "which", .keep_val = which[w], .key_base = 1};
        d[w] = xcalloc(1, sizeof *d[w], "jacobian figure");
        if (rc == 0) rc = bw_read(d[w], in, &L);
        if (d[w]->nk > blocks) blocks = d[w]->nk;
        rows += d[w]->points > 0;
    }
    if (rc == 0 && rows == 0) rc = bw_absent(m, "jacobian", d[0], "Jacobian spectra", "jacobian.csv", "log.jacobian_every", 1000);
    else if (rc == 0) {
        int pick[BW_MAX_ROWS];
        char spread[64], st[48];
        int cols = bw_spread(blocks, pick, spread, sizeof spread);
        figmodel_init(m, "jacobian", rows * cols, cols);
        snprintf(m->xlabel, sizeof m->xlabel, "%s", in->xlabel);
        snprintf(m->title, sizeof m->title, "Singular values of each hidden block's Jacobian%s (dense → normalization → "
                 "nonlinearity), probe images, %s: median (thick), 10th–90th percentiles (band).%s Ioffe & Szegedy "
                 "§3.3: BN may keep them close to 1", spread, seeds_text(src, st, sizeof st), rows > 1 ? " Top: per "
                 "example, batch statistics held fixed; bottom: the whole batch, BN's coupling included." : "");
        int r = 0;
        for (int w = 0; w < 2; w++) {
            if (!d[w]->points) continue;
            for (int c = 0; c < cols; c++) {
                const int j = pick[c];
                figpanel_t *p = &m->p[r * cols + c];
                snprintf(p->title, sizeof p->title, "block %d, %s", j + 1, w ? "whole batch" : "per example");
                snprintf(p->ylabel, sizeof p->ylabel, "singular value");
                snprintf(p->note, sizeof p->note, "not measured%s", w ? "\n(too many inputs)" : "");
                for (int i = 0; i < src->nv; i++) {
                    const view_variant_t *v = &src->v[i];
                    series_t med;
                    bw_median(d[w], src, i, j, &med);
                    if (med.n) {
                        figmodel_add(p, CURVE_BAND, &med, 0, J_P10, J_P90, v->color, v->style, 1, 0.2, NULL);
                        figmodel_add(p, CURVE_LINE, &med, 0, J_MED, 0, v->color, v->style, 3, 1, v->label);
                    }
                    series_free(&med);
                }
            }
            r++;
        }
        figmodel_finish(m, 1, 0, 1);
        log_axes(m, 1);
        double lo = INFINITY, hi = -INFINITY;  // one axis for every panel: the blocks compare
        for (int i = 0; i < m->np; i++) lo = fmin(lo, m->p[i].y0), hi = fmax(hi, m->p[i].y1);
        for (int i = 0; i < m->np; i++) {
            m->p[i].y0 = lo, m->p[i].y1 = hi;
            if (m->p[i].nc) ref_line(&m->p[i], 1, "1 (§3.3)");
        }
        m->one_key = 1;  // the entries mean the same in every panel: one legend, in a projector's type
    }
    for (int w = 0; w < 2; w++) bw_free(d[w], src), free(d[w]);
    return rc;
}

// ---- dead units

int fig_dead_units(figmodel_t *m, const figure_input_t *in) {
    const view_source_t *src = in->src;
    bw_log_t L = {.file = RUNDIR_GRADIENTS, .key_col = "hidden", .type_col = "layer_type", .vals = {"dead_units", "n"},
                  .nvals = 2, .keep_col = "where", .keep_val = "act_input", .key_base = 2};
    bw_data_t *d = xcalloc(1, sizeof *d, "dead units figure");
    int rc = bw_read(d, in, &L);
    if (rc == 0 && d->points == 0) rc = bw_absent(m, "dead_units", d, "Dead units", "gradients.csv", "log.gradients_every", 100);
    else if (rc == 0) {
        // A row's count as the fraction of the layer's units: n is batch x units (the variant's train.batch_size).
        for (int i = 0; i < src->nv; i++)
            for (int k = 0; k < src->ns; k++)
                for (int j = 0; j < d->nk; j++)
                    for (int r = 0; r < d->s[i][k][j].n; r++) {
                        double *row = d->s[i][k][j].v + (size_t)r * 3;
                        row[1] = row[2] > 0 && src->v[i].batch > 0 ? row[1] * src->v[i].batch / row[2] : NAN;
                    }
        // Only the layers whose nonlinearity can have dead units (the registry's can_die: ReLU); a sigmoid or tanh
        // unit is never 0 on a whole batch, and a figure of their flat zeros would say nothing.
        // Hidden layer j + 1 counts when its nonlinearity can die in some variant (the run's config: view/variant.h);
        // one past what a variant lists (never for the 65 layers read) counts too: never a layer left out unseen.
        int live[BW_MAX_KEYS], nl = 0;
        for (int j = 0; j < d->nk; j++) {
            int can = 0;
            for (int i = 0; i < src->nv && !can; i++) {
                const view_variant_t *v = &src->v[i];
                int k = j < v->n_nonlin ? layer_kind_find(v->nonlin[j]) : -1;
                can = j < v->n_nonlin ? k >= 0 && layer_kind((layer_kind_t)k)->can_die : v->n_nonlin == VIEW_MAX_NONLIN;
            }
            if (can) live[nl++] = j;
        }
        if (nl == 0) {
            bw_free(d, src);
            free(d);
            figmodel_init(m, "dead_units", 0, 1);
            snprintf(m->note, sizeof m->note, "Dead units: no hidden layer here can have any — a unit's output is "
                     "exactly 0 on a whole range of inputs only for relu (the registry's can_die); sigmoid and tanh "
                     "units never are.");
            return 1;
        }
        int pick[BW_MAX_ROWS];
        char which[64], st[48];
        int cols = bw_spread(nl, pick, which, sizeof which);
        for (int c = 0; c < cols; c++) pick[c] = live[pick[c]];
        figmodel_init(m, "dead_units", cols, cols);
        snprintf(m->xlabel, sizeof m->xlabel, "%s", in->xlabel);
        snprintf(m->title, sizeof m->title, "Dead units: the fraction of each hidden layer's units%s whose output is 0 "
                 "for every example of the step's training batch; %s thick%s", which, seeds_text(src, st, sizeof st),
                 src->ns > 1 ? ", each seed faint" : "");
        for (int c = 0; c < cols; c++) {
            const int j = pick[c];
            figpanel_t *p = &m->p[c];
            snprintf(p->title, sizeof p->title, "hidden layer %d", j + 1);
            snprintf(p->ylabel, sizeof p->ylabel, "dead units (fraction)");
            snprintf(p->note, sizeof p->note, "not logged");
            for (int i = 0; i < src->nv; i++) {
                const view_variant_t *v = &src->v[i];
                for (int k = 0; k < src->ns && src->ns > 1; k++)
                    if (d->s[i][k][j].n) figmodel_add(p, CURVE_LINE, &d->s[i][k][j], 0, 1, 0, v->color, v->style, 1.2, 0.35, NULL);
                series_t med;
                bw_median(d, src, i, j, &med);
                if (med.n) figmodel_add(p, CURVE_LINE, &med, 0, 1, 0, v->color, v->style, 3, 1, v->label);
                series_free(&med);
                bw_mark_diverged(p, d, src, in, i, j, 1);
            }
        }
        figmodel_finish(m, 1, 0, 1);
        for (int i = 0; i < m->np; i++) m->p[i].y0 = 0, m->p[i].y1 = 1, m->p[i].yfixed = 1;  // a fraction: all of it
        m->one_key = 1;
    }
    bw_free(d, src);
    free(d);
    return rc;
}

// ---- the gradient at initialization, layer by layer

enum { G_N = 1, G_MEAN, G_STD };

int fig_gradient_depth(figmodel_t *m, const figure_input_t *in) {
    const view_source_t *src = in->src;
    bw_log_t L = {.file = RUNDIR_GRADIENTS, .key_col = "hidden", .type_col = "layer_type", .vals = {"n", "mean", "std"},
                  .nvals = 3, .keep_col = "where", .keep_val = "act_input", .key_base = 2};
    bw_data_t *d = xcalloc(1, sizeof *d, "gradient depth figure");
    figure_input_t steps = *in;  // x: the step itself (the steps drawn are picked by their number)
    for (int i = 0; i < VIEW_MAX_VARIANTS; i++) steps.xk[i] = 1;
    int rc = bw_read(d, &steps, &L);
    // The steps drawn: 0 and the first logged step after it (the same in every run: log.gradients_every).
    double later = INFINITY;
    int at0 = 0;
    for (int i = 0; i < src->nv && rc == 0; i++)
        for (int k = 0; k < src->ns; k++)
            for (int j = 0; j < d->nk; j++)
                for (int r = 0; r < d->s[i][k][j].n; r++) {
                    double x = d->s[i][k][j].v[(size_t)r * 4];
                    if (x == 0) at0 = 1;
                    else if (x > 0 && x < later) later = x;
                }
    if (rc == 0 && (!at0 || d->nk < 2)) {
        rc = bw_absent(m, "gradient_depth", d, "The gradient at initialization", "gradients.csv", "log.gradients_every", 100);
        if (rc == 0)
            snprintf(m->note, sizeof m->note, "The gradient at initialization: gradients.csv has no step-0 rows of two "
                     "or more hidden layers to compare.");
    } else if (rc == 0) {
        int np = isfinite(later) ? 2 : 1;
        figmodel_init(m, "gradient_depth", np, np);
        snprintf(m->xlabel, sizeof m->xlabel, "hidden layer (the gradient flows from right to left)");
        char st[48];
        snprintf(m->title, sizeof m->title, "The squared gradient norm ‖∂L/∂h‖² at each hidden layer's nonlinearity "
                 "input, over one training batch (%s)", seeds_text(src, st, sizeof st));
        // The first BN variant whose nonlinearities all have Yang et al.'s growth (the registry's bn_grad_growth:
        // ReLU's π/(π−1)), the same for each: the theory's line is drawn from its last hidden layer.
        int theory = -1;
        double growth = 0;
        for (int i = 0; i < src->nv && theory < 0; i++) {
            double g = 0;
            int same = src->v[i].n_nonlin > 0;
            for (int h = 0; h < src->v[i].n_nonlin && same; h++) {
                int k = layer_kind_find(src->v[i].nonlin[h]);
                double gh = k >= 0 ? layer_kind((layer_kind_t)k)->bn_grad_growth : 0;
                same = gh > 0 && (h == 0 || gh == g), g = gh;
            }
            if (same && src->v[i].cls == VC_BN) theory = i, growth = g;
        }
        for (int w = 0; w < np; w++) {
            figpanel_t *p = &m->p[w];
            double step = w ? later : 0;
            if (w) snprintf(p->title, sizeof p->title, "after %.0f training step%s", step, step == 1 ? "" : "s");
            else snprintf(p->title, sizeof p->title, "at initialization (step 0)");
            snprintf(p->ylabel, sizeof p->ylabel, "‖∂L/∂h‖²");
            snprintf(p->note, sizeof p->note, "not logged");
            for (int i = 0; i < src->nv; i++) {
                const view_variant_t *v = &src->v[i];
                // Per seed: (hidden layer, squared norm) at the step; then the median over seeds per layer.
                series_t all, med;
                series_init(&all, 2);
                for (int k = 0; k < src->ns; k++)
                    for (int j = 0; j < d->nk; j++) {
                        const series_t *s = &d->s[i][k][j];
                        for (int r = 0; r < s->n; r++) {
                            const double *row = s->v + (size_t)r * 4;
                            if (row[0] != step) continue;
                            series_add(&all, (double[2]){j + 1, row[G_N] * (row[G_STD] * row[G_STD] + row[G_MEAN] * row[G_MEAN])});
                        }
                    }
                series_median_by_step(&all, &med);
                if (med.n) figmodel_add(p, CURVE_LINE, &med, 0, 1, 0, v->color, v->style, 3, 1, v->label);
                if (i == theory && w == 0 && med.n >= 2) {
                    // Yang et al. 2019: ×π/(π−1) per layer going backward, from the last hidden layer's value.
                    series_t th;
                    series_init(&th, 2);
                    const double *last = med.v + (size_t)(med.n - 1) * 2, g = growth;
                    for (int r = 0; r < med.n; r++) {
                        double h = med.v[(size_t)r * 2];
                        series_add(&th, (double[2]){h, last[1] * pow(g, last[0] - h)});
                    }
                    char lab[96];
                    snprintf(lab, sizeof lab, "Yang et al. 2019 (BN + %s): ×%.3f per layer", src->v[i].nonlin[0], g);
                    figmodel_add(p, CURVE_LINE, &th, 0, 1, 0, BW_REF_COLOR, 1, 2, 1, lab);
                    series_free(&th);
                }
                series_free(&all), series_free(&med);
            }
        }
        figmodel_finish(m, 1, 0, 0);
        double lo = INFINITY, hi = -INFINITY;
        log_axes(m, 0);
        for (int i = 0; i < m->np; i++) lo = fmin(lo, m->p[i].y0), hi = fmax(hi, m->p[i].y1);
        for (int i = 0; i < m->np; i++) m->p[i].y0 = lo, m->p[i].y1 = hi;
    }
    bw_free(d, src);
    free(d);
    return rc;
}
