#include "stats.h"

#include <math.h>
#include <stdlib.h>

#include "util.h"

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
