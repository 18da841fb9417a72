#include "nn/gemm.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "nn/sparse.h"

#ifndef BNLAB_HAVE_BLAS
#define BNLAB_HAVE_BLAS 1
#endif

static gemm_backend_t backend = BNLAB_HAVE_BLAS ? GEMM_OPENBLAS : GEMM_PORTABLE;
static int selected;
static char reason[256];

const char *gemm_backend_name(gemm_backend_t b) {
    static const char *const names[GEMM_N_BACKENDS] = {"auto", "openblas", "libxsmm", "portable"};
    return (unsigned)b < GEMM_N_BACKENDS ? names[b] : "?";
}

int gemm_select_default(void) { return selected ? 0 : gemm_select(GEMM_AUTO); }
gemm_backend_t gemm_backend(void) { return backend; }
const char *gemm_reason(void) { return reason; }

#if !BNLAB_HAVE_BLAS
// The WebAssembly build: the portable backend alone.

int gemm_select(gemm_backend_t want) {
    const char *env = getenv("BNLAB_GEMM");
    if (want == GEMM_OPENBLAS || want == GEMM_LIBXSMM)
        return bnlab_fail("train.gemm: \"%s\" is not in this build (WebAssembly): expected \"portable\" or \"auto\"",
                          gemm_backend_name(want));
    if (want == GEMM_AUTO && env && *env && strcmp(env, "auto") && strcmp(env, "portable"))
        return bnlab_fail("environment BNLAB_GEMM: expected portable or auto in this build (WebAssembly), found \"%s\"",
                          env);
    backend = GEMM_PORTABLE;
    snprintf(reason, sizeof reason, "%s", want == GEMM_PORTABLE
                 ? "set by the config (train.gemm = \"portable\")"
                 : "auto: the only backend of this build (WebAssembly: no OpenBLAS, no libxsmm)");
    selected = 1;
    return 0;
}

const char *gemm_target(void) { return gemm_portable_target(); }
void gemm_set_threads(int n) { (void)n; }
const char *gemm_openblas_config(void) { return ""; }
const char *gemm_openblas_core(void) { return ""; }
const char *gemm_libxsmm_target(void) { return "none"; }
int gemm_libxsmm_avx512(void) { return 0; }
void gemm_prepare(gemm_op_t op, int M, int N, int K) { (void)op, (void)M, (void)N, (void)K; }
void gemm_hold_begin(void) {}
void gemm_hold_end(void) {}
void gemm_reserve_held(size_t floats) { (void)floats; }
int gemm_uses_jit(gemm_op_t op, int M, int N, int K) { return (void)op, (void)M, (void)N, (void)K, 0; }
void gemm(gemm_op_t op, float *C, const float *A, const float *B, int M, int N, int K) {
    gemm_portable(op, C, A, B, M, N, K);
}
void gemm_prepare_skip_zeros(int M, int N, int K) { (void)M, (void)N, (void)K; }
void gemm_skip_zeros_enable(int on) { (void)on; }
void gemm_skip_zeros_plant(int what) { (void)what; }
int gemm_skip_zeros_group(void) { return 1; }
void gemm_check_rows(int M, int N, int K) { (void)M, (void)N, (void)K; }
// The portable backend sums each element by itself, over k in order: a row's bits never depend on where it sits.
int gemm_rows_independent(int M, int N, int K) { return (void)M, (void)N, (void)K, 1; }
int gemm_skip_zeros_checked(int M, int N, int K) { return (void)M, (void)N, (void)K, 0; }
int gemm_nt_skip_zeros(float *C, const float *A, const float *B, int M, int N, int K) {
    gemm_portable(GEMM_NT, C, A, B, M, N, K);
    return 0;
}

#else
// Native: OpenBLAS, libxsmm and the portable backend.
#include <cblas.h>
#include <libxsmm.h>

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
    int finite;      // 1 every value finite, 0 not (gemm_nt_skip_zeros)
} held_t;
static float *held;     // room for held transpositions
static size_t held_cap, held_used;
static held_t holds[GEMM_MAX_HELD];
static int n_holds, holding;

// gemm_nt_skip_zeros: the shapes prepared for it, and room for the nonzeros of the largest A (CSR, per row).
enum { GEMM_MAX_SKIP = 16 };
typedef struct {
    int M, N, K;
    signed char same[GEMM_N_BACKENDS];  // per backend: -1 not checked yet, 1 the dense product sums as summation()
                                        // says (checked on random inputs), 0 not (zeros are never skipped)
} skip_shape_t;
static skip_shape_t skip_shapes[GEMM_MAX_SKIP];
static int n_skip, skip_off, plant;  // plant: gemm_skip_zeros_plant (tests)
static int32_t *nz_col;  // (M K) column of each nonzero of A, row after row
static float *nz_val;    // (M K) its value
static int32_t *nz_ptr;  // (M + 1) row i's nonzeros are [nz_ptr[i], nz_ptr[i + 1])
static uint64_t *nz_union;  // (ceil(K / 64)) bit k: a_ik != 0 for a row i of the group of rows summed (the FMA sums)
static size_t nz_union_cap;
static size_t nz_cap, nz_rows;
static void skip_check_all(void);
// gemm_check_rows: the NT shapes checked, per backend: -1 not checked yet, 1 every row of C had the same bits with
// A's rows in reverse order, 0 not.
enum { GEMM_MAX_ROWS = 64 };
typedef struct {
    int M, N, K;
    signed char same[GEMM_N_BACKENDS];
} rows_shape_t;
static rows_shape_t rows_shapes[GEMM_MAX_ROWS];
static int n_rows_shapes;
static void rows_check_all(void);

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

int gemm_select(gemm_backend_t want) {
    if (want == GEMM_OPENBLAS || want == GEMM_LIBXSMM || want == GEMM_PORTABLE) {
        backend = want;
        snprintf(reason, sizeof reason, "set by the config (train.gemm = \"%s\")", gemm_backend_name(want));
    } else {
        const char *env = getenv("BNLAB_GEMM");
        if (env && *env && strcmp(env, "auto")) {
            if (!strcmp(env, "openblas")) backend = GEMM_OPENBLAS;
            else if (!strcmp(env, "libxsmm")) backend = GEMM_LIBXSMM;
            else if (!strcmp(env, "portable")) backend = GEMM_PORTABLE;
            else return bnlab_fail("environment BNLAB_GEMM: expected openblas, libxsmm, portable or auto, found \"%s\"",
                                   env);
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
    skip_check_all();  // how each prepared shape sums, under this backend
    rows_check_all();
    return 0;
}

const char *gemm_target(void) {
    return backend == GEMM_LIBXSMM  ? gemm_libxsmm_target()
           : backend == GEMM_PORTABLE ? gemm_portable_target()
                                      : openblas_get_corename();
}

void gemm_set_threads(int n) { openblas_set_num_threads(n); }
const char *gemm_openblas_config(void) { return openblas_get_config(); }
const char *gemm_openblas_core(void) { return openblas_get_corename(); }

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
// Returns 1 if every value is finite (no infinity, no NaN: the exponent bits are not all ones), else 0.
static int transpose_portable(float *restrict dst, const float *restrict src, int rows, int cols) {
    enum { T = 16 };
    uint32_t bad = 0;
    for (int ib = 0; ib < rows; ib += T)
        for (int jb = 0; jb < cols; jb += T) {
            int i1 = ib + T < rows ? ib + T : rows, j1 = jb + T < cols ? jb + T : cols;
            for (int i = ib; i < i1; i++)
                for (int j = jb; j < j1; j++) {
                    const float v = src[(size_t)i * cols + j];
                    uint32_t u;
                    memcpy(&u, &v, sizeof u);
                    bad |= (u & 0x7f800000u) == 0x7f800000u;
                    dst[(size_t)j * rows + i] = v;
                }
        }
    return !bad;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
// AVX2: 8 x 8 blocks transposed in registers (unpack, shuffle, lane permute); the edges by the portable loop.
__attribute__((target("avx2"))) static int transpose_avx2(float *restrict dst, const float *restrict src, int rows,
                                                           int cols) {
    const int r8 = rows & ~7, c8 = cols & ~7;
    const __m256i expo = _mm256_set1_epi32(0x7f800000);
    __m256i bad = _mm256_setzero_si256();  // lanes whose exponent bits were all ones somewhere
#define NONFINITE(r) _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_castps_si256(r), expo), expo)
    for (int i = 0; i < r8; i += 8)
        for (int j = 0; j < c8; j += 8) {
            const float *p = src + (size_t)i * cols + j;
            __m256 r0 = _mm256_loadu_ps(p), r1 = _mm256_loadu_ps(p + cols), r2 = _mm256_loadu_ps(p + 2 * (size_t)cols),
                   r3 = _mm256_loadu_ps(p + 3 * (size_t)cols), r4 = _mm256_loadu_ps(p + 4 * (size_t)cols),
                   r5 = _mm256_loadu_ps(p + 5 * (size_t)cols), r6 = _mm256_loadu_ps(p + 6 * (size_t)cols),
                   r7 = _mm256_loadu_ps(p + 7 * (size_t)cols);
            bad = _mm256_or_si256(bad, _mm256_or_si256(_mm256_or_si256(NONFINITE(r0), NONFINITE(r1)),
                                                       _mm256_or_si256(NONFINITE(r2), NONFINITE(r3))));
            bad = _mm256_or_si256(bad, _mm256_or_si256(_mm256_or_si256(NONFINITE(r4), NONFINITE(r5)),
                                                       _mm256_or_si256(NONFINITE(r6), NONFINITE(r7))));
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
#undef NONFINITE
    uint32_t edge = 0;
    for (int i = 0; i < rows; i++)  // the edges: columns past c8 of every row, rows past r8 of the first c8 columns
        for (int j = i < r8 ? c8 : 0; j < cols; j++) {
            const float v = src[(size_t)i * cols + j];
            uint32_t u;
            memcpy(&u, &v, sizeof u);
            edge |= (u & 0x7f800000u) == 0x7f800000u;
            dst[(size_t)j * rows + i] = v;
        }
    return !edge && _mm256_testz_si256(bad, bad);
}
#endif

// dst = src^T; returns 1 if every value is finite (found while copying: the same reads).
static int transpose(float *restrict dst, const float *restrict src, int rows, int cols) {
#if defined(__x86_64__) && defined(__GNUC__)
    static int avx2 = -1;  // decided once; the answer never changes
    if (avx2 < 0) avx2 = __builtin_cpu_supports("avx2");
    if (avx2) return transpose_avx2(dst, src, rows, cols);
#endif
    return transpose_portable(dst, src, rows, cols);
}

void gemm_reserve_held(size_t floats) {
    if (floats <= held_cap) return;
    free(held);
    held = xmalloc(sizeof(float) * floats, "held GEMM operands");
    held_cap = floats, held_used = 0, n_holds = 0;
}

void gemm_hold_begin(void) { holding = 1, held_used = 0, n_holds = 0; }
void gemm_hold_end(void) { holding = 0, held_used = 0, n_holds = 0; }

// B (N, K) transposed for an NT product: its held copy (made now if it is new and there is room), or bt. finite
// (NULL: not wanted) gets 1 if every value of B is finite, else 0 (found by the transposition).
static const float *transposed(const float *B, int N, int K, int *finite) {
    if (holding) {
        held_t *h = NULL;
        for (int i = 0; i < n_holds && !h; i++)
            if (holds[i].B == B && holds[i].N == N && holds[i].K == K) h = &holds[i];
        const size_t nk = (size_t)N * K;
        if (!h && n_holds < GEMM_MAX_HELD && held_cap - held_used >= nk) {
            h = &holds[n_holds++];
            *h = (held_t){.B = B, .N = N, .K = K, .at = held_used};
            h->finite = transpose(held + held_used, B, N, K);
            held_used += nk;
        }
        if (h) {
            if (finite) *finite = h->finite;
            return held + h->at;
        }
    }
    const int f = transpose(bt, B, N, K);
    if (finite) *finite = f;
    return bt;
}

void gemm(gemm_op_t op, float *C, const float *A, const float *B, int M, int N, int K) {
    if (backend == GEMM_PORTABLE) {
        gemm_portable(op, C, A, B, M, N, K);
        return;
    }
    const kernel_t *k = backend == GEMM_LIBXSMM ? find(op, M, N, K) : NULL;
    if (k && k->f) {
        if (op == GEMM_NT) B = transposed(B, N, K, NULL);
        k->f(B, A, C);
        return;
    }
    cblas_sgemm(CblasRowMajor, op == GEMM_TN ? CblasTrans : CblasNoTrans, op == GEMM_NT ? CblasTrans : CblasNoTrans, M,
                N, K, 1.0f, A, op == GEMM_TN ? M : K, B, op == GEMM_NT ? K : N, 0.0f, C, N);
}
// gemm_check_rows (gemm.h): C (M, N) = A B^T of random inputs with no zero (terms of both signs: another order of the
// sums rounds differently somewhere), and again with A's rows in reverse order; deterministic inputs.
static void rows_check(rows_shape_t *sh) {
    if (sh->same[backend] >= 0) return;
    const int M = sh->M, N = sh->N, K = sh->K;
    const size_t mk = (size_t)M * K, nk = (size_t)N * K, mn = (size_t)M * N;
    float *A = xmalloc(sizeof(float) * mk, "GEMM check"), *R = xmalloc(sizeof(float) * mk, "GEMM check"),
          *B = xmalloc(sizeof(float) * nk, "GEMM check"), *C = xmalloc(sizeof(float) * mn, "GEMM check"),
          *D = xmalloc(sizeof(float) * mn, "GEMM check");
    uint64_t x = 0x2545f4914f6cdd1dull;  // xorshift64
    for (size_t i = 0; i < mk + nk; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        float u = (float)(x >> 40) * (1.0f / 16777216.0f) - 0.5f;  // [-0.5, 0.5)
        if (u == 0.0f) u = 0.25f;
        if (i < mk) A[i] = u;
        else B[i - mk] = u;
    }
    for (int i = 0; i < M; i++) memcpy(R + (size_t)(M - 1 - i) * K, A + (size_t)i * K, sizeof(float) * (size_t)K);
    gemm(GEMM_NT, C, A, B, M, N, K);
    gemm(GEMM_NT, D, R, B, M, N, K);
    int same = 1;
    for (int i = 0; i < M && same; i++)
        same = !memcmp(C + (size_t)i * N, D + (size_t)(M - 1 - i) * N, sizeof(float) * (size_t)N);
    sh->same[backend] = (signed char)same;
    free(A), free(R), free(B), free(C), free(D);
}

static void rows_check_all(void) {
    for (int i = 0; i < n_rows_shapes; i++) rows_check(&rows_shapes[i]);
}

void gemm_check_rows(int M, int N, int K) {
    rows_shape_t *sh = NULL;
    for (int i = 0; i < n_rows_shapes && !sh; i++)
        if (rows_shapes[i].M == M && rows_shapes[i].N == N && rows_shapes[i].K == K) sh = &rows_shapes[i];
    if (!sh) {
        if (n_rows_shapes == GEMM_MAX_ROWS) return;
        sh = &rows_shapes[n_rows_shapes++];
        *sh = (rows_shape_t){.M = M, .N = N, .K = K};
        memset(sh->same, -1, sizeof sh->same);
    }
    if (sh->same[backend] != 1) sh->same[backend] = -1;  // a kernel may exist now that did not before
    rows_check(sh);
}

int gemm_rows_independent(int M, int N, int K) {
    for (int i = 0; i < n_rows_shapes; i++)
        if (rows_shapes[i].M == M && rows_shapes[i].N == N && rows_shapes[i].K == K)
            return rows_shapes[i].same[backend] == 1;
    return 0;
}

// gemm_nt_skip_zeros (gemm.h): gemm(GEMM_NT)'s sums without the terms whose a_ik is zero, where that gives its bits.

static skip_shape_t *skip_find(int M, int N, int K) {
    for (int i = 0; i < n_skip; i++)
        if (skip_shapes[i].M == M && skip_shapes[i].N == N && skip_shapes[i].K == K) return &skip_shapes[i];
    return NULL;
}

static void skip_check(skip_shape_t *sh);

void gemm_prepare_skip_zeros(int M, int N, int K) {
    gemm_prepare(GEMM_NT, M, N, K);
    skip_shape_t *sh = skip_find(M, N, K);
    if (!sh) {
        if (n_skip == GEMM_MAX_SKIP) return;
        sh = &skip_shapes[n_skip++];
        *sh = (skip_shape_t){.M = M, .N = N, .K = K};
        memset(sh->same, -1, sizeof sh->same);
    }
    if ((size_t)M * K > nz_cap) {
        free(nz_col), free(nz_val);
        nz_cap = (size_t)M * K;
        nz_col = xmalloc(sizeof(int32_t) * nz_cap, "nonzero columns");
        nz_val = xmalloc(sizeof(float) * nz_cap, "nonzero values");
    }
    if ((size_t)M + 1 > nz_rows) {
        free(nz_ptr);
        nz_rows = (size_t)M + 1;
        nz_ptr = xmalloc(sizeof(int32_t) * nz_rows, "nonzero rows");
    }
    if ((size_t)(K + 63) / 64 > nz_union_cap) {
        free(nz_union);
        nz_union_cap = (size_t)(K + 63) / 64;
        nz_union = xmalloc(sizeof(uint64_t) * nz_union_cap, "nonzero masks");
    }
    if ((size_t)N * K > bt_cap) {  // the transposed B, whatever the backend
        free(bt);
        bt_cap = (size_t)N * K;
        bt = xmalloc(sizeof(float) * bt_cap, "transposed GEMM operand");
    }
    if (sh->same[backend] != 1) sh->same[backend] = -1;  // a kernel may exist now that did not before
    skip_check(sh);
}

void gemm_skip_zeros_enable(int on) { skip_off = !on; }

// How the current backend's dense product sums an element (tests/test_gemm.c compares the bits on every backend):
// SUM_FMA: in order over k, one fused multiply-add per term, from +0 (libxsmm's kernels with FMA: targets hsw and
// up); SUM_MULADD: in order over k, each product rounded and then added, from +0 (libxsmm without FMA — snb, wsm —
// and the portable backend); SUM_OTHER: otherwise (OpenBLAS sums in blocks of k), or no code here to match it.
enum { SUM_OTHER, SUM_FMA, SUM_MULADD };
static int summation(int M, int N, int K) {
    if (backend == GEMM_PORTABLE) return SUM_MULADD;
    const kernel_t *k = backend == GEMM_LIBXSMM ? find(GEMM_NT, M, N, K) : NULL;
    if (!k || !k->f) return SUM_OTHER;  // OpenBLAS computes it
    int id = libxsmm_get_target_archid();
    if (id >= LIBXSMM_X86_AVX2 && id < LIBXSMM_X86_ALLFEAT) {
#if defined(__x86_64__) && defined(__GNUC__)
        static int avx512 = -1;  // the FMA sums below are AVX-512 code; decided once
        if (avx512 < 0) avx512 = __builtin_cpu_supports("avx512f");
        return avx512 ? SUM_FMA : SUM_OTHER;
#else
        return SUM_OTHER;
#endif
    }
    return id >= LIBXSMM_X86_GENERIC && id < LIBXSMM_X86_AVX2 ? SUM_MULADD : SUM_OTHER;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define SKIP_TARGET __attribute__((target("avx512f,fma,popcnt,bmi")))
// Sets bit k of m[0, ceil(K / 64)) where a[k] is not zero (-0 counts as zero).
SKIP_TARGET static void row_mask_or(uint64_t *m, const float *a, int K) {
    const __m512i magnitude = _mm512_set1_epi32(0x7fffffff);
    for (int k = 0; k < K; k += 16) {
        const __mmask16 in = (__mmask16)(K - k >= 16 ? 0xffffu : (1u << (K - k)) - 1);
        const __m512i v = _mm512_maskz_loadu_epi32(in, a + k);
        m[k / 64] |= (uint64_t)_mm512_test_epi32_mask(v, magnitude) << (k % 64);
    }
}

// Rows c[g][0, 16 nv) of G rows of C (the last vector's lanes as `last` says), g < G: from +0, for every k in the
// union u of the G rows' nonzeros (a bit mask of `words` words), in order, one FMA per row and term: acc_g += a[g][k]
// Bt[k][..] (a[g][k] is 0 for some rows: that adds an exact ±0). G and nv are constants where it is inlined: each Bt
// vector is loaded once for the G rows, the accumulators stay in registers.
SKIP_TARGET static inline __attribute__((always_inline)) void fma_group(float *c, int ldc, const float *a, int lda,
                                                                        const uint64_t *u, int words, const float *Bt,
                                                                        int ldb, const int G, const int nv,
                                                                        __mmask16 last) {
    __m512 acc[3][7];
    for (int g = 0; g < G; g++)
        for (int t = 0; t < nv; t++) acc[g][t] = _mm512_setzero_ps();
    for (int w = 0; w < words; w++)
        for (uint64_t bits = u[w]; bits; bits &= bits - 1) {
            const int k = 64 * w + __builtin_ctzll(bits);
            const float *r = Bt + (size_t)k * ldb;
            __m512 b[7];
            for (int t = 0; t < nv - 1; t++) b[t] = _mm512_loadu_ps(r + 16 * t);
            b[nv - 1] = _mm512_maskz_loadu_ps(last, r + 16 * (nv - 1));
            for (int g = 0; g < G; g++) {
                const __m512 x = _mm512_set1_ps(a[(size_t)g * lda + k]);
                for (int t = 0; t < nv; t++) acc[g][t] = _mm512_fmadd_ps(x, b[t], acc[g][t]);
            }
        }
    for (int g = 0; g < G; g++) {
        float *cg = c + (size_t)g * ldc;
        for (int t = 0; t < nv - 1; t++) _mm512_storeu_ps(cg + 16 * t, acc[g][t]);
        _mm512_mask_storeu_ps(cg + 16 * (nv - 1), last, acc[g][nv - 1]);
    }
}

// Rows summed together: 3 x 7 accumulators + 7 vectors of Bt + 1 stay in 32 registers. On MNIST's test images a
// group of 3 has nonzeros in 34.5 % of the pixels (one image: 19.3 %; 2: 29.0 %; 4: 38.0 %); 3 measured fastest.
enum { FMA_G = 3 };

enum { FMA_SAMPLE = 12 };  // rows whose terms decide whether the FMA sums run (4 groups)

// C (M, N) = A (M, K) Bt (K, N), each element summed in order over k from +0 with one FMA per term, leaving out the
// terms where none of a group of FMA_G rows has a nonzero; in tiles of up to 7 vectors of columns. A group's mask is
// made just before its sums, while its rows are in cache. Returns 0 without finishing (the caller runs the dense
// product, which writes all of C) if the first FMA_SAMPLE rows keep more than half of their terms: the kernel is
// then as fast.
SKIP_TARGET static int fma_rows(float *C, const float *A, const float *Bt, int M, int N, int K, int force) {
    const int words = (K + 63) / 64;
    uint64_t *u = nz_union;
    size_t terms = 0;
    for (int i0 = 0; i0 < M; i0 += FMA_G) {
        const int G = M - i0 < FMA_G ? M - i0 : FMA_G;
        const float *a = A + (size_t)i0 * K;
        memset(u, 0, sizeof(uint64_t) * (size_t)words);
        for (int g = 0; g < G; g++) row_mask_or(u, a + (size_t)g * K, K);
        if (i0 < FMA_SAMPLE) {
            for (int w = 0; w < words; w++) terms += (size_t)G * (size_t)__builtin_popcountll(u[w]);
            const int seen = i0 + G;
            if (!force && (seen >= FMA_SAMPLE || seen == M) && 2 * terms > (size_t)seen * K) return 0;
        }
        for (int o = 0; o < N; o += 112) {
            const int wd = N - o < 112 ? N - o : 112, nv = (wd + 15) / 16;
            const __mmask16 last = (__mmask16)(wd % 16 ? (1u << (wd % 16)) - 1 : 0xffffu);
            float *c = C + (size_t)i0 * N + o;
            switch ((G - 1) * 8 + nv) {
#define FMA_CASE(GG, NV)                                                                                               \
    case (GG - 1) * 8 + NV: fma_group(c, N, a, K, u, words, Bt + o, N, GG, NV, last); break;
#define FMA_CASES(GG)                                                                                                  \
    FMA_CASE(GG, 1) FMA_CASE(GG, 2) FMA_CASE(GG, 3) FMA_CASE(GG, 4) FMA_CASE(GG, 5) FMA_CASE(GG, 6) FMA_CASE(GG, 7)
                FMA_CASES(1) FMA_CASES(2) FMA_CASES(3)
#undef FMA_CASES
#undef FMA_CASE
            }
        }
    }
    return 1;
}

// Element (i, j) summed over every k, zero terms included, one FMA per term.
SKIP_TARGET static float fma_elem(const float *a, const float *Bt, int N, int K, int j) {
    float acc = 0.0f;
    for (int k = 0; k < K; k++) acc = fmaf(a[k], Bt[(size_t)k * N + j], acc);
    return acc;
}
#endif

// The same with each product rounded before it is added.
static float muladd_elem(const float *a, const float *Bt, int N, int K, int j) {
    float acc = 0.0f;
    for (int k = 0; k < K; k++) {
        float p = a[k] * Bt[(size_t)k * N + j];
        acc = acc + p;
    }
    return acc;
}

void gemm_skip_zeros_plant(int what) { plant = what; }

int gemm_skip_zeros_group(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    return FMA_G;
#else
    return 1;
#endif
}

// The lists of A's nonzeros (nz_*) for the sums of rounded products; returns how many.
static size_t list_nonzeros(const float *A, int M, int K) {
    int32_t n = 0;
    nz_ptr[0] = 0;
    for (int i = 0; i < M; i++) {
        n += sparse_compress(nz_col + n, nz_val + n, A + (size_t)i * K, K, 0);
        nz_ptr[i + 1] = n;
    }
    return (size_t)n;
}

// C (M, N) = A (M, K) Bt (K, N) without (some of) the zero terms, the way `how` says; 0 if A is too dense for it to
// pay (C then is not complete): with FMA the first rows decide (fma_rows), else whether more than half of A is nonzero.
// force: sum however dense A is.
static int term_sums(float *C, const float *A, const float *Bt, int M, int N, int K, int how, int force) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (how == SUM_FMA) return fma_rows(C, A, Bt, M, N, K, force);
#endif
    if (how != SUM_MULADD || (2 * list_nonzeros(A, M, K) > (size_t)M * K && !force)) return 0;
    sparse_row_sums(C, NULL, nz_ptr, nz_col, nz_val, M, Bt, N);
    return 1;
}

// Does the current backend's dense product of this shape sum as summation() says? The product of random inputs with
// no zero (terms of both signs, so every order rounds differently somewhere) against the sums over lists of every
// term; deterministic: the same inputs every time. A libxsmm kernel does not always sum in order (target cpx:
// 784 x 100 x 64, 200 x 300 x 37 do not, the first layer's 100 x 784 x B do), hence the check for each shape.
static void skip_check(skip_shape_t *sh) {
    if (sh->same[backend] >= 0) return;
    const int M = sh->M, N = sh->N, K = sh->K, how = summation(M, N, K);
    sh->same[backend] = 0;
    if (how == SUM_OTHER) return;
    float *A = xmalloc(sizeof(float) * (size_t)M * K, "GEMM check"), *B = xmalloc(sizeof(float) * (size_t)N * K, "GEMM check"),
          *C = xmalloc(sizeof(float) * (size_t)M * N, "GEMM check"), *D = xmalloc(sizeof(float) * (size_t)M * N, "GEMM check");
    uint64_t x = 0x9e3779b97f4a7c15ull;  // xorshift64
    for (size_t i = 0; i < (size_t)M * K + (size_t)N * K; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        float u = (float)(x >> 40) * (1.0f / 16777216.0f);  // [0, 1)
        if (i < (size_t)M * K) A[i] = 0.001f + u;
        else B[i - (size_t)M * K] = u - 0.5f;
    }
    gemm(GEMM_NT, D, A, B, M, N, K);
    transpose(bt, B, N, K);
    sh->same[backend] = term_sums(C, A, bt, M, N, K, how, 1) && !memcmp(C, D, sizeof(float) * (size_t)M * N);
    free(A), free(B), free(C), free(D);
}

static void skip_check_all(void) {
    for (int i = 0; i < n_skip; i++) skip_check(&skip_shapes[i]);
}

int gemm_skip_zeros_checked(int M, int N, int K) {
    const skip_shape_t *sh = skip_find(M, N, K);
    return sh && sh->same[backend] == 1;
}

int gemm_nt_skip_zeros(float *C, const float *A, const float *B, int M, int N, int K) {
    const skip_shape_t *sh = skip_off ? NULL : skip_find(M, N, K);
    int how = sh && sh->same[backend] == 1 ? summation(M, N, K) : SUM_OTHER;
    if (plant == 3 && how != SUM_OTHER) how = how == SUM_FMA ? SUM_MULADD : SUM_FMA;  // may leave FMA without AVX-512
    if (how == SUM_OTHER) {
        gemm(GEMM_NT, C, A, B, M, N, K);
        return 0;
    }
    int finite;  // a non-finite b_kj: 0 b_kj is NaN, not 0
    const float *Bt = transposed(B, N, K, &finite);
    if ((!finite && plant != 2) || !term_sums(C, A, Bt, M, N, K, how, 0)) {
        gemm(GEMM_NT, C, A, B, M, N, K);
        return 0;
    }
    // Every term left out added an exact zero to the value of the sum; so an element whose sum is not zero has the
    // dense product's bits. One that is zero could differ in its sign (-0 + +0 is +0): summed again over every k.
    if (plant != 1)
        for (int i = 0; i < M; i++) {
            float *c = C + (size_t)i * N;
            int zero = 0;
            for (int j = 0; j < N; j++) zero |= c[j] == 0.0f;
            for (int j = 0; zero && j < N; j++)
                if (c[j] == 0.0f) {
#if defined(__x86_64__) && defined(__GNUC__)
                    if (how == SUM_FMA) c[j] = fma_elem(A + (size_t)i * K, Bt, N, K, j);
#endif
                    if (how == SUM_MULADD) c[j] = muladd_elem(A + (size_t)i * K, Bt, N, K, j);
                }
        }
    return 1;
}
#endif
