#include "run/updatelog.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "nn/registry.h"
#include "run/rundir.h"

static int up_init(void *st, const rec_view_t *v) {
    updatelog_t *u = st;
    const model_t *m = v->model;
    u->every = ((const updatelog_cfg_t *)v->settings)->every;
    float *w[LAYER_MAX_PARAMS];
    size_t nw[LAYER_MAX_PARAMS];
    int n = 0;
    for (int i = 0; i < m->n_layers; i++) n += layer_params(&m->layers[i], w, nw, NULL);
    u->at = xmalloc(sizeof(size_t) * (size_t)(n ? n : 1), "update ratios: tensors");
    u->len = xmalloc(sizeof(size_t) * (size_t)(n ? n : 1), "update ratios: tensors");
    u->sums = xmalloc(sizeof(double[SGD_SUMS]) * (size_t)(n ? n : 1), "update ratios: sums");
    u->before = xmalloc(sizeof(float) * (m->n_params ? m->n_params : 1), "update ratios: parameters before the update");
    size_t total = 0;
    n = 0;
    for (int i = 0; i < m->n_layers; i++)
        for (int k = 0, nt = layer_params(&m->layers[i], w, nw, NULL); k < nt; k++, n++)
            u->at[n] = (size_t)(w[k] - m->params), u->len[n] = nw[k], total += nw[k];
    if (total != m->n_params)  // the optimizer updates the tensors listed: they must be the whole block
        return bnlab_fail("update ratios: the tensors hold %zu of %zu parameters", total, m->n_params);
    u->ask = (sgd_sums_t){.n = n, .at = u->at, .len = u->len, .sums = u->sums, .before = u->before};
    return 0;
}

// Before the update of a step that ends on a multiple of every: the update sums itself (sgd_step_sums).
static void up_step(void *st, const rec_view_t *v) {
    updatelog_t *u = st;
    u->pending = 0;
    if ((v->step + 1) % u->every != 0) return;
    v->opt->sums_next = &u->ask;
    u->pending = v->step + 1;
}

void update_sums_shifted(double out[UPDATE_SUMS], const float *b, const float *a, const float *g, size_t n) {
    for (int k = 0; k < UPDATE_SUMS; k++) out[k] = 0.0;
    if (n == 0) return;
    const double b0 = b[0], d0 = (double)a[0] - b[0], g0 = g[0];
    for (size_t i = 0; i < n; i++) {
        const double xb = (double)b[i] - b0, xd = ((double)a[i] - b[i]) - d0, xg = (double)g[i] - g0;
        out[0] += xb, out[1] += xb * xb, out[2] += xd, out[3] += xd * xd, out[4] += xg, out[5] += xg * xg;
    }
}

double update_spread(double s1, double s2, size_t n) {
    const double m2 = s2 - s1 * (s1 / (double)n);  // n Var
    return m2 > UPDATE_MIN_SPREAD * s2 ? sqrt(m2 / (double)n) : -1.0;
}

// The population std of n values from their shifted sums (Σ(x−x₀), Σ(x−x₀)²): never negative.
static double shifted_std(double s1, double s2, size_t n) {
    const double m2 = s2 - s1 * (s1 / (double)n);
    return m2 > 0 ? sqrt(m2 / (double)n) : 0.0;
}

void update_moments(double out[UPDATE_MOMENTS], const float *b, const float *a, const float *g, size_t n) {
    double s[UPDATE_SUMS];
    sgd_sums(s, b, a, g, n);
    update_moments_from(out, s, b, a, g, n);
}

void update_moments_from(double out[UPDATE_MOMENTS], const double sums[UPDATE_SUMS], const float *b, const float *a,
                         const float *g, size_t n) {
    const double *s = sums;
    out[0] = sqrt(s[1]), out[2] = sqrt(s[3]);
    out[1] = update_spread(s[0], s[1], n), out[3] = update_spread(s[2], s[3], n), out[4] = update_spread(s[4], s[5], n);
    if (n > 0 && (out[1] < 0 || out[3] < 0 || out[4] < 0)) {  // a mean that dominates: the shifted sums
        double h[UPDATE_SUMS];
        update_sums_shifted(h, b, a, g, n);
        out[1] = shifted_std(h[0], h[1], n), out[3] = shifted_std(h[2], h[3], n), out[4] = shifted_std(h[4], h[5], n);
    }
}

// num / den as %.9g (fmt_g9), or nothing when den is 0 or the ratio is not finite. Returns the length.
static int ratio(char *b, double num, double den) {
    if (den > 0 && isfinite(num / den)) return fmt_g9(b, num / den);
    b[0] = '\0';
    return 0;
}

static size_t put(char *row, size_t at, const char *s) {
    const size_t n = strlen(s);
    memcpy(row + at, s, n);
    return at + n;
}

// After the update: one row per trainable tensor, "%ld,%d,%s,layers.%d.%s,%zu,%.9g,%.9g,%.9g\n" (an empty field for
// an undefined ratio) put together by hand (fmt_long, fmt_g9: the same bytes, a fraction of snprintf's time).
static void up_after(void *st, const rec_view_t *v) {
    updatelog_t *u = st;
    const model_t *m = v->model;
    if (u->pending == 0 || u->pending != v->step) return;
    char step[24];
    const int step_len = fmt_long(step, v->step);
    for (int i = 0, t = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        float *w[LAYER_MAX_PARAMS];
        size_t nw[LAYER_MAX_PARAMS];
        const tensor_desc_t *d[LAYER_MAX_PARAMS];
        char layer[24];
        fmt_long(layer, i);
        for (int k = 0, nt = layer_params(l, w, nw, d); k < nt; k++, t++) {
            const size_t at = u->at[t], n = u->len[t];
            double mo[UPDATE_MOMENTS];  // with the step's gradient, as its update used it
            update_moments_from(mo, u->sums[t], u->before + at, m->params + at, m->grads + at, n);
            const double norm = mo[0], std = mo[1], dnorm = mo[2], dstd = mo[3], gstd = mo[4];
            char row[3 * FMT_G9_MAX + 2 * BNLAB_PATH_MAX], num[24];
            size_t len = (memcpy(row, step, (size_t)step_len), (size_t)step_len);
            row[len++] = ',';
            len = put(row, len, layer), row[len++] = ',';
            len = put(row, len, layer_kind_name(l->spec.kind));
            len = put(row, len, ",layers."), len = put(row, len, layer), row[len++] = '.';
            len = put(row, len, d[k]->name), row[len++] = ',';
            fmt_long(num, (long)n);
            len = put(row, len, num), row[len++] = ',';
            len += (size_t)ratio(row + len, dnorm, norm), row[len++] = ',';
            len += (size_t)ratio(row + len, dstd, std), row[len++] = ',';
            len += (size_t)ratio(row + len, gstd, std), row[len++] = '\n';
            wfile_write(&u->out, row, len);
        }
    }
    wfile_flush(&u->out);
    u->pending = 0;
}

static void up_free(void *st) {
    updatelog_t *u = st;
    free(u->at), free(u->len), free(u->sums), free(u->before);
}

static const key_desc_t UP_KEYS[] = {
    {.name = "update_ratios_every", .type = KEY_LONG, .field = offsetof(updatelog_cfg_t, every), .lo = 0, .hi = 1e9,
     .def = 0, .flags = KEY_OMIT_ZERO},
    {0}};

const recorder_t UPDATE_RATIOS_RECORDER = {
    .name = "update_ratios", .keys = UP_KEYS,
    .files = {{RUNDIR_UPDATE_RATIOS, RUNDIR_UPDATE_RATIOS_HEADER, REC_RESUME_AFTER_UPDATE, REC_CSV, .expect = 1,
               .wfile = REC_WFILE(updatelog_t, out)}},
    .turn_on = "log.update_ratios_every=10",
    .state_size = sizeof(updatelog_t),
    .init = up_init, .on_step = up_step, .after_step = up_after, .free = up_free,
};
