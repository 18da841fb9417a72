// The portable GEMM backend (nn/gemm.h GEMM_PORTABLE): blocked C with no library, the only backend of the
// WebAssembly build. Every element of C is the float sum over k = 0, 1, .., K-1 in that order, starting from 0
// (c = 0; c = c + a_k b_k, a product rounded, then a sum rounded: no fused multiply-add — WebAssembly SIMD128 has
// none, and meson.build compiles with -ffp-contract=off), whatever the blocking and
// the vector width: the same bits as the naive triple loop, natively and in WebAssembly alike. Vectors run across
// columns of C (never across k), so a lane is one element's own sum; k-blocks hand their partial sums on through C
// (a float stored and loaded unchanged).
//
// The loops of BLIS, without threads: op(B) is packed by blocks of KC rows x NC columns into a static panel (NR-wide
// strips, zero-padded), then MR x NR tiles of C are computed from MR rows of op(A) and one strip. The packing also
// reads B transposed for NT, so the three forms share one kernel. The micro-kernel: WebAssembly SIMD128 intrinsics
// when compiled with -msimd128, else plain C over fixed-size arrays that the compiler vectorizes for its target.
#include <stddef.h>
#include <string.h>

#include "nn/gemm.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

enum { MR = 4, NR = 8, KC = 256, NC = 128 };

static float panel[KC * NC];  // (NC / NR strips) x (KC rows) x (NR columns); 128 KB, static: gemm never allocates

// op(B)'s rows k0 .. k0 + kc, columns j0 .. j0 + nc into panel: strip s holds columns j0 + s NR .. + NR, row-major
// (kc, NR), columns past nc zero.
static void pack(const float *B, int nt, int N, int K, int k0, int kc, int j0, int nc) {
    for (int s = 0; s * NR < nc; s++) {
        float *p = panel + (size_t)s * KC * NR;
        const int js = j0 + s * NR, w = nc - s * NR < NR ? nc - s * NR : NR;
        for (int k = 0; k < kc; k++) {
            float *row = p + (size_t)k * NR;
            if (nt)
                for (int j = 0; j < w; j++) row[j] = B[(size_t)(js + j) * K + k0 + k];
            else
                memcpy(row, B + (size_t)(k0 + k) * N + js, sizeof(float) * (size_t)w);
            for (int j = w; j < NR; j++) row[j] = 0.0f;
        }
    }
}

// c (MR, NR; row stride ldc) = [c +] a b over kc steps: a's row r, column k at a[r * ai + k * ak] (rows past mr
// repeat row mr - 1), b the packed strip (kc, NR). first: start from 0, else from c. Only mr x nr of c is written.
static void kernel(int kc, const float *a, ptrdiff_t ai, ptrdiff_t ak, const float *restrict b, float *c, int ldc,
                   int mr, int nr, int first) {
    const float *ar[MR];
    for (int r = 0; r < MR; r++) ar[r] = a + (ptrdiff_t)(r < mr ? r : mr - 1) * ai;
    float t[MR][NR];
    for (int r = 0; r < MR; r++)
        for (int j = 0; j < NR; j++) t[r][j] = first || r >= mr || j >= nr ? 0.0f : c[(size_t)r * ldc + j];
#if defined(__wasm_simd128__)
    v128_t c00 = wasm_v128_load(&t[0][0]), c01 = wasm_v128_load(&t[0][4]), c10 = wasm_v128_load(&t[1][0]),
           c11 = wasm_v128_load(&t[1][4]), c20 = wasm_v128_load(&t[2][0]), c21 = wasm_v128_load(&t[2][4]),
           c30 = wasm_v128_load(&t[3][0]), c31 = wasm_v128_load(&t[3][4]);
    const float *a0 = ar[0], *a1 = ar[1], *a2 = ar[2], *a3 = ar[3];
    for (int k = 0; k < kc; k++) {
        const v128_t b0 = wasm_v128_load(b + (size_t)k * NR), b1 = wasm_v128_load(b + (size_t)k * NR + 4);
        const ptrdiff_t o = (ptrdiff_t)k * ak;
        v128_t x = wasm_f32x4_splat(a0[o]);
        c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(x, b0)), c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(x, b1));
        x = wasm_f32x4_splat(a1[o]);
        c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(x, b0)), c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(x, b1));
        x = wasm_f32x4_splat(a2[o]);
        c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(x, b0)), c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(x, b1));
        x = wasm_f32x4_splat(a3[o]);
        c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(x, b0)), c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(x, b1));
    }
    wasm_v128_store(&t[0][0], c00), wasm_v128_store(&t[0][4], c01), wasm_v128_store(&t[1][0], c10);
    wasm_v128_store(&t[1][4], c11), wasm_v128_store(&t[2][0], c20), wasm_v128_store(&t[2][4], c21);
    wasm_v128_store(&t[3][0], c30), wasm_v128_store(&t[3][4], c31);
#else
    for (int k = 0; k < kc; k++) {
        const float *restrict bk = b + (size_t)k * NR;
        for (int r = 0; r < MR; r++) {
            const float x = ar[r][(ptrdiff_t)k * ak];
            for (int j = 0; j < NR; j++) t[r][j] = t[r][j] + x * bk[j];
        }
    }
#endif
    for (int r = 0; r < mr; r++) memcpy(c + (size_t)r * ldc, t[r], sizeof(float) * (size_t)nr);
}

void gemm_portable(gemm_op_t op, float *C, const float *A, const float *B, int M, int N, int K) {
    if (K == 0) {  // the empty sum
        memset(C, 0, sizeof(float) * (size_t)M * N);
        return;
    }
    // op(A)'s (i, k): A[i K + k] (NN, NT) or A[k M + i] (TN).
    const ptrdiff_t ai = op == GEMM_TN ? 1 : K, ak = op == GEMM_TN ? M : 1;
    for (int j0 = 0; j0 < N; j0 += NC) {
        const int nc = N - j0 < NC ? N - j0 : NC;
        for (int k0 = 0; k0 < K; k0 += KC) {
            const int kc = K - k0 < KC ? K - k0 : KC;
            pack(B, op == GEMM_NT, N, K, k0, kc, j0, nc);
            for (int i0 = 0; i0 < M; i0 += MR) {
                const int mr = M - i0 < MR ? M - i0 : MR;
                const float *a = A + (ptrdiff_t)i0 * ai + (ptrdiff_t)k0 * ak;
                for (int s = 0; s * NR < nc; s++) {
                    const int nr = nc - s * NR < NR ? nc - s * NR : NR;
                    kernel(kc, a, ai, ak, panel + (size_t)s * KC * NR, C + (size_t)i0 * N + j0 + s * NR, N, mr, nr,
                           k0 == 0);
                }
            }
        }
    }
}

const char *gemm_portable_target(void) {
#if defined(__wasm_simd128__)
    return "wasm-simd128";
#elif defined(__wasm__)
    return "wasm-scalar";
#elif defined(__x86_64__) && defined(__AVX2__)
    return "c-x86_64-avx2";
#elif defined(__x86_64__)
    return "c-x86_64-sse2";
#elif defined(__aarch64__)
    return "c-aarch64-neon";
#else
    return "c-generic";
#endif
}
