// jacobian.h — singular values of each hidden block's input-output Jacobian (Ioffe & Szegedy 2015, §3.3: "we further
// conjecture that Batch Normalization may lead the layer Jacobians to have singular values close to 1").
//
// A hidden block is a linear layer (registry flag `linear`, not the last one) with the layers up to the next linear
// layer: dense -> [batchnorm] -> nonlinearity, x (B, in) -> y (B, out). It is measured on a probe batch in
// MODE_EVAL_BATCH (BN normalizes by that batch's own statistics, no dropout or noise, nothing updated), two ways:
//   (a) per example, the batch statistics held fixed: J_b = diag(f'(z_b)) diag(gamma * invstd) W  (out x in), one per
//       example b; without a normalization J_b = diag(f'(z_b)) W. This is the Jacobian a layer would have if mu and
//       sigma were constants (the paper's §2 warning is that they are not).
//   (b) the whole batch, the normalization's dependence on the batch included: the (B out) x (B in) matrix
//       d y[b, j] / d x[c, k] = f'(z[b, j]) gamma_j invstd_j (delta_bc - 1/B - xhat[b, j] xhat[c, j] / B) W[j, k].
//       Each feature's B x B factor is a projection that removes the batch's shift and scale of that feature, so 2 out
//       of its singular values are 0 by construction: the summary leaves out the 2 out smallest. Without a
//       normalization (b) is block-diagonal and has the singular values of (a). Its size is (B out) x (B in): for the
//       paper's batch 60 and 100 units 6000 x 6000 (144 MB, an SVD of minutes), so (b) takes a small probe batch
//       (JAC_MAX_FULL_BATCH; 8 examples: 800 x 800), and only for blocks where both sides are at most
//       JAC_MAX_FULL_SIDE (the first block of an MNIST net, 784 inputs, has 8 x 784 = 6272 columns: not measured).
// Supported: plain batchnorm (variant "standard") or no normalization, one nonlinearity. Other blocks (ghost, renorm,
// constant statistics, layernorm, dropout inside) are listed with the reason and not measured.
// (a) of a block with more inputs than outputs (the 784-input first block) takes the out x out matrix diag(s) R^T,
// W^T = Q R by LAPACK sgeqrf once per probe: Q's columns are orthonormal, so the singular values are those of
// diag(s) W, at an (out x out) SVD per example instead of an (out x in) one.
// SVD: LAPACK sgesdd (singular values only) from OpenBLAS, which Debian builds with LAPACK's Fortran symbols (no
// LAPACKE header or symbols): declared here by hand.
#ifndef BNLAB_JACOBIAN_H
#define BNLAB_JACOBIAN_H

#include <stddef.h>

#include "nn/model.h"

#define JAC_MAX_FULL_BATCH 16
#define JAC_MAX_FULL_SIDE 2048  // (b) only where (full out) and (full in) are at most this: not the 784-input block

typedef struct {
    int first, last;          // model.layers indices: the linear layer and the block's last layer
    int norm, act;            // indices of the normalization (-1: none) and the nonlinearity
    int in, out;
    const char *unsupported;  // NULL, or why the block is not measured
} jac_block_t;

typedef struct {
    size_t n;                  // singular values summarized
    double median, p10, p90, min, max;
    double frac_near1;         // fraction within [0.5, 2]
} jac_summary_t;

typedef struct {
    int n_blocks;
    jac_block_t *blocks;       // (n_blocks)
    int max_batch, full_batch; // examples for (a) at most the model's max_batch; for (b) at most full_batch
    float *sv;                 // (max_batch * widest + JAC_MAX_FULL_SIDE) singular values of one block
    float *sort_tmp;           // (as sv) jac_summarize's scratch
    float *fprime, *scale;     // (max_batch * widest), (widest) f'(z) and gamma * invstd
    double *wd;                // (in * out) a block's weights in double (column-major in x out)
    double *gw;                // (out * out) W W^T of a block (lower triangle)
    double *g;                 // the largest Gram matrix handed to LAPACK dsyev (destroyed by it)
    double *ev;                // (its side) dsyev's eigenvalues
    double *t;                 // (out * (full_batch - 1)^2) (b)'s per-feature factors T_f
    double *qa, *tau;          // (JAC_MAX_FULL_BATCH^2), (JAC_MAX_FULL_BATCH) (b)'s per-feature QR
    double *dwork;             // (dlwork) LAPACK workspace
    int dlwork;
    const float *x;            // the probe batch of the last jac_forward (its first block's input)
} jac_t;

// Finds the hidden blocks of m and allocates for (a) on up to m->max_batch examples and (b) on up to full_batch
// (1..JAC_MAX_FULL_BATCH; 0: no (b)). -1 + message.
int jac_init(jac_t *j, const model_t *m, int full_batch);
void jac_free(jac_t *j);
// Runs the probe batch x (B, in_dim), B <= m->max_batch, through m in MODE_EVAL_BATCH (overwriting its activation
// buffers; parameters and running statistics are untouched) for jac_example_sv / jac_batch_sv.
void jac_forward(jac_t *j, model_t *m, const float *x, int B);
// (a): the singular values of J_b for b < B, block k, after jac_forward with B examples, into j->sv (B min(in, out)
// values, each example's descending). Returns the count, -1 + message (unsupported block, LAPACK error).
long jac_example_sv(jac_t *j, model_t *m, int k, int B);
// Whether (b) is measured for block k (full_batch >= 2 and both sides at most JAC_MAX_FULL_SIDE).
int jac_batch_fits(const jac_t *j, int k);
// (b): the singular values of block k's (B out) x (B in) batch Jacobian (B <= full_batch) into j->sv: descending,
// or, for a block without a normalization (block-diagonal), each example's (a) in turn (its B small SVDs instead of
// one large one). Returns the count min(B out, B in), -1 + message.
long jac_batch_sv(jac_t *j, model_t *m, int k, int B);
// The explicit matrix (b) (row (b, j) = b * out + j, column (c, k) = c * in + k) into J, for tests; 0 or -1.
int jac_batch_matrix(jac_t *j, model_t *m, int k, int B, float *J);
// Summary of sv[0..n) (sorted in place), leaving out the `drop` smallest. tmp (n) is scratch (jac_t's sort_tmp);
// no allocation.
void jac_summarize(jac_summary_t *s, float *sv, size_t n, size_t drop, float *tmp);

#endif
