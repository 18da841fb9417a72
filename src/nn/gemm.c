#include "nn/gemm.h"

#include <cblas.h>
#include <libxsmm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

enum { GEMM_MAX_KERNELS = 256 };  // shapes: 3 per dense layer per batch size prepared; a full table runs OpenBLAS

typedef struct {
    gemm_op_t op;
    int M, N, K;
    libxsmm_smmfunction f;  // NULL: libxsmm could not compile it, OpenBLAS runs it
} kernel_t;

static kernel_t kernels[GEMM_MAX_KERNELS];
static int n_kernels;
static float *bt;      // (K, N) the transposed B of an NT product, for the largest NT shape prepared
static size_t bt_cap;  // floats
enum { GEMM_MAX_HELD = 64 };  // held operands (weight matrices of one model) per hold
typedef struct {
    const float *B;  // the operand as passed (row-major N x K)
    int N, K;
    size_t at;       // its transposition in held[at .. at + N K)
} held_t;
static float *held;     // room for held transpositions
static size_t held_cap, held_used;
static held_t holds[GEMM_MAX_HELD];
static int n_holds, holding;
static gemm_backend_t backend = GEMM_OPENBLAS;
static int selected;
static char reason[256];

static void xsmm_init(void) {
    static int done;
    if (!done) libxsmm_init(), done = 1;
}

const char *gemm_libxsmm_target(void) {
    xsmm_init();
    return libxsmm_get_target_arch();
}

int gemm_libxsmm_avx512(void) {
    xsmm_init();
    int id = libxsmm_get_target_archid();
    return id >= LIBXSMM_X86_AVX512_CORE && id < LIBXSMM_X86_ALLFEAT;
}

const char *gemm_backend_name(gemm_backend_t b) {
    static const char *const names[] = {"auto", "openblas", "libxsmm"};
    return (unsigned)b < 3 ? names[b] : "?";
}

int gemm_select(gemm_backend_t want) {
    if (want == GEMM_OPENBLAS || want == GEMM_LIBXSMM) {
        backend = want;
        snprintf(reason, sizeof reason, "set by the config (train.gemm = \"%s\")", gemm_backend_name(want));
    } else {
        const char *env = getenv("BNLAB_GEMM");
        if (env && *env && strcmp(env, "auto")) {
            if (!strcmp(env, "openblas")) backend = GEMM_OPENBLAS;
            else if (!strcmp(env, "libxsmm")) backend = GEMM_LIBXSMM;
            else return bnlab_fail("environment BNLAB_GEMM: expected openblas, libxsmm or auto, found \"%s\"", env);
            snprintf(reason, sizeof reason, "set by the environment (BNLAB_GEMM=%s)", env);
        } else if (gemm_libxsmm_avx512()) {
            backend = GEMM_LIBXSMM;
            snprintf(reason, sizeof reason,
                     "auto: libxsmm JIT-compiles AVX-512 kernels on this CPU (target %s), twice the vector width "
                     "of OpenBLAS's %s kernels",
                     gemm_libxsmm_target(), openblas_get_corename());
        } else {
            backend = GEMM_OPENBLAS;
            snprintf(reason, sizeof reason,
                     "auto: libxsmm's kernels on this CPU (target %s) have no AVX-512, so they are no wider than "
                     "OpenBLAS's",
                     gemm_libxsmm_target());
        }
    }
    selected = 1;
    return 0;
}

int gemm_select_default(void) { return selected ? 0 : gemm_select(GEMM_AUTO); }
gemm_backend_t gemm_backend(void) { return backend; }
const char *gemm_reason(void) { return reason; }

const char *gemm_target(void) {
    return backend == GEMM_LIBXSMM ? gemm_libxsmm_target() : openblas_get_corename();
}

static kernel_t *find(gemm_op_t op, int M, int N, int K) {
    for (int i = 0; i < n_kernels; i++)
        if (kernels[i].M == M && kernels[i].N == N && kernels[i].K == K && kernels[i].op == op) return &kernels[i];
    return NULL;
}

void gemm_prepare(gemm_op_t op, int M, int N, int K) {
    if (backend != GEMM_LIBXSMM || find(op, M, N, K) || n_kernels == GEMM_MAX_KERNELS) return;
    xsmm_init();
    // Column-major m = N, n = M, k = K: C^T (N x M) = B' (N x K) A' (K x M), B' being row-major B (NN; NT after the
    // transposition) and A' row-major A, read transposed for TN (ldb = M).
    const libxsmm_blasint lda = N, ldb = op == GEMM_TN ? M : K, ldc = N;
    const float alpha = 1.0f, beta = 0.0f;
    const int flags = LIBXSMM_GEMM_FLAG_BETA_0 | (op == GEMM_TN ? LIBXSMM_GEMM_FLAG_TRANS_B : 0);
    const int prefetch = LIBXSMM_GEMM_PREFETCH_NONE;
    libxsmm_smmfunction f = libxsmm_smmdispatch(N, M, K, &lda, &ldb, &ldc, &alpha, &beta, &flags, &prefetch);
    if (f && op == GEMM_NT && (size_t)N * K > bt_cap) {
        free(bt);
        bt_cap = (size_t)N * K;
        bt = xmalloc(sizeof(float) * bt_cap, "transposed GEMM operand");
    }
    kernels[n_kernels++] = (kernel_t){.op = op, .M = M, .N = N, .K = K, .f = f};
}

int gemm_uses_jit(gemm_op_t op, int M, int N, int K) {
    const kernel_t *k = backend == GEMM_LIBXSMM ? find(op, M, N, K) : NULL;
    return k && k->f;
}

// dst (cols, rows) = src (rows, cols)^T: a copy, the same bits whichever way it is done. Portable: 16 x 16 tiles (a
// tile's rows and columns stay in L1).
static void transpose_portable(float *restrict dst, const float *restrict src, int rows, int cols) {
    enum { T = 16 };
    for (int ib = 0; ib < rows; ib += T)
        for (int jb = 0; jb < cols; jb += T) {
            int i1 = ib + T < rows ? ib + T : rows, j1 = jb + T < cols ? jb + T : cols;
            for (int i = ib; i < i1; i++)
                for (int j = jb; j < j1; j++) dst[(size_t)j * rows + i] = src[(size_t)i * cols + j];
        }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
// AVX2: 8 x 8 blocks transposed in registers (unpack, shuffle, lane permute); the edges by the portable loop.
__attribute__((target("avx2"))) static void transpose_avx2(float *restrict dst, const float *restrict src, int rows,
                                                            int cols) {
    const int r8 = rows & ~7, c8 = cols & ~7;
    for (int i = 0; i < r8; i += 8)
        for (int j = 0; j < c8; j += 8) {
            const float *p = src + (size_t)i * cols + j;
            __m256 r0 = _mm256_loadu_ps(p), r1 = _mm256_loadu_ps(p + cols), r2 = _mm256_loadu_ps(p + 2 * (size_t)cols),
                   r3 = _mm256_loadu_ps(p + 3 * (size_t)cols), r4 = _mm256_loadu_ps(p + 4 * (size_t)cols),
                   r5 = _mm256_loadu_ps(p + 5 * (size_t)cols), r6 = _mm256_loadu_ps(p + 6 * (size_t)cols),
                   r7 = _mm256_loadu_ps(p + 7 * (size_t)cols);
            __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
                   t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
                   t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
            __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee),
                   u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee),
                   u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee),
                   u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
            float *q = dst + (size_t)j * rows + i;
            _mm256_storeu_ps(q, _mm256_permute2f128_ps(u0, u4, 0x20));
            _mm256_storeu_ps(q + rows, _mm256_permute2f128_ps(u1, u5, 0x20));
            _mm256_storeu_ps(q + 2 * (size_t)rows, _mm256_permute2f128_ps(u2, u6, 0x20));
            _mm256_storeu_ps(q + 3 * (size_t)rows, _mm256_permute2f128_ps(u3, u7, 0x20));
            _mm256_storeu_ps(q + 4 * (size_t)rows, _mm256_permute2f128_ps(u0, u4, 0x31));
            _mm256_storeu_ps(q + 5 * (size_t)rows, _mm256_permute2f128_ps(u1, u5, 0x31));
            _mm256_storeu_ps(q + 6 * (size_t)rows, _mm256_permute2f128_ps(u2, u6, 0x31));
            _mm256_storeu_ps(q + 7 * (size_t)rows, _mm256_permute2f128_ps(u3, u7, 0x31));
        }
    for (int i = 0; i < rows; i++)  // the edges: columns past c8 of every row, rows past r8 of the first c8 columns
        for (int j = i < r8 ? c8 : 0; j < cols; j++) dst[(size_t)j * rows + i] = src[(size_t)i * cols + j];
}
#endif

static void transpose(float *restrict dst, const float *restrict src, int rows, int cols) {
#if defined(__x86_64__) && defined(__GNUC__)
    static int avx2 = -1;  // decided once; the answer never changes
    if (avx2 < 0) avx2 = __builtin_cpu_supports("avx2");
    if (avx2) {
        transpose_avx2(dst, src, rows, cols);
        return;
    }
#endif
    transpose_portable(dst, src, rows, cols);
}

void gemm_reserve_held(size_t floats) {
    if (floats <= held_cap) return;
    free(held);
    held = xmalloc(sizeof(float) * floats, "held GEMM operands");
    held_cap = floats, held_used = 0, n_holds = 0;
}

void gemm_hold_begin(void) { holding = 1, held_used = 0, n_holds = 0; }
void gemm_hold_end(void) { holding = 0, held_used = 0, n_holds = 0; }

// B (N, K) transposed for an NT product: its held copy (made now if it is new and there is room), or bt.
static const float *transposed(const float *B, int N, int K) {
    if (holding) {
        for (int i = 0; i < n_holds; i++)
            if (holds[i].B == B && holds[i].N == N && holds[i].K == K) return held + holds[i].at;
        const size_t nk = (size_t)N * K;
        if (n_holds < GEMM_MAX_HELD && held_cap - held_used >= nk) {
            holds[n_holds++] = (held_t){.B = B, .N = N, .K = K, .at = held_used};
            transpose(held + held_used, B, N, K);
            held_used += nk;
            return held + held_used - nk;
        }
    }
    transpose(bt, B, N, K);
    return bt;
}

void gemm(gemm_op_t op, float *C, const float *A, const float *B, int M, int N, int K) {
    const kernel_t *k = backend == GEMM_LIBXSMM ? find(op, M, N, K) : NULL;
    if (k && k->f) {
        if (op == GEMM_NT) B = transposed(B, N, K);
        k->f(B, A, C);
        return;
    }
    cblas_sgemm(CblasRowMajor, op == GEMM_TN ? CblasTrans : CblasNoTrans, op == GEMM_NT ? CblasTrans : CblasNoTrans, M,
                N, K, 1.0f, A, op == GEMM_TN ? M : K, B, op == GEMM_NT ? K : N, 0.0f, C, N);
}
