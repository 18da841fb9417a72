// model.h — a multilayer perceptron as a list of layers with a softmax cross-entropy head.
//
// Memory: trainable parameters live in one allocation (all dense weights first, so weight decay is one
// loop over a prefix), gradients in a second of the same layout, BN running statistics in a third, and
// every activation/gradient buffer in one arena sized for max_batch (the index lists of sparse-input layers in
// a second, int32 arena). Nothing is allocated after model_build(); layers never share buffers.
#ifndef BNLAB_MODEL_H
#define BNLAB_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "nn/sparse.h"

typedef enum {
    LAYER_DENSE, LAYER_BATCHNORM, LAYER_SIGMOID, LAYER_RELU, LAYER_TANH, LAYER_DROPOUT, LAYER_NOISE
} layer_kind_t;
typedef enum {
    INIT_NORMAL,          // N(0, std^2)
    INIT_UNIFORM,         // U(-a, a)
    INIT_XAVIER_UNIFORM,  // U(-a, a), a = sqrt(6 / (fan_in + fan_out))   (Glorot & Bengio 2010)
    INIT_XAVIER_NORMAL,   // N(0, 2 / (fan_in + fan_out))
    INIT_HE_NORMAL,       // N(0, 2 / fan_in)                            (He et al. 2015)
    INIT_HE_UNIFORM,      // U(-a, a), a = sqrt(6 / fan_in)
} init_kind_t;

typedef struct {
    init_kind_t kind;
    double std;  // INIT_NORMAL
    double a;    // INIT_UNIFORM
} init_spec_t;

// One layer as the config describes it.
typedef struct {
    layer_kind_t kind;
    int units;            // dense: output features
    int bias;             // dense: 1 = with bias (drop it before BN: beta replaces it)
    int sparse_input;     // dense: 1 = skip zero inputs (sparse.h); W then stored transposed, (in, out)
    init_spec_t init;     // dense
    double rate;          // dropout: probability of dropping a unit, in [0, 1)
    double eps;           // batchnorm: inside the square root
    double momentum;      // batchnorm: weight of the new batch in the running average
    int cumulative;       // batchnorm: running stats as a plain average over all batches instead
} layer_spec_t;

typedef struct {
    layer_spec_t spec;
    int in, out;                          // features in and out
    float *W, *b, *dW, *db;               // dense: (out, in) — (in, out) if spec.sparse_input —, (out) or NULL;
                                          // gradients alike
    sparse_batch_t sp;                    // dense with spec.sparse_input: the batch's nonzeros
    float *gamma, *beta, *dgamma, *dbeta; // batchnorm: (out) each
    float *rmean, *rvar;                  // batchnorm: running statistics (out)
    float *mean, *var, *invstd;           // batchnorm: last training batch's statistics (out)
    float *xhat;                          // batchnorm: (max_batch, out)
    float *mask;                          // dropout: (max_batch, out), 0 or 1/(1-rate)
    float *noise_s, *noise_m;             // noise: this step's per-unit scale and shift (out)
    float *y;                             // (max_batch, out) output
    float *dy;                            // (max_batch, out) dLoss/dy
} layer_t;

typedef struct {
    int n_layers;
    layer_t *layers;
    int in_dim, classes, max_batch;
    float *params, *grads;  // (n_params) each; [0, n_decay) are dense weights
    size_t n_params, n_decay;
    float *state;           // (n_state) BN running means and variances
    size_t n_state;
    int64_t bn_batches;     // training batches seen by BN (for the cumulative average)
    float *probs;           // (max_batch, classes) softmax output
    double *scratch;        // (2 * widest layer) per-feature accumulators, used within one call at a time
    float *arena;           // backing store of all per-example buffers
    int32_t *iarena;        // backing store of index buffers (sparse-input layers), or NULL
} model_t;

// The random streams a training forward pass draws from (dropout masks, shift noise).
typedef struct {
    rng_t dropout, noise;
} train_rng_t;

const char *layer_kind_name(layer_kind_t k);

// Checks shapes and allocates everything. -1 + message naming model.layers[i] on a bad architecture.
int model_build(model_t *m, const layer_spec_t *specs, int n_layers, int in_dim, int classes, int max_batch);
void model_free(model_t *m);
// The trainable tensors of layer l, in checkpoint order (dense: W then b if any; batchnorm: gamma then beta):
// pointers into the parameter block and their lengths. Returns how many (0..2). The one place that knows which
// layers own which parameters, for checkpoints, ICS and divergence reports alike.
int layer_params(const layer_t *l, float *t[2], size_t n[2]);
// Copies a parameter-layout block (parameters, gradients or momentum buffers) between the model's storage and
// the file layout of checkpoints (every dense W as torch's (out, in)): the sparse-input layers' transposed weights
// are transposed, everything else copied. dst and src must not overlap.
void model_params_to_file(const model_t *m, float *dst, const float *src);
void model_params_from_file(const model_t *m, float *dst, const float *src);
// Fills parameters from the init stream of seed: dense W by its init, b = 0, gamma = 1, beta = 0,
// running mean 0 and variance 1 (as torch). Dense layers draw in order, so a BN and a no-BN model with
// the same dense shapes start from the same weights.
void model_init(model_t *m, uint64_t seed);

typedef enum {
    MODE_EVAL,          // Algorithm 2, no dropout or noise (r unused, may be NULL)
    MODE_TRAIN,         // Algorithm 1, dropout masks and shift noise drawn from r, BN running statistics updated
    MODE_TRAIN_FROZEN,  // as MODE_TRAIN but the running statistics are left alone: a look, not a step
} forward_mode_t;

// Forward pass on x (B, in_dim), B <= max_batch, in the given mode. Returns logits (B, C).
const float *model_forward(model_t *m, const float *x, int B, forward_mode_t mode, train_rng_t *r);
// Loss and its gradient for the logits of the last forward pass: fills probs, the last layer's dy.
double model_loss_backward_head(model_t *m, const int32_t *labels, int B, int *correct);
// Backward pass through all layers (after model_loss_backward_head, or with the last dy set by hand).
void model_backward(model_t *m, const float *x, int B);

#endif
