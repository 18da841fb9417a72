#include "run/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"


void act_stats_init(act_stats_t *s, int n_layers) {
    s->n_layers = n_layers;
    s->acc = xcalloc((size_t)n_layers, sizeof(act_acc_t), "activation statistics");
    act_stats_reset(s);
}

void act_stats_free(act_stats_t *s) {
    free(s->acc);
    s->acc = NULL;
}

static const act_acc_t ACC_EMPTY = {.mean = 0, .m2 = 0, .min = INFINITY, .max = -INFINITY, .count = 0, .saturated = 0};

void act_stats_reset(act_stats_t *s) {
    for (int i = 0; i < s->n_layers; i++) s->acc[i] = ACC_EMPTY;
}

// Sixteen independent lanes per quantity (element k goes to lane k % 16): without them each sum is one serial
// dependency chain and the compiler cannot vectorize it (it may not reassociate floating-point additions); with
// fewer, the double additions' latency is the bound. The sums are taken in double (each float converted exactly)
// and the lanes combined in double in a fixed order. Written with GCC vector types — 4-lane double vectors,
// 8-lane float ones (a 64-byte double vector is split by GCC 12 for AVX2 through the stack, 16x slower) — and
// compiled per ISA (SIMD_CLONES): the same operations in the same order whatever the register width, so every
// machine gets the same bits. Minima, maxima and counts are exact in any order.
#define LANES 16
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef double v4d __attribute__((vector_size(32)));
#pragma GCC diagnostic ignored "-Wpsabi"  // vectors by value only inside this file's inlined helpers

// m ? a : b, lane by lane. (Macros, not inline functions: clang refuses 32-byte vector arguments and returns in the
// clones compiled without AVX, even when always inlined.)
#define select_if(m, a, b) ((v8f)((((v8i)(a)) & (m)) | (((v8i)(b)) & ~(m))))

// y[0..3], converted exactly. Spelled as an initializer: GCC 12 turns it into one vcvtps2pd, but
// __builtin_convertvector on a v4f into two half-width conversions and a shuffle (2.5x slower here).
#define load4d(y) ((v4d){(y)[0], (y)[1], (y)[2], (y)[3]})

// Pass 1 over y[0, n16) (n16 a multiple of 16), by lane: sums in double, minima, maxima, saturated counts.
SIMD_CLONES static void lanes_pass1(const float *y, size_t n16, int saturates, float sat_lo, float sat_hi,
                                    double sum[LANES], float lo[LANES], float hi[LANES], int32_t sat[LANES]) {
    v4d s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    v8f l0, l1, h0, h1;
    v8i c0 = {0}, c1 = {0};
    memcpy(&l0, lo, sizeof l0), memcpy(&l1, lo + 8, sizeof l1), memcpy(&h0, hi, sizeof h0), memcpy(&h1, hi + 8, sizeof h1);
    const v8f slo = (v8f){0} + sat_lo, shi = (v8f){0} + sat_hi;
    for (size_t k = 0; k < n16; k += LANES) {
        v8f v0, v1;
        memcpy(&v0, y + k, sizeof v0), memcpy(&v1, y + k + 8, sizeof v1);
        s0 += load4d(y + k), s1 += load4d(y + k + 4), s2 += load4d(y + k + 8), s3 += load4d(y + k + 12);
        l0 = select_if(v0 < l0, v0, l0), l1 = select_if(v1 < l1, v1, l1);  // as v < lo ? v : lo
        h0 = select_if(v0 > h0, v0, h0), h1 = select_if(v1 > h1, v1, h1);
        if (saturates) c0 -= (v0 < slo) | (v0 > shi), c1 -= (v1 < slo) | (v1 > shi);  // true is -1: subtracting counts
    }
    memcpy(sum, &s0, sizeof s0), memcpy(sum + 4, &s1, sizeof s1), memcpy(sum + 8, &s2, sizeof s2);
    memcpy(sum + 12, &s3, sizeof s3);
    memcpy(lo, &l0, sizeof l0), memcpy(lo + 8, &l1, sizeof l1), memcpy(hi, &h0, sizeof h0), memcpy(hi + 8, &h1, sizeof h1);
    memcpy(sat, &c0, sizeof c0), memcpy(sat + 8, &c1, sizeof c1);
}

// Pass 2 over y[0, n16), by lane, with d = y - mean in double: Σd² and Σd (the latter for the correction term).
SIMD_CLONES static void lanes_pass2(const float *y, size_t n16, double mean, double sq[LANES], double dev[LANES]) {
    v4d q0 = {0}, q1 = {0}, q2 = {0}, q3 = {0}, e0 = {0}, e1 = {0}, e2 = {0}, e3 = {0};
    const v4d mu = (v4d){0} + mean;
    for (size_t k = 0; k < n16; k += LANES) {
        v4d d0 = load4d(y + k) - mu, d1 = load4d(y + k + 4) - mu, d2 = load4d(y + k + 8) - mu,
            d3 = load4d(y + k + 12) - mu;
        q0 += d0 * d0, q1 += d1 * d1, q2 += d2 * d2, q3 += d3 * d3;
        e0 += d0, e1 += d1, e2 += d2, e3 += d3;
    }
    memcpy(sq, &q0, sizeof q0), memcpy(sq + 4, &q1, sizeof q1), memcpy(sq + 8, &q2, sizeof q2);
    memcpy(sq + 12, &q3, sizeof q3);
    memcpy(dev, &e0, sizeof e0), memcpy(dev + 4, &e1, sizeof e1), memcpy(dev + 8, &e2, sizeof e2);
    memcpy(dev + 12, &e3, sizeof e3);
}

void act_acc_add(act_acc_t *a, const float *y, size_t n, const layer_kind_info_t *kind) {
    if (n == 0) return;
    const size_t n16 = n / LANES * LANES;
    const int saturates = kind && kind->saturates;
    const float sat_lo = saturates ? kind->sat_low : 0.0f, sat_hi = saturates ? kind->sat_high : 0.0f;
    double sum[LANES], sq[LANES], dev[LANES];
    float lo[LANES], hi[LANES];
    int32_t sat[LANES];
    for (int u = 0; u < LANES; u++) lo[u] = INFINITY, hi[u] = -INFINITY;
    lanes_pass1(y, n16, saturates, sat_lo, sat_hi, sum, lo, hi, sat);
    for (size_t k = n16, u = 0; k < n; k++, u++) {
        float v = y[k];
        sum[u] += v;
        lo[u] = v < lo[u] ? v : lo[u];
        hi[u] = v > hi[u] ? v : hi[u];
        sat[u] += saturates & ((v < sat_lo) | (v > sat_hi));
    }
    act_acc_t b = ACC_EMPTY;
    double total = 0;
    for (int u = 0; u < LANES; u++) {
        total += sum[u];
        b.min = lo[u] < b.min ? lo[u] : b.min;
        b.max = hi[u] > b.max ? hi[u] : b.max;
        b.saturated += (uint64_t)sat[u];
    }
    b.count = n;
    b.mean = total / (double)n;
    lanes_pass2(y, n16, b.mean, sq, dev);
    for (size_t k = n16, u = 0; k < n; k++, u++) {
        double d = (double)y[k] - b.mean;
        sq[u] += d * d, dev[u] += d;
    }
    double q = 0, e = 0;
    for (int u = 0; u < LANES; u++) q += sq[u], e += dev[u];
    // The corrected two-pass algorithm (Chan, Golub & LeVeque 1979, eq. 1.7; Björck): Σd would be 0 with an exact
    // mean; subtracting (Σd)²/n removes, to first order, what the rounding of the mean added to Σd². It cannot be
    // negative in exact arithmetic (Cauchy-Schwarz), so a negative result is rounding: clamp it.
    double m2 = q - e * e / (double)n;
    b.m2 = m2 > 0 ? m2 : 0.0;
    act_acc_merge(a, &b);
}

void act_acc_merge(act_acc_t *a, const act_acc_t *b) {
    if (b->count == 0) return;
    if (a->count == 0) {
        *a = *b;
        return;
    }
    // Chan, Golub & LeVeque (1979), eq. 2.1: the pairwise update of (n, mean, M2); each half's M2 stays a sum of
    // squared deviations from its own mean, so no large term is ever subtracted from another.
    const double na = (double)a->count, nb = (double)b->count, n = na + nb, delta = b->mean - a->mean;
    a->mean += delta * (nb / n);
    a->m2 += b->m2 + delta * delta * (na * nb / n);
    a->min = b->min < a->min ? b->min : a->min;
    a->max = b->max > a->max ? b->max : a->max;
    a->count += b->count;
    a->saturated += b->saturated;
}

void act_stats_add(act_stats_t *s, const model_t *m, int B) {
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        act_acc_add(&s->acc[i], l->y, (size_t)B * (size_t)l->out, layer_kind(l->spec.kind));
    }
}

void act_acc_summary(const act_acc_t *a, int saturates, double *mean, double *std, double *frac_sat) {
    double n = a->count ? (double)a->count : 1.0;
    *mean = a->count ? a->mean : 0.0;
    *std = a->count ? sqrt(a->m2 / n) : 0.0;
    *frac_sat = saturates ? (double)a->saturated / n : -1.0;
}

void act_stats_pack(const act_stats_t *s, double *out) {
    for (int i = 0; i < s->n_layers; i++) {
        const act_acc_t *a = &s->acc[i];
        double *v = out + (size_t)i * ACT_ACC_PACKED;
        if (a->count == 0) {  // an empty layer's min/max are infinities: a checkpoint holds finite numbers only
            for (int k = 0; k < ACT_ACC_PACKED; k++) v[k] = 0.0;
            continue;
        }
        v[0] = (double)a->count, v[1] = a->mean, v[2] = a->m2, v[3] = a->min, v[4] = a->max, v[5] = (double)a->saturated;
    }
}

// A count that converts to uint64_t exactly: finite, non-negative, integral, below 2^53.
static int is_count(double x) { return isfinite(x) && x >= 0 && x == floor(x) && x <= 9007199254740992.0; }

int act_stats_unpack(act_stats_t *s, const double *in, const char *file) {
    // Everything is checked before anything is written, so a rejected tensor leaves s as it was.
    for (int i = 0; i < s->n_layers; i++) {
        const double *v = in + (size_t)i * ACT_ACC_PACKED;
        const char *bad = NULL;
        if (!is_count(v[0])) bad = "count is not a non-negative integer";
        else if (v[0] == 0) {
            for (int k = 1; k < ACT_ACC_PACKED; k++)
                if (v[k] != 0) bad = "count is 0 but the other values are not";
        } else if (!isfinite(v[1])) bad = "mean is not finite";
        else if (!(isfinite(v[2]) && v[2] >= 0)) bad = "m2 is negative or not finite";
        else if (!(isfinite(v[3]) && isfinite(v[4]) && v[3] <= v[4])) bad = "min > max or not finite";
        else if (!is_count(v[5]) || v[5] > v[0]) bad = "saturated is not an integer in [0, count]";
        if (bad)
            return bnlab_fail("%s: tensor trainer.epoch_stats: layer %d: %s (count %g, mean %g, m2 %g, min %g, max %g, "
                              "saturated %g)", file, i, bad, v[0], v[1], v[2], v[3], v[4], v[5]);
    }
    for (int i = 0; i < s->n_layers; i++) {
        const double *v = in + (size_t)i * ACT_ACC_PACKED;
        s->acc[i] = v[0] == 0 ? ACC_EMPTY
                              : (act_acc_t){.count = (uint64_t)v[0], .mean = v[1], .m2 = v[2], .min = v[3],
                                            .max = v[4], .saturated = (uint64_t)v[5]};
    }
    return 0;
}
