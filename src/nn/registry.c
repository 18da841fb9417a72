#include "nn/registry.h"

#include <stdio.h>
#include <string.h>

#include "nn/batchnorm.h"
#include "nn/gemm.h"
#include "nn/bnvariants.h"
#include "nn/layernorm.h"
#include "nn/layers.h"
#include "nn/sparse.h"

#define FIELD(f) offsetof(layer_t, f)
#define SPEC(f) offsetof(layer_spec_t, f)

static size_t n_out(const layer_t *l, int B) { return (size_t)B * (size_t)l->out; }

// ---------------------------------------------------------------------------------------------
// dense: y = x W^T + b (layers.h); with spec.sparse_input the zero inputs are skipped (sparse.h).

static int dense_width(const layer_spec_t *s, int in) { (void)in; return s->units; }
static int dense_has_bias(const layer_spec_t *s) { return s->bias; }
static int dense_transposed(const layer_spec_t *s) { return s->sparse_input; }

static void dense_fwd(layer_t *l, const float *x, int B, const layer_ctx_t *c) {
    (void)c;
    if (l->spec.sparse_input) sparse_dense_forward(l->y, &l->sp, x, l->W, l->b, B, l->in, l->out);
    else dense_forward(l->y, x, l->W, l->b, B, l->in, l->out);
}
static void dense_bwd(layer_t *l, float *dx, const float *x, int B, const layer_ctx_t *c) {
    (void)c;
    if (l->spec.sparse_input) sparse_dense_backward(dx, l->dW, l->db, &l->sp, l->dy, l->W, B, l->in, l->out);
    else dense_backward(dx, l->dW, l->db, l->dy, x, l->W, B, l->in, l->out);
}
// The bias and the sigmoid in one pass after the product (the sparse layer adds its bias inside its sums).
static int dense_fuses(const layer_t *l) { return l->b && !l->spec.sparse_input; }
static void dense_sig_fwd(layer_t *l, layer_t *s, const float *x, int B, const layer_ctx_t *c) {
    (void)c;
    dense_forward(l->y, x, l->W, NULL, B, l->in, l->out);
    bias_sigmoid_forward(s->y, l->y, l->b, B, l->out);
}
static void dense_sig_bwd(layer_t *l, const layer_t *s, float *dx, const float *x, int B, const layer_ctx_t *c) {
    (void)c;
    sigmoid_bias_backward(l->dy, l->db, s->dy, s->y, B, l->out);
    dense_backward(dx, l->dW, NULL, l->dy, x, l->W, B, l->in, l->out);
}
// The sparse-input layer sums each example over its own nonzeros (sparse.h); the dense one by a GEMM kernel.
static int dense_rows(const layer_t *l, int B) {
    return l->spec.sparse_input || gemm_rows_independent(B, l->out, l->in);
}
static void dense_prep(const layer_t *l, int B, int with_dx) {
    if (l->spec.sparse_input) sparse_dense_prepare(B, l->in, l->out, with_dx);
    else dense_prepare(B, l->in, l->out, with_dx);
}
static size_t dense_work_ints(const layer_spec_t *s, int max_batch, int in) {
    return s->sparse_input ? sparse_batch_ints(max_batch, in) : 0;
}
static size_t dense_work_floats(const layer_spec_t *s, int max_batch, int in) {
    return s->sparse_input ? sparse_batch_floats(max_batch, in) : 0;
}
static void dense_carve_work(layer_t *l, int32_t *ints, float *floats, int max_batch) {
    sparse_batch_carve(&l->sp, ints, floats, max_batch, l->in);
}
static int dense_torch(const layer_t *l, char *buf, size_t cap) {
    int n = snprintf(buf, cap, "{\"in_features\": %d, \"out_features\": %d, \"bias\": %s}", l->in, l->out,
                     l->b ? "true" : "false");
    return n < (int)cap ? n : -1;
}

static const key_desc_t DENSE_KEYS[] = {
    {.name = "units", .type = KEY_INT, .field = SPEC(units), .lo = 1, .hi = 65536, .flags = KEY_REQUIRED,
     .help = "the number of output features"},
    {.name = "bias", .type = KEY_BOOL, .field = SPEC(bias), .def = 1},
    {.name = "sparse_input", .type = KEY_BOOL, .field = SPEC(sparse_input), .def = 0},
    {.name = "init", .type = KEY_INIT, .field = SPEC(init)},
    {0}};
static const tensor_desc_t DENSE_PARAMS[] = {
    {"weight", FIELD(W), FIELD(dW), SHAPE_OUT_IN, FILL_DENSE_INIT, 1, NULL, dense_transposed},
    {"bias", FIELD(b), FIELD(db), SHAPE_OUT, FILL_ZERO, 0, dense_has_bias, NULL},
    {0}};

// ---------------------------------------------------------------------------------------------
// batchnorm: Algorithm 1 in training; in evaluation the running statistics, a moving average as torch keeps them
// (the paper's Algorithm 2 averages after training instead: run/recalibrate.h) (batchnorm.h); its variants
// (bnvariants.h): Batch Renormalization, ghost batches, statistics held constant in backprop.

// Any option of the ablation ladder set (nn/bnvariants.h): the layer runs the ablation kernels.
static int bn_ablated(const layer_spec_t *s) {
    return s->bn_normalize != BN_NORM_MEAN_VARIANCE || s->bn_affine != BN_AFFINE_LEARNED ||
           s->bn_stats != BN_STATS_BATCH || s->freeze_stats_after > 0;
}
static int bn_plain(const layer_spec_t *s) { return s->variant == BN_STANDARD && !bn_ablated(s); }
static int bn_is_standard(const void *s) { return ((const layer_spec_t *)s)->variant == BN_STANDARD; }
static int bn_has_affine(const layer_spec_t *s) { return s->bn_affine != BN_AFFINE_NONE; }
static int bn_has_ablation(const layer_spec_t *s) { return s->variant == BN_STANDARD && bn_ablated(s); }
// Training normalizes by the batch's statistics at some step (population: never; frozen after k: the first k).
static int bn_uses_batch_statistics(const layer_spec_t *s) { return s->bn_stats == BN_STATS_BATCH; }
static int bn_has_rvar(const layer_spec_t *s) { return s->variant != BN_RENORM; }
static int bn_has_rstd(const layer_spec_t *s) { return s->variant == BN_RENORM; }
static int bn_has_ghost(const layer_spec_t *s) { return s->variant == BN_GHOST; }
static int bn_is_renorm(const void *s) { return bn_has_rstd(s); }
static int bn_is_ghost(const void *s) { return bn_has_ghost(s); }

static float bn_momentum(const layer_t *l) {
    return l->spec.cumulative ? 1.0f / (float)l->batches : (float)l->spec.momentum;
}

// A real step (MODE_TRAIN) moves the running statistics by this batch's; a look (MODE_TRAIN_FROZEN) does not.
static void bn_running_update(layer_t *l, int B, const layer_ctx_t *c) {
    if (c->mode != MODE_TRAIN) return;
    l->batches++;
    if (l->spec.variant == BN_RENORM)
        batchrenorm_update_running(l->rmean, l->rstd, l->mean, l->var, l->out, (float)l->spec.eps, bn_momentum(l));
    else
        batchnorm_update_running(l->rmean, l->rvar, l->mean, l->var, B, l->out, bn_momentum(l));
}

// Ghost BN: blocks of ghost_batch rows, each normalized by its own statistics (a last block of one row joins the
// one before: a single example has no variance). Each block is a BN call, and moves the running statistics.
static int ghost_blocks(int B, int k) { return B % k == 1 && B > k ? B / k : (B + k - 1) / k; }
static int ghost_rows(int g, int n_blocks, int B, int k) { return g == n_blocks - 1 ? B - g * k : k; }

static void bn_ghost_fwd(layer_t *l, const float *x, int B, const layer_ctx_t *c) {
    const int F = l->out, k = l->spec.ghost_batch, nb = ghost_blocks(B, k);
    for (int g = 0; g < nb; g++) {
        size_t off = (size_t)g * k * F, so = (size_t)g * F;
        int rows = ghost_rows(g, nb, B, k);
        batchnorm_forward_train(l->y + off, l->xhat + off, l->g_mean + so, l->g_var + so, l->g_invstd + so, x + off,
                                l->gamma, l->beta, rows, F, (float)l->spec.eps, c->scratch);
        if (c->mode != MODE_TRAIN) continue;
        l->batches++;
        batchnorm_update_running(l->rmean, l->rvar, l->g_mean + so, l->g_var + so, rows, F, bn_momentum(l));
    }
}

static void bn_ghost_bwd(layer_t *l, float *dx, int B, const layer_ctx_t *c) {
    const int F = l->out, k = l->spec.ghost_batch, nb = ghost_blocks(B, k);
    for (int j = 0; j < F; j++) l->dgamma[j] = 0.0f, l->dbeta[j] = 0.0f;
    for (int g = 0; g < nb; g++) {
        size_t off = (size_t)g * k * F;
        batchnorm_backward((dx ? dx : l->xhat) + off, l->g_dgamma, l->g_dbeta, l->dy + off, l->xhat + off, l->gamma,
                           l->g_invstd + (size_t)g * F, ghost_rows(g, nb, B, k), F, c->scratch);
        for (int j = 0; j < F; j++) l->dgamma[j] += l->g_dgamma[j], l->dbeta[j] += l->g_dbeta[j];
    }
}

// The ablation ladder: the training rule in every mode that uses batch statistics (a population layer normalizes
// by its running statistics there too); in evaluation the running statistics, as the folded affine map.
static int bn_frozen_now(const layer_t *l) {
    return l->spec.freeze_stats_after > 0 && l->batches >= l->spec.freeze_stats_after;
}
static void bn_ablation_fwd(layer_t *l, const float *x, int B, const layer_ctx_t *c) {
    const layer_spec_t *s = &l->spec;
    const float eps = (float)s->eps;
    if (!mode_batch_stats(c->mode)) {
        batchnorm_ablation_fold(l->nmu, l->ninv, l->gamma, l->beta, l->rmean, l->rvar, s->bn_normalize, l->out, eps);
        affine_forward(l->y, x, l->nmu, l->ninv, B, l->out);
        return;
    }
    const int frozen = bn_frozen_now(l);
    l->nbatch = !frozen && s->bn_stats == BN_STATS_BATCH;
    batchnorm_ablation_forward_train(l->y, l->xhat, l->mean, l->var, l->invstd, l->nmu, l->ninv, x, l->gamma,
                                     l->beta, l->rmean, l->rvar, !l->nbatch, s->bn_normalize, B, l->out, eps,
                                     c->scratch);
    if (c->mode != MODE_TRAIN) return;
    l->batches++;  // torch's num_batches_tracked counts every training batch; frozen statistics stay as they are
    if (!frozen) batchnorm_update_running(l->rmean, l->rvar, l->mean, l->var, B, l->out, bn_momentum(l));
}
static void bn_ablation_bwd(layer_t *l, float *dx, int B, const layer_ctx_t *c) {
    const layer_spec_t *s = &l->spec;
    const int learn = s->bn_affine == BN_AFFINE_LEARNED;
    batchnorm_ablation_backward(dx ? dx : l->xhat, learn ? l->dgamma : NULL, learn ? l->dbeta : NULL, l->dy, l->xhat,
                                l->gamma, l->mean, l->ninv, l->nbatch, s->bn_normalize, B, l->out, c->scratch);
    if (s->bn_affine == BN_AFFINE_FROZEN)
        for (int j = 0; j < l->out; j++) l->dgamma[j] = 0.0f, l->dbeta[j] = 0.0f;
}

static void bn_fwd(layer_t *l, const float *x, int B, const layer_ctx_t *c) {
    const layer_spec_t *s = &l->spec;
    float eps = (float)s->eps;
    if (bn_has_ablation(s)) {
        bn_ablation_fwd(l, x, B, c);
        return;
    }
    if (!mode_batch_stats(c->mode)) {
        if (s->variant == BN_RENORM) batchrenorm_forward_eval(l->y, x, l->gamma, l->beta, l->rmean, l->rstd, B, l->out);
        else batchnorm_forward_eval(l->y, x, l->gamma, l->beta, l->rmean, l->rvar, B, l->out, eps);
        return;
    }
    if (s->variant == BN_GHOST) {
        bn_ghost_fwd(l, x, B, c);
        return;
    }
    if (s->variant == BN_RENORM) {
        float r_max, d_max;
        batchrenorm_limits(l->batches, s->r_max, s->d_max, s->renorm_start, s->r_max_step, s->d_max_step, &r_max,
                           &d_max);
        batchrenorm_forward_train(l->y, l->xhat, l->mean, l->var, l->invstd, l->rn_r, l->rn_d, x, l->gamma, l->beta,
                                  l->rmean, l->rstd, B, l->out, eps, r_max, d_max, c->scratch);
    } else {
        batchnorm_forward_train(l->y, l->xhat, l->mean, l->var, l->invstd, x, l->gamma, l->beta, B, l->out, eps,
                                c->scratch);
    }
    bn_running_update(l, B, c);
}
static void bn_sig_fwd(layer_t *l, layer_t *s, const float *x, int B, const layer_ctx_t *c) {
    float eps = (float)l->spec.eps;
    if (!mode_batch_stats(c->mode)) {
        batchnorm_sigmoid_forward_eval(s->y, l->y, x, l->gamma, l->beta, l->rmean, l->rvar, B, l->out, eps);
        return;
    }
    batchnorm_sigmoid_forward_train(s->y, l->y, l->xhat, l->mean, l->var, l->invstd, x, l->gamma, l->beta, B,
                                    l->out, eps, c->scratch);
    bn_running_update(l, B, c);
}
// dgamma/dbeta are needed even when dx is not (BN on the raw input): xhat is dead after this call, so it serves
// as the unused dx.
static void bn_bwd(layer_t *l, float *dx, const float *x, int B, const layer_ctx_t *c) {
    (void)x;
    const layer_spec_t *s = &l->spec;
    float *out = dx ? dx : l->xhat;
    if (bn_has_ablation(s)) bn_ablation_bwd(l, dx, B, c);
    else if (s->variant == BN_GHOST) bn_ghost_bwd(l, dx, B, c);
    else if (s->variant == BN_RENORM)
        batchrenorm_backward(out, l->dgamma, l->dbeta, l->dy, l->xhat, l->gamma, l->invstd, l->rn_r, l->rn_d,
                             l->rn_gr, B, l->out, c->scratch);
    else if (s->variant == BN_CONSTANT_STATS)
        batchnorm_backward_frozen_stats(out, l->dgamma, l->dbeta, l->dy, l->xhat, l->gamma, l->invstd, B, l->out);
    else batchnorm_backward(out, l->dgamma, l->dbeta, l->dy, l->xhat, l->gamma, l->invstd, B, l->out, c->scratch);
}
static void bn_sig_bwd(layer_t *l, const layer_t *s, float *dx, const float *x, int B, const layer_ctx_t *c) {
    (void)x;
    batchnorm_sigmoid_backward(dx ? dx : l->xhat, l->dgamma, l->dbeta, l->dy, s->dy, s->y, l->xhat, l->gamma,
                               l->invstd, B, l->out, c->scratch);
}
// The fused BN + sigmoid pass is plain BN's.
static int bn_fuses(const layer_t *l) { return bn_plain(&l->spec); }
// Renorm's inference divides by its moving sigma, not torch's sqrt(running_var + eps): no torch equivalent.
// Of the ablation options, "mean" and "variance" normalize by another formula: no torch.nn module computes them; the
// others compute BatchNorm1d's in evaluation (affine "none": BatchNorm1d(affine=False), no weight and bias).
static int bn_torch(const layer_t *l, char *buf, size_t cap) {
    if (l->spec.variant == BN_RENORM || l->spec.bn_normalize != BN_NORM_MEAN_VARIANCE) return -1;
    char mom[32];
    if (l->spec.cumulative) snprintf(mom, sizeof mom, "null");  // torch: momentum=None is the cumulative average
    else snprintf(mom, sizeof mom, "%.17g", l->spec.momentum);
    int n = snprintf(buf, cap, "{\"num_features\": %d, \"eps\": %.17g, \"momentum\": %s%s}", l->out, l->spec.eps, mom,
                     l->spec.bn_affine == BN_AFFINE_NONE ? ", \"affine\": false" : "");
    return n < (int)cap ? n : -1;
}

// Evaluation as y = scale x + shift per feature, every variant and option (renorm divides by its moving sigma).
static int bn_eval_affine(const layer_t *l, float *scale, float *shift) {
    const layer_spec_t *s = &l->spec;
    if (s->variant == BN_RENORM) {
        for (int j = 0; j < l->out; j++) scale[j] = l->gamma[j] / l->rstd[j], shift[j] = l->beta[j] - scale[j] * l->rmean[j];
    } else if (bn_has_ablation(s)) {
        batchnorm_ablation_fold(scale, shift, l->gamma, l->beta, l->rmean, l->rvar, s->bn_normalize, l->out,
                                (float)s->eps);
    } else {
        batchnorm_fold(scale, shift, l->gamma, l->beta, l->rmean, l->rvar, l->out, (float)s->eps);
    }
    return 0;
}

static const char *const BN_VARIANTS[] = {"standard", "renorm", "ghost", "constant_stats", NULL};
static const char *const BN_NORMALIZE[] = {"mean_variance", "mean", "variance", NULL};
static const char *const BN_AFFINE[] = {"learned", "frozen", "none", NULL};
static const char *const BN_STATS[] = {"batch", "population", NULL};
#define BN_STD_ONLY .applies = bn_is_standard, .when = "with variant \"standard\"", .flags = KEY_OMIT_ZERO
static const key_desc_t BN_KEYS[] = {
    {.name = "eps", .type = KEY_DOUBLE, .field = SPEC(eps), .lo = 0, .hi = 1, .flags = KEY_LO_OPEN, .def = 1e-5},
    {.name = "momentum", .type = KEY_DOUBLE_OR_WORD, .field = SPEC(momentum), .lo = 0, .hi = 1,
     .flags = KEY_LO_OPEN, .def = 0.1, .word = "cumulative", .word_field = SPEC(cumulative)},
    {.name = "variant", .type = KEY_ENUM, .field = SPEC(variant), .words = BN_VARIANTS, .def = BN_STANDARD},
    // Ioffe (2017), §4: r_max 1 -> 3 by step 40k, d_max 0 -> 5 by 25k, relaxed after the first 5k steps; steps
    // counted by the layer's num_batches_tracked (bnvariants.h batchrenorm_limits), which train --init carries over.
    {.name = "r_max", .type = KEY_DOUBLE, .field = SPEC(r_max), .lo = 1, .hi = 1e6, .def = 3, .applies = bn_is_renorm,
     .when = "with variant \"renorm\""},
    {.name = "d_max", .type = KEY_DOUBLE, .field = SPEC(d_max), .lo = 0, .hi = 1e6, .def = 5, .applies = bn_is_renorm,
     .when = "with variant \"renorm\""},
    {.name = "renorm_start", .type = KEY_LONG, .field = SPEC(renorm_start), .lo = 0, .hi = 1e9, .def = 5000,
     .applies = bn_is_renorm, .when = "with variant \"renorm\""},
    {.name = "r_max_step", .type = KEY_LONG, .field = SPEC(r_max_step), .lo = 0, .hi = 1e9, .def = 40000,
     .applies = bn_is_renorm, .when = "with variant \"renorm\""},
    {.name = "d_max_step", .type = KEY_LONG, .field = SPEC(d_max_step), .lo = 0, .hi = 1e9, .def = 25000,
     .applies = bn_is_renorm, .when = "with variant \"renorm\""},
    {.name = "ghost_batch", .type = KEY_INT, .field = SPEC(ghost_batch), .lo = 2, .hi = 65536, .def = 4,
     .applies = bn_is_ghost, .when = "with variant \"ghost\""},
    // The ablation ladder (nn/bnvariants.h), options of the standard variant; written back only when set, so the
    // configs (and digests) of earlier runs stay as they were.
    {.name = "normalize", .type = KEY_ENUM, .field = SPEC(bn_normalize), .words = BN_NORMALIZE, BN_STD_ONLY},
    {.name = "affine", .type = KEY_ENUM, .field = SPEC(bn_affine), .words = BN_AFFINE, BN_STD_ONLY},
    {.name = "statistics", .type = KEY_ENUM, .field = SPEC(bn_stats), .words = BN_STATS, BN_STD_ONLY},
    {.name = "freeze_stats_after", .type = KEY_LONG, .field = SPEC(freeze_stats_after), .lo = 0, .hi = 1e9,
     BN_STD_ONLY},
    {0}};
static const tensor_desc_t BN_PARAMS[] = {
    {"weight", FIELD(gamma), FIELD(dgamma), SHAPE_OUT, FILL_ONE, 0, bn_has_affine, NULL},  // gamma, as torch names it
    {"bias", FIELD(beta), FIELD(dbeta), SHAPE_OUT, FILL_ZERO, 0, bn_has_affine, NULL},     // beta
    {0}};
static const tensor_desc_t BN_STATE[] = {
    {.name = "running_mean", .field = FIELD(rmean), .shape = SHAPE_OUT, .fill = FILL_ZERO},
    {.name = "running_var", .field = FIELD(rvar), .shape = SHAPE_OUT, .fill = FILL_ONE, .present = bn_has_rvar},
    {.name = "running_std", .field = FIELD(rstd), .shape = SHAPE_OUT, .fill = FILL_ONE, .present = bn_has_rstd},
    {0}};
static const tensor_desc_t BN_BUFFERS[] = {
    {.name = "xhat", .field = FIELD(xhat), .shape = SHAPE_BATCH_OUT},
    {.name = "mean", .field = FIELD(mean), .shape = SHAPE_OUT},
    {.name = "var", .field = FIELD(var), .shape = SHAPE_OUT},
    {.name = "invstd", .field = FIELD(invstd), .shape = SHAPE_OUT},
    {.name = "r", .field = FIELD(rn_r), .shape = SHAPE_OUT, .present = bn_has_rstd},
    {.name = "d", .field = FIELD(rn_d), .shape = SHAPE_OUT, .present = bn_has_rstd},
    {.name = "gr", .field = FIELD(rn_gr), .shape = SHAPE_OUT, .present = bn_has_rstd},
    {.name = "ghost_mean", .field = FIELD(g_mean), .shape = SHAPE_BATCH_OUT, .present = bn_has_ghost},
    {.name = "ghost_var", .field = FIELD(g_var), .shape = SHAPE_BATCH_OUT, .present = bn_has_ghost},
    {.name = "ghost_invstd", .field = FIELD(g_invstd), .shape = SHAPE_BATCH_OUT, .present = bn_has_ghost},
    {.name = "ghost_dgamma", .field = FIELD(g_dgamma), .shape = SHAPE_OUT, .present = bn_has_ghost},
    {.name = "ghost_dbeta", .field = FIELD(g_dbeta), .shape = SHAPE_OUT, .present = bn_has_ghost},
    {.name = "norm_mean", .field = FIELD(nmu), .shape = SHAPE_OUT, .present = bn_has_ablation},
    {.name = "norm_invstd", .field = FIELD(ninv), .shape = SHAPE_OUT, .present = bn_has_ablation},
    {0}};

// ---------------------------------------------------------------------------------------------
// Element-wise activations: y = f(x), dx = dy * f'(x) written through y (layers.h).

static void sigmoid_fwd(layer_t *l, const float *x, int B, const layer_ctx_t *c) {
    (void)c;
    sigmoid_forward(l->y, x, n_out(l, B));
}
static void sigmoid_bwd(layer_t *l, float *dx, const float *x, int B, const layer_ctx_t *c) {
    (void)x, (void)c;
    if (dx) sigmoid_backward(dx, l->dy, l->y, n_out(l, B));
}
static void relu_fwd(layer_t *l, const float *x, int B, const layer_ctx_t *c) {
    (void)c;
    relu_forward(l->y, x, n_out(l, B));
}
static void relu_bwd(layer_t *l, float *dx, const float *x, int B, const layer_ctx_t *c) {
    (void)x, (void)c;
    if (dx) relu_backward(dx, l->dy, l->y, n_out(l, B));
}
static void tanh_fwd(layer_t *l, const float *x, int B, const layer_ctx_t *c) {
    (void)c;
    tanh_forward(l->y, x, n_out(l, B));
}
static void tanh_bwd(layer_t *l, float *dx, const float *x, int B, const layer_ctx_t *c) {
    (void)x, (void)c;
    if (dx) tanh_backward(dx, l->dy, l->y, n_out(l, B));
}
static int no_args(const layer_t *l, char *buf, size_t cap) {
    (void)l;
    int n = snprintf(buf, cap, "{}");
    return n < (int)cap ? n : -1;
}

static const key_desc_t NO_KEYS[] = {{0}};

// ---------------------------------------------------------------------------------------------
// dropout and shift noise: random in training, the identity in evaluation (layers.h).

static void dropout_fwd(layer_t *l, const float *x, int B, const layer_ctx_t *c) {
    size_t n = n_out(l, B);
    if (!mode_random(c->mode)) {
        memcpy(l->y, x, sizeof(float) * n);
        return;
    }
    dropout_mask(l->mask, n, (float)l->spec.rate, &c->rng->dropout);
    dropout_forward(l->y, x, l->mask, n);
}
static void dropout_bwd(layer_t *l, float *dx, const float *x, int B, const layer_ctx_t *c) {
    (void)x, (void)c;
    if (dx) dropout_backward(dx, l->dy, l->mask, n_out(l, B));
}
static int dropout_torch(const layer_t *l, char *buf, size_t cap) {
    int n = snprintf(buf, cap, "{\"p\": %.17g}", l->spec.rate);
    return n < (int)cap ? n : -1;
}
static void noise_fwd(layer_t *l, const float *x, int B, const layer_ctx_t *c) {
    if (!mode_random(c->mode)) {
        memcpy(l->y, x, sizeof(float) * n_out(l, B));
        return;
    }
    noise_draw(l->noise_s, l->noise_m, l->out, &c->rng->noise);
    noise_forward(l->y, x, l->noise_s, l->noise_m, B, l->out);
}
static void noise_bwd(layer_t *l, float *dx, const float *x, int B, const layer_ctx_t *c) {
    (void)x, (void)c;
    if (dx) noise_backward(dx, l->dy, l->noise_s, B, l->out);
}

static const key_desc_t DROPOUT_KEYS[] = {
    {.name = "rate", .type = KEY_DOUBLE, .field = SPEC(rate), .lo = 0, .hi = 1, .flags = KEY_REQUIRED | KEY_HI_OPEN,
     .help = "probability of dropping a unit, in [0, 1)"},
    {0}};
static const tensor_desc_t DROPOUT_BUFFERS[] = {{.name = "mask", .field = FIELD(mask), .shape = SHAPE_BATCH_OUT},
                                                {0}};
static const tensor_desc_t NOISE_BUFFERS[] = {{.name = "s", .field = FIELD(noise_s), .shape = SHAPE_OUT},
                                              {.name = "m", .field = FIELD(noise_m), .shape = SHAPE_OUT},
                                              {0}};

// ---------------------------------------------------------------------------------------------
// layernorm and rmsnorm: per-example statistics, the same in training and evaluation (layernorm.h).

static void ln_fwd(layer_t *l, const float *x, int B, const layer_ctx_t *c) {
    (void)c;
    layernorm_forward(l->y, l->row_xhat, l->row_invstd, x, l->gamma, l->beta, B, l->out, (float)l->spec.eps);
}
static void ln_bwd(layer_t *l, float *dx, const float *x, int B, const layer_ctx_t *c) {
    (void)x, (void)c;
    layernorm_backward(dx, l->dgamma, l->dbeta, l->dy, l->row_xhat, l->gamma, l->row_invstd, B, l->out);
}
static void rms_fwd(layer_t *l, const float *x, int B, const layer_ctx_t *c) {
    (void)c;
    rmsnorm_forward(l->y, l->row_xhat, l->row_invstd, x, l->gamma, B, l->out, (float)l->spec.eps);
}
static void rms_bwd(layer_t *l, float *dx, const float *x, int B, const layer_ctx_t *c) {
    (void)x, (void)c;
    rmsnorm_backward(dx, l->dgamma, l->dy, l->row_xhat, l->gamma, l->row_invstd, B, l->out);
}
static int norm_torch(const layer_t *l, char *buf, size_t cap) {
    int n = snprintf(buf, cap, "{\"normalized_shape\": %d, \"eps\": %.17g}", l->out, l->spec.eps);
    return n < (int)cap ? n : -1;
}

static const key_desc_t NORM_KEYS[] = {
    {.name = "eps", .type = KEY_DOUBLE, .field = SPEC(eps), .lo = 0, .hi = 1, .flags = KEY_LO_OPEN, .def = 1e-5},
    {0}};
static const tensor_desc_t LN_PARAMS[] = {
    {"weight", FIELD(gamma), FIELD(dgamma), SHAPE_OUT, FILL_ONE, 0, NULL, NULL},
    {"bias", FIELD(beta), FIELD(dbeta), SHAPE_OUT, FILL_ZERO, 0, NULL, NULL},
    {0}};
static const tensor_desc_t RMS_PARAMS[] = {{"weight", FIELD(gamma), FIELD(dgamma), SHAPE_OUT, FILL_ONE, 0, NULL, NULL},
                                           {0}};
static const tensor_desc_t NORM_BUFFERS[] = {
    {.name = "xhat", .field = FIELD(row_xhat), .shape = SHAPE_BATCH_OUT},
    {.name = "invstd", .field = FIELD(row_invstd), .shape = SHAPE_BATCH},
    {0}};

// ---------------------------------------------------------------------------------------------

// A test may compile this file with rows of its own after these (tests/test_kind_row.c: a dummy normalization and a
// dummy saturating nonlinearity, to show that a new kind is ordered, coloured, labelled and plotted with no code
// outside nn/): it defines REGISTRY_TEST_COUNT and REGISTRY_TEST_ROWS (rows [LAYER_KIND_COUNT] on) before including
// it. The engine has none.
#ifndef REGISTRY_TEST_COUNT
#define REGISTRY_TEST_COUNT 0
#define REGISTRY_TEST_ROWS
#endif
#define N_KINDS (LAYER_KIND_COUNT + REGISTRY_TEST_COUNT)

// Each row's facts (normalizes ... saturates, can_die) are spelled out, zeros included: every kind states them.
static const layer_kind_info_t KINDS[N_KINDS] = {
    [LAYER_DENSE] = {.name = "dense", .keys = DENSE_KEYS, .out_width = dense_width, .params = DENSE_PARAMS,
                     .normalizes = 0, .uses_batch_statistics = 0, .has_affine = 0, .linear = 1, .saturates = 0,
                     .can_die = 0,
                     .mixes = MIXES_NEVER, .rows_independent = dense_rows,
                     .forward = dense_fwd, .backward = dense_bwd, .fuses_sigmoid = dense_fuses,
                     .forward_sigmoid = dense_sig_fwd, .backward_sigmoid = dense_sig_bwd, .prepare_gemm = dense_prep,
                     .work_ints = dense_work_ints, .work_floats = dense_work_floats, .carve_work = dense_carve_work,
                     .torch_module = "Linear", .torch_args = dense_torch},
    [LAYER_BATCHNORM] = {.name = "batchnorm", .keys = BN_KEYS, .params = BN_PARAMS, .state = BN_STATE,
                         .buffers = BN_BUFFERS, .counts_batches = 1,
                         .normalizes = 1, .uses_batch_statistics = 1, .has_affine = 1, .linear = 0, .saturates = 0,
                         .can_die = 0,
                         .mixes = MIXES_BATCH_STATS,
                         .layer_uses_batch_statistics = bn_uses_batch_statistics, .layer_has_affine = bn_has_affine,
                         .statistics_frozen = bn_frozen_now,
                         .eval_affine = bn_eval_affine,
                         .forward = bn_fwd, .backward = bn_bwd,
                         .fuses_sigmoid = bn_fuses, .forward_sigmoid = bn_sig_fwd, .backward_sigmoid = bn_sig_bwd,
                         .torch_module = "BatchNorm1d", .torch_args = bn_torch},
    // Saturated where the gradient y(1-y) < 0.0196 has all but vanished.
    [LAYER_SIGMOID] = {.name = "sigmoid", .keys = NO_KEYS, .nonlinearity = 1,
                       .normalizes = 0, .uses_batch_statistics = 0, .mixes = MIXES_NEVER, .has_affine = 0, .linear = 0,
                       .saturates = 1, .sat_low = 0.02f, .sat_high = 0.98f, .can_die = 0,
                       .forward = sigmoid_fwd, .backward = sigmoid_bwd, .torch_module = "Sigmoid",
                       .torch_args = no_args},
    [LAYER_RELU] = {.name = "relu", .keys = NO_KEYS, .nonlinearity = 1, .bn_grad_growth = 3.14159265358979323846 / 2.14159265358979323846,
                    .normalizes = 0, .uses_batch_statistics = 0, .has_affine = 0, .linear = 0, .saturates = 0,
                    .can_die = 1,
                    .mixes = MIXES_NEVER,
                    .forward = relu_fwd, .backward = relu_bwd, .torch_module = "ReLU", .torch_args = no_args},
    // Saturated where |t| > 0.97: its gradient 1 - t^2 < 0.06 has all but vanished (the threshold courses use, e.g.
    // Karpathy's "makemore part 3").
    [LAYER_TANH] = {.name = "tanh", .keys = NO_KEYS, .nonlinearity = 1,
                    .normalizes = 0, .uses_batch_statistics = 0, .mixes = MIXES_NEVER, .has_affine = 0, .linear = 0,
                    .saturates = 1, .sat_low = -0.97f, .sat_high = 0.97f, .can_die = 0,
                    .forward = tanh_fwd, .backward = tanh_bwd, .torch_module = "Tanh", .torch_args = no_args},
    [LAYER_DROPOUT] = {.name = "dropout", .keys = DROPOUT_KEYS, .buffers = DROPOUT_BUFFERS,
                       .normalizes = 0, .uses_batch_statistics = 0, .has_affine = 0, .linear = 0, .saturates = 0,
                       .can_die = 0,
                       .mixes = MIXES_RANDOM,
                       .forward = dropout_fwd, .backward = dropout_bwd, .torch_module = "Dropout",
                       .torch_args = dropout_torch},
    [LAYER_LAYERNORM] = {.name = "layernorm", .keys = NORM_KEYS, .params = LN_PARAMS, .buffers = NORM_BUFFERS,
                         .normalizes = 1, .uses_batch_statistics = 0, .has_affine = 1, .linear = 0, .saturates = 0,
                         .can_die = 0,
                         .mixes = MIXES_NEVER,
                         .forward = ln_fwd, .backward = ln_bwd, .torch_module = "LayerNorm", .torch_args = norm_torch},
    [LAYER_RMSNORM] = {.name = "rmsnorm", .keys = NORM_KEYS, .params = RMS_PARAMS, .buffers = NORM_BUFFERS,
                       .normalizes = 1, .uses_batch_statistics = 0, .has_affine = 1, .linear = 0, .saturates = 0,
                       .can_die = 0,
                       .mixes = MIXES_NEVER,
                       .forward = rms_fwd, .backward = rms_bwd, .torch_module = "RMSNorm", .torch_args = norm_torch},
    // Santurkar et al.'s noise is the identity in evaluation, which is all torch_load.py compares.
    [LAYER_NOISE] = {.name = "noise", .keys = NO_KEYS, .buffers = NOISE_BUFFERS,
                     .normalizes = 0, .uses_batch_statistics = 0, .has_affine = 0, .linear = 0, .saturates = 0,
                     .can_die = 0,
                     .mixes = MIXES_RANDOM,
                     .forward = noise_fwd, .backward = noise_bwd, .torch_module = "Identity", .torch_args = no_args},
    REGISTRY_TEST_ROWS
};

const layer_kind_info_t *layer_kind(layer_kind_t k) { return &KINDS[k]; }

int layer_kind_count(void) { return N_KINDS; }

int layer_kind_find(const char *name) {
    for (int k = 0; k < N_KINDS; k++)
        if (!strcmp(KINDS[k].name, name)) return k;
    return -1;
}

const char *layer_kind_name(layer_kind_t k) {
    return (int)k >= 0 && (int)k < N_KINDS ? KINDS[k].name : "?";
}

void layer_kind_list(char *out, size_t cap) {
    size_t n = 0;
    out[0] = '\0';
    for (int k = 0; k < N_KINDS && n < cap; k++)
        n += (size_t)snprintf(out + n, cap - n, "%s\"%s\"", k ? ", " : "", KINDS[k].name);
}

float *layer_tensor(const layer_t *l, const tensor_desc_t *d) {
    float *p;
    memcpy(&p, (const char *)l + d->field, sizeof p);
    return p;
}

float *layer_tensor_grad(const layer_t *l, const tensor_desc_t *d) {
    if (!d->grad) return NULL;  // offset 0 is layer_t.spec: no tensor pointer lives there
    float *p;
    memcpy(&p, (const char *)l + d->grad, sizeof p);
    return p;
}

int layer_uses_batch_statistics(const layer_spec_t *s) {
    const layer_kind_info_t *k = layer_kind(s->kind);
    return k->uses_batch_statistics && (!k->layer_uses_batch_statistics || k->layer_uses_batch_statistics(s));
}

int layer_scale_invariant_per_feature(const layer_spec_t *s) {
    return s->kind == LAYER_BATCHNORM && layer_uses_batch_statistics(s) && s->variant != BN_RENORM &&
           s->bn_normalize != BN_NORM_MEAN;
}

int layer_trains_on_batch_statistics(const layer_t *l) {
    const layer_kind_info_t *k = layer_kind(l->spec.kind);
    return layer_uses_batch_statistics(&l->spec) && !(k->statistics_frozen && k->statistics_frozen(l));
}

int layer_has_affine(const layer_spec_t *s) {
    const layer_kind_info_t *k = layer_kind(s->kind);
    return k->has_affine && (!k->layer_has_affine || k->layer_has_affine(s));
}

int layer_per_example(const layer_spec_t *s, forward_mode_t mode) {
    switch (layer_kind(s->kind)->mixes) {
    case MIXES_NEVER: return 1;
    case MIXES_BATCH_STATS: return !mode_batch_stats(mode);
    case MIXES_RANDOM: return !mode_random(mode);
    case MIXES_ALWAYS: return 0;
    }
    return 0;
}

int layer_rows_independent(const layer_t *l, int B) {
    const layer_kind_info_t *k = layer_kind(l->spec.kind);
    return !k->rows_independent || k->rows_independent(l, B);
}

int layer_has_tensor(const layer_t *l, const tensor_desc_t *d) { return !d->present || d->present(&l->spec); }

size_t layer_tensor_size(const layer_t *l, const tensor_desc_t *d, int max_batch) {
    if (!layer_has_tensor(l, d)) return 0;
    switch (d->shape) {
    case SHAPE_OUT_IN: return (size_t)l->out * (size_t)l->in;
    case SHAPE_OUT: return (size_t)l->out;
    case SHAPE_BATCH_OUT: return (size_t)max_batch * (size_t)l->out;
    case SHAPE_BATCH: return (size_t)max_batch;
    }
    return 0;
}

int layer_params(const layer_t *l, float *t[LAYER_MAX_PARAMS], size_t n[LAYER_MAX_PARAMS],
                 const tensor_desc_t *d[LAYER_MAX_PARAMS]) {
    int k = 0;
    const tensor_desc_t *p = layer_kind(l->spec.kind)->params;
    for (; p && p->name && k < LAYER_MAX_PARAMS; p++) {
        if (!layer_has_tensor(l, p)) continue;
        t[k] = layer_tensor(l, p), n[k] = layer_tensor_size(l, p, 0);
        if (d) d[k] = p;
        k++;
    }
    return k;
}
