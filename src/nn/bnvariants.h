// bnvariants.h — batch normalization's variants, for showing where BN fails and what was built to fix it.
//
// Batch Renormalization (Ioffe 2017, arXiv:1702.03275, Algorithm 1), in training, per feature:
//   sigma_B = sqrt(var_B + eps), sigma = the moving average of sigma_B,
//   r = clip(sigma_B / sigma, 1/r_max, r_max),  d = clip((mu_B - mu) / sigma, -d_max, d_max)   (constants in backprop)
//   xhat = (x - mu_B) / sigma_B * r + d,  y = gamma xhat + beta;
//   moving averages: mu += momentum (mu_B - mu), sigma += momentum (sigma_B - sigma); inference y = gamma (x - mu)/sigma
//   + beta. With r = 1 and d = 0 it is BN (Algorithm 1) in training.
// BN with the statistics as constants in backprop (the paper's §2 warning: ignoring that mu and var depend on x
// lets the parameters grow without bound): dx = gamma invstd dy. A teaching variant, not a method.
// Ghost BN (Hoffer et al. 2017) needs no kernel of its own: BN over row blocks of the batch (nn/registry.c).
//
// The ablation ladder (options of a standard BN layer, nn/layer.h; "which part of BN does the work?"), per feature:
//   normalize by (m, s): m, s the batch's mean and 1/sqrt(var_B + eps) (statistics "batch"), or the running ones,
//                        rmean and 1/sqrt(rvar + eps), as constants in backprop (statistics "population", or after
//                        freeze_stats_after training batches)
//   xhat = (x - m) s   (normalize "mean_variance": BN)
//        = x - m       ("mean": centre only, s = 1)
//        = x s         ("variance": scale only; var_B is still the variance about the batch mean)
//   y = gamma xhat + beta (affine "learned" or "frozen": gradient 0), or y = xhat (affine "none": gamma, beta NULL)
// Inference (Algorithm 2's form, running statistics): the same with (m, s) = (rmean, 1/sqrt(rvar + eps)) — an
// affine map per feature, y = scale x + shift, for every option.
// Batch-statistics backward, with g = gamma dy (dy if gamma is NULL), sums over the batch:
//   mean_variance:  dx = s (g - mean(g) - xhat mean(g xhat))        (BN's)
//   mean:           dx = g - mean(g)
//   variance:       dx = s (g - z mean(g xhat)),  z = (x - mu_B) s = xhat - mu_B s
// Running-statistics backward: dx = s g (s = 1 for "mean"). Always dgamma = sum dy xhat, dbeta = sum dy.
#ifndef BNLAB_BNVARIANTS_H
#define BNLAB_BNVARIANTS_H

#include "nn/layer.h"

// Training pass. Writes y (B, F), xbn (B, F) = (x - mu_B) / sigma_B (the plain BN normalization, for backward),
// mean, var (biased), invstd = 1/sigma_B, r and d (F each). acc is (2F) double scratch.
void batchrenorm_forward_train(float *y, float *xbn, float *mean, float *var, float *invstd, float *r, float *d,
                               const float *x, const float *gamma, const float *beta, const float *rmean,
                               const float *rstd, int B, int F, float eps, float r_max, float d_max, double *acc);
// Backward with r, d constant: dx as BN's with gamma r in place of gamma; dgamma = sum dy (r xbn + d), dbeta = sum dy.
// dx may be xbn itself (not needed: its values are read before written). gr is (F) float scratch.
void batchrenorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *xbn, const float *gamma,
                          const float *invstd, const float *r, const float *d, float *gr, int B, int F, double *acc);
// mu += momentum (mean - mu); sigma += momentum (sqrt(var + eps) - sigma).
void batchrenorm_update_running(float *rmean, float *rstd, const float *mean, const float *var, int F, float eps,
                                float momentum);
// Inference: y = gamma (x - mu) / sigma + beta.
void batchrenorm_forward_eval(float *y, const float *x, const float *gamma, const float *beta, const float *rmean,
                              const float *rstd, int B, int F);
// r_max and d_max after t training batches of the layer (Ioffe 2017, §4: 1 and 0 for the first `start` steps, then
// relaxed linearly to their limits at steps r_full and d_full). t is the layer's own count, layer_t.batches (torch's
// num_batches_tracked, as PyTorch Batch Renorm modules count): the schedule is there for the moving mu and sigma to
// settle before r and d use them, and the count says how many batches they have averaged. A checkpoint stores it and
// train --init and --resume carry it over, so a run started with --init from a checkpoint that had counted k batches
// is at step k of the schedule at its first step. In a run from scratch it is the training step.
void batchrenorm_limits(long t, double r_lim, double d_lim, long start, long r_full, long d_full, float *r_max,
                        float *d_max);

// The block of rows a layer normalizes over in training when it is smaller than the batch: ghost BN's ghost_batch;
// 0 for every other layer (the whole batch). Blocks of it form only in batches of at least that many rows and not of
// one more (nn/registry.c: a last block of one row joins the one before).
int layer_ghost_block(const layer_spec_t *s);
// 1: a batchnorm layer computing the paper's Algorithm 1 and its exact backward over the whole batch, with a gamma
// (the "standard" variant with its default ablation options — mean and variance, batch statistics, never frozen —
// and gamma learned or frozen: no ghost blocks, renorm corrections or constant-statistics backward) — whose batch
// Jacobian run/jacobian.h writes down.
int layer_bn_standard(const layer_spec_t *s);

// Algorithm 2 (run/recalibrate.h) per variant: what one training-mode pass of layer l over B rows normalized over.
// Returns how many blocks of exactly *m rows it formed — ghost BN: the full blocks of ghost_batch rows (a last block
// of another size, smaller or ghost_batch + 1 when one row joined it, is left out; 0 when none formed); every other
// layer: 1, the whole batch (*m = B). Block g's batch mean and biased variance are then layer_block_stats(l, g, ...).
int layer_norm_blocks(const layer_t *l, int B, int *m);
// mean (out) and var (out): the statistics block g (< layer_norm_blocks) of l's last training-mode pass normalized by.
void layer_block_stats(const layer_t *l, int g, const float **mean, const float **var);
// Sets feature j's inference statistics to Algorithm 2's E[x] = mean and unbiased Var[x] = var: the running mean and
// variance (as float), or for a renorm layer its running sigma = sqrt(Var[x] + eps).
void layer_set_inference_stats(layer_t *l, int j, double mean, double var);

// Backward with mu and var taken as constants: dx = gamma invstd dy; dgamma = sum dy xhat, dbeta = sum dy.
void batchnorm_backward_frozen_stats(float *dx, float *dgamma, float *dbeta, const float *dy, const float *xhat,
                                     const float *gamma, const float *invstd, int B, int F);

// Training pass with ablation options. Writes the batch's own mean, var (biased) and invstd (F each: the running
// averages and recalibration read them, whatever normalized), what normalized — nmu (F, 0 for "variance") and ninv
// (F, 1 for "mean") — and xhat, y (B, F). use_running: normalize by rmean, rvar instead of the batch's. gamma, beta
// NULL: 1 and 0. acc is (2F) double scratch.
void batchnorm_ablation_forward_train(float *y, float *xhat, float *mean, float *var, float *invstd, float *nmu,
                                      float *ninv, const float *x, const float *gamma, const float *beta,
                                      const float *rmean, const float *rvar, int use_running, bn_normalize_t norm,
                                      int B, int F, float eps, double *acc);
// Backward of that pass: batch_stats says whether the pass normalized by the batch's statistics (else constants).
// mean is the batch mean (the "variance" formula's mu_B). dgamma, dbeta NULL: not computed. dx may be xhat.
void batchnorm_ablation_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *xhat,
                                 const float *gamma, const float *mean, const float *ninv, int batch_stats,
                                 bn_normalize_t norm, int B, int F, double *acc);
// Inference as the affine map per feature: scale = gamma s, shift = beta - gamma s m with (m, s) as above from the
// running statistics (gamma, beta NULL: 1 and 0). batchnorm_fold is this for BN.
void batchnorm_ablation_fold(float *scale, float *shift, const float *gamma, const float *beta, const float *rmean,
                             const float *rvar, bn_normalize_t norm, int F, float eps);
// y (B, F) = scale x + shift per feature.
void affine_forward(float *y, const float *x, const float *scale, const float *shift, int B, int F);

#endif
