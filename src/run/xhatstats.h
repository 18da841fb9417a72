// xhatstats.h — what BN's normalized values x̂ = (x - mu_B) / sqrt(var_B + eps) look like on real batches (before
// gamma and beta), for `bnlab eval --bn-stats xhat`. At batch 2 every x̂ is ±d / sqrt(d^2 + eps), d = |x1 - x2| / 2
// (docs/batchnorm.md §3): |x̂| is 1 up to eps whatever the inputs, and the two rows are opposite.
// Per BN layer, over every batch and feature: n values, min and max |x̂|, the mean of x̂^2 (in double; Algorithm 1
// makes it var_B / (var_B + eps) <= 1 per batch and feature), how many have |x̂| >= 1 - XHAT_NEAR_ONE, and the
// largest |batch mean of x̂| (0 up to rounding: Algorithm 1 centres every batch).
#ifndef BNLAB_XHATSTATS_H
#define BNLAB_XHATSTATS_H

#include "nn/model.h"

#define XHAT_NEAR_ONE 1e-3

typedef struct {
    long n, near_one;
    double min_abs, max_abs, sum_sq, max_abs_mean;
} xhat_stats_t;

// Empty: n = 0, min_abs = +inf.
void xhat_stats_reset(xhat_stats_t *s);
// Adds one batch's x̂ (B, F), its rows normalized together (a ghost layer's blocks each have batch mean 0 too).
void xhat_stats_add(xhat_stats_t *s, const float *xhat, int B, int F);
// A batch_fn (run/infer.h) for a model's BN layers: ctx is an array of m->n_layers xhat_stats_t, entry i for layer i.
void xhat_stats_batch(void *ctx, const model_t *m, uint32_t start, int B, const int32_t *labels);

#endif
