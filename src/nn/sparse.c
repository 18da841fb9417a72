#include "nn/sparse.h"

#include <stddef.h>
#include <string.h>

#include "nn/gemm.h"
#include "nn/layers.h"
#include "base/util.h"

#define INLINE static inline __attribute__((always_inline))
// The helpers passing vectors by value are always inlined: no call, so no ABI for GCC to warn about.
#pragma GCC diagnostic ignored "-Wpsabi"

// The sums, in GCC vector types, compiled twice from sparse_rows.inc: 16-float vectors where the CPU has AVX-512
// (half the instructions; measured here on a batch of 60 digits: the dW sums 35 us instead of 39, the forward
// sums, bound by fetching rows of WT, 42 instead of 44), 8-float vectors otherwise (one AVX2 register, or two SSE
// registers in the portable copy). Every output element is summed over the same list in the
// same order by every copy: the same bits.
typedef float v4 __attribute__((vector_size(16)));
enum { TILE_MAX = 12 };  // a tile of up to 12 vectors and a half stays in registers (100 = 12 x 8 + 4 = 6 x 16 + 4)
enum { BLOCK = 8 };      // inputs tested for zero at a time when listing the nonzeros
#define SK_LANES 8
#define SK_NAME(f) f##_v8
#if defined(__x86_64__) && defined(__GNUC__)
#define SK_TARGET __attribute__((target_clones("avx2", "default")))
#else
#define SK_TARGET
#endif
#include "nn/sparse_rows.inc"
#undef SK_LANES
#undef SK_NAME
#undef SK_TARGET
#if defined(__x86_64__) && defined(__GNUC__)
#define SK_LANES 16
#define SK_NAME(f) f##_v16
#define SK_TARGET __attribute__((target("avx512f")))
#include "nn/sparse_rows.inc"
#undef SK_LANES
#undef SK_NAME
#undef SK_TARGET
#endif

static int narrow_only;  // sparse_force_narrow(1): tests compare the two widths on an AVX-512 CPU
void sparse_force_narrow(int on) { narrow_only = on; }

// row_sums_v16 where the CPU has AVX-512, row_sums_v8 otherwise.
static void row_sums(float *dst, const float *init, const int32_t *ptr, const int32_t *idx, const float *w, int rows,
                     const float *M, int ld) {
#if defined(__x86_64__) && defined(__GNUC__)
    static int wide = -1;  // decided once; the answer never changes
    if (wide < 0) wide = __builtin_cpu_supports("avx512f");
    if (wide && !narrow_only) {
        row_sums_v16(dst, init, ptr, idx, w, rows, M, ld);
        return;
    }
#endif
    row_sums_v8(dst, init, ptr, idx, w, rows, M, ld);
}

// Is x nonzero? On the bits, with the sign shifted out: -0.0 counts as zero (it adds nothing), NaN does not (a
// diverged input still shows).
INLINE int nonzero(const float *x) {
    uint32_t u;
    memcpy(&u, x, sizeof u);
    return (u << 1) != 0;
}

// The nonzeros of x[0, in) appended at col/val, ascending; returns how many. Portable: a block of 8 that is all
// zero (most of an MNIST image) costs one test, a mixed block a branch-free step per element.
static int32_t compress_row_portable(int32_t *col, float *val, const float *x, int in) {
    int32_t n = 0;
    int k = 0;
    for (; k + BLOCK <= in; k += BLOCK) {
        uint64_t u[BLOCK / 2];
        memcpy(u, x + k, sizeof u);
        if (((u[0] | u[1] | u[2] | u[3]) & 0x7fffffff7fffffffull) == 0) continue;
        for (int t = 0; t < BLOCK; t++) {
            col[n] = k + t, val[n] = x[k + t];
            n += nonzero(x + k + t);
        }
    }
    for (; k < in; k++) {
        col[n] = k, val[n] = x[k];
        n += nonzero(x + k);
    }
    return n;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
// Left-packing permutations: for each 8-bit mask, the positions of its set bits, lowest first, one per byte.
static uint64_t pack_lut[256];

static void pack_lut_init(void) {
    for (unsigned m = 0; m < 256; m++) {
        uint64_t p = 0;
        int n = 0;
        for (int t = 0; t < 8; t++)
            if (m >> t & 1) p |= (uint64_t)t << (8 * n++);
        pack_lut[m] = p;
    }
}

// The same list with AVX2 and no branch per block (a data-dependent branch mispredicts on every image): compare 8
// inputs with zero, look up the permutation that moves the nonzeros to the front, store all 8 lanes at once and
// advance by the count. The stores run up to 7 entries past the list, never past this example's `in` entries.
__attribute__((target("avx2,popcnt"))) static int32_t compress_row_avx2(int32_t *col, float *val, const float *x,
                                                                       int in) {
    const __m256i magnitude = _mm256_set1_epi32(0x7fffffff), zero = _mm256_setzero_si256();
    int32_t n = 0;
    int k = 0;
    for (; k + BLOCK <= in; k += BLOCK) {
        __m256 v = _mm256_loadu_ps(x + k);
        __m256i bits = _mm256_and_si256(_mm256_castps_si256(v), magnitude);
        unsigned m = ~(unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(bits, zero))) & 0xffu;
        __m256i perm = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)pack_lut[m]));
        _mm256_storeu_ps(val + n, _mm256_permutevar8x32_ps(v, perm));
        _mm256_storeu_si256((__m256i *)(void *)(col + n), _mm256_add_epi32(perm, _mm256_set1_epi32(k)));
        n += __builtin_popcount(m);
    }
    for (; k < in; k++) {
        col[n] = k, val[n] = x[k];
        n += nonzero(x + k);
    }
    return n;
}
#endif

// The same list, by the fastest way this CPU has (both give the same list).
static int32_t compress_row(int32_t *col, float *val, const float *x, int in) {
#if defined(__x86_64__) && defined(__GNUC__)
    static int avx2 = -1;  // decided once; the answer never changes
    if (avx2 < 0) {
        avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
        if (avx2) pack_lut_init();
    }
    if (avx2) return compress_row_avx2(col, val, x, in);
#endif
    return compress_row_portable(col, val, x, in);
}

size_t sparse_batch_ints(int max_batch, int in) { return (size_t)max_batch + 1 + 2 * (size_t)max_batch * in + in + 1; }
size_t sparse_batch_floats(int max_batch, int in) { return 2 * (size_t)max_batch * in; }

void sparse_batch_carve(sparse_batch_t *s, int32_t *ints, float *floats, int max_batch, int in) {
    size_t nz = (size_t)max_batch * in;
    s->row_ptr = ints, ints += max_batch + 1;
    s->col = ints, ints += nz;
    s->col_ptr = ints, ints += in + 1;
    s->row = ints;
    s->val = floats, s->cval = floats + nz;
}

void sparse_dense_forward(float *y, sparse_batch_t *s, const float *x, const float *WT, const float *b, int B, int in,
                          int out) {
    int32_t n = 0;
    s->row_ptr[0] = 0;
    for (int i = 0; i < B; i++) {
        n += compress_row(s->col + n, s->val + n, x + (size_t)i * in, in);
        s->row_ptr[i + 1] = n;
    }
    // y[i] = b + sum over the example's nonzeros k of x[i][k] WT[k]
    row_sums(y, b, s->row_ptr, s->col, s->val, B, WT, out);
}

void sparse_dense_backward(float *dx, float *dWT, float *db, sparse_batch_t *s, const float *dy, const float *WT, int B,
                           int in, int out) {
    // CSC from the CSR by a counting sort; examples are visited in order, so each feature's list is ascending.
    int32_t *cp = s->col_ptr, nnz = s->row_ptr[B];
    memset(cp, 0, sizeof(int32_t) * ((size_t)in + 1));
    for (int32_t e = 0; e < nnz; e++) cp[s->col[e] + 1]++;
    for (int k = 0; k < in; k++) cp[k + 1] += cp[k];
    for (int i = 0; i < B; i++)
        for (int32_t e = s->row_ptr[i]; e < s->row_ptr[i + 1]; e++) {
            int32_t q = cp[s->col[e]]++;
            s->row[q] = i, s->cval[q] = s->val[e];
        }
    for (int k = in; k > 0; k--) cp[k] = cp[k - 1];  // the fill advanced each start to the next one's
    cp[0] = 0;
    // dWT[k] = sum over the examples i where x[i][k] != 0 of x[i][k] dy[i]; a feature no example uses gets 0.
    row_sums(dWT, NULL, cp, s->row, s->cval, in, dy, out);
    if (db) dense_bias_backward(db, dy, B, out);
    // dx (B, in) = dy (B, out) . WT^T (out, in): dense, as the gradient of every input is needed.
    if (dx) gemm(GEMM_NT, dx, dy, WT, B, in, out);
}

void sparse_dense_prepare(int B, int in, int out, int with_dx) {
    if (with_dx) gemm_prepare(GEMM_NT, B, in, out);
}

void sparse_row_sums(float *dst, const float *init, const int32_t *ptr, const int32_t *idx, const float *w, int rows,
                     const float *M, int ld) {
    row_sums(dst, init, ptr, idx, w, rows, M, ld);
}

int32_t sparse_compress(int32_t *col, float *val, const float *x, int in, int portable) {
    return portable ? compress_row_portable(col, val, x, in) : compress_row(col, val, x, in);
}
