// unit_updates: weight decay as a learning rate (docs/anatomy.md; run/unitlog.h). From unit_updates.csv
// (log.unit_updates_every), one column of panels per dense layer (the first UU_MAX_LAYERS), two rows:
//   angular update   angle_rms: the root mean square over the layer's units of the angle in radians between a unit's
//                    weight row before and after a step (log y axis); with weight decay λ and SGD momentum α, in a
//                    layer followed by BN, a thin grey line at Wan et al. 2021's equilibrium √(2ηλ/(1+α)), η the
//                    step's rate (the lr column), λ and α from the run's config.json (train.optimizer)
//   effective rate   eff_lr_mean: the mean over units of lr/‖w_i‖² (log y axis)
// every variant in its colour, each seed faint and the median over seeds thick, over steps. A panel's title says
// whether the layer's output goes through BN (bn_after: then w_i's length leaves the outputs unchanged).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lab/figures.h"
#include "run/rundir.h"
#include "run/unitlog.h"
#include "view/logread.h"

#define UU_MAX_LAYERS 4
#define THEORY_COLOR "#555555"

enum { C_X, C_ANGLE, C_EFF, C_WAN, C_COLS };

// One run's rows into s[k] (the k-th dense layer: rows (x, angle_rms, eff_lr_mean, Wan's value or NaN)); bn[k] |=
// 1 when followed by BN, 2 when not. Its number of dense layers (0 also when the file is absent: *exists says),
// -1 + message.
static int read_run(const char *run, double xk, double wan_k, series_t *s, int *bn, int *exists) {
    char path[BNLAB_PATH_MAX];
    rundir_file(path, sizeof path, run, RUNDIR_UNIT_UPDATES);
    csv_table_t t;
    int rc = logread_open(&t, path), col[6], n = 0;
    *exists = rc == 0;
    if (rc != 0) return rc < 0 ? -1 : 0;
    static const char *const names[6] = {"step", "layer", "bn_after", "lr", "eff_lr_mean", "angle_rms"};
    for (int c = 0; c < 6 && rc == 0; c++) rc = (col[c] = logread_column(&t, path, names[c])) < 0 ? -1 : 0;
    long layers[UU_MAX_LAYERS];
    while (rc == 0 && (rc = logread_next(&t, path)) == 1) {
        long step, layer, after;
        double lr, eff, angle;
        rc = logread_integer(&t, path, col[0], 0, LOGREAD_STEP_MAX, &step) || logread_integer(&t, path, col[1], 0, 1 << 20, &layer) ||
             logread_integer(&t, path, col[2], 0, 1, &after) || logread_number(&t, path, col[3], &lr) ||
             logread_optional(&t, path, col[4], &eff) || logread_optional(&t, path, col[5], &angle) ? -1 : 0;
        if (rc != 0) break;
        int k = 0;
        while (k < n && layers[k] != layer) k++;
        if (k == n) {
            if (n == UU_MAX_LAYERS) continue;
            layers[n++] = layer;
        }
        bn[k] |= after ? 1 : 2;
        double wan = after && wan_k > 0 && lr > 0 ? sqrt(lr * wan_k) : NAN;
        series_add(&s[k], (double[C_COLS]){(double)step * xk, angle > 0 ? angle : NAN, eff > 0 ? eff : NAN, wan});
    }
    csv_table_free(&t);
    return rc < 0 ? -1 : n;
}

// Wan et al.'s (√(2ηλ/(1+α)) / √η)² from a run's config.json (train.optimizer): 2λ/(1+α) for SGD (heavy-ball momentum
// α, not Nesterov) with weight decay λ > 0, else 0 (no line).
static double wan_factor(const char *run) {
    cJSON *cfg = figure_run_config(run);
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cfg, "train"), "optimizer");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type"), *wd = cJSON_GetObjectItemCaseSensitive(o, "weight_decay"),
                *mom = cJSON_GetObjectItemCaseSensitive(o, "momentum"), *nest = cJSON_GetObjectItemCaseSensitive(o, "nesterov");
    double lambda = cJSON_IsNumber(wd) ? wd->valuedouble : 0, alpha = cJSON_IsNumber(mom) ? mom->valuedouble : 0;
    double k = cJSON_IsString(type) && !strcmp(type->valuestring, "sgd") && !cJSON_IsTrue(nest) && lambda > 0 &&
               alpha >= 0 && alpha < 1 ? 2 * lambda / (1 + alpha) : 0;
    cJSON_Delete(cfg);
    return k;
}

// Column col of s replaced by its centred running mean over w rows (w odd; the finite values of rows r - w/2 ..
// r + w/2 that exist; NaN where none is finite): an angle logged every few steps jitters from step to step by more
// than the level it settles at.
static void running_mean(series_t *s, int col, int w) {
    if (w < 2 || s->n < 2) return;
    double *out = xmalloc(sizeof(double) * (size_t)s->n, "running mean");
    for (int r = 0; r < s->n; r++) {
        double sum = 0;
        int n = 0;
        for (int q = r - w / 2; q <= r + w / 2; q++)
            if (q >= 0 && q < s->n && isfinite(s->v[(size_t)q * C_COLS + col])) sum += s->v[(size_t)q * C_COLS + col], n++;
        out[r] = n ? sum / n : NAN;
    }
    for (int r = 0; r < s->n; r++) s->v[(size_t)r * C_COLS + col] = out[r];
    free(out);
}

// 1 if a median series has a finite Wan et al. value.
static int wan_line(const series_t *s) {
    for (int r = 0; r < s->n; r++)
        if (isfinite(s->v[(size_t)r * C_COLS + C_WAN])) return 1;
    return 0;
}

// 1 if two median series draw the same Wan et al. line (the same steps and values).
static int same_wan(const series_t *a, const series_t *b) {
    if (a->n != b->n) return 0;
    for (int r = 0; r < a->n; r++) {
        const double *x = a->v + (size_t)r * C_COLS, *y = b->v + (size_t)r * C_COLS;
        if (x[C_X] != y[C_X] || (x[C_WAN] != y[C_WAN] && !(isnan(x[C_WAN]) && isnan(y[C_WAN])))) return 0;
    }
    return 1;
}

int fig_unit_updates(figmodel_t *m, const figure_input_t *in) {
    const view_source_t *src = in->src;
    int nl = 0, logged = 0, rc = 0, bn[UU_MAX_LAYERS] = {0};
    series_t (*seeds)[VIEW_MAX_SEEDS][UU_MAX_LAYERS] = xcalloc((size_t)src->nv, sizeof *seeds, "unit updates");
    for (int i = 0; i < src->nv && rc == 0; i++)
        for (int k = 0; k < src->ns && rc == 0; k++) {
            char run[BNLAB_PATH_MAX];
            view_run_dir(src, i, k, run, sizeof run);
            for (int h = 0; h < UU_MAX_LAYERS; h++) series_init(&seeds[i][k][h], C_COLS);
            int exists, n = read_run(run, in->xk[i], wan_factor(run), seeds[i][k], bn, &exists);
            if (n < 0) rc = -1;
            logged += exists;
            if (n > nl) nl = n;
        }
    if (rc == 0 && !logged) {
        figmodel_init(m, "unit_updates", 0, 1);
        snprintf(m->note, sizeof m->note, "Each unit's angular update and effective learning rate: not logged in this "
                 "run (unit_updates.csv; turn it on with log.unit_updates_every: N).");
        rc = 1;
    } else if (rc == 0 && nl == 0) {
        figmodel_init(m, "unit_updates", 0, 1);
        snprintf(m->note, sizeof m->note, "Each unit's angular update and effective learning rate: unit_updates.csv has "
                 "no row yet (the first is written after step log.unit_updates_every).");
    } else if (rc == 0) {
        figmodel_init(m, "unit_updates", 2 * nl, nl);
        m->one_key = 1;
        snprintf(m->xlabel, sizeof m->xlabel, "%s", in->xlabel);
        snprintf(m->title, sizeof m->title, "How far each unit's weight row w_i turns per step (grey: Wan et al.'s "
                 "equilibrium √(2ηλ/(1+α)) with weight decay λ, momentum α), and its effective learning rate lr/‖w_i‖² "
                 "(%s)", src->ns > 1 ? "median over seeds thick, each seed faint" : "one seed");
        series_t (*med)[UU_MAX_LAYERS] = xcalloc((size_t)src->nv, sizeof *med, "unit updates");
        for (int i = 0; i < src->nv; i++)
            for (int h = 0; h < nl; h++) {
                series_t all;
                series_init(&all, C_COLS);
                for (int k = 0; k < src->ns; k++)
                    for (int r = 0; r < seeds[i][k][h].n; r++) series_add(&all, seeds[i][k][h].v + (size_t)r * C_COLS);
                series_median_by_step(&all, &med[i][h]);
                series_free(&all);
            }
        // The angles drawn as running means over about a fortieth of the longest run's rows (an odd number; none
        // below 80 rows), the medians taken first.
        int most = 0;
        for (int i = 0; i < src->nv; i++)
            for (int h = 0; h < nl; h++) most = med[i][h].n > most ? med[i][h].n : most;
        int w = most / 40 < 2 ? 1 : (most / 40) | 1;
        for (int i = 0; i < src->nv; i++)
            for (int h = 0; h < nl; h++) {
                running_mean(&med[i][h], C_ANGLE, w);
                for (int k = 0; k < src->ns; k++) running_mean(&seeds[i][k][h], C_ANGLE, w);
            }
        if (w > 1) {
            size_t len = strlen(m->title);
            snprintf(m->title + len, sizeof m->title - len, "; each angle a running mean over %d logged steps", w);
        }
        // Wan et al.'s line of variant i in layer h: drawn once for all variants that share it (the same λ, α and
        // rates); named after its variant only when a panel has two different ones.
        int draw[VIEW_MAX_VARIANTS][UU_MAX_LAYERS] = {{0}}, named = 0;
        for (int h = 0; h < nl; h++) {
            int distinct = 0;
            for (int i = 0; i < src->nv; i++) {
                draw[i][h] = wan_line(&med[i][h]);
                for (int j = 0; j < i && draw[i][h]; j++)
                    if (draw[j][h] && same_wan(&med[i][h], &med[j][h])) draw[i][h] = 0;
                distinct += draw[i][h];
            }
            named |= distinct > 1;
        }
        for (int h = 0; h < nl; h++) {
            const char *after = bn[h] == 1 ? ", BN after it" : bn[h] == 2 ? ", no BN after it" : "";
            figpanel_t *pa = &m->p[h], *pe = &m->p[nl + h];
            snprintf(pa->title, sizeof pa->title, "dense layer %d%s", h + 1, after);
            snprintf(pe->title, sizeof pe->title, "dense layer %d: lr / ‖w_i‖²", h + 1);
            snprintf(pa->ylabel, sizeof pa->ylabel, "angular update (radians per step)");
            snprintf(pe->ylabel, sizeof pe->ylabel, "lr / ‖w_i‖², mean over units");
            for (int i = 0; i < src->nv; i++) {
                const view_variant_t *v = &src->v[i];
                for (int k = 0; k < src->ns; k++) {
                    const series_t *s = &seeds[i][k][h];
                    if (src->ns > 1 && s->n) {
                        figmodel_add(pa, CURVE_LINE, s, C_X, C_ANGLE, 0, v->color, v->style, 1.2, 0.35, NULL);
                        figmodel_add(pe, CURVE_LINE, s, C_X, C_EFF, 0, v->color, v->style, 1.2, 0.35, NULL);
                    }
                }
                const series_t *md = &med[i][h];
                const char *label = src->is_compare ? v->label : NULL;
                if (md->n) {
                    figmodel_add(pa, CURVE_LINE, md, C_X, C_ANGLE, 0, v->color, v->style, 3, 1, label);
                    figmodel_add(pe, CURVE_LINE, md, C_X, C_EFF, 0, v->color, v->style, 3, 1, label);
                }
            }
            for (int i = 0; i < src->nv; i++) {  // over the data: the reference lines last
                if (!draw[i][h]) continue;
                double wan = NAN;  // the line's last value, for its label
                for (int r = 0; r < med[i][h].n; r++)
                    if (isfinite(med[i][h].v[(size_t)r * C_COLS + C_WAN])) wan = med[i][h].v[(size_t)r * C_COLS + C_WAN];
                char t[320];
                snprintf(t, sizeof t, "Wan et al.: %.3g rad%s%s", wan, named ? ": " : "", named ? src->v[i].label : "");
                figcurve_t *c = figmodel_add(pa, CURVE_LINE, &med[i][h], C_X, C_WAN, 0, THEORY_COLOR, 1, 2, 1, t);
                if (c) c->bare = 1;
            }
        }
        for (int i = 0; i < src->nv; i++)
            for (int h = 0; h < nl; h++) series_free(&med[i][h]);
        free(med);
        figmodel_finish(m, 0, 1, 1);
        for (int row = 0; row < 2; row++) {  // each row on one y axis: the layers compared; log when every value is > 0
            double lo = INFINITY, hi = -INFINITY;
            for (int h = 0; h < nl; h++) lo = fmin(lo, m->p[row * nl + h].y0), hi = fmax(hi, m->p[row * nl + h].y1);
            for (int h = 0; h < nl; h++) {
                figpanel_t *p = &m->p[row * nl + h];
                if (isfinite(lo) && isfinite(hi)) p->y0 = lo, p->y1 = hi;
                p->ylog = p->y0 > 0, p->yfixed = 1;
            }
        }
    }
    for (int i = 0; i < src->nv; i++)
        for (int k = 0; k < src->ns; k++)
            for (int h = 0; h < UU_MAX_LAYERS; h++) series_free(&seeds[i][k][h]);
    free(seeds);
    return rc;
}
