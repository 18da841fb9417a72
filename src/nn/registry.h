// registry.h — the layer registry: one row per layer kind, the only place that says what a kind is.
//
// A row gives the kind's config name and keys (parsed and written back by run/config.c), whether it is a
// nonlinearity (percentiles, plots and "hidden layer k" follow its inputs), its tensors — trainable parameters, state
// and work buffers, with their shapes, their initial values and their PyTorch state_dict names — its forward and
// backward passes, and the torch.nn module that computes the same in evaluation mode (scripts/torch_load.py builds
// the network from it). model.c carves, initializes and runs layers through the rows; checkpoints, ICS, the divergence
// report and the analysis read them.
//
// Adding a parameter-free activation: its kernels in layers.{h,c}, a value in layer_kind_t (nn/layer.h) and one row
// with two small adapters in registry.c.
#ifndef BNLAB_REGISTRY_H
#define BNLAB_REGISTRY_H

#include <stddef.h>

#include "base/keys.h"
#include "nn/layer.h"

typedef enum {
    SHAPE_OUT_IN,     // (out, in): a dense weight as torch.nn.Linear stores it
    SHAPE_OUT,        // (out): one value per feature
    SHAPE_BATCH_OUT,  // (max_batch, out): one value per example and feature (work buffers only)
    SHAPE_BATCH,      // (max_batch): one value per example (work buffers only)
} tensor_shape_t;

typedef enum {
    FILL_ZERO,        // 0
    FILL_ONE,         // 1
    FILL_DENSE_INIT,  // drawn by the layer's spec.init from the init stream (nn/model.c)
} tensor_fill_t;

typedef struct {
    const char *name;     // PyTorch state_dict name within the layer ("weight", "running_var"); NULL ends a list
    size_t field;         // offsetof(layer_t, ...) of the tensor's pointer
    size_t grad;          // parameters: offsetof(layer_t, ...) of its gradient's pointer
    tensor_shape_t shape;
    tensor_fill_t fill;
    int decay;            // parameters: 1 = weight decay applies (dense weights)
    int (*present)(const layer_spec_t *s);      // NULL: always; else whether this layer has the tensor
    int (*transposed)(const layer_spec_t *s);   // NULL: stored as its shape says; else stored (in, out) when true
} tensor_desc_t;

// In which forward modes one example's output depends on the other examples of its batch — their statistics, or
// random draws made per batch or in batch order: an evaluation in another order of the examples (run/evalorder.h)
// needs every layer to act per example in the pass's mode (model_per_example). 0, a row that does not say, is taken
// as mixing in every mode.
typedef enum {
    MIXES_ALWAYS,       // in every mode
    MIXES_BATCH_STATS,  // in the modes that normalize by the batch's statistics (mode_batch_stats: all but MODE_EVAL)
    MIXES_RANDOM,       // in the modes that draw at random (mode_random: the training modes)
    MIXES_NEVER,        // in no mode: each example's output depends on that example alone
} mixes_examples_t;

typedef struct {
    const char *name;              // config "type", and in logs and messages
    const key_desc_t *keys;        // config keys besides "type" (layer_spec_t fields), ended by a NULL name
    int nonlinearity;              // 1: an activation function (hidden layer k is the k-th of them)
    // Facts the rest of the program asks instead of comparing kind names (a new kind sets them and is ordered,
    // labelled, plotted and recalibrated like the others of its sort):
    int normalizes;                // 1: a normalization layer (batchnorm and its variants, layernorm, rmsnorm)
    int uses_batch_statistics;     // 1: training-mode output of one example depends on the others in the batch
                                   //    (its running statistics are what recalibrate re-estimates and eval compares)
    mixes_examples_t mixes;        // the modes in which an example's output depends on the rest of its batch
    // Whether the forward pass over a batch of B gives each example's row the same bits wherever it sits in the batch
    // (a matrix product's kernel may sum a row at the batch's edge in another order: nn/gemm.h gemm_rows_independent).
    // NULL: yes (element-wise, per-feature and per-example work).
    int (*rows_independent)(const layer_t *l, int B);
    int has_affine;                // 1: per-feature gamma ("weight") and beta ("bias") after the normalization
                                   //    (rmsnorm: gamma only — its params list says which tensors exist)
    int linear;                    // 1: a learned linear map y = x W^T (+ b), W (out, in) with spec.units outputs:
                                   //    the softmax head, ICS's and the landscape's layers are of these
    int saturates;                 // 1: a nonlinearity whose output counts as saturated below sat_low or above
    float sat_low, sat_high;       //    sat_high (run/stats.h counts the fraction; its gradient has all but vanished)
    int can_die;                   // 1: a nonlinearity whose output is exactly 0 on a whole interval of inputs (ReLU:
                                   //    every x <= 0), so a unit can be dead — 0 for every example of a batch
                                   //    (gradients.csv's dead_units, the dead_units figure); 0: never (sigmoid, tanh:
                                   //    exactly 0 at a point or by float underflow only) or not a nonlinearity
    double bn_grad_growth;         // a nonlinearity after BN: Yang et al. 2019's growth of the squared gradient norm
                                   //    per layer going backward (wide layers, large batches): ReLU's π/(π−1); 0: none
                                   //    derived (lab/fig_backward.c draws the theory line where it is given)
    // The kind's flags are for its layers as configured by default; where a layer's options take the fact away
    // (batchnorm's ablation ladder: statistics "population", affine "none") these say so for one layer (NULL: the
    // kind's flag holds for every layer). Ask layer_uses_batch_statistics() / layer_has_affine(), not the hooks.
    int (*layer_uses_batch_statistics)(const layer_spec_t *s);
    int (*layer_has_affine)(const layer_spec_t *s);
    int (*statistics_frozen)(const layer_t *l);  // NULL: never; 1 when the layer's statistics stopped moving
    // Evaluation mode as an affine map per feature, y = scale x + shift (scale, shift: out floats); NULL: the
    // layer's evaluation is no such map (layernorm: per-example statistics). bnlab fold (run/fold.h) folds it into
    // the dense layer before it.
    int (*eval_affine)(const layer_t *l, float *scale, float *shift);
    int (*out_width)(const layer_spec_t *s, int in);  // NULL: as many outputs as inputs
    const tensor_desc_t *params;   // trainable tensors, in checkpoint order (NULL: none)
    const tensor_desc_t *state;    // float state saved in checkpoints, e.g. running statistics (NULL: none)
    const tensor_desc_t *buffers;  // per-step work buffers (NULL: none)
    int counts_batches;            // 1: keeps layer_t.batches, saved as torch's num_batches_tracked (I64)
    // Work buffers of irregular shape (the sparse-input layer's index lists): sizes for batches up to max_batch, and
    // carving them from the int32 and float arenas. NULL: none.
    size_t (*work_ints)(const layer_spec_t *s, int max_batch, int in);
    size_t (*work_floats)(const layer_spec_t *s, int max_batch, int in);
    void (*carve_work)(layer_t *l, int32_t *ints, float *floats, int max_batch);
    // y = f(x) for x (B, in) into l->y (B, out).
    void (*forward)(layer_t *l, const float *x, int B, const layer_ctx_t *c);
    // dx (B, in) from l->dy (dx NULL: not needed, the data); parameter gradients overwritten.
    void (*backward)(layer_t *l, float *dx, const float *x, int B, const layer_ctx_t *c);
    // Optional fusion with a sigmoid layer s after it (same bits as the two passes, one pass over the batch):
    // fuses_sigmoid says whether this layer can; forward fills l->y and s->y, backward reads s->dy.
    int (*fuses_sigmoid)(const layer_t *l);
    void (*forward_sigmoid)(layer_t *l, layer_t *s, const float *x, int B, const layer_ctx_t *c);
    void (*backward_sigmoid)(layer_t *l, const layer_t *s, float *dx, const float *x, int B, const layer_ctx_t *c);
    // The matrix products of forward and backward for batches of B, prepared for the GEMM backend (nn/gemm.h) when
    // the model is built (NULL: none); with_dx = 0: the first layer, whose backward computes no dx.
    void (*prepare_gemm)(const layer_t *l, int B, int with_dx);
    // The torch.nn module computing the same in evaluation mode (NULL: none), and its constructor's arguments as a
    // JSON object written into buf (cap bytes). Returns the length, or -1 if buf is too small.
    const char *torch_module;
    int (*torch_args)(const layer_t *l, char *buf, size_t cap);
} layer_kind_info_t;

// The row of kind k.
const layer_kind_info_t *layer_kind(layer_kind_t k);
// How many kinds there are: LAYER_KIND_COUNT (more only in a test that adds rows: nn/registry.c). Loop over kinds to
// this, not to LAYER_KIND_COUNT.
int layer_kind_count(void);
// The kind named `name`, or -1.
int layer_kind_find(const char *name);
// The config name of kind k ("?" if k is out of range).
const char *layer_kind_name(layer_kind_t k);
// "\"dense\", \"batchnorm\", ..." (quoted, comma-separated) into out (cap bytes): the kinds, for messages.
void layer_kind_list(char *out, size_t cap);

// The registry's flags for one layer, its options taken into account (a batchnorm layer with statistics
// "population" normalizes by no batch's statistics in training; one with affine "none" has no gamma or beta).
int layer_uses_batch_statistics(const layer_spec_t *s);
int layer_has_affine(const layer_spec_t *s);
// 1 if in forward mode `mode` each example's output of a layer of this spec depends on that example alone (its row's
// mixes), else 0.
int layer_per_example(const layer_spec_t *s, forward_mode_t mode);
// Its row's rows_independent for layer l and batches of B (1 where the row gives none).
int layer_rows_independent(const layer_t *l, int B);
// Whether layer l's next training step normalizes by the batch's statistics: layer_uses_batch_statistics, and for a
// batchnorm layer with freeze_stats_after K not past its K-th training batch. A layer that trains on fixed statistics
// is evaluated with those same statistics: Algorithm 2 (run/recalibrate.h) leaves it alone.
int layer_trains_on_batch_statistics(const layer_t *l);
// Whether a layer's training-mode output is unchanged when one of its input features is multiplied by any c > 0 over
// the whole batch (Ioffe & Szegedy §3.3, per unit: the row of the dense weight before it can be rescaled freely): a
// normalization over the batch per feature that divides by its standard deviation — batchnorm (standard, ghost,
// constant-stats; up to ε), not renorm (r, d from the running statistics), not "normalize": "mean", not
// "statistics": "population", not layernorm/rmsnorm (over features, not per feature).
int layer_scale_invariant_per_feature(const layer_spec_t *s);

// The tensor of layer l that desc describes, and its element count (0 if the layer lacks it).
float *layer_tensor(const layer_t *l, const tensor_desc_t *d);
// The gradient of the parameter tensor d of layer l (same shape and layout as layer_tensor), or NULL if d has none
// (state and work buffers).
float *layer_tensor_grad(const layer_t *l, const tensor_desc_t *d);
size_t layer_tensor_size(const layer_t *l, const tensor_desc_t *d, int max_batch);
int layer_has_tensor(const layer_t *l, const tensor_desc_t *d);

// The trainable tensors of layer l, in checkpoint order: pointers into the parameter block, their lengths and
// their descriptions (d may be NULL). Returns how many (at most LAYER_MAX_PARAMS).
#define LAYER_MAX_PARAMS 4
int layer_params(const layer_t *l, float *t[LAYER_MAX_PARAMS], size_t n[LAYER_MAX_PARAMS],
                 const tensor_desc_t *d[LAYER_MAX_PARAMS]);

#endif
