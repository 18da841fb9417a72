// layers.h — the element-wise and dense layers, each as a forward/backward pair of free functions.
//
// Conventions (as in llm.c): outputs first, then inputs; every pointer carries its shape; B is the batch
// size. Backward functions *overwrite* their outputs (each parameter is used once per step). No function
// allocates. Batch normalization lives in batchnorm.h.
#ifndef BNLAB_LAYERS_H
#define BNLAB_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"

// dense: y = x W^T + b             (W stored (out, in) like torch.nn.Linear; b may be NULL); for a shape prepared
//                                   as a first layer's, the product skips zero inputs with the same bits (gemm.h)
void dense_forward(float *y, const float *x, const float *W, const float *b, int B, int in, int out);
// dense: dx = dy W, dW = dy^T x, db = sum_rows dy   (dx and db may be NULL: first layer, no bias)
void dense_backward(float *dx, float *dW, float *db, const float *dy, const float *x, const float *W, int B,
                    int in, int out);
// The matrix products of the two above for batches of B, prepared for the GEMM backend (nn/gemm.h); with_dx = 0: a
// first layer, which computes no dx and whose forward product skips zero inputs (gemm_nt_skip_zeros). Allocates: at model build time only.
void dense_prepare(int B, int in, int out, int with_dx);
// db (out) = sum_rows dy (B, out), rows in order
void dense_bias_backward(float *db, const float *dy, int B, int out);

// sigmoid: y = 1 / (1 + exp(-x));  backward dx = dy * y * (1 - y)
// The forward pass uses a polynomial exp (see layers.c), in AVX2 where the CPU has it, else portable code that
// gives the same bits.
void sigmoid_forward(float *restrict y, const float *restrict x, size_t n);
void sigmoid_forward_portable(float *restrict y, const float *restrict x, size_t n);
void sigmoid_backward(float *dx, const float *dy, const float *y, size_t n);
// A dense layer's bias and the sigmoid after it in one pass: y (B, F) += b, s = sigmoid(y) (dense_forward then ran
// without b). Backward likewise: g = ds * s * (1 - s) (the dense layer's dy), db = sum_rows g. Same bits as the
// separate passes.
void bias_sigmoid_forward(float *restrict s, float *restrict y, const float *restrict b, int B, int F);
void sigmoid_bias_backward(float *restrict g, float *restrict db, const float *restrict ds, const float *restrict s,
                           int B, int F);
// relu: y = max(x, 0);  backward dx = dy * [y > 0]
void relu_forward(float *y, const float *x, size_t n);
void relu_backward(float *dx, const float *dy, const float *y, size_t n);
// tanh: y = tanh(x);  backward dx = dy * (1 - y^2)
void tanh_forward(float *y, const float *x, size_t n);
void tanh_backward(float *dx, const float *dy, const float *y, size_t n);

// inverted dropout (training): mask_i = [u_i >= rate] / (1 - rate), y = x * mask. In evaluation it is the
// identity, so the expected activation is the same in both modes.
void dropout_mask(float *mask, size_t n, float rate, rng_t *rng);
void dropout_forward(float *y, const float *x, const float *mask, size_t n);
void dropout_backward(float *dx, const float *dy, const float *mask, size_t n);

// shift noise ("noisy BN", Santurkar et al. 2018, arXiv:1805.11604, §2): after a BN layer in training,
//   y = s * x + m  per unit, with per-step mu_t ~ U(-0.5, 0.5), sigma_t ~ U(1, 1.25) and per-unit
//   m ~ U(mu_t - 0.1, mu_t + 0.1), s ~ N(sigma_t, 0.1), redrawn every step: a deliberately shifting
//   distribution of the next layer's input. Identity in evaluation.  backward: dx = s * dy
void noise_draw(float *s, float *m, int F, rng_t *rng);
void noise_forward(float *y, const float *x, const float *s, const float *m, int B, int F);
void noise_backward(float *dx, const float *dy, const float *s, int B, int F);

// The index of the largest of v[0..n), the first one on ties.
int argmax(const float *v, int n);

// softmax cross-entropy, mean over the batch:
//   p = softmax(z) per row,  loss = -(1/B) sum_i log p[i, y_i]   (computed stably with log-sum-exp)
// Returns the loss; *correct (if not NULL) counts rows whose argmax equals the label. exp is glibc's expf to the
// bit (nn/expf_vec.h), on every CPU. probs (B, C) and logits (B, C) do not overlap.
double softmax_xent_forward(float *probs, const float *logits, const int32_t *labels, int B, int C,
                            int *correct);
// dz = (p - onehot(y)) / B
void softmax_xent_backward(float *dlogits, const float *probs, const int32_t *labels, int B, int C);

#endif
