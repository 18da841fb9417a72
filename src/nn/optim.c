#include "nn/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

void sgd_init(sgd_t *o, const optim_spec_t *spec, size_t n_params) {
    o->spec = *spec;
    o->n = n_params;
    o->sums_next = NULL;
    o->velocity = xcalloc(n_params, sizeof(float), "momentum buffers");
}

void sgd_free(sgd_t *o) {
    free(o->velocity);
    o->velocity = NULL;
}

double sgd_lr_at(const optim_spec_t *s, long t) {
    if (s->schedule == LR_STEP) return s->lr * pow(s->gamma, (double)(t / s->step_size));
    if (s->schedule == LR_EXPONENTIAL) return s->lr * pow(s->per_step, (double)t);
    return s->lr;
}

SIMD_CLONES void sgd_step(sgd_t *o, float *params, const float *grads, size_t n_decay, double lr) {
    const float mu = (float)o->spec.momentum, wd = (float)o->spec.weight_decay, eta = (float)lr;
    float *v = o->velocity;
    // Two ranges (decayed weights, the rest) and the Nesterov choice hoisted out: branch-free loops vectorize.
    // Per element the arithmetic is the same as the one-loop form.
    for (int part = 0; part < 2; part++) {
        size_t lo = part ? n_decay : 0, hi = part ? o->n : n_decay;
        float w = part ? 0.0f : wd;
        if (o->spec.momentum == 0.0)  // v = 0 v + g is g exactly: skip the velocity stream (v stays 0)
            for (size_t k = lo; k < hi; k++) params[k] -= eta * (grads[k] + w * params[k]);
        else if (o->spec.nesterov)
            for (size_t k = lo; k < hi; k++) {
                float g = grads[k] + w * params[k];
                v[k] = mu * v[k] + g;
                params[k] -= eta * (g + mu * v[k]);
            }
        else
            for (size_t k = lo; k < hi; k++) {
                float g = grads[k] + w * params[k];
                v[k] = mu * v[k] + g;
                params[k] -= eta * v[k];
            }
    }
}

// ---------------------------------------------------------------------------------------------
// The update with its sums (sgd_step_sums) and the sums alone (sgd_sums).

// The sums of one lane's values: the same operations in every copy of the loops below.
#define LANE_SUMS(s, l, bf, af, gf)                                                      \
    do {                                                                                 \
        const double bv_ = (bf), dv_ = (double)(af) - bv_, gv_ = (gf);                   \
        s[0][l] += bv_, s[1][l] += bv_ * bv_, s[2][l] += dv_, s[3][l] += dv_ * dv_;      \
        s[4][l] += gv_, s[5][l] += gv_ * gv_;                                            \
    } while (0)

static void lanes_total(double out[SGD_SUMS], double s[SGD_SUMS][SGD_LANES]) {
    for (int k = 0; k < SGD_SUMS; k++) {
        double t = 0;
        for (int l = 0; l < SGD_LANES; l++) t += s[k][l];
        out[k] = t;
    }
}

// What sgd_step does to one value (mode 0: no momentum, 1: momentum, 2: Nesterov; w: the weight decay, 0 outside the
// decayed prefix): returns the new value, updates the momentum buffer. The same float operations as sgd_step.
static inline float update_one(int mode, float b, float g, float *v, float w, float mu, float eta) {
    const float gw = g + w * b;
    if (mode == 0) return b - eta * gw;
    *v = mu * *v + gw;
    return b - eta * (mode == 2 ? gw + mu * *v : *v);
}

// Values [from, n) of a tensor, one at a time, value i in lane i mod 8 (from a multiple of 8).
static void step_sums_tail(double s[SGD_SUMS][SGD_LANES], int mode, float *p, const float *g, float *v, float *bk,
                           size_t from, size_t n, float w, float mu, float eta) {
    for (size_t i = from; i < n; i++) {
        const float b = p[i], a = update_one(mode, b, g[i], v + i, w, mu, eta);
        p[i] = a, bk[i] = b;
        LANE_SUMS(s, (int)(i % SGD_LANES), b, a, g[i]);
    }
}

// The whole groups of 8 values below `to`, portable (GCC vectorizes the lanes where it can; the same bits either way).
static inline __attribute__((always_inline)) void step_sums_groups_body(double s[SGD_SUMS][SGD_LANES], int mode,
                                                                        float *p, const float *g, float *v, float *bk,
                                                                        size_t to, float w, float mu, float eta) {
    for (size_t i = 0; i + SGD_LANES <= to; i += SGD_LANES)
        for (int l = 0; l < SGD_LANES; l++) {
            const float b = p[i + l], a = update_one(mode, b, g[i + l], v + i + l, w, mu, eta);
            p[i + l] = a, bk[i + l] = b;
            LANE_SUMS(s, l, b, a, g[i + l]);
        }
}

SIMD_CLONES static void step_sums_groups(double s[SGD_SUMS][SGD_LANES], int mode, float *p, const float *g, float *v,
                                         float *bk, size_t to, float w, float mu, float eta) {
    if (mode == 0) step_sums_groups_body(s, 0, p, g, v, bk, to, w, mu, eta);
    else if (mode == 1) step_sums_groups_body(s, 1, p, g, v, bk, to, w, mu, eta);
    else step_sums_groups_body(s, 2, p, g, v, bk, to, w, mu, eta);
}

SIMD_CLONES static void sums_groups(double s[SGD_SUMS][SGD_LANES], const float *b, const float *a, const float *g,
                                    size_t to) {
    for (size_t i = 0; i + SGD_LANES <= to; i += SGD_LANES)
        for (int l = 0; l < SGD_LANES; l++) LANE_SUMS(s, l, b[i + l], a[i + l], g[i + l]);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_SUMS_AVX512 1
// Plain SGD (mode 0) where the weight decay w is 0: g + 0·b is g, bit for bit, for every finite b (0·b is ±0, and
// g + ±0 differs from g only as +0 against -0, which b - eta·(±0) turns into the same value), so the update skips the
// product, one operation in ~14 of the loop's. Not for ±inf or NaN (0·inf is NaN): sgd_step_sums_with redoes the
// tensor's update the full way when one of its values was (its Σb is then not finite, and only then).
enum { MODE_NO_DECAY = 3 };
// One register per sum (8 doubles: a lane each). Per 8 values: the update in 8 floats (update8: the same operations
// as update_one), then their sums in LANE_SUMS's order per lane (b·b and g·g are exact in double: fused or not, the
// same sum); two groups per iteration.
#define SUMS8(acc, bd, ad, gd)                                                                              \
    do {                                                                                                  \
        const __m512d dd_ = _mm512_sub_pd((ad), (bd));                                                    \
        acc[0] = _mm512_add_pd(acc[0], (bd)), acc[1] = _mm512_fmadd_pd((bd), (bd), acc[1]);                 \
        acc[2] = _mm512_add_pd(acc[2], dd_), acc[3] = _mm512_add_pd(acc[3], _mm512_mul_pd(dd_, dd_));      \
        acc[4] = _mm512_add_pd(acc[4], (gd)), acc[5] = _mm512_fmadd_pd((gd), (gd), acc[5]);                 \
    } while (0)

// Values i..i+7: the update (parameters, momentum buffers, the stored values before it) and their sums into acc.
__attribute__((target("avx512f,avx512dq"), always_inline)) static inline void
step_sums8(__m512d acc[SGD_SUMS], int mode, float *p, const float *g, float *v, float *bk, size_t i, __m256 wh,
           __m256 muh, __m256 etah) {
    const __m256 bf = _mm256_loadu_ps(p + i), gf = _mm256_loadu_ps(g + i);
    const __m256 gw = mode == MODE_NO_DECAY ? gf : _mm256_add_ps(gf, _mm256_mul_ps(wh, bf));
    __m256 step = gw;
    if (mode == 1 || mode == 2) {
        const __m256 vv = _mm256_add_ps(_mm256_mul_ps(muh, _mm256_loadu_ps(v + i)), gw);
        _mm256_storeu_ps(v + i, vv);
        step = mode == 2 ? _mm256_add_ps(gw, _mm256_mul_ps(muh, vv)) : vv;
    }
    const __m256 af = _mm256_sub_ps(bf, _mm256_mul_ps(etah, step));
    _mm256_storeu_ps(p + i, af);
    _mm256_storeu_ps(bk + i, bf);
    SUMS8(acc, _mm512_cvtps_pd(bf), _mm512_cvtps_pd(af), _mm512_cvtps_pd(gf));
}

__attribute__((target("avx512f,avx512dq"), always_inline)) static inline void
step_sums_avx512_body(double s[SGD_SUMS][SGD_LANES], int mode, float *p, const float *g, float *v, float *bk,
                      size_t to, float w, float mu, float eta) {
    __m512d acc[SGD_SUMS];
    for (int k = 0; k < SGD_SUMS; k++) acc[k] = _mm512_loadu_pd(s[k]);
    const __m256 wh = _mm256_set1_ps(w), muh = _mm256_set1_ps(mu), etah = _mm256_set1_ps(eta);
    size_t i = 0;
    for (; i + 2 * SGD_LANES <= to; i += 2 * SGD_LANES) {
        step_sums8(acc, mode, p, g, v, bk, i, wh, muh, etah);
        step_sums8(acc, mode, p, g, v, bk, i + SGD_LANES, wh, muh, etah);
    }
    if (i + SGD_LANES <= to) step_sums8(acc, mode, p, g, v, bk, i, wh, muh, etah);
    for (int k = 0; k < SGD_SUMS; k++) _mm512_storeu_pd(s[k], acc[k]);
}

__attribute__((target("avx512f,avx512dq"))) static void
step_sums_avx512(double s[SGD_SUMS][SGD_LANES], int mode, float *p, const float *g, float *v, float *bk, size_t to,
                 float w, float mu, float eta) {
    if (mode == MODE_NO_DECAY) step_sums_avx512_body(s, MODE_NO_DECAY, p, g, v, bk, to, w, mu, eta);
    else if (mode == 0) step_sums_avx512_body(s, 0, p, g, v, bk, to, w, mu, eta);
    else if (mode == 1) step_sums_avx512_body(s, 1, p, g, v, bk, to, w, mu, eta);
    else step_sums_avx512_body(s, 2, p, g, v, bk, to, w, mu, eta);
}

// sgd_sums's whole groups of 8 values below `to`, the same way.
__attribute__((target("avx512f"))) static void sums_avx512(double s[SGD_SUMS][SGD_LANES], const float *b,
                                                           const float *a, const float *g, size_t to) {
    __m512d acc[SGD_SUMS];
    for (int k = 0; k < SGD_SUMS; k++) acc[k] = _mm512_loadu_pd(s[k]);
    for (size_t i = 0; i + SGD_LANES <= to; i += SGD_LANES) {
        SUMS8(acc, _mm512_cvtps_pd(_mm256_loadu_ps(b + i)), _mm512_cvtps_pd(_mm256_loadu_ps(a + i)),
              _mm512_cvtps_pd(_mm256_loadu_ps(g + i)));
    }
    for (int k = 0; k < SGD_SUMS; k++) _mm512_storeu_pd(s[k], acc[k]);
}

static int use_avx512(void) {
    static int wide = -1;  // decided once; the answer never changes
    if (wide < 0) wide = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
    return wide;
}
#else
#define HAVE_SUMS_AVX512 0
static int use_avx512(void) { return 0; }
#endif

static void sgd_step_sums_with(sgd_t *o, float *params, const float *grads, size_t n_decay, double lr,
                               const sgd_sums_t *s, int wide) {
    const float mu = (float)o->spec.momentum, wd = (float)o->spec.weight_decay, eta = (float)lr;
    const int mode = o->spec.momentum == 0.0 ? 0 : o->spec.nesterov ? 2 : 1;
    (void)wide;  // without AVX-512 copies: always the plain loops
    for (int t = 0; t < s->n; t++) {
        const size_t at = s->at[t], n = s->len[t], whole = n - n % SGD_LANES;
        const float w = at < n_decay ? wd : 0.0f;
        float *p = params + at, *v = o->velocity + at, *bk = s->before + at;
        const float *g = grads + at;
        double acc[SGD_SUMS][SGD_LANES] = {{0}};
#if HAVE_SUMS_AVX512
        if (wide && mode == 0 && w == 0.0f) {
            step_sums_avx512(acc, MODE_NO_DECAY, p, g, v, bk, whole, w, mu, eta);
            int finite = 1;
            for (int l = 0; l < SGD_LANES; l++) finite &= isfinite(acc[0][l]) != 0;
            if (!finite) {  // a value was ±inf or NaN: the update the full way (update_one), then its sums again
                for (size_t i = 0; i < whole; i++) p[i] = update_one(0, bk[i], g[i], v + i, w, mu, eta);
                memset(acc, 0, sizeof acc);
                sums_avx512(acc, bk, p, g, whole);
            }
        } else if (wide) step_sums_avx512(acc, mode, p, g, v, bk, whole, w, mu, eta);
        else
#endif
            step_sums_groups(acc, mode, p, g, v, bk, whole, w, mu, eta);
        step_sums_tail(acc, mode, p, g, v, bk, whole, n, w, mu, eta);
        lanes_total(s->sums[t], acc);
    }
}

void sgd_step_sums(sgd_t *o, float *params, const float *grads, size_t n_decay, double lr, const sgd_sums_t *s) {
    sgd_step_sums_with(o, params, grads, n_decay, lr, s, use_avx512());
}

void sgd_step_sums_portable(sgd_t *o, float *params, const float *grads, size_t n_decay, double lr,
                            const sgd_sums_t *s) {
    sgd_step_sums_with(o, params, grads, n_decay, lr, s, 0);
}

static void sgd_sums_with(double out[SGD_SUMS], const float *b, const float *a, const float *g, size_t n, int wide) {
    double s[SGD_SUMS][SGD_LANES] = {{0}};
    const size_t whole = n - n % SGD_LANES;
    (void)wide;
#if HAVE_SUMS_AVX512
    if (wide) sums_avx512(s, b, a, g, whole);
    else
#endif
        sums_groups(s, b, a, g, whole);
    for (size_t i = whole; i < n; i++) LANE_SUMS(s, (int)(i % SGD_LANES), b[i], a[i], g[i]);
    lanes_total(out, s);
}

void sgd_sums(double out[SGD_SUMS], const float *b, const float *a, const float *g, size_t n) {
    sgd_sums_with(out, b, a, g, n, use_avx512());
}

void sgd_sums_portable(double out[SGD_SUMS], const float *b, const float *a, const float *g, size_t n) {
    sgd_sums_with(out, b, a, g, n, 0);
}
