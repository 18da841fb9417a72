// layer.h — one layer of the network: what the config says of it (layer_spec_t) and its tensors (layer_t).
//
// Which fields a kind uses, how large they are, how they start and what PyTorch calls them is said once, in the
// kind's row of the layer registry (nn/registry.h); model.c carves, initializes and runs every layer through it.
#ifndef BNLAB_LAYER_H
#define BNLAB_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "nn/sparse.h"

// Each kind is one row of the registry (nn/registry.c), indexed by this value.
typedef enum {
    LAYER_DENSE, LAYER_BATCHNORM, LAYER_SIGMOID, LAYER_RELU, LAYER_TANH, LAYER_DROPOUT, LAYER_NOISE,
    LAYER_LAYERNORM, LAYER_RMSNORM,
    LAYER_KIND_COUNT
} layer_kind_t;

typedef enum {
    INIT_NORMAL,          // N(0, std^2)
    INIT_UNIFORM,         // U(-a, a)
    INIT_XAVIER_UNIFORM,  // U(-a, a), a = sqrt(6 / (fan_in + fan_out))   (Glorot & Bengio 2010)
    INIT_XAVIER_NORMAL,   // N(0, 2 / (fan_in + fan_out))
    INIT_HE_NORMAL,       // N(0, 2 / fan_in)                            (He et al. 2015)
    INIT_HE_UNIFORM,      // U(-a, a), a = sqrt(6 / fan_in)
} init_kind_t;

typedef enum {
    BN_STANDARD,        // Ioffe & Szegedy (2015)
    BN_RENORM,          // Batch Renormalization (Ioffe 2017)
    BN_GHOST,           // ghost batches: statistics over blocks of ghost_batch examples (Hoffer et al. 2017)
    BN_CONSTANT_STATS,  // the batch statistics held constant in backprop: the paper's §2 warning, a teaching variant
} bn_variant_t;

// The ablation ladder: options of a standard BN layer, each taking one ingredient out (nn/bnvariants.h). Every
// default is 0, so a layer_spec_t written without them is plain BN.
typedef enum {
    BN_NORM_MEAN_VARIANCE,  // xhat = (x - mu) / sqrt(var + eps)    (BN)
    BN_NORM_MEAN,           // xhat = x - mu                         (centre only)
    BN_NORM_VARIANCE,       // xhat = x / sqrt(var + eps)            (scale only; var still about the mean)
} bn_normalize_t;
typedef enum {
    BN_AFFINE_LEARNED,  // gamma, beta trained (BN)
    BN_AFFINE_FROZEN,   // gamma, beta kept at their values at the start (gradient 0): tensors exist, never move
    BN_AFFINE_NONE,     // no gamma, beta: y = xhat (torch's BatchNorm1d(affine=False): no weight, no bias)
} bn_affine_t;
typedef enum {
    BN_STATS_BATCH,       // training normalizes by the batch's statistics (BN)
    BN_STATS_POPULATION,  // training normalizes by the running statistics (before this batch's update), constants
} bn_stats_t;

typedef struct {
    init_kind_t kind;
    double std;  // INIT_NORMAL
    double a;    // INIT_UNIFORM
} init_spec_t;

// One layer as the config describes it; the registry row of `kind` lists the keys that fill these fields.
typedef struct {
    layer_kind_t kind;
    int units;            // dense: output features
    int bias;             // dense: 1 = with bias (drop it before BN: beta replaces it)
    int sparse_input;     // dense: 1 = skip zero inputs (sparse.h); W then stored transposed, (in, out)
    init_spec_t init;     // dense
    double rate;          // dropout: probability of dropping a unit, in [0, 1)
    double eps;           // batchnorm, layernorm, rmsnorm: inside the square root
    double momentum;      // batchnorm: weight of the new batch in the running average
    int cumulative;       // batchnorm: running stats as a plain average over all batches instead
    bn_variant_t variant; // batchnorm: which (nn/bnvariants.h)
    double r_max, d_max;  // BN_RENORM: the limits of r and d, ...
    long renorm_start, r_max_step, d_max_step;  // ... r 1 and d 0 until the layer has trained on renorm_start
                                                // batches (its num_batches_tracked), then relaxed to the limits
    int ghost_batch;      // BN_GHOST: normalize over blocks of this many examples
    bn_normalize_t bn_normalize;  // BN_STANDARD: the ablation ladder (all 0: plain BN) ...
    bn_affine_t bn_affine;
    bn_stats_t bn_stats;
    long freeze_stats_after;      // ... > 0: after this many training batches the running statistics stop moving
                                  //     and training normalizes by them (constants in backprop)
} layer_spec_t;

typedef struct {
    layer_spec_t spec;
    int in, out;                          // features in and out
    float *W, *b, *dW, *db;               // dense: (out, in) — (in, out) if spec.sparse_input —, (out) or NULL;
                                          // gradients alike
    sparse_batch_t sp;                    // dense with spec.sparse_input: the batch's nonzeros
    float *gamma, *beta, *dgamma, *dbeta; // batchnorm, layernorm (rmsnorm: gamma only): (out) each
    float *rmean, *rvar;                  // batchnorm: running statistics (out)
    float *rstd;                          // batchnorm with renorm: the moving sigma (out), in place of rvar
    float *rn_r, *rn_d, *rn_gr;           // batchnorm with renorm: this step's r, d, and gamma r (out)
    float *g_mean, *g_var, *g_invstd;     // batchnorm with ghost_batch: statistics per block (max_batch, out)
    float *g_dgamma, *g_dbeta;            // batchnorm with ghost_batch: one block's parameter gradients (out)
    int64_t batches;                      // batchnorm: training batches seen (torch's num_batches_tracked)
    float *mean, *var, *invstd;           // batchnorm: last training batch's statistics (out)
    float *nmu, *ninv;                    // batchnorm with ablation options: what training normalized by (out); in
                                          // evaluation the folded scale and shift
    int nbatch;                           // batchnorm with ablation options: 1 if the last training-mode pass
                                          // normalized by the batch's statistics (backward follows it)
    float *xhat;                          // batchnorm: (max_batch, out)
    float *row_xhat, *row_invstd;         // layernorm, rmsnorm: (max_batch, out), (max_batch) per-example statistics
    float *mask;                          // dropout: (max_batch, out), 0 or 1/(1-rate)
    float *noise_s, *noise_m;             // noise: this step's per-unit scale and shift (out)
    float *y;                             // (max_batch, out) output
    float *dy;                            // (max_batch, out) dLoss/dy
} layer_t;

typedef enum {
    MODE_EVAL,          // inference: BN by its running statistics (torch's moving average; Algorithm 2's step 11
                        // map, but not Algorithm 2's post-training averages: run/recalibrate.h), no dropout or
                        // noise (r unused, may be NULL)
    MODE_EVAL_BATCH,    // no dropout or noise, but BN normalizes by each batch's own statistics (nothing updated)
    MODE_TRAIN,         // Algorithm 1, dropout masks and shift noise drawn from r, BN running statistics updated
    MODE_TRAIN_FROZEN,  // as MODE_TRAIN but the running statistics are left alone: a look, not a step
} forward_mode_t;

// BN layers normalize by the batch's own statistics (all modes but MODE_EVAL); dropout and noise draw at random only
// in the training modes.
static inline int mode_batch_stats(forward_mode_t m) { return m != MODE_EVAL; }
static inline int mode_random(forward_mode_t m) { return m == MODE_TRAIN || m == MODE_TRAIN_FROZEN; }

// The random streams a training forward pass draws from (dropout masks, shift noise).
typedef struct {
    rng_t dropout, noise;
} train_rng_t;

// What a layer's forward and backward pass may use besides its own tensors.
typedef struct {
    forward_mode_t mode;
    train_rng_t *rng;  // MODE_TRAIN*: the streams to draw from
    double *scratch;   // (2 * widest layer) per-feature accumulators, used within one call at a time
} layer_ctx_t;

#endif
