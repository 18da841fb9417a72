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

int layer_bn_standard(const layer_spec_t *s) {
    return s->kind == LAYER_BATCHNORM && s->variant == BN_STANDARD && s->bn_normalize == BN_NORM_MEAN_VARIANCE &&
           s->bn_stats == BN_STATS_BATCH && s->bn_affine != BN_AFFINE_NONE && s->freeze_stats_after == 0;
}

void batchnorm_ablation_forward_train(float *y, float *xhat, float *mean, float *var, float *invstd, float *nmu,
                                      float *ninv, const float *x, const float *gamma, const float *beta,
                                      const float *rmean, const float *rvar, int use_running, bn_normalize_t norm,
                                      int B, int F, float eps, double *acc) {
    // The batch's statistics as BN computes them (its y and xhat are overwritten below; with no gamma, beta any
    // F values will do for the pass: x's first row).
    batchnorm_forward_train(y, xhat, mean, var, invstd, x, gamma ? gamma : x, beta ? beta : x, B, F, eps, acc);
    for (int j = 0; j < F; j++) {
        float m = use_running ? rmean[j] : mean[j];
        float s = use_running ? (float)(1.0 / sqrt((double)rvar[j] + (double)eps)) : invstd[j];
        nmu[j] = norm == BN_NORM_VARIANCE ? 0.0f : m;
        ninv[j] = norm == BN_NORM_MEAN ? 1.0f : s;
    }
    for (int i = 0; i < B; i++)
        for (int j = 0; j < F; j++) {
            size_t k = (size_t)i * F + j;
            float h = (x[k] - nmu[j]) * ninv[j];
            xhat[k] = h;
            y[k] = gamma ? gamma[j] * h + beta[j] : h;
        }
}

void batchnorm_ablation_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *xhat,
                                 const float *gamma, const float *mean, const float *ninv, int batch_stats,
                                 bn_normalize_t norm, int B, int F, double *acc) {
    double *sg = acc, *sgx = acc + F;  // sum g, sum g xhat (g = gamma dy)
    for (int j = 0; j < F; j++) sg[j] = 0.0, sgx[j] = 0.0;
    if (dgamma)
        for (int j = 0; j < F; j++) dgamma[j] = 0.0f, dbeta[j] = 0.0f;
    for (int i = 0; i < B; i++)
        for (int j = 0; j < F; j++) {
            size_t k = (size_t)i * F + j;
            if (dgamma) dgamma[j] += dy[k] * xhat[k], dbeta[j] += dy[k];
            double g = gamma ? (double)gamma[j] * dy[k] : (double)dy[k];
            sg[j] += g, sgx[j] += g * xhat[k];
        }
    for (int i = 0; i < B; i++)
        for (int j = 0; j < F; j++) {
            size_t k = (size_t)i * F + j;
            double g = gamma ? (double)gamma[j] * dy[k] : (double)dy[k], h = xhat[k], s = ninv[j], d;
            if (!batch_stats) d = s * g;
            else if (norm == BN_NORM_MEAN) d = g - sg[j] / B;
            else if (norm == BN_NORM_VARIANCE) d = s * (g - (h - (double)mean[j] * s) * sgx[j] / B);
            else d = s * (g - sg[j] / B - h * sgx[j] / B);
            dx[k] = (float)d;  // after xhat[k] was read: dx may be xhat
        }
}

void batchnorm_ablation_fold(float *scale, float *shift, const float *gamma, const float *beta, const float *rmean,
                             const float *rvar, bn_normalize_t norm, int F, float eps) {
    for (int j = 0; j < F; j++) {
        double s = norm == BN_NORM_MEAN ? 1.0 : 1.0 / sqrt((double)rvar[j] + (double)eps);
        double m = norm == BN_NORM_VARIANCE ? 0.0 : rmean[j], g = gamma ? gamma[j] : 1.0, b = beta ? beta[j] : 0.0;
        scale[j] = (float)(g * s);
        shift[j] = (float)(b - g * s * m);
    }
}

void affine_forward(float *y, const float *x, const float *scale, const float *shift, int B, int F) {
    for (int i = 0; i < B; i++)
        for (int j = 0; j < F; j++) y[(size_t)i * F + j] = scale[j] * x[(size_t)i * F + j] + shift[j];
}

int layer_ghost_block(const layer_spec_t *s) {
    return s->kind == LAYER_BATCHNORM && s->variant == BN_GHOST ? s->ghost_batch : 0;
}

int layer_norm_blocks(const layer_t *l, int B, int *m) {
    const int k = layer_ghost_block(&l->spec);
    *m = k ? k : B;
    return k ? (B % k == 1 ? B / k - 1 : B / k) : 1;
}

void layer_block_stats(const layer_t *l, int g, const float **mean, const float **var) {
    const int ghost = layer_ghost_block(&l->spec) != 0;
    *mean = ghost ? l->g_mean + (size_t)g * l->out : l->mean;
    *var = ghost ? l->g_var + (size_t)g * l->out : l->var;
}

void layer_set_inference_stats(layer_t *l, int j, double mean, double var) {
    l->rmean[j] = (float)mean;
    if (l->spec.variant == BN_RENORM) l->rstd[j] = (float)sqrt(var + l->spec.eps);
    else l->rvar[j] = (float)var;
}
