#include "batchnorm.h"

#include <math.h>
#include <stddef.h>

// target_clones: an AVX2 copy (4 doubles per instruction) chosen at load time where the CPU has it. No contraction
// under -std=c11, so both copies perform the same IEEE operations: the same bits on every CPU.
#if defined(__x86_64__) && defined(__GNUC__)
#define BN_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define BN_CLONES
#endif

BN_CLONES void batchnorm_forward_train(float *y, float *xhat, float *mean, float *var, float *invstd, const float *x,
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
    }
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

void batchnorm_forward_eval(float *y, const float *x, const float *gamma, const float *beta, const float *rmean,
                            const float *rvar, int B, int F, float eps) {
    for (int i = 0; i < B; i++) {
        const float *xi = x + (size_t)i * F;
        float *yi = y + (size_t)i * F;
        for (int j = 0; j < F; j++) yi[j] = gamma[j] * ((xi[j] - rmean[j]) / sqrtf(rvar[j] + eps)) + beta[j];
    }
}

BN_CLONES void batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *xhat,
                        const float *gamma, const float *invstd, int B, int F, double *acc) {
    double *sdy = acc, *sdyx = acc + F;
    for (int j = 0; j < F; j++) sdy[j] = 0.0, sdyx[j] = 0.0;
    for (int i = 0; i < B; i++) {
        const float *dyi = dy + (size_t)i * F, *xhi = xhat + (size_t)i * F;
        for (int j = 0; j < F; j++) {
            sdy[j] += dyi[j];
            sdyx[j] += (double)dyi[j] * xhi[j];
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
