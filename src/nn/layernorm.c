#include "nn/layernorm.h"

#include <math.h>
#include <stddef.h>

void layernorm_forward(float *y, float *xhat, float *invstd, const float *x, const float *gamma, const float *beta,
                       int B, int F, float eps) {
    for (int i = 0; i < B; i++) {
        const float *xi = x + (size_t)i * F;
        double sum = 0.0, sq = 0.0;
        for (int j = 0; j < F; j++) sum += xi[j];
        const double mu = sum / F;
        for (int j = 0; j < F; j++) sq += (xi[j] - mu) * (xi[j] - mu);  // two passes: no cancellation
        const float is = (float)(1.0 / sqrt(sq / F + (double)eps));
        invstd[i] = is;
        for (int j = 0; j < F; j++) {
            size_t k = (size_t)i * F + j;
            xhat[k] = (float)((xi[j] - mu) * is);
            y[k] = gamma[j] * xhat[k] + beta[j];
        }
    }
}

void layernorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *xhat,
                        const float *gamma, const float *invstd, int B, int F) {
    for (int j = 0; j < F; j++) dgamma[j] = 0.0f, dbeta[j] = 0.0f;
    for (int i = 0; i < B; i++) {
        const float *dyi = dy + (size_t)i * F, *xh = xhat + (size_t)i * F;
        double s = 0.0, sx = 0.0;  // sum_j dxhat, sum_j dxhat * xhat
        for (int j = 0; j < F; j++) {
            double g = (double)dyi[j] * gamma[j];
            s += g, sx += g * xh[j];
            dgamma[j] += dyi[j] * xh[j];
            dbeta[j] += dyi[j];
        }
        if (!dx) continue;
        const double c = invstd[i] / (double)F;
        for (int j = 0; j < F; j++)
            dx[(size_t)i * F + j] = (float)(c * ((double)F * dyi[j] * gamma[j] - s - xh[j] * sx));
    }
}

void rmsnorm_forward(float *y, float *xhat, float *inv_rms, const float *x, const float *gamma, int B, int F,
                     float eps) {
    for (int i = 0; i < B; i++) {
        const float *xi = x + (size_t)i * F;
        double sq = 0.0;
        for (int j = 0; j < F; j++) sq += (double)xi[j] * xi[j];
        const float ir = (float)(1.0 / sqrt(sq / F + (double)eps));
        inv_rms[i] = ir;
        for (int j = 0; j < F; j++) {
            size_t k = (size_t)i * F + j;
            xhat[k] = xi[j] * ir;
            y[k] = gamma[j] * xhat[k];
        }
    }
}

void rmsnorm_backward(float *dx, float *dgamma, const float *dy, const float *xhat, const float *gamma,
                      const float *inv_rms, int B, int F) {
    for (int j = 0; j < F; j++) dgamma[j] = 0.0f;
    for (int i = 0; i < B; i++) {
        const float *dyi = dy + (size_t)i * F, *xh = xhat + (size_t)i * F;
        double sx = 0.0;  // sum_j dxhat * xhat
        for (int j = 0; j < F; j++) {
            sx += (double)dyi[j] * gamma[j] * xh[j];
            dgamma[j] += dyi[j] * xh[j];
        }
        if (!dx) continue;
        for (int j = 0; j < F; j++)
            dx[(size_t)i * F + j] = (float)(inv_rms[i] * ((double)dyi[j] * gamma[j] - xh[j] * sx / F));
    }
}
