// gemm.h — the network's matrix products, and the backend that computes them.
//
// Every product of the network is one of three row-major forms, C (M, N) = op(A) op(B) with alpha 1, beta 0 and
// tight strides (lda, ldb, ldc are the row lengths):
//   GEMM_NN  C = A B        A (M, K), B (K, N)    dense backward dx = dy W
//   GEMM_TN  C = A^T B      A (K, M), B (K, N)    dense backward dW = dy^T x
//   GEMM_NT  C = A B^T      A (M, K), B (N, K)    dense forward  y = x W^T
// The layers call gemm(); which code computes it is the process's backend, chosen once before any model is built:
//   GEMM_OPENBLAS  cblas_sgemm for every product (OpenBLAS's kernels: Haswell/AVX2 where OPENBLAS_CORETYPE says so);
//   GEMM_LIBXSMM   libxsmm JIT kernels, one per shape, dispatched by gemm_prepare() when the model is built (never
//                  in a training step: a call looks its shape up in a fixed table, and a shape nobody prepared runs
//                  in OpenBLAS). libxsmm's kernels compute column-major C = A B (B may be read transposed), so a
//                  row-major product is run as its column-major transpose: NN as C^T = B^T A^T, TN with B read
//                  transposed; NT would need A transposed, which libxsmm does not JIT: B (the weight, N x K) is first
//                  copied transposed into a buffer sized at prepare time, then it is an NN product.
// Both compute every element as a float sum of K products, in different orders: results agree to rounding, and each
// backend is deterministic (same inputs, same backend and libxsmm target => the same bits).
#ifndef BNLAB_GEMM_H
#define BNLAB_GEMM_H

#include <stddef.h>

typedef enum { GEMM_NN, GEMM_TN, GEMM_NT } gemm_op_t;

// Config words train.gemm: "auto", "openblas", "libxsmm" (same order).
typedef enum { GEMM_AUTO, GEMM_OPENBLAS, GEMM_LIBXSMM } gemm_backend_t;

// C (M, N) = op(A) op(B), as above. No allocation. One thread at a time (the NT products share one buffer; a bnlab
// run computes on one thread and leaves the threading to OpenBLAS).
void gemm(gemm_op_t op, float *C, const float *A, const float *B, int M, int N, int K);

// Chooses the process's backend. want = GEMM_OPENBLAS or GEMM_LIBXSMM forces it (reason: the config key); GEMM_AUTO
// takes the environment variable BNLAB_GEMM (openblas|libxsmm|auto) if set, else the rule: libxsmm where its JIT
// targets AVX-512 on this CPU (twice OpenBLAS's AVX2 vector width; measured 1.7-2x on the paper's products), OpenBLAS
// otherwise (with AVX2 kernels libxsmm measured no faster). The rule depends on the CPU only, never on a timing, so
// the backend recorded in environment.json (gemm_backend, gemm_target) says which code produced a run's numbers.
// Returns 0, or -1 + message (a bad BNLAB_GEMM). Switching backends (bench, tests) keeps prepared kernels.
int gemm_select(gemm_backend_t want);
// gemm_select(GEMM_AUTO) unless a backend was selected already (model_build calls it). 0 or -1 + message.
int gemm_select_default(void);
gemm_backend_t gemm_backend(void);
const char *gemm_backend_name(gemm_backend_t b);  // "auto", "openblas", "libxsmm"
const char *gemm_reason(void);                    // why the current backend, one sentence
const char *gemm_target(void);                    // the instruction set its kernels use: "Haswell", "avx512_core", ..

// libxsmm backend: JIT-compiles the kernel for one shape (and sizes the transposition buffer of an NT product).
// Idempotent; does nothing under OpenBLAS. A shape libxsmm cannot compile runs in OpenBLAS. Allocates: call it when
// building a model, never in a training step.
void gemm_prepare(gemm_op_t op, int M, int N, int K);
// 1 if gemm(op, .., M, N, K) runs a libxsmm kernel now (tests: both paths are compared against float64).
int gemm_uses_jit(gemm_op_t op, int M, int N, int K);
// Held operands, for a pass over many batches with the same weights (an evaluation of the test set in batches):
// between gemm_hold_begin() and gemm_hold_end() the caller promises that the B operand of every NT product stays as
// it is. Under libxsmm an NT product then transposes each distinct B (by address and shape) once, into room reserved
// by gemm_reserve_held(), instead of once per call; the kernels and the values are the same, so are the bits. A B
// that finds no room is transposed per call as before. No allocation; does nothing under OpenBLAS.
void gemm_hold_begin(void);
void gemm_hold_end(void);
// Room for `floats` held values (the sum of a model's weight sizes; model_build reserves it). Allocates.
void gemm_reserve_held(size_t floats);
// libxsmm's target on this CPU ("hsw", "skx", "cpx", ...) and whether it has AVX-512 kernels.
const char *gemm_libxsmm_target(void);
int gemm_libxsmm_avx512(void);

#endif
