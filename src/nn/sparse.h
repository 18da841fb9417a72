// sparse.h — a dense layer that skips zero inputs ("sparse_input": true in the config).
//
// MNIST pixels are about 80 % zeros, and the first layer's two products (forward and dW) are most of a step's
// arithmetic. Skipping the zeros does the same mathematics with a fifth of the multiply-adds; only the
// summation order differs from a GEMM, so results agree to rounding and are deterministic for a seed.
//
// Layout: W is stored transposed, WT (in, out), so that one input feature's weights are one contiguous row:
// the forward pass adds rows of WT, the dW pass writes rows of dWT. Checkpoints transpose back to torch's
// (out, in) (checkpoint.c), so files do not depend on the option.
//
// The nonzeros of a batch are kept in both orders: CSR (per example, for the forward pass) and CSC (per input
// feature, for dW, built from the CSR by a counting sort), each in ascending order, so every sum has one
// fixed order on every CPU (the AVX-512, AVX2 and portable copies perform the same IEEE operations).
#ifndef BNLAB_SPARSE_H
#define BNLAB_SPARSE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int32_t *row_ptr;  // (max_batch + 1) CSR: nonzeros of example b are [row_ptr[b], row_ptr[b + 1])
    int32_t *col;      // (max_batch * in) their input features, ascending within an example
    float *val;        // (max_batch * in) their values
    int32_t *col_ptr;  // (in + 1) CSC: nonzeros of feature k are [col_ptr[k], col_ptr[k + 1])
    int32_t *row;      // (max_batch * in) their examples, ascending within a feature
    float *cval;       // (max_batch * in) their values
} sparse_batch_t;

// Index entries (int32) and values (float) a layer of `in` inputs needs for batches up to max_batch.
size_t sparse_batch_ints(int max_batch, int in);
size_t sparse_batch_floats(int max_batch, int in);
// Carves the buffers from ints (sparse_batch_ints) and floats (sparse_batch_floats).
void sparse_batch_carve(sparse_batch_t *s, int32_t *ints, float *floats, int max_batch, int in);

// sparse dense: y (B, out) = x (B, in) . WT (in, out) + b, over the nonzeros of x only; fills s's CSR.
void sparse_dense_forward(float *y, sparse_batch_t *s, const float *x, const float *WT, const float *b, int B,
                          int in, int out);
// backward, with the CSR of the last forward pass: dWT (in, out) = x^T dy, db = sum_rows dy, dx (B, in) = dy WT^T
// (dx, db may be NULL). Fills s's CSC.
void sparse_dense_backward(float *dx, float *dWT, float *db, sparse_batch_t *s, const float *dy, const float *WT,
                           int B, int in, int out);

// The dense product of the backward pass (dx) for batches of B, prepared for the GEMM backend (nn/gemm.h); with_dx = 0:
// none. Allocates: at model build time only.
void sparse_dense_prepare(int B, int in, int out, int with_dx);

// The nonzeros of x (in) as ascending (col, val) pairs, returns how many; -0.0 counts as zero, NaN as nonzero.
// col and val need room for `in` entries. portable = 1 forces the portable code (tests compare the two paths).
int32_t sparse_compress(int32_t *col, float *val, const float *x, int in, int portable);

// For each row r < rows: dst[r][0, ld) = init + sum over e in [ptr[r], ptr[r + 1]) of w[e] * M[idx[e]][0, ld)
// (init NULL: from +0), each element in order over e, each product rounded and then added (no FMA): the sums of the
// forward pass and of dW above, and of gemm_nt_skip_zeros (gemm.h) where the dense product sums the same way.
void sparse_row_sums(float *dst, const float *init, const int32_t *ptr, const int32_t *idx, const float *w, int rows,
                     const float *M, int ld);

// Tests: on = 1 makes the sums use 8-float vectors even where AVX-512 would give 16 (the results must not change).
void sparse_force_narrow(int on);

#endif
