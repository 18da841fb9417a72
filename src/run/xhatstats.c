#include "run/xhatstats.h"

#include <math.h>

#include "nn/registry.h"

void xhat_stats_reset(xhat_stats_t *s) {
    *s = (xhat_stats_t){.min_abs = INFINITY};
}

void xhat_stats_add(xhat_stats_t *s, const float *xhat, int B, int F) {
    for (int j = 0; j < F; j++) {
        double sum = 0;
        for (int i = 0; i < B; i++) {
            double v = xhat[(size_t)i * F + j], a = fabs(v);
            sum += v;
            s->sum_sq += v * v;
            if (a < s->min_abs) s->min_abs = a;
            if (a > s->max_abs) s->max_abs = a;
            if (a >= 1.0 - XHAT_NEAR_ONE) s->near_one++;
        }
        if (fabs(sum / B) > s->max_abs_mean) s->max_abs_mean = fabs(sum / B);
    }
    s->n += (long)B * F;
}

void xhat_stats_batch(void *ctx, const model_t *m, uint32_t start, int B, const int32_t *labels) {
    (void)start, (void)labels;
    xhat_stats_t *s = ctx;
    for (int i = 0; i < m->n_layers; i++)
        if (layer_uses_batch_statistics(&m->layers[i].spec))
            xhat_stats_add(&s[i], m->layers[i].xhat, B, m->layers[i].out);
}
