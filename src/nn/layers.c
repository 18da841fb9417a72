#include "nn/layers.h"
#include "nn/sigmoid_inline.h"
#include "base/util.h"
#include "nn/gemm.h"
#include "nn/expf_vec.h"

#include <math.h>
#include <string.h>

void dense_forward(float *y, const float *x, const float *W, const float *b, int B, int in, int out) {
    gemm_nt_skip_zeros(y, x, W, B, out, in);  // y (B, out) = x (B, in) . W^T (in, out); the first layer skips zeros
    if (b)
        for (int i = 0; i < B; i++) {
            float *yi = y + (size_t)i * out;
            for (int j = 0; j < out; j++) yi[j] += b[j];
        }
}

void dense_bias_backward(float *db, const float *dy, int B, int out) {
    for (int j = 0; j < out; j++) db[j] = 0.0f;
    for (int i = 0; i < B; i++) {
        const float *dyi = dy + (size_t)i * out;
        for (int j = 0; j < out; j++) db[j] += dyi[j];
    }
}

void dense_backward(float *dx, float *dW, float *db, const float *dy, const float *x, const float *W, int B,
                    int in, int out) {
    gemm(GEMM_TN, dW, dy, x, out, in, B);  // dW (out, in) = dy^T (out, B) . x (B, in)
    if (db) dense_bias_backward(db, dy, B, out);
    if (dx) gemm(GEMM_NN, dx, dy, W, B, in, out);  // dx (B, in) = dy (B, out) . W (out, in)
}

void dense_prepare(int B, int in, int out, int with_dx) {
    if (with_dx) gemm_prepare(GEMM_NT, B, out, in);
    else gemm_prepare_skip_zeros(B, out, in);  // the first layer: its input is the data, often mostly zeros (pixels)
    gemm_check_rows(B, out, in);  // may examples be evaluated in another order (run/evalorder.h)?
    gemm_prepare(GEMM_TN, out, in, B);
    if (with_dx) gemm_prepare(GEMM_NN, B, in, out);
}

// The same loop twice: a plain copy (tests compare against it) and the dispatched one (AVX-512, AVX2 or SSE).
SIGMOID_CALLER void sigmoid_forward_portable(float *restrict y, const float *restrict x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = sigmoid_one(x[i]);
}

SIGMOID_CALLER SIMD_CLONES void sigmoid_forward(float *restrict y, const float *restrict x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = sigmoid_one(x[i]);
}

SIGMOID_CALLER SIMD_CLONES void bias_sigmoid_forward(float *restrict s, float *restrict y, const float *restrict b, int B, int F) {
    for (int i = 0; i < B; i++)
        for (int j = 0; j < F; j++) {
            size_t q = (size_t)i * F + j;
            y[q] += b[j];
            s[q] = sigmoid_one(y[q]);
        }
}

SIMD_CLONES void sigmoid_bias_backward(float *restrict g, float *restrict db, const float *restrict ds, const float *restrict s,
                           int B, int F) {
    for (int j = 0; j < F; j++) db[j] = 0.0f;
    for (int i = 0; i < B; i++)
        for (int j = 0; j < F; j++) {
            size_t q = (size_t)i * F + j;
            g[q] = ds[q] * s[q] * (1.0f - s[q]);
            db[j] += g[q];
        }
}

SIMD_CLONES void sigmoid_backward(float *dx, const float *dy, const float *y, size_t n) {
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}

void relu_forward(float *y, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void relu_backward(float *dx, const float *dy, const float *y, size_t n) {
    for (size_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

void tanh_forward(float *y, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
}

void tanh_backward(float *dx, const float *dy, const float *y, size_t n) {
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

void dropout_mask(float *mask, size_t n, float rate, rng_t *rng) {
    const float keep_scale = 1.0f / (1.0f - rate);
    // Compare 32 random bits against rate * 2^32: one draw per unit, exact in integer arithmetic.
    const uint64_t cut = (uint64_t)((double)rate * 4294967296.0);
    for (size_t i = 0; i < n; i++) mask[i] = (uint64_t)rng_u32(rng) >= cut ? keep_scale : 0.0f;
}

void dropout_forward(float *y, const float *x, const float *mask, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] * mask[i];
}

void dropout_backward(float *dx, const float *dy, const float *mask, size_t n) {
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * mask[i];
}

void noise_draw(float *s, float *m, int F, rng_t *rng) {
    const double mu_t = rng_uniform(rng) - 0.5, sigma_t = 1.0 + 0.25 * rng_uniform(rng);
    for (int j = 0; j < F; j++) {
        m[j] = (float)(mu_t - 0.1 + 0.2 * rng_uniform(rng));
        s[j] = (float)(sigma_t + 0.1 * rng_normal(rng));
    }
}

void noise_forward(float *y, const float *x, const float *s, const float *m, int B, int F) {
    for (int i = 0; i < B; i++)
        for (int j = 0; j < F; j++) y[(size_t)i * F + j] = s[j] * x[(size_t)i * F + j] + m[j];
}

void noise_backward(float *dx, const float *dy, const float *s, int B, int F) {
    for (int i = 0; i < B; i++)
        for (int j = 0; j < F; j++) dx[(size_t)i * F + j] = s[j] * dy[(size_t)i * F + j];
}

int argmax(const float *v, int n) {
    int arg = 0;
    for (int k = 1; k < n; k++)
        if (v[k] > v[arg]) arg = k;
    return arg;
}

double softmax_xent_forward(float *probs, const float *logits, const int32_t *labels, int B, int C,
                            int *correct) {
    // In blocks of rows: z - zmax for all of the block's values, then their exponentials in one call
    // (nn/expf_vec.h: libm's expf bits, 8 or 16 at a time), then the rows' sums in double, each in order over c but
    // the block's rows side by side (independent chains instead of one chain of C dependent adds), then the
    // scaling and the loss row by row.
    enum { ROWS = 64 };
    int arg[ROWS];
    float zmax[ROWS];
    double sum[ROWS];
    double loss = 0.0;
    int hits = 0;
    for (int i0 = 0; i0 < B; i0 += ROWS) {
        const int nb = B - i0 < ROWS ? B - i0 : ROWS;
        const float *zb = logits + (size_t)i0 * C;
        float *pb = probs + (size_t)i0 * C;
        for (int j = 0; j < nb; j++) {
            const float *z = zb + (size_t)j * C;
            float *p = pb + (size_t)j * C;
            arg[j] = argmax(z, C);
            zmax[j] = z[arg[j]];
            for (int c = 0; c < C; c++) p[c] = z[c] - zmax[j];
        }
        expf_vec(pb, pb, (size_t)nb * C);
        for (int j = 0; j < nb; j++) sum[j] = 0.0;
        for (int c = 0; c < C; c++)
            for (int j = 0; j < nb; j++) sum[j] += pb[(size_t)j * C + c];
        for (int j = 0; j < nb; j++) {
            const float *z = zb + (size_t)j * C;
            float *p = pb + (size_t)j * C;
            float inv = (float)(1.0 / sum[j]);
            for (int c = 0; c < C; c++) p[c] *= inv;
            // -log p_y = log(sum) - (z_y - zmax): no log of a rounded-to-zero probability.
            loss += log(sum[j]) - (double)(z[labels[i0 + j]] - zmax[j]);
            hits += arg[j] == labels[i0 + j];
        }
    }
    if (correct) *correct = hits;
    return loss / B;
}

void softmax_xent_backward(float *dlogits, const float *probs, const int32_t *labels, int B, int C) {
    const float invB = 1.0f / (float)B;
    for (int i = 0; i < B; i++) {
        const float *p = probs + (size_t)i * C;
        float *d = dlogits + (size_t)i * C;
        for (int c = 0; c < C; c++) d[c] = p[c] * invB;
        d[labels[i]] -= invB;
    }
}
