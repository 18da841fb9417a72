#include "nn/batchnorm.h"

#include <math.h>
#include <stddef.h>

#include "nn/sigmoid_inline.h"
#include "base/util.h"

// An AVX2 copy (4 doubles per instruction) beside the portable one, same bits (util.h).
#define BN_CLONES SIGMOID_CALLER SIMD_CLONES
#define INLINE SIGMOID_CALLER __attribute__((always_inline)) static inline

// Algorithm 1, and with s != NULL the sigmoid of the result in the same pass (s = sigmoid(y)): the fused pass of
// a BN -> sigmoid pair. Inlined into each wrapper, where s is a constant NULL or not.
INLINE void bn_forward_train(float *s, float *y, float *xhat, float *mean, float *var, float *invstd, const float *x,
                             const float *gamma, const float *beta, int B, int F, float eps, double *acc) {
    // Row-wise passes (contiguous, vectorizable) with per-feature double accumulators; each feature still sums
    // its rows in order, so the result is the same as a column-by-column loop. Two passes: the one-pass
    // E[x^2] - E[x]^2 cancels badly when |mean| >> std.
    double *mu = acc, *is = acc + F;
    for (int j = 0; j < F; j++) mu[j] = 0.0, is[j] = 0.0;
    for (int i = 0; i < B; i++) {
        const float *xi = x + (size_t)i * F;
        for (int j = 0; j < F; j++) mu[j] += xi[j];
    }
    for (int j = 0; j < F; j++) mu[j] /= B;
    for (int i = 0; i < B; i++) {
        const float *xi = x + (size_t)i * F;
        for (int j = 0; j < F; j++) {
            double d = xi[j] - mu[j];
            is[j] += d * d;
        }
    }
    for (int j = 0; j < F; j++) {
        double v = is[j] / B;
        is[j] = 1.0 / sqrt(v + (double)eps);
        mean[j] = (float)mu[j];
        var[j] = (float)v;
        invstd[j] = (float)is[j];
    }
    for (int i = 0; i < B; i++) {
        const float *xi = x + (size_t)i * F;
        float *xh = xhat + (size_t)i * F, *yi = y + (size_t)i * F;
        for (int j = 0; j < F; j++) {
            float h = (float)((xi[j] - mu[j]) * is[j]);
            xh[j] = h;
            yi[j] = gamma[j] * h + beta[j];
        }
        // The row's sigmoid while the row is in L1 (its own loop: mixed with the double arithmetic above, GCC
        // would not vectorize the polynomial).
        if (s)
            for (int j = 0; j < F; j++) s[(size_t)i * F + j] = sigmoid_one(yi[j]);
    }
}

BN_CLONES void batchnorm_forward_train(float *y, float *xhat, float *mean, float *var, float *invstd, const float *x,
                                       const float *gamma, const float *beta, int B, int F, float eps, double *acc) {
    bn_forward_train(NULL, y, xhat, mean, var, invstd, x, gamma, beta, B, F, eps, acc);
}

BN_CLONES void batchnorm_sigmoid_forward_train(float *s, float *y, float *xhat, float *mean, float *var, float *invstd,
                                               const float *x, const float *gamma, const float *beta, int B, int F,
                                               float eps, double *acc) {
    bn_forward_train(s, y, xhat, mean, var, invstd, x, gamma, beta, B, F, eps, acc);
}

void batchnorm_update_running(float *rmean, float *rvar, const float *mean, const float *var, int B, int F,
                              float momentum) {
    const float unbias = (float)B / (float)(B - 1);  // B >= 2 is checked where the batch size is chosen
    for (int j = 0; j < F; j++) {
        rmean[j] = (1.0f - momentum) * rmean[j] + momentum * mean[j];
        rvar[j] = (1.0f - momentum) * rvar[j] + momentum * var[j] * unbias;
    }
}

void batchnorm_fold(float *scale, float *shift, const float *gamma, const float *beta, const float *rmean,
                    const float *rvar, int F, float eps) {
    for (int j = 0; j < F; j++) {
        scale[j] = gamma[j] / sqrtf(rvar[j] + eps);
        shift[j] = beta[j] - scale[j] * rmean[j];
    }
}

INLINE void bn_forward_eval(float *s, float *y, const float *x, const float *gamma, const float *beta,
                            const float *rmean, const float *rvar, int B, int F, float eps) {
    // The square roots once per feature (a chunk of features at a time, on the stack) instead of once per
    // element: the same value divides every example, so the results are the same bits.
    enum { CHUNK = 512 };
    float sd[CHUNK];
    for (int j0 = 0; j0 < F; j0 += CHUNK) {
        const int nj = F - j0 < CHUNK ? F - j0 : CHUNK;
        for (int j = 0; j < nj; j++) sd[j] = sqrtf(rvar[j0 + j] + eps);
        for (int i = 0; i < B; i++) {
            const float *xi = x + (size_t)i * F + j0, *g = gamma + j0, *b = beta + j0, *rm = rmean + j0;
            float *yi = y + (size_t)i * F + j0;
            for (int j = 0; j < nj; j++) yi[j] = g[j] * ((xi[j] - rm[j]) / sd[j]) + b[j];
            if (s)
                for (int j = 0; j < nj; j++) s[(size_t)i * F + j0 + j] = sigmoid_one(yi[j]);
        }
    }
}

BN_CLONES void batchnorm_forward_eval(float *y, const float *x, const float *gamma, const float *beta,
                                      const float *rmean, const float *rvar, int B, int F, float eps) {
    bn_forward_eval(NULL, y, x, gamma, beta, rmean, rvar, B, F, eps);
}

BN_CLONES void batchnorm_sigmoid_forward_eval(float *s, float *y, const float *x, const float *gamma,
                                              const float *beta, const float *rmean, const float *rvar, int B, int F,
                                              float eps) {
    bn_forward_eval(s, y, x, gamma, beta, rmean, rvar, B, F, eps);
}

// Backward of Algorithm 1; with s != NULL, dy is first taken through the sigmoid that followed the BN layer:
// dy <- ds * s * (1 - s), computed in the first pass and stored in g (the BN layer's own dy; the caller passes
// dy = g) for the second.
INLINE void bn_backward(float *dx, float *dgamma, float *dbeta, float *g, const float *ds, const float *s,
                        const float *dy, const float *xhat, const float *gamma, const float *invstd, int B, int F,
                        double *acc) {
    double *sdy = acc, *sdyx = acc + F;
    for (int j = 0; j < F; j++) sdy[j] = 0.0, sdyx[j] = 0.0;
    for (int i = 0; i < B; i++) {
        const float *dyi = dy + (size_t)i * F, *xhi = xhat + (size_t)i * F;
        for (int j = 0; j < F; j++) {
            float d;
            if (s) {
                size_t q = (size_t)i * F + j;
                d = ds[q] * s[q] * (1.0f - s[q]);  // as sigmoid_backward, operation for operation
                g[q] = d;
            } else {
                d = dyi[j];
            }
            sdy[j] += d;
            sdyx[j] += (double)d * xhi[j];
        }
    }
    for (int j = 0; j < F; j++) dgamma[j] = (float)sdyx[j], dbeta[j] = (float)sdy[j];
    // With dxhat = gamma dy: sum dxhat = gamma sdy, sum dxhat xhat = gamma sdyx. dx may alias xhat (each element
    // is read before it is written), which model_backward uses when no dx is needed.
    for (int i = 0; i < B; i++) {
        const float *dyi = dy + (size_t)i * F, *xhi = xhat + (size_t)i * F;
        float *dxi = dx + (size_t)i * F;
        for (int j = 0; j < F; j++) {
            const double c = (double)gamma[j] * invstd[j] / B;
            dxi[j] = (float)(c * (B * (double)dyi[j] - sdy[j] - xhi[j] * sdyx[j]));
        }
    }
}

BN_CLONES void batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *xhat,
                                  const float *gamma, const float *invstd, int B, int F, double *acc) {
    bn_backward(dx, dgamma, dbeta, NULL, NULL, NULL, dy, xhat, gamma, invstd, B, F, acc);
}

BN_CLONES void batchnorm_sigmoid_backward(float *dx, float *dgamma, float *dbeta, float *g, const float *ds,
                                          const float *s, const float *xhat, const float *gamma, const float *invstd,
                                          int B, int F, double *acc) {
    bn_backward(dx, dgamma, dbeta, g, ds, s, g, xhat, gamma, invstd, B, F, acc);
}
