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
//       d y[b, j] / d x[c, k] = f'(z[b, j]) gamma_j invstd_j (delta_bc - 1/B - xhat[b, j] xhat[c, j] / B) W[j, k],
//       J = S P K: S = diag(f' gamma invstd) over the rows (b, j), P = one B x B factor p_j per feature j,
//       K = I_B (x) W.
//       Each p_j removes the batch's shift of feature j (p_j 1 = 0: out singular values exactly 0) and all but a
//       fraction eps / (var_j + eps) of its scale (the xhat_j direction: out more singular values of order eps / var,
//       not exactly 0), so the summary leaves out the 2 out smallest. Without a normalization (b) is block-diagonal
//       and has the singular values of (a). Its size is (B out) x (B in): for the paper's batch 60 and 100 units
//       6000 x 6000 (144 MB, an SVD of minutes), so (b) takes a small probe batch (JAC_MAX_FULL_BATCH; 8
//       examples: 800 x 800), and only for blocks where both sides are at most JAC_MAX_FULL_SIDE (the first block of
//       an MNIST net, 784 inputs, has 8 x 784 = 6272 columns: not measured).
// Supported: plain batchnorm (variant "standard") or no normalization, one nonlinearity. Other blocks (ghost, renorm,
// constant statistics, layernorm, dropout inside) are listed with the reason and not measured.
// How the singular values are computed: as the square roots of the eigenvalues of a Gram matrix formed in double from
// the float factors (a rounding-negative eigenvalue counts as 0). For float data this is more accurate than a float
// SVD: an eigenvalue's error is ~n 1e-16 of the largest, a singular value's at most ~1e-7 of the largest
// (tests/test_jacobian.c: within 1e-6 of the float64 references; the float SVDs this replaced were within 2.3e-7,
// the Gram matrices within 8.4e-8). A model with a non-finite value (diverged) gets no spectrum: -1 + message.
//   (a) the smaller side: J_b J_b^T = diag(s_b) G diag(s_b), G = W W^T (dsyrk once per block and probe, s_b =
//       f'(z_b) gamma invstd), out x out; or, with fewer inputs than outputs, J_b^T J_b = W^T diag(s_b)^2 W (in x in).
//       No SVD per example of the 784-input block's 100 x 784 matrix: its Gram matrix is 100 x 100. JAC_LANES
//       examples at a time (jacobian.c): their Gram matrices reduced to tridiagonal form side by side (Householder,
//       LAPACK dsytd2's method, the examples in the lanes of a vector), then the tridiagonals' eigenvalues by LAPACK
//       dsterf's root-free QL iteration, the examples' steps in the lanes of a vector too. (b): LAPACK dsyev (dsytrd
//       + dsterf) of the one matrix below.
//       Why own code for (a) and not LAPACK's: LAPACK solves one 100 x 100 matrix at a time, dsytrd with
//       matrix-vector products too small to be fast, dsterf a chain of dependent divisions; 60 independent examples
//       fill the 4 lanes of a vector instead. Measured per 100 x 100 Gram matrix (this machine, loaded; /tmp benches
//       in the jacfast report): dsytrd 113 us, the lanes' reduction 57 us; dsterf 158 us, the lanes' QL 52 us. (a) of
//       a probe of the paper's BN net (one bench run): float SVDs (sgesdd) 68 ms, dsyev per example 46 ms, lanes
//       22 ms. (b) is one matrix: LAPACK's blocked dsytrd is the better tool there. jac_lanes_eigenvalues' tests:
//       tests/test_jacobian.c (hostile matrices, the cap and dsyev fallback).
//   (b) of a BN block, reduced to the rank it can have: with Q the B x (B-1) orthonormal Helmert basis of the
//       vectors summing to 0 (Q^T 1 = 0, Q Q^T = I - 1 1^T / B), m_j = Q^T p_j Q = I - t_j t_j^T / B, t_j = Q^T xhat_j,
//       and the QR factorization diag(s_j) Q = U_j R_j (per feature, B x (B-1), LAPACK dgeqrf), J = U T (Q^T (x) W)
//       where U (orthonormal columns: the features' rows are disjoint) and T = diag over j of T_j = R_j m_j. So J J^T
//       has the eigenvalues of the ((B-1) out)-square H[(j, a), (i, c)] = G[j, i] (T_j T_i^T)[a, c] (Q^T Q = I) and
//       out zeros: (b) returns sqrt of H's (B-1) out eigenvalues, then zeros, min(B out, B in) values in all (700
//       computed and 100 zeros for the paper's 800 x 800). What is computed is exactly J's spectrum in real
//       arithmetic because p_j 1 = 0 when xhat_j sums to 0 (it does up to float rounding: using C p_j C, C = Q Q^T,
//       instead of p_j changes the matrix by that rounding, ~1e-7 of its size). The summary still leaves out the
//       2 out smallest: the out exact zeros and the out eps-sized values of the xhat directions.
#ifndef BNLAB_JACOBIAN_H
#define BNLAB_JACOBIAN_H

#include <stddef.h>

#include "nn/model.h"

#define JAC_MAX_FULL_BATCH 16
#define JAC_MAX_FULL_SIDE 2048  // (b) only where (full out) and (full in) are at most this: not the 784-input block
#define JAC_LANES 4  // (a)'s examples whose Gram matrices are reduced and solved side by side (jacobian.c)

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
    float *sv;                 // ((max_batch + 1) * widest + JAC_MAX_FULL_SIDE) singular values of one block
    float *sort_tmp;           // (as sv) jac_summarize's scratch
    float *fprime, *scale;     // (max_batch * widest), (widest) f'(z) and gamma * invstd
    double *wd;                // (in * out) a block's weights in double (column-major in x out)
    double *gw;                // (out * out) W W^T of a block (lower triangle)
    double *g;                 // the largest Gram matrix handed to LAPACK dsyev (destroyed by it)
    double *ev;                // (its side) dsyev's eigenvalues
    double *t;                 // (out * (full_batch - 1)^2) (b)'s per-feature factors T_f
    double *qa, *tau;          // (JAC_MAX_FULL_BATCH^2), (JAC_MAX_FULL_BATCH) (b)'s per-feature QR
    double *lanes, *lane_ws;   // (a): JAC_LANES Gram matrices (packed lower), and tridiag_lanes' workspace
    double *td;                // (JAC_LANES * min(in, out)): (a)'s eigenvalues of JAC_LANES examples
    int max_sweeps;            // QL sweeps for one eigenvalue before (a) falls back to dsyev (30; tests lower it)
    long fallbacks;            // examples whose (a) came from that fallback (a count, for tests)
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
// The eigenvalues of JAC_LANES symmetric n x n matrices at once (jac_example_sv's engine; public for its tests): a
// holds their lower triangles packed, lanes innermost (element (r, c <= r) of lane l at
// a[(r (r + 1) / 2 + c) JAC_LANES + l]; destroyed), lane l's n eigenvalues (in no order) into ev[i JAC_LANES + l].
// Householder tridiagonalization and dsterf's root-free QL, both with the lanes in one vector (jacobian.c). Returns the
// bit mask of lanes whose QL needed more than max_sweeps sweeps for one eigenvalue (their ev are not eigenvalues:
// compute them otherwise); lanes with a non-finite entry are not computed (ev NaN), their mask into *nonfinite.
// Every loop is bounded: n (n + 1) / 2 per column, at most max_sweeps sweeps of n steps per eigenvalue and lane.
#define JAC_LANES_WS(n) (5 * (size_t)(n) * JAC_LANES)  // doubles of ws
int jac_lanes_eigenvalues(double *ev, double *a, int n, int max_sweeps, double *ws, int *nonfinite);
// Summary of sv[0..n) (sorted in place), leaving out the `drop` smallest. tmp (n) is scratch (jac_t's sort_tmp);
// no allocation.
void jac_summarize(jac_summary_t *s, float *sv, size_t n, size_t drop, float *tmp);

#endif
