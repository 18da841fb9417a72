// layernorm.h — normalization over each example's features, identical in training and evaluation.
//
// LayerNorm (Ba, Kiros & Hinton 2016, arXiv:1607.06450, eq. 4), per example i over its F features:
//   mu_i = (1/F) sum_j x_ij,  var_i = (1/F) sum_j (x_ij - mu_i)^2,  xhat = (x - mu_i) / sqrt(var_i + eps),
//   y = gamma * xhat + beta                                         (as torch.nn.LayerNorm(F, eps))
// RMSNorm (Zhang & Sennrich 2019, arXiv:1910.07467, eq. 4), without re-centering:
//   rms_i = sqrt((1/F) sum_j x_ij^2 + eps),  xhat = x / rms_i,  y = gamma * xhat   (as torch.nn.RMSNorm(F, eps))
// Unlike BN no statistic crosses examples, so a batch of one is fine and nothing is kept for evaluation.
// Sums are accumulated in double. No function allocates.
#ifndef BNLAB_LAYERNORM_H
#define BNLAB_LAYERNORM_H

// Writes y (B, F), xhat (B, F) and invstd (B) = 1/sqrt(var_i + eps) for backward.
void layernorm_forward(float *y, float *xhat, float *invstd, const float *x, const float *gamma, const float *beta,
                       int B, int F, float eps);
// Per example: dxhat = dy * gamma, dx = invstd/F * (F dxhat - sum_j dxhat - xhat sum_j dxhat xhat);
// dgamma = sum_i dy xhat, dbeta = sum_i dy (overwritten). dx may be NULL.
void layernorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *xhat,
                        const float *gamma, const float *invstd, int B, int F);

// Writes y (B, F), xhat (B, F) and inv_rms (B) = 1/rms_i for backward.
void rmsnorm_forward(float *y, float *xhat, float *inv_rms, const float *x, const float *gamma, int B, int F,
                     float eps);
// Per example: dxhat = dy * gamma, dx = inv_rms * (dxhat - xhat (1/F) sum_j dxhat xhat); dgamma = sum_i dy xhat.
void rmsnorm_backward(float *dx, float *dgamma, const float *dy, const float *xhat, const float *gamma,
                      const float *inv_rms, int B, int F);

#endif
