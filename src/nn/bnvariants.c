#include "nn/bnvariants.h"

#include <math.h>
#include <stddef.h>

#include "nn/batchnorm.h"

static float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

void batchrenorm_forward_train(float *y, float *xbn, float *mean, float *var, float *invstd, float *r, float *d,
                               const float *x, const float *gamma, const float *beta, const float *rmean,
                               const float *rstd, int B, int F, float eps, float r_max, float d_max, double *acc) {
    // Plain BN first (its xhat is xbn; y is overwritten below).
    batchnorm_forward_train(y, xbn, mean, var, invstd, x, gamma, beta, B, F, eps, acc);
    for (int j = 0; j < F; j++) {
        float sigma_b = 1.0f / invstd[j];
        r[j] = clampf(sigma_b / rstd[j], 1.0f / r_max, r_max);
        d[j] = clampf((mean[j] - rmean[j]) / rstd[j], -d_max, d_max);
    }
    for (int i = 0; i < B; i++)
        for (int j = 0; j < F; j++) {
            size_t k = (size_t)i * F + j;
            y[k] = gamma[j] * (xbn[k] * r[j] + d[j]) + beta[j];
        }
}

void batchrenorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *xbn, const float *gamma,
                          const float *invstd, const float *r, const float *d, float *gr, int B, int F, double *acc) {
    for (int j = 0; j < F; j++) gr[j] = gamma[j] * r[j];
    // BN's backward with gamma r: dxbn = dy gamma r, and dgamma comes out as sum dy xbn.
    batchnorm_backward(dx, dgamma, dbeta, dy, xbn, gr, invstd, B, F, acc);
    for (int j = 0; j < F; j++) dgamma[j] = r[j] * dgamma[j] + d[j] * dbeta[j];
}

void batchrenorm_update_running(float *rmean, float *rstd, const float *mean, const float *var, int F, float eps,
                                float momentum) {
    for (int j = 0; j < F; j++) {
        rmean[j] += momentum * (mean[j] - rmean[j]);
        rstd[j] += momentum * ((float)sqrt((double)var[j] + eps) - rstd[j]);
    }
}

void batchrenorm_forward_eval(float *y, const float *x, const float *gamma, const float *beta, const float *rmean,
                              const float *rstd, int B, int F) {
    for (int i = 0; i < B; i++)
        for (int j = 0; j < F; j++) {
            size_t k = (size_t)i * F + j;
            y[k] = gamma[j] * ((x[k] - rmean[j]) / rstd[j]) + beta[j];
        }
}

void batchrenorm_limits(long t, double r_lim, double d_lim, long start, long r_full, long d_full, float *r_max,
                        float *d_max) {
    double fr = t < start ? 0.0 : r_full <= start ? 1.0 : fmin(1.0, (double)(t - start) / (double)(r_full - start));
    double fd = t < start ? 0.0 : d_full <= start ? 1.0 : fmin(1.0, (double)(t - start) / (double)(d_full - start));
    *r_max = (float)(1.0 + (r_lim - 1.0) * fr);
    *d_max = (float)(d_lim * fd);
}

void batchnorm_backward_frozen_stats(float *dx, float *dgamma, float *dbeta, const float *dy, const float *xhat,
                                     const float *gamma, const float *invstd, int B, int F) {
    for (int j = 0; j < F; j++) dgamma[j] = 0.0f, dbeta[j] = 0.0f;
    for (int i = 0; i < B; i++)
        for (int j = 0; j < F; j++) {
            size_t k = (size_t)i * F + j;
            dgamma[j] += dy[k] * xhat[k];
            dbeta[j] += dy[k];
            dx[k] = gamma[j] * invstd[j] * dy[k];  // after xhat[k] was read: dx may be xhat
        }
}

int layer_ghost_block(const layer_spec_t *s) {
    return s->kind == LAYER_BATCHNORM && s->variant == BN_GHOST ? s->ghost_batch : 0;
}
