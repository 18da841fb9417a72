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

#include "nn/layer.h"
#include "nn/registry.h"

typedef struct {
    int n_layers;
    layer_t *layers;
    int in_dim, classes, max_batch;
    float *params, *grads;  // (n_params) each; [0, n_decay) are dense weights
    size_t n_params, n_decay;
    float *state;           // (n_state) the layers' float state (BN running means and variances)
    size_t n_state;
    float *probs;           // (max_batch, classes) softmax output
    double *scratch;        // (2 * widest layer) per-feature accumulators, used within one call at a time
    float *arena;           // backing store of all per-example buffers
    int32_t *iarena;        // backing store of index buffers (sparse-input layers), or NULL
} model_t;

// What model_build would allocate, without allocating it: parameter count, widest layer and bytes in all.
typedef struct {
    size_t n_params;
    int widest;
    double bytes;
} model_plan_t;
int model_plan(model_plan_t *p, const layer_spec_t *specs, int n_layers, int in_dim, int max_batch);

// Checks shapes and allocates everything, and prepares the matrix products for batches of max_batch (the GEMM backend
// is chosen first if nobody chose it: gemm_select_default). -1 + message naming model.layers[i] on a bad
// architecture (or a bad BNLAB_GEMM).
int model_build(model_t *m, const layer_spec_t *specs, int n_layers, int in_dim, int classes, int max_batch);
// Prepares the matrix products of every layer for batches of B (1..max_batch) for the GEMM backend (nn/gemm.h): with
// libxsmm, a JIT kernel per shape; a batch size nobody prepared runs in OpenBLAS. Allocates: call it after
// model_build, never in a training step.
void model_prepare_gemm(const model_t *m, int B);
void model_free(model_t *m);
// Copies a parameter-layout block (parameters, gradients or momentum buffers) between the model's storage and
// the file layout of checkpoints (every dense W as torch's (out, in)): the sparse-input layers' transposed weights
// are transposed, everything else copied. dst and src must not overlap.
void model_params_to_file(const model_t *m, float *dst, const float *src);
void model_params_from_file(const model_t *m, float *dst, const float *src);
// Fills every parameter and state tensor as its registry row says (dense W by its init from the init stream of
// seed, b = 0, gamma = 1, beta = 0, running mean 0 and variance 1 as torch) and zeroes the batch counters. Dense
// layers draw in order, so a BN and a no-BN model with the same dense shapes start from the same weights.
void model_init(model_t *m, uint64_t seed);

// LSUV-style data-dependent initialization (Mishkin & Matas 2016, "All you need is a good init", Algorithm 1,
// without its orthonormal pre-initialization: the weights keep model.init's draw): for each dense layer in order,
// the batch x (B, in_dim) is passed forward (MODE_EVAL_BATCH: BN on the batch's statistics, no dropout, nothing
// updated) and W is divided by the standard deviation of the layer's output (one value over all B x out entries),
// until that variance is within tol of 1 or after max_iter passes. With b = 0 (every bias at init) the output is
// linear in W and one pass suffices. Returns the passes made in all. Allocates nothing.
int model_lsuv(model_t *m, const float *x, int B, double tol, int max_iter);

// Forward pass on x (B, in_dim), B <= max_batch, in the given mode. Returns logits (B, C).
const float *model_forward(model_t *m, const float *x, int B, forward_mode_t mode, train_rng_t *r);
// 1 if every layer acts per example in mode `mode` (layer_per_example: its registry row's mixes) and gives each row
// the same bits wherever it sits in a batch of B (layer_rows_independent), so that an example's logits are the same
// bits whichever other examples share its batch of B, in whatever order; else 0.
int model_per_example(const model_t *m, forward_mode_t mode, int B);
// Loss and its gradient for the logits of the last forward pass: fills probs, the last layer's dy.
double model_loss_backward_head(model_t *m, const int32_t *labels, int B, int *correct);
// Backward pass through all layers (after model_loss_backward_head, or with the last dy set by hand).
void model_backward(model_t *m, const float *x, int B);

#endif
