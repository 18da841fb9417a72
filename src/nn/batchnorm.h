// batchnorm.h — batch normalization (Ioffe & Szegedy 2015, arXiv:1502.03167), per feature of a (B, F) input.
//
// Training, Algorithm 1:   mu = (1/B) sum_i x_i                   (mini-batch mean)
//                          var = (1/B) sum_i (x_i - mu)^2         (biased mini-batch variance)
//                          xhat = (x - mu) / sqrt(var + eps)      (eps inside the square root)
//                          y = gamma * xhat + beta                (scale and shift, learned)
// Inference:               y = gamma * (x - E[x]) / sqrt(Var[x] + eps) + beta (Algorithm 2, step 11), with E[x] and
//                          Var[x] the running statistics tracked during training (Var from the unbiased B/(B-1)
//                          batch variance) — not Algorithm 2's averages over batches after training, with the
//                          weights frozen, which run/recalibrate.h computes.
// Running statistics follow torch.nn.BatchNorm1d: r <- (1 - momentum) r + momentum * batch_stat, momentum
// the weight of the new batch (0.1); with a cumulative average momentum = 1 / batches_seen.
#ifndef BNLAB_BATCHNORM_H
#define BNLAB_BATCHNORM_H

// Algorithm 1. Writes y (B, F), xhat (B, F) for backward, batch mean (F), biased var (F), invstd (F);
// acc is (2F) double scratch.
void batchnorm_forward_train(float *y, float *xhat, float *mean, float *var, float *invstd, const float *x,
                             const float *gamma, const float *beta, int B, int F, float eps, double *acc);
// The same and, in the same pass, s (B, F) = sigmoid(y): a BN layer and the sigmoid after it as one pass over the
// batch instead of two. Every value is computed as by the two functions one after the other (same bits).
void batchnorm_sigmoid_forward_train(float *s, float *y, float *xhat, float *mean, float *var, float *invstd,
                                     const float *x, const float *gamma, const float *beta, int B, int F, float eps,
                                     double *acc);
// Running statistics update: rmean += m (mean - rmean); rvar += m (var * B/(B-1) - rvar).
void batchnorm_update_running(float *rmean, float *rvar, const float *mean, const float *var, int B, int F,
                              float momentum);
// Inference as the folded affine map y = scale * x + shift with scale = gamma / sqrt(rvar + eps) and
// shift = beta - scale * rmean (Algorithm 2, step 11, with whichever statistics rmean, rvar hold).
void batchnorm_fold(float *scale, float *shift, const float *gamma, const float *beta, const float *rmean,
                    const float *rvar, int F, float eps);
void batchnorm_forward_eval(float *y, const float *x, const float *gamma, const float *beta, const float *rmean,
                            const float *rvar, int B, int F, float eps);
// The same and s (B, F) = sigmoid(y) in the same pass.
void batchnorm_sigmoid_forward_eval(float *s, float *y, const float *x, const float *gamma, const float *beta,
                                    const float *rmean, const float *rvar, int B, int F, float eps);
// Backward of Algorithm 1 (paper §3, the chain rule through mu and var), per feature:
//   dxhat = dy * gamma
//   dx = invstd / B * (B * dxhat - sum_i dxhat_i - xhat * sum_i dxhat_i xhat_i)
//   dgamma = sum_i dy_i xhat_i,  dbeta = sum_i dy_i
// Consequences tested: sum_i dx_i = 0 and sum_i dx_i xhat_i = 0 for each feature.
// acc is (2F) double scratch.
void batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *xhat,
                        const float *gamma, const float *invstd, int B, int F, double *acc);
// Backward through a sigmoid and the BN layer before it, given ds (B, F) = dLoss/ds and the sigmoid's output s:
// g (B, F) = ds * s * (1 - s) (dLoss/dy of the BN layer, written) in the first of BN's two passes, then as above.
void batchnorm_sigmoid_backward(float *dx, float *dgamma, float *dbeta, float *g, const float *ds, const float *s,
                                const float *xhat, const float *gamma, const float *invstd, int B, int F,
                                double *acc);

#endif
