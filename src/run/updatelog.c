#include "run/updatelog.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/registry.h"
#include "run/rundir.h"

static int up_enabled(const config_t *c) { return c->log.update_ratios_every > 0; }

static int up_init(void *st, const rec_view_t *v) {
    updatelog_t *u = st;
    u->every = v->cfg->log.update_ratios_every;
    u->before = xmalloc(sizeof(float) * v->model->n_params, "update ratios: parameters before the update");
    return 0;
}

static int up_open(void *st, const rec_view_t *v, const char *run_dir, int append) {
    (void)v;
    return log_open(&((updatelog_t *)st)->out, run_dir, RUNDIR_UPDATE_RATIOS, append, RUNDIR_UPDATE_RATIOS_HEADER);
}

// Before the update of a step that ends on a multiple of every: θ as it is.
static void up_step(void *st, const rec_view_t *v) {
    updatelog_t *u = st;
    u->pending = 0;
    if ((v->step + 1) % u->every != 0) return;
    memcpy(u->before, v->model->params, sizeof(float) * v->model->n_params);
    u->pending = v->step + 1;
}

// The sums of one lane's values (see update_sums): the same operations in every copy of the loop below.
#define LANE_SUMS(s, l, bf, af, gf)                                                      \
    do {                                                                                 \
        const double bv_ = (bf), dv_ = (double)(af) - bv_, gv_ = (gf);                   \
        s[0][l] += bv_, s[1][l] += bv_ * bv_, s[2][l] += dv_, s[3][l] += dv_ * dv_;      \
        s[4][l] += gv_, s[5][l] += gv_ * gv_;                                            \
    } while (0)

// The whole groups of 8 values below `to`, portable (GCC vectorizes it where it can; the same bits either way).
SIMD_CLONES static void sums_portable(double s[UPDATE_SUMS][UPDATE_LANES], const float *b, const float *a,
                                      const float *g, size_t to) {
    for (size_t i = 0; i + UPDATE_LANES <= to; i += UPDATE_LANES)
        for (int l = 0; l < UPDATE_LANES; l++) LANE_SUMS(s, l, b[i + l], a[i + l], g[i + l]);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
// The same with one AVX-512 register per sum (8 doubles: a lane each): GCC's vectorization of the loop above spills
// its accumulators to the stack. Separate multiplies and adds (no FMA: -std=c11 contracts nothing), in the same order
// per lane as LANE_SUMS: the same bits.
__attribute__((target("avx512f"))) static void sums_avx512(double s[UPDATE_SUMS][UPDATE_LANES], const float *b,
                                                           const float *a, const float *g, size_t to) {
    __m512d acc[UPDATE_SUMS];
    for (int k = 0; k < UPDATE_SUMS; k++) acc[k] = _mm512_loadu_pd(s[k]);
    for (size_t i = 0; i + UPDATE_LANES <= to; i += UPDATE_LANES) {
        const __m512d bv = _mm512_cvtps_pd(_mm256_loadu_ps(b + i)), gv = _mm512_cvtps_pd(_mm256_loadu_ps(g + i));
        const __m512d dv = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(a + i)), bv);
        acc[0] = _mm512_add_pd(acc[0], bv), acc[1] = _mm512_add_pd(acc[1], _mm512_mul_pd(bv, bv));
        acc[2] = _mm512_add_pd(acc[2], dv), acc[3] = _mm512_add_pd(acc[3], _mm512_mul_pd(dv, dv));
        acc[4] = _mm512_add_pd(acc[4], gv), acc[5] = _mm512_add_pd(acc[5], _mm512_mul_pd(gv, gv));
    }
    for (int k = 0; k < UPDATE_SUMS; k++) _mm512_storeu_pd(s[k], acc[k]);
}
#endif

static void update_sums_with(double out[UPDATE_SUMS], const float *b, const float *a, const float *g, size_t n,
                             int wide) {
    double s[UPDATE_SUMS][UPDATE_LANES] = {{0}};
    const size_t whole = n - n % UPDATE_LANES;
#if defined(__x86_64__) && defined(__GNUC__)
    if (wide) sums_avx512(s, b, a, g, whole);
    else sums_portable(s, b, a, g, whole);
#else
    (void)wide;
    sums_portable(s, b, a, g, whole);
#endif
    for (size_t i = whole; i < n; i++) LANE_SUMS(s, (int)(i - whole), b[i], a[i], g[i]);  // one per lane
    for (int k = 0; k < UPDATE_SUMS; k++) {
        double t = 0;
        for (int l = 0; l < UPDATE_LANES; l++) t += s[k][l];
        out[k] = t;
    }
}

void update_sums(double out[UPDATE_SUMS], const float *b, const float *a, const float *g, size_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
    static int wide = -1;  // decided once; the answer never changes
    if (wide < 0) wide = __builtin_cpu_supports("avx512f");
    update_sums_with(out, b, a, g, n, wide);
#else
    update_sums_with(out, b, a, g, n, 0);
#endif
}

void update_sums_portable(double out[UPDATE_SUMS], const float *b, const float *a, const float *g, size_t n) {
    update_sums_with(out, b, a, g, n, 0);
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
    update_sums(s, b, a, g, n);
    out[0] = sqrt(s[1]), out[2] = sqrt(s[3]);
    out[1] = update_spread(s[0], s[1], n), out[3] = update_spread(s[2], s[3], n), out[4] = update_spread(s[4], s[5], n);
    if (n > 0 && (out[1] < 0 || out[3] < 0 || out[4] < 0)) {  // a mean that dominates: the shifted sums
        update_sums_shifted(s, b, a, g, n);
        out[1] = shifted_std(s[0], s[1], n), out[3] = shifted_std(s[2], s[3], n), out[4] = shifted_std(s[4], s[5], n);
    }
}

static void ratio(char *b, size_t cap, double num, double den) {
    if (den > 0 && isfinite(num / den)) snprintf(b, cap, "%.9g", num / den);
    else b[0] = '\0';
}

// After the update: one row per trainable tensor.
static void up_after(void *st, const rec_view_t *v) {
    updatelog_t *u = st;
    const model_t *m = v->model;
    if (u->pending == 0 || u->pending != v->step) return;
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        float *w[LAYER_MAX_PARAMS];
        size_t nw[LAYER_MAX_PARAMS];
        const tensor_desc_t *d[LAYER_MAX_PARAMS];
        for (int k = 0, nt = layer_params(l, w, nw, d); k < nt; k++) {
            const size_t at = (size_t)(w[k] - m->params), n = nw[k];
            double mo[UPDATE_MOMENTS];  // with the step's gradient, as its update used it
            update_moments(mo, u->before + at, w[k], m->grads + at, n);
            const double norm = mo[0], std = mo[1], dnorm = mo[2], dstd = mo[3], gstd = mo[4];
            char rn[32], rs[32], rg[32];
            ratio(rn, sizeof rn, dnorm, norm), ratio(rs, sizeof rs, dstd, std), ratio(rg, sizeof rg, gstd, std);
            wfile_printf(&u->out, "%ld,%d,%s,layers.%d.%s,%zu,%s,%s,%s\n", v->step, i, layer_kind_name(l->spec.kind), i,
                         d[k]->name, nw[k], rn, rs, rg);
        }
    }
    wfile_flush(&u->out);
    u->pending = 0;
}

static int up_check(const void *st) { return wfile_check(&((const updatelog_t *)st)->out); }
static int up_close(void *st) { return wfile_close(&((updatelog_t *)st)->out); }
static void up_free(void *st) { free(((updatelog_t *)st)->before); }

const recorder_t UPDATE_RATIOS_RECORDER = {
    .name = "update_ratios",
    .files = {{RUNDIR_UPDATE_RATIOS, RUNDIR_UPDATE_RATIOS_HEADER, REC_RESUME_AFTER_UPDATE, REC_CSV, .expect = 1}},
    .enabled = up_enabled, .turn_on = "log.update_ratios_every=10",
    .state_size = sizeof(updatelog_t),
    .init = up_init, .open = up_open, .on_step = up_step, .after_step = up_after, .check = up_check,
    .close = up_close, .free = up_free,
};
