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

void act_stats_add(act_stats_t *s, const model_t *m, int B) {
    for (int i = 0; i < m->n_layers; i++) {
        const layer_t *l = &m->layers[i];
        act_acc_t *a = &s->acc[i];
        size_t n = (size_t)B * l->out;
        // Float partial sums per batch keep the inner loop vectorizable; the running total is double.
        float sum = 0.0f, sumsq = 0.0f, lo = INFINITY, hi = -INFINITY;
        uint64_t sat = 0;
        for (size_t k = 0; k < n; k++) {
            float v = l->y[k];
            sum += v;
            sumsq += v * v;
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        if (l->spec.kind == LAYER_SIGMOID)
            for (size_t k = 0; k < n; k++) sat += (l->y[k] < STATS_SAT_LO) | (l->y[k] > STATS_SAT_HI);
        a->sum += sum;
        a->sumsq += sumsq;
        a->min = lo < a->min ? lo : a->min;
        a->max = hi > a->max ? hi : a->max;
        a->count += n;
        a->saturated += sat;
    }
}

void act_acc_summary(const act_acc_t *a, int is_sigmoid, double *mean, double *std, double *frac_sat) {
    double n = a->count ? (double)a->count : 1.0;
    double mu = a->sum / n, var = a->sumsq / n - mu * mu;
    *mean = mu;
    *std = var > 0 ? sqrt(var) : 0.0;
    *frac_sat = is_sigmoid ? (double)a->saturated / n : -1.0;
}
