#include "batchnorm.h"

#include <math.h>
#include <stddef.h>

void batchnorm_forward_train(float *y, float *xhat, float *mean, float *var, float *invstd, const float *x,
                             const float *gamma, const float *beta, int B, int F, float eps) {
    for (int j = 0; j < F; j++) {
        // Two passes in double: the one-pass E[x^2] - E[x]^2 cancels badly when |mean| >> std.
        double s = 0.0;
        for (int i = 0; i < B; i++) s += x[(size_t)i * F + j];
        double mu = s / B, ss = 0.0;
        for (int i = 0; i < B; i++) {
            double d = x[(size_t)i * F + j] - mu;
            ss += d * d;
        }
        double v = ss / B;
        double is = 1.0 / sqrt(v + (double)eps);
        mean[j] = (float)mu;
        var[j] = (float)v;
        invstd[j] = (float)is;
        for (int i = 0; i < B; i++) {
            size_t k = (size_t)i * F + j;
            float xh = (float)((x[k] - mu) * is);
            xhat[k] = xh;
            y[k] = gamma[j] * xh + beta[j];
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

void batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *xhat,
                        const float *gamma, const float *invstd, int B, int F) {
    for (int j = 0; j < F; j++) {
        double sdy = 0.0, sdyx = 0.0;
        for (int i = 0; i < B; i++) {
            size_t k = (size_t)i * F + j;
            sdy += dy[k];
            sdyx += (double)dy[k] * xhat[k];
        }
        dgamma[j] = (float)sdyx;
        dbeta[j] = (float)sdy;
        // With dxhat = gamma dy: sum dxhat = gamma sdy, sum dxhat xhat = gamma sdyx.
        const double g = gamma[j], c = g * invstd[j] / B;
        for (int i = 0; i < B; i++) {
            size_t k = (size_t)i * F + j;
            dx[k] = (float)(c * (B * (double)dy[k] - sdy - xhat[k] * sdyx));
        }
    }
}
