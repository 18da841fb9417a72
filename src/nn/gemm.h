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
//   GEMM_PORTABLE  blocked C with no library (nn/gemm_portable.c): WebAssembly SIMD128 intrinsics in the wasm build
//                  (where it is the only backend: no OpenBLAS, no libxsmm), plain C vectorized by the compiler
//                  natively. Each element is the float sum over k = 0 .. K-1 in order from 0, no fused multiply-add:
//                  the bits of the naive triple loop, the same natively and in WebAssembly.
// All compute every element as a float sum of K products, in different orders: results agree to rounding, and each
// backend is deterministic (same inputs, same backend and libxsmm target => the same bits).
// BNLAB_HAVE_BLAS (meson.build): 1 with OpenBLAS and libxsmm linked (native), 0 in the WebAssembly build.
#ifndef BNLAB_GEMM_H
#define BNLAB_GEMM_H

#include <stddef.h>

typedef enum { GEMM_NN, GEMM_TN, GEMM_NT } gemm_op_t;

// Config words train.gemm: "auto", "openblas", "libxsmm", "portable" (same order).
typedef enum { GEMM_AUTO, GEMM_OPENBLAS, GEMM_LIBXSMM, GEMM_PORTABLE } gemm_backend_t;
#define GEMM_N_BACKENDS 4

// C (M, N) = op(A) op(B), as above. No allocation. One thread at a time (the NT products share one buffer; a bnlab
// run computes on one thread and leaves the threading to OpenBLAS).
void gemm(gemm_op_t op, float *C, const float *A, const float *B, int M, int N, int K);

// Chooses the process's backend. want = GEMM_OPENBLAS, GEMM_LIBXSMM or GEMM_PORTABLE forces it (reason: the config
// key); GEMM_AUTO takes the environment variable BNLAB_GEMM (openblas|libxsmm|portable|auto) if set, else the rule:
// libxsmm where its JIT targets AVX-512 on this CPU (twice OpenBLAS's AVX2 vector width; measured 1.7-2x on the
// paper's products), OpenBLAS otherwise (with AVX2 kernels libxsmm measured no faster); portable is never chosen by
// the rule natively and always in the WebAssembly build. The rule depends on the CPU only, never on a timing, so
// the backend recorded in environment.json (gemm_backend, gemm_target) says which code produced a run's numbers.
// Returns 0, or -1 + message (a bad BNLAB_GEMM; openblas or libxsmm asked of the WebAssembly build). Switching
// backends (bench, tests) keeps prepared kernels.
int gemm_select(gemm_backend_t want);
// gemm_select(GEMM_AUTO) unless a backend was selected already (model_build calls it). 0 or -1 + message.
int gemm_select_default(void);
gemm_backend_t gemm_backend(void);
const char *gemm_backend_name(gemm_backend_t b);  // "auto", "openblas", "libxsmm", "portable"
const char *gemm_reason(void);                    // why the current backend, one sentence
const char *gemm_target(void);                    // the instruction set its kernels use: "Haswell", "skx", "wasm-simd128"
// The BLAS threads (OpenBLAS; the other backends run on the calling thread and ignore it).
void gemm_set_threads(int n);
// OpenBLAS's build configuration and core ("" in the WebAssembly build): environment.json records them.
const char *gemm_openblas_config(void);
const char *gemm_openblas_core(void);
// The portable backend itself (any build), and the instruction set its kernel was compiled for: "wasm-simd128",
// "c-x86_64-sse2" (the compiler's vectors for the baseline target), ...
void gemm_portable(gemm_op_t op, float *C, const float *A, const float *B, int M, int N, int K);
const char *gemm_portable_target(void);

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
// that finds no room is transposed per call as before. No allocation; does nothing under OpenBLAS and the portable backend.
void gemm_hold_begin(void);
void gemm_hold_end(void);
// Room for `floats` held values (the sum of a model's weight sizes; model_build reserves it). Allocates.
void gemm_reserve_held(size_t floats);
// C (M, N) = A (M, K) B^T (N, K): gemm(GEMM_NT, C, A, B, M, N, K) with the same bits, for an A that is mostly zeros
// (the first layer's input: 81 % of MNIST's pixels are 0). Where the dense product sums every element in order over
// k from +0 — libxsmm's kernels, one FMA per term where the target has FMA, else each product rounded and then
// added; the portable backend the latter — a term whose a_ik is 0 (or -0) adds an exact zero to the value of the sum
// (0 b = ±0 for a finite b), so the sums here leave those terms out: row by row over the nonzeros of A, in order,
// with the same operations (FMA: AVX-512 code). Every element whose sum is not zero then has the dense product's bits;
// one whose sum is zero could differ in its sign and is summed again over every k. The dense product runs instead
// when the shape was not prepared with gemm_prepare_skip_zeros, the backend sums otherwise (OpenBLAS: blocks over
// k; a libxsmm kernel that does not sum in order — gemm_prepare_skip_zeros checks each shape's kernel on random
// inputs, and gemm_select again when the backend changes), the CPU lacks AVX-512 for the FMA sums, B holds an infinity or NaN (0 inf is NaN), or A is too dense for the
// skipping to pay: with the FMA sums, when A's first 12 rows keep more than half of their terms; with the
// multiply-then-add sums, when more than half of A is nonzero. Held operands (above) are used and their finiteness checked once per hold.
// Returns 1 if the zeros were skipped, 0 if the dense product ran. tests/test_gemm.c compares the bits with gemm's on
// every backend. No allocation.
int gemm_nt_skip_zeros(float *C, const float *A, const float *B, int M, int N, int K);
// gemm_prepare(GEMM_NT, M, N, K), room for the nonzeros of an (M, K) A, and the check of how the dense product of
// this shape sums (one product of random inputs). Allocates: at model build time only.
void gemm_prepare_skip_zeros(int M, int N, int K);
// 1 if that check found the current backend's product of this shape summing in order (zeros are skipped), else 0.
int gemm_skip_zeros_checked(int M, int N, int K);
// How many consecutive rows of A (from row 0 of each call) the FMA sums of gemm_nt_skip_zeros sum together, over the
// union of their nonzeros: rows 0-2, 3-5, ... (1 where no FMA sums exist: the WebAssembly build). An evaluation
// order that puts images with similar nonzero pixels into one group saves terms (run/evalorder.h).
int gemm_skip_zeros_group(void);
// Whether gemm(GEMM_NT, C, A, B, M, N, K) gives each row of C the same bits wherever its row of A sits in A (what an
// evaluation in another order of the examples needs: run/evalorder.h). gemm_check_rows finds out for one shape under
// the current backend — the product of random inputs with no zero, and again with A's rows in reverse order, each
// row compared — and gemm_select again when the backend changes; it allocates (at model build time, never in a
// step). gemm_rows_independent: 1 if that check found every row the same, 0 if not or never checked. Measured
// (tests/test_evalorder.sh): libxsmm's kernels and the portable backend yes, OpenBLAS not (rows differ at
// rounding). The WebAssembly build: 1 always (the portable backend sums each element by itself, in order).
void gemm_check_rows(int M, int N, int K);
int gemm_rows_independent(int M, int N, int K);
// Tests and measurements: on = 0 makes gemm_nt_skip_zeros run the dense product always (the default is 1).
void gemm_skip_zeros_enable(int on);
// Tests, negative controls: 1 leaves zero sums as they are (no second sum over every k), 2 skips zeros even when B
// is not finite, 3 sums the other way (FMA where the dense product rounds each product, and the reverse; the FMA
// sums need AVX-512). 0: none (the default).
void gemm_skip_zeros_plant(int what);
// libxsmm's target on this CPU ("hsw", "skx", "cpx", ...; "none" without libxsmm) and whether it has AVX-512 kernels.
const char *gemm_libxsmm_target(void);
int gemm_libxsmm_avx512(void);

#endif
