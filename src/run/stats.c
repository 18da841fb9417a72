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

void act_stats_reset(act_stats_t *s) {
    for (int i = 0; i < s->n_layers; i++)
        s->acc[i] = (act_acc_t){.sum = 0, .sumsq = 0, .min = INFINITY, .max = -INFINITY, .count = 0, .saturated = 0};
}

// Eight independent lanes per quantity (element k goes to lane k % 8): without them the float sum is one serial
// dependency chain and the compiler cannot vectorize it (it may not reassociate float additions). The lanes are
// combined in double. Written with GCC vector types, one 8-lane vector per quantity, and compiled twice
// (SIMD_CLONES): one AVX2 register or two SSE registers per vector, the same operations in the same order.
#define LANES 8
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
#pragma GCC diagnostic ignored "-Wpsabi"  // v8f by value only inside this file's inlined helpers

static inline __attribute__((always_inline)) v8f select_if(v8i m, v8f a, v8f b) {  // m ? a : b, lane by lane
    return (v8f)(((v8i)a & m) | ((v8i)b & ~m));
}

// Lanes of y[0, n8) (n8 a multiple of 8): sums, sums of squares, minima, maxima, saturated counts.
SIMD_CLONES static void lanes_add(const float *y, size_t n8, int sigmoid, float sum[LANES], float sq[LANES],
                                  float lo[LANES], float hi[LANES], int32_t sat[LANES]) {
    v8f s = {0}, q = {0}, l, h;
    v8i c = {0};
    memcpy(&l, lo, sizeof l), memcpy(&h, hi, sizeof h);
    const v8f slo = (v8f){0} + STATS_SAT_LO, shi = (v8f){0} + STATS_SAT_HI;
    for (size_t k = 0; k < n8; k += LANES) {
        v8f v;
        memcpy(&v, y + k, sizeof v);
        s += v, q += v * v;
        l = select_if(v < l, v, l);  // as v < lo ? v : lo
        h = select_if(v > h, v, h);
        if (sigmoid) c -= (v < slo) | (v > shi);  // a true comparison is -1: subtracting it counts
    }
    memcpy(sum, &s, sizeof s), memcpy(sq, &q, sizeof q), memcpy(lo, &l, sizeof l), memcpy(hi, &h, sizeof h);
    memcpy(sat, &c, sizeof c);
}

void act_stats_add(act_stats_t *s, const model_t *m, int B) {
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        act_acc_t *a = &s->acc[i];
        const float *y = l->y;
        size_t n = (size_t)B * l->out, k = n / LANES * LANES;
        float sum[LANES], sq[LANES], lo[LANES], hi[LANES];
        int32_t sat[LANES];
        for (int u = 0; u < LANES; u++) lo[u] = INFINITY, hi[u] = -INFINITY;
        const int sigmoid = l->spec.kind == LAYER_SIGMOID;
        lanes_add(y, k, sigmoid, sum, sq, lo, hi, sat);
        for (int u = 0; k < n; k++, u++) {
            float v = y[k];
            sum[u] += v;
            sq[u] += v * v;
            lo[u] = v < lo[u] ? v : lo[u];
            hi[u] = v > hi[u] ? v : hi[u];
            sat[u] += sigmoid & ((v < STATS_SAT_LO) | (v > STATS_SAT_HI));
        }
        for (int u = 0; u < LANES; u++) {
            a->sum += sum[u];
            a->sumsq += sq[u];
            a->min = lo[u] < a->min ? lo[u] : a->min;
            a->max = hi[u] > a->max ? hi[u] : a->max;
            a->saturated += (uint64_t)sat[u];
        }
        a->count += n;
    }
}

void act_acc_summary(const act_acc_t *a, int is_sigmoid, double *mean, double *std, double *frac_sat) {
    double n = a->count ? (double)a->count : 1.0;
    double mu = a->sum / n, var = a->sumsq / n - mu * mu;
    *mean = mu;
    *std = var > 0 ? sqrt(var) : 0.0;
    *frac_sat = is_sigmoid ? (double)a->saturated / n : -1.0;
}
