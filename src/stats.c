#include "stats.h"

#include <math.h>
#include <stdlib.h>

#include "util.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// Eight independent lanes per quantity: without them the float sum is one serial dependency chain and the
// compiler cannot vectorize it (it may not reassociate float additions). The lanes are combined in double.
#define LANES 8

void act_stats_add(act_stats_t *s, const model_t *m, int B) {
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        act_acc_t *a = &s->acc[i];
        const float *y = l->y;
        size_t n = (size_t)B * l->out, k = 0;
        float sum[LANES] = {0}, sq[LANES] = {0}, lo[LANES], hi[LANES];
        int sat[LANES] = {0};
        for (int u = 0; u < LANES; u++) lo[u] = INFINITY, hi[u] = -INFINITY;
        const int sigmoid = l->spec.kind == LAYER_SIGMOID;
#if defined(__SSE2__)
        // The same eight lanes (element k goes to lane k % 8) in SSE2 registers: the portable loop below is not
        // vectorized by GCC (its min/max selects), and this function sees every activation of every step.
        {
            __m128 s0 = _mm_setzero_ps(), s1 = s0, q0 = s0, q1 = s0;
            __m128 lo0 = _mm_set1_ps(INFINITY), lo1 = lo0, hi0 = _mm_set1_ps(-INFINITY), hi1 = hi0;
            __m128i c0 = _mm_setzero_si128(), c1 = c0;
            const __m128 slo = _mm_set1_ps(STATS_SAT_LO), shi = _mm_set1_ps(STATS_SAT_HI);
            for (; k + LANES <= n; k += LANES) {
                __m128 a = _mm_loadu_ps(y + k), b = _mm_loadu_ps(y + k + 4);
                s0 = _mm_add_ps(s0, a), s1 = _mm_add_ps(s1, b);
                q0 = _mm_add_ps(q0, _mm_mul_ps(a, a)), q1 = _mm_add_ps(q1, _mm_mul_ps(b, b));
                lo0 = _mm_min_ps(a, lo0), lo1 = _mm_min_ps(b, lo1);  // operand order as v < lo ? v : lo
                hi0 = _mm_max_ps(a, hi0), hi1 = _mm_max_ps(b, hi1);
                if (sigmoid) {  // a true compare is all ones (-1): subtracting it counts
                    c0 = _mm_sub_epi32(c0, _mm_castps_si128(_mm_or_ps(_mm_cmplt_ps(a, slo), _mm_cmpgt_ps(a, shi))));
                    c1 = _mm_sub_epi32(c1, _mm_castps_si128(_mm_or_ps(_mm_cmplt_ps(b, slo), _mm_cmpgt_ps(b, shi))));
                }
            }
            _mm_storeu_ps(sum, s0), _mm_storeu_ps(sum + 4, s1), _mm_storeu_ps(sq, q0), _mm_storeu_ps(sq + 4, q1);
            _mm_storeu_ps(lo, lo0), _mm_storeu_ps(lo + 4, lo1), _mm_storeu_ps(hi, hi0), _mm_storeu_ps(hi + 4, hi1);
            _mm_storeu_si128((__m128i *)sat, c0), _mm_storeu_si128((__m128i *)(sat + 4), c1);
        }
#endif
        for (; k + LANES <= n; k += LANES)
            for (int u = 0; u < LANES; u++) {
                float v = y[k + u];
                sum[u] += v;
                sq[u] += v * v;
                lo[u] = v < lo[u] ? v : lo[u];
                hi[u] = v > hi[u] ? v : hi[u];
                sat[u] += sigmoid & ((v < STATS_SAT_LO) | (v > STATS_SAT_HI));
            }
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
