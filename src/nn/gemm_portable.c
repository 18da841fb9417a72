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
            const float *src = nt ? B + (size_t)js * K + k0 + k : B + (size_t)(k0 + k) * N + js;
            const size_t step = nt ? (size_t)K : 1;
            if (w == NR)
                for (int j = 0; j < NR; j++) row[j] = src[j * step];
            else
                for (int j = 0; j < NR; j++) row[j] = j < w ? src[j * step] : 0.0f;
        }
    }
}

#if !defined(__wasm_simd128__)
// Four rows of NR sums in local arrays the compiler keeps in vector registers (NR / its width each): rows c0..c3 of C
// (distinct, so restrict) = [c +] a b over kc steps. GCC's loop vectorizer would vectorize the k loop (products of
// four k at once, then shuffles to add them in order: the same bits, 3x slower than the straight-line vectors of
// the j loops it otherwise makes), so it is turned off here; the basic-block (SLP) vectorizer does the j loops.
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-vectorize")))
#endif
static inline void kernel_c(int kc, const float *a0, const float *a1, const float *a2, const float *a3, ptrdiff_t ak,
                            const float *restrict b, float *restrict c0, float *restrict c1, float *restrict c2,
                            float *restrict c3, int first) {
    float x0[NR], x1[NR], x2[NR], x3[NR];
    if (first)
        for (int j = 0; j < NR; j++) x0[j] = x1[j] = x2[j] = x3[j] = 0.0f;
    else
        for (int j = 0; j < NR; j++) x0[j] = c0[j], x1[j] = c1[j], x2[j] = c2[j], x3[j] = c3[j];
    for (int k = 0; k < kc; k++) {
        const float *restrict bk = b + (size_t)k * NR;
        const ptrdiff_t o = (ptrdiff_t)k * ak;
        const float y0 = a0[o], y1 = a1[o], y2 = a2[o], y3 = a3[o];
        for (int j = 0; j < NR; j++) x0[j] = x0[j] + y0 * bk[j];
        for (int j = 0; j < NR; j++) x1[j] = x1[j] + y1 * bk[j];
        for (int j = 0; j < NR; j++) x2[j] = x2[j] + y2 * bk[j];
        for (int j = 0; j < NR; j++) x3[j] = x3[j] + y3 * bk[j];
    }
    for (int j = 0; j < NR; j++) c0[j] = x0[j], c1[j] = x1[j], c2[j] = x2[j], c3[j] = x3[j];
}
#endif

// c (MR, NR; row stride ldc) = [c +] a b over kc steps: a's row r, column k at a[r * ai + k * ak], b the packed
// strip (kc, NR). first: start from 0, else from c. A full tile works on c itself; an edge tile (mr < MR rows or
// nr < NR columns) on a copy, rows past mr repeating row mr - 1, and only mr x nr of c is written.
static void kernel(int kc, const float *a, ptrdiff_t ai, ptrdiff_t ak, const float *restrict b, float *c, int ldc,
                   int mr, int nr, int first) {
    const int full = mr == MR && nr == NR;
    float t[MR * NR];
    float *cc = c;
    ptrdiff_t ld = ldc;
    if (!full) {  // an edge tile: through t
        cc = t, ld = NR;
        for (int r = 0; r < MR; r++)
            for (int j = 0; j < NR; j++) t[r * NR + j] = first || r >= mr || j >= nr ? 0.0f : c[(size_t)r * ldc + j];
        first = 0;
    }
    const float *ar[MR];
    for (int r = 0; r < MR; r++) ar[r] = a + (ptrdiff_t)(r < mr ? r : mr - 1) * ai;
    const float *a0 = ar[0], *a1 = ar[1], *a2 = ar[2], *a3 = ar[3];
    float *c0 = cc, *c1 = cc + ld, *c2 = cc + 2 * ld, *c3 = cc + 3 * ld;
#if defined(__wasm_simd128__)
    v128_t x00, x01, x10, x11, x20, x21, x30, x31;
    if (first) {
        x00 = x01 = x10 = x11 = x20 = x21 = x30 = x31 = wasm_f32x4_splat(0.0f);
    } else {
        x00 = wasm_v128_load(c0), x01 = wasm_v128_load(c0 + 4), x10 = wasm_v128_load(c1), x11 = wasm_v128_load(c1 + 4);
        x20 = wasm_v128_load(c2), x21 = wasm_v128_load(c2 + 4), x30 = wasm_v128_load(c3), x31 = wasm_v128_load(c3 + 4);
    }
    for (int k = 0; k < kc; k++) {
        const v128_t b0 = wasm_v128_load(b + (size_t)k * NR), b1 = wasm_v128_load(b + (size_t)k * NR + 4);
        const ptrdiff_t o = (ptrdiff_t)k * ak;
        v128_t x = wasm_f32x4_splat(a0[o]);
        x00 = wasm_f32x4_add(x00, wasm_f32x4_mul(x, b0)), x01 = wasm_f32x4_add(x01, wasm_f32x4_mul(x, b1));
        x = wasm_f32x4_splat(a1[o]);
        x10 = wasm_f32x4_add(x10, wasm_f32x4_mul(x, b0)), x11 = wasm_f32x4_add(x11, wasm_f32x4_mul(x, b1));
        x = wasm_f32x4_splat(a2[o]);
        x20 = wasm_f32x4_add(x20, wasm_f32x4_mul(x, b0)), x21 = wasm_f32x4_add(x21, wasm_f32x4_mul(x, b1));
        x = wasm_f32x4_splat(a3[o]);
        x30 = wasm_f32x4_add(x30, wasm_f32x4_mul(x, b0)), x31 = wasm_f32x4_add(x31, wasm_f32x4_mul(x, b1));
    }
    wasm_v128_store(c0, x00), wasm_v128_store(c0 + 4, x01), wasm_v128_store(c1, x10), wasm_v128_store(c1 + 4, x11);
    wasm_v128_store(c2, x20), wasm_v128_store(c2 + 4, x21), wasm_v128_store(c3, x30), wasm_v128_store(c3 + 4, x31);
#else
    kernel_c(kc, a0, a1, a2, a3, ak, b, c0, c1, c2, c3, first);
#endif
    if (!full)
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < nr; j++) c[(size_t)r * ldc + j] = t[r * NR + j];
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
