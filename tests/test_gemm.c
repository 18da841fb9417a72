// The GEMM backends (nn/gemm.h) against float64: every product shape of the paper's network (784-100-100-100-10,
// dense first layer and sparse-input first layer) for training batches of 60 and evaluation batches of 1000, on both
// backends, each element within the rigorous float bound of a K-term sum, |C - C64| <= K u sum_k |a_ik b_kj|
// (u = 2^-24; holds for any summation order, so it does not favour either backend). The libxsmm run must actually run
// its JIT kernels (gemm_uses_jit), and a planted error must fail the same comparison. The portable backend must
// moreover give the bits of the naive float loop (sum over k in order from 0, no FMA) — what makes the WebAssembly
// build's products the same as the native ones — and a one-ulp planted difference must fail that comparison.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nn/gemm.h"
#include "base/rng.h"
#include "base/util.h"
#include "io/data.h"

#if defined(__x86_64__)
#include <xmmintrin.h>  // flush-to-zero, for the -0 case of gemm_nt_skip_zeros
#endif

typedef struct {
    gemm_op_t op;
    int M, N, K;
} shape_t;

static const char *op_name(gemm_op_t op) { return op == GEMM_NN ? "NN" : op == GEMM_TN ? "TN" : "NT"; }

// Element (i, j) of op(A) op(B) in float64, and the bound's sum of |products|.
static void ref_elem(double *c, double *mag, const shape_t *s, const float *A, const float *B, int i, int j) {
    double sum = 0.0, m = 0.0;
    for (int k = 0; k < s->K; k++) {
        double a = s->op == GEMM_TN ? A[(size_t)k * s->M + i] : A[(size_t)i * s->K + k];
        double b = s->op == GEMM_NT ? B[(size_t)j * s->K + k] : B[(size_t)k * s->N + j];
        sum += a * b, m += fabs(a * b);
    }
    *c = sum, *mag = m;
}

// The largest |C - C64| / bound over the product (> 1: outside the bound), and the largest |C - C64|.
static double worst_ratio(const shape_t *s, const float *A, const float *B, const float *C, double *max_abs) {
    const double u = 1.0 / 16777216.0;
    double worst = 0.0;
    *max_abs = 0.0;
    for (int i = 0; i < s->M; i++)
        for (int j = 0; j < s->N; j++) {
            double c, mag;
            ref_elem(&c, &mag, s, A, B, i, j);
            double err = fabs((double)C[(size_t)i * s->N + j] - c), bound = 1.01 * s->K * u * mag + 1e-30;
            worst = err / bound > worst ? err / bound : worst;
            *max_abs = err > *max_abs ? err : *max_abs;
        }
    return worst;
}

// The naive float loop: element (i, j) = sum over k = 0 .. K-1 in order, from 0, each product rounded (no FMA:
// -ffp-contract=off). volatile keeps the compiler from reassociating or contracting anything.
static void naive_float(const shape_t *s, const float *A, const float *B, float *C) {
    for (int i = 0; i < s->M; i++)
        for (int j = 0; j < s->N; j++) {
            float c = 0.0f;
            for (int k = 0; k < s->K; k++) {
                float a = s->op == GEMM_TN ? A[(size_t)k * s->M + i] : A[(size_t)i * s->K + k];
                float b = s->op == GEMM_NT ? B[(size_t)j * s->K + k] : B[(size_t)k * s->N + j];
                volatile float p = a * b;
                c = c + p;
            }
            C[(size_t)i * s->N + j] = c;
        }
}

// Activations in (0, 1) like sigmoid outputs, weights and gradients of both signs.
static void fill(float *p, size_t n, rng_t *r, int positive) {
    for (size_t i = 0; i < n; i++) p[i] = (float)(positive ? rng_uniform(r) : rng_normal(r));
}

// The products of the paper's network for batch B: per dense layer forward y = x W^T (NT), dW = dy^T x (TN),
// dx = dy W (NN, not for the first layer); the sparse-input first layer's WT (in, out) only in dx of a hidden one.
static int net_shapes(shape_t *s, int B) {
    static const int widths[5] = {784, 100, 100, 100, 10};
    int n = 0;
    for (int l = 0; l < 4; l++) {
        int in = widths[l], out = widths[l + 1];
        s[n++] = (shape_t){GEMM_NT, B, out, in};
        s[n++] = (shape_t){GEMM_TN, out, in, B};
        if (l > 0) s[n++] = (shape_t){GEMM_NN, B, in, out};
    }
    s[n++] = (shape_t){GEMM_NT, B, 784, 100};  // a sparse-input layer's dx (B, in) = dy WT^T with in 784, out 100
    return n;
}

static void run_backend(gemm_backend_t b) {
    CHECK(gemm_select(b) == 0, "select %s: %s", gemm_backend_name(b), bnlab_errmsg());
    shape_t shapes[64];
    int n = net_shapes(shapes, 60);
    n += net_shapes(shapes + n, 1000);
    shapes[n++] = (shape_t){GEMM_NT, 7, 13, 17};  // odd sizes: no vector-width multiple anywhere
    shapes[n++] = (shape_t){GEMM_TN, 13, 7, 17};
    shapes[n++] = (shape_t){GEMM_NN, 17, 13, 7};
    for (int i = 0; i < n; i++) gemm_prepare(shapes[i].op, shapes[i].M, shapes[i].N, shapes[i].K);
    rng_t r;
    rng_seed(&r, 27, 0);
    double worst_all = 0.0;
    for (int i = 0; i < n; i++) {
        const shape_t *s = &shapes[i];
        size_t na = (size_t)s->M * s->K, nb = (size_t)s->K * s->N, nc = (size_t)s->M * s->N;
        float *A = xmalloc(sizeof(float) * na, "A"), *B = xmalloc(sizeof(float) * nb, "B");
        float *C = xmalloc(sizeof(float) * nc, "C"), *C2 = xmalloc(sizeof(float) * nc, "C2");
        fill(A, na, &r, s->op != GEMM_TN);  // activations (x) positive; dy of both signs
        fill(B, nb, &r, s->op == GEMM_TN);
        if (b == GEMM_LIBXSMM)
            CHECK(gemm_uses_jit(s->op, s->M, s->N, s->K), "libxsmm: no JIT kernel for %s %dx%dx%d", op_name(s->op),
                  s->M, s->N, s->K);
        else CHECK(!gemm_uses_jit(s->op, s->M, s->N, s->K), "openblas: a JIT kernel ran");
        memset(C, 0xff, sizeof(float) * nc);  // NaN: every element must be written
        gemm(s->op, C, A, B, s->M, s->N, s->K);
        double max_abs, worst = worst_ratio(s, A, B, C, &max_abs);
        CHECK(worst <= 1.0, "%s %s %dx%dx%d: error %.3g of the float bound (max |err| %.3g)", gemm_backend_name(b),
              op_name(s->op), s->M, s->N, s->K, worst, max_abs);
        worst_all = worst > worst_all ? worst : worst_all;
        if (b == GEMM_PORTABLE) {  // the naive loop's bits, and a one-ulp difference is seen
            float *N0 = xmalloc(sizeof(float) * nc, "naive C");
            naive_float(s, A, B, N0);
            CHECK(!memcmp(C, N0, sizeof(float) * nc), "portable %s %dx%dx%d: not the naive float loop's bits",
                  op_name(s->op), s->M, s->N, s->K);
            if (i == 0) {
                N0[nc / 2] = nextafterf(N0[nc / 2], INFINITY);
                CHECK(memcmp(C, N0, sizeof(float) * nc) != 0, "a one-ulp planted difference passed the bit comparison");
            }
            free(N0);
        }
        // Deterministic: the same product again gives the same bits (the NT buffer was used by other shapes since).
        gemm(s->op, C2, A, B, s->M, s->N, s->K);
        CHECK(!memcmp(C, C2, sizeof(float) * nc), "%s %s %dx%dx%d: two calls differ", gemm_backend_name(b),
              op_name(s->op), s->M, s->N, s->K);
        // Negative control: one element off by 4 times its bound must fail the comparison.
        if (i == 0) {
            double c, mag;
            ref_elem(&c, &mag, s, A, B, 3, 5);
            C2[3 * s->N + 5] = (float)(c + 4.0 * s->K * mag / 16777216.0);
            CHECK(worst_ratio(s, A, B, C2, &max_abs) > 1.0, "a planted error passed the float64 comparison");
        }
        free(A), free(B), free(C), free(C2);
    }
    printf("%s (%s): %d shapes, worst error %.3f of the float bound\n", gemm_backend_name(b), gemm_target(), n,
           worst_all);
    // A shape nobody prepared runs in OpenBLAS, correctly.
    CHECK(!gemm_uses_jit(GEMM_NN, 5, 6, 7), "an unprepared shape has a kernel");
    float A[35], B[42], C[30];
    for (int i = 0; i < 42; i++) B[i] = (float)(i % 7) - 3.0f;
    for (int i = 0; i < 35; i++) A[i] = (float)(i % 5) * 0.5f;
    gemm(GEMM_NN, C, A, B, 5, 6, 7);
    double max_abs;
    CHECK(worst_ratio(&(shape_t){GEMM_NN, 5, 6, 7}, A, B, C, &max_abs) <= 1.0, "unprepared shape wrong");
}

// Held operands (gemm_hold_begin/end): the evaluation's NT products (batch 1000 and the last 500 of a test set, the
// paper's first layer and a second weight of the same shape) give the same bits held as unheld, batch after batch.
// Negative control: a weight changed inside a hold (what the contract forbids) is not seen — the held copy is really
// used — and after gemm_hold_end it is.
static void test_hold(void) {
    CHECK(gemm_select(GEMM_LIBXSMM) == 0, "libxsmm");
    const int N = 100, K = 784, Ms[2] = {1000, 500};
    gemm_reserve_held(2 * (size_t)N * K);
    for (int i = 0; i < 2; i++) gemm_prepare(GEMM_NT, Ms[i], N, K);
    rng_t r;
    rng_seed(&r, 5, 0);
    float *A = xmalloc(sizeof(float) * 1000 * K, "A"), *W[2], *C = xmalloc(sizeof(float) * 1000 * N, "C"),
          *H = xmalloc(sizeof(float) * 1000 * N, "H");
    for (size_t i = 0; i < 1000 * (size_t)K; i++) A[i] = (float)rng_uniform(&r);
    for (int w = 0; w < 2; w++) {
        W[w] = xmalloc(sizeof(float) * N * K, "W");
        for (size_t i = 0; i < (size_t)N * K; i++) W[w][i] = (float)(0.1 * rng_normal(&r));
    }
    int same = 1;
    for (int rep = 0; rep < 3; rep++) {
        gemm_hold_begin();
        for (int b = 0; b < 4; b++) {
            const int M = Ms[b % 2], w = b / 2;
            gemm(GEMM_NT, H, A, W[w], M, N, K);
            gemm_hold_end();
            gemm(GEMM_NT, C, A, W[w], M, N, K);
            gemm_hold_begin();
            same &= !memcmp(C, H, sizeof(float) * (size_t)M * N);
        }
        gemm_hold_end();
    }
    CHECK(same, "a held NT product differs from the unheld one");
    gemm_hold_begin();
    gemm(GEMM_NT, H, A, W[0], 1000, N, K);
    W[0][0] += 1.0f;  // against the contract: the held transposition is stale
    gemm(GEMM_NT, H, A, W[0], 1000, N, K);
    gemm_hold_end();
    gemm(GEMM_NT, C, A, W[0], 1000, N, K);
    CHECK(gemm_uses_jit(GEMM_NT, 1000, N, K) && H[0] != C[0] && !memcmp(H + 1, C + 1, sizeof(float) * (N - 1)),
          "negative control: a weight changed inside a hold was seen (is the held copy used?)");
    free(A), free(W[0]), free(W[1]), free(C), free(H);
}


// gemm_nt_skip_zeros against gemm(GEMM_NT) bit for bit, on the current backend: first-layer shapes of the paper's
// network (training batch 60, evaluation batches 1000 and a last 500), odd shapes (a tail vector, two tiles of 128,
// one exact vector), inputs like MNIST's (81 % zeros, grey levels / 255, some -0, denormals, an all-zero and an
// all-nonzero row) and the first images of the MNIST subset's test set, held and unheld. Then the cases the argument
// of gemm.h names: a sum that is -0 under flush-to-zero (fma(1e-20, -1e-20, 0) underflows to -0; the dense product
// then adds +0 and ends at +0) and an infinite weight facing a zero input (NaN in the dense product). Negative
// controls, each of which must make the comparison fail where the zeros are really skipped: no second sum of a zero
// result (plant 1), skipping zeros despite the infinity (plant 2), the other kind of sum (plant 3: FMA <-> rounded
// product then add), which shows the comparison tells the two summation orders apart.
typedef struct {
    int M, N, K;
} skip_case_t;

static float *mnist_rows(int M, int K) {  // the first M test images of the subset as floats in [0, 1], or NULL
    const char *root = getenv("BNLAB_SOURCE_ROOT");
    char img[4096];
    if (!root) return NULL;
    snprintf(img, sizeof img, "%s/datasets/mnist-subset/t10k-images-idx3-ubyte.gz", root);
    dataset_t ds;
    if (idx_load_images(&ds, img, DATA_DEFAULT_MAX_BYTES) != 0) return NULL;
    CHECK(ds.dim == (uint32_t)K && ds.n >= (uint32_t)M, "MNIST subset: %u x %u", ds.n, ds.dim);
    float *x = xmalloc(sizeof(float) * (size_t)M * K, "MNIST rows");
    for (size_t i = 0; i < (size_t)M * K; i++) x[i] = ds.u8[i] / 255.0f;
    dataset_free(&ds);
    return x;
}

// Does gemm_nt_skip_zeros skip A's zeros by its rule (gemm.h), where it may at all: the sums have at most half of the
// dense product's terms — with FMA, in the first 12 rows (or all if fewer), each group of 3 rows (the last may be
// shorter) taking every k where one of them is nonzero; with rounded products, over all rows, each its nonzeros.
static int sparse_enough(const float *A, int M, int K, int fma) {
    size_t n = 0;
    const int G = fma ? 3 : 1;
    if (fma && M > 12) M = 12;
    for (int i0 = 0; i0 < M; i0 += G) {
        const int g1 = i0 + G < M ? i0 + G : M;
        for (int k = 0; k < K; k++) {
            int any = 0;
            for (int i = i0; i < g1; i++) {
                uint32_t u;
                memcpy(&u, A + (size_t)i * K + k, sizeof u);
                any |= (u << 1) != 0;
            }
            n += (size_t)(g1 - i0) * any;
        }
    }
    return 2 * n <= (size_t)M * K;
}

// Does the current backend's product of this shape sum each element in order over k from 0, one FMA per term (fma 1)
// or each product rounded and then added (fma 0)? Checked on the first rows of random inputs against scalar loops.
static int sums_in_order(int M, int N, int K, int fma) {
    float *A = xmalloc(sizeof(float) * (size_t)M * K, "A"), *B = xmalloc(sizeof(float) * (size_t)N * K, "B"),
          *C = xmalloc(sizeof(float) * (size_t)M * N, "C");
    rng_t r;
    rng_seed(&r, 99, 0);
    for (size_t i = 0; i < (size_t)M * K; i++) A[i] = (float)rng_uniform(&r);
    for (size_t i = 0; i < (size_t)N * K; i++) B[i] = (float)rng_normal(&r);
    gemm(GEMM_NT, C, A, B, M, N, K);
    int same = 1;
    for (int i = 0; i < (M < 8 ? M : 8); i++)
        for (int j = 0; j < N; j++) {
            float c = 0.0f;
            for (int k = 0; k < K; k++) {
                float a = A[(size_t)i * K + k], b = B[(size_t)j * K + k];
                if (fma) c = fmaf(a, b, c);
                else {
                    volatile float p = a * b;
                    c = c + p;
                }
            }
            same &= !memcmp(&c, C + (size_t)i * N + j, sizeof c);
        }
    free(A), free(B), free(C);
    return same;
}

// Bits of gemm_nt_skip_zeros(...) == gemm(GEMM_NT, ...)? *skipped: its return value.
static int skip_same(const float *A, const float *B, int M, int N, int K, int *skipped) {
    float *C = xmalloc(sizeof(float) * (size_t)M * N, "C"), *D = xmalloc(sizeof(float) * (size_t)M * N, "D");
    memset(C, 0xff, sizeof(float) * (size_t)M * N);  // NaN: every element must be written
    gemm(GEMM_NT, D, A, B, M, N, K);
    *skipped = gemm_nt_skip_zeros(C, A, B, M, N, K);
    int same = !memcmp(C, D, sizeof(float) * (size_t)M * N);
    free(C), free(D);
    return same;
}

static void test_skip_zeros(gemm_backend_t b) {
    CHECK(gemm_select(b) == 0, "select %s", gemm_backend_name(b));
    // Where the zeros must be skipped: libxsmm with AVX-512 on the CPU (FMA targets) or without FMA (snb, wsm:
    // LIBXSMM_TARGET), and the portable backend. OpenBLAS: never.
    const char *t = gemm_libxsmm_target();
    int fma_target = strcmp(t, "snb") && strcmp(t, "wsm") && strcmp(t, "sse3") && strcmp(t, "sse4") &&
                     strcmp(t, "generic");
#if defined(__x86_64__) && defined(__GNUC__)
    int avx512 = __builtin_cpu_supports("avx512f");
#else
    int avx512 = 0;
#endif
    const int expect = b == GEMM_PORTABLE || (b == GEMM_LIBXSMM && (!fma_target || avx512)),
              fma = b == GEMM_LIBXSMM && fma_target;
    static const skip_case_t cases[] = {{60, 100, 784}, {1000, 100, 784}, {500, 100, 784}, {7, 13, 17},
                                        {37, 200, 300}, {5, 16, 50},     {3, 1, 9},       {64, 784, 100}};
    enum { NC = sizeof cases / sizeof cases[0] };
    for (int c = 0; c < NC; c++) gemm_prepare_skip_zeros(cases[c].M, cases[c].N, cases[c].K);
    gemm_reserve_held(784 * 100 * 2);
    rng_t r;
    rng_seed(&r, 271, 0);
    int all_same = 1, n_skipped = 0, n_runs = 0, n_sparse = 0, n_expected = 0;
    for (int c = 0; c < NC; c++) {
        const int M = cases[c].M, N = cases[c].N, K = cases[c].K;
        float *A = xmalloc(sizeof(float) * (size_t)M * K, "A"), *B = xmalloc(sizeof(float) * (size_t)N * K, "B");
        for (size_t i = 0; i < (size_t)N * K; i++) B[i] = (float)(0.1 * rng_normal(&r));
        for (size_t i = 0; i < (size_t)M * K; i++) {
            double u = rng_uniform(&r);
            A[i] = u < 0.81 ? 0.0f : u < 0.82 ? -0.0f : u < 0.825 ? 1e-40f : (float)(int)(1 + 254 * rng_uniform(&r)) / 255.0f;
        }
        if (M > 2) {  // the last rows (the first ones decide whether FMA sums pay)
            memset(A + (size_t)(M - 1) * K, 0, sizeof(float) * K);  // an all-zero row
            for (int k = 0; k < K; k++) A[(size_t)(M - 2) * K + k] = (float)rng_uniform(&r) + 0.01f;  // all nonzero
        }
        // Zeros are skipped where the product sums in order (libxsmm: not every shape; checked independently here).
        const int in_order = sums_in_order(M, N, K, fma);
        CHECK(gemm_skip_zeros_checked(M, N, K) == (expect && in_order), "%s %dx%dx%d: gemm_skip_zeros_checked says %d, "
              "the scalar loops %d", gemm_backend_name(b), M, N, K, gemm_skip_zeros_checked(M, N, K), expect && in_order);
        if (K == 784 && N == 100 && expect)
            CHECK(in_order, "%s (%s): the first layer's product %dx%dx%d does not sum in order: no zeros are skipped",
                  gemm_backend_name(b), gemm_target(), M, N, K);
        const int n0 = n_sparse, r0 = n_runs;
        for (int held = 0; held < 2; held++) {
            if (held) gemm_hold_begin();
            int sk;
            all_same &= skip_same(A, B, M, N, K, &sk);
            n_skipped += sk, n_runs++, n_sparse += sparse_enough(A, M, K, fma);
            if (held) all_same &= skip_same(A, B, M, N, K, &sk), gemm_hold_end();  // the held copy reused
        }
        if (M == 1000) {  // real digits (after the count below)
            float *X = mnist_rows(M, K);
            CHECK(X != NULL, "MNIST subset: %s", bnlab_errmsg());
            if (X) {
                int sk;
                all_same &= skip_same(X, B, M, N, K, &sk);
                n_skipped += sk, n_runs++, n_sparse += sparse_enough(X, M, K, fma);
                free(X);
            }
        }
        if (expect && in_order) n_expected += n_sparse - n0;
        (void)r0;
        free(A), free(B);
    }
    CHECK(all_same, "%s (%s): gemm_nt_skip_zeros differs from gemm(GEMM_NT) in some bit", gemm_backend_name(b),
          gemm_target());
    CHECK(n_skipped == n_expected, "%s (%s): zeros skipped in %d of %d products, expected %d", gemm_backend_name(b),
          gemm_target(), n_skipped, n_runs, n_expected);
    CHECK(2 * n_sparse >= n_runs, "the test's inputs: only %d of %d are sparse enough", n_sparse, n_runs);
    // A -0 sum under flush-to-zero (FMA sums only: a rounded product 1e-20 x -1e-20 is flushed to -0 before the sum,
    // and +0 + -0 = +0), and an infinite weight facing a zero input.
    enum { M = 60, N = 100, K = 784 };  // the training batch's first-layer product: it sums in order (checked above)
    static float A[M * K], B[N * K];
    memset(A, 0, sizeof A);
    for (int i = 0; i < N * K; i++) B[i] = 1.0f;
    A[59 * K] = 1e-20f, B[0] = -1e-20f;  // element (59, 0), in a group of rows with no other nonzero: the term k = 0
                                         // underflows to -0, the rest are zero
    A[K + 1] = 0.5f, B[3 * K + 2] = INFINITY;  // element (1, 3) and every row: 0 x inf at k = 2
    gemm_prepare_skip_zeros(M, N, K);
    const int ftz = b == GEMM_LIBXSMM && fma_target;
    int sk;
#if defined(__x86_64__)
    unsigned csr = _mm_getcsr();
    _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
#endif
    B[3 * K + 2] = 1.0f;
    CHECK(skip_same(A, B, M, N, K, &sk) && sk == expect, "%s: a -0 sum under flush-to-zero", gemm_backend_name(b));
    gemm_skip_zeros_plant(1);
    int same = skip_same(A, B, M, N, K, &sk);
    gemm_skip_zeros_plant(0);
#if defined(__x86_64__)
    _mm_setcsr(csr);
    if (expect && ftz)
        CHECK(!same, "%s: negative control: a -0 sum left as it is passed the comparison", gemm_backend_name(b));
#endif
    (void)same;
    B[3 * K + 2] = INFINITY;
    CHECK(skip_same(A, B, M, N, K, &sk) && !sk, "%s: an infinite weight", gemm_backend_name(b));
    gemm_skip_zeros_plant(2);
    same = skip_same(A, B, M, N, K, &sk);
    gemm_skip_zeros_plant(0);
    if (expect) CHECK(!same, "%s: negative control: zeros skipped despite an infinite weight passed", gemm_backend_name(b));
    // The other kind of sum must be told apart on the paper's shape (the FMA sums need AVX-512).
    if (expect && avx512) {
        float *A2 = xmalloc(sizeof(float) * 60 * 784, "A"), *B2 = xmalloc(sizeof(float) * 100 * 784, "B");
        for (int i = 0; i < 60 * 784; i++) A2[i] = rng_uniform(&r) < 0.8 ? 0.0f : (float)rng_uniform(&r);
        for (int i = 0; i < 100 * 784; i++) B2[i] = (float)(0.1 * rng_normal(&r));
        gemm_skip_zeros_plant(3);
        same = skip_same(A2, B2, 60, 100, 784, &sk);
        gemm_skip_zeros_plant(0);
        CHECK(sk && !same, "%s: negative control: the other summation (FMA vs rounded product) passed",
              gemm_backend_name(b));
        free(A2), free(B2);
    }
    printf("skip zeros, %s (%s): %d products, zeros skipped in %d, compared bit for bit with gemm\n",
           gemm_backend_name(b), gemm_target(), n_runs, n_skipped);
}

int main(void) {
    // The selection: environment, config, rule.
    setenv("BNLAB_GEMM", "nonsense", 1);
    CHECK(gemm_select(GEMM_AUTO) != 0, "BNLAB_GEMM=nonsense accepted");
    CHECK_MSG(bnlab_errmsg(), "BNLAB_GEMM");
    setenv("BNLAB_GEMM", "openblas", 1);
    CHECK(gemm_select(GEMM_AUTO) == 0 && gemm_backend() == GEMM_OPENBLAS, "BNLAB_GEMM=openblas ignored");
    CHECK_MSG(gemm_reason(), "BNLAB_GEMM=openblas");
    setenv("BNLAB_GEMM", "portable", 1);
    CHECK(gemm_select(GEMM_AUTO) == 0 && gemm_backend() == GEMM_PORTABLE, "BNLAB_GEMM=portable ignored");
    CHECK(!strcmp(gemm_target(), gemm_portable_target()), "portable: target %s", gemm_target());
    setenv("BNLAB_GEMM", "libxsmm", 1);
    CHECK(gemm_select(GEMM_AUTO) == 0 && gemm_backend() == GEMM_LIBXSMM, "BNLAB_GEMM=libxsmm ignored");
    CHECK(gemm_select(GEMM_OPENBLAS) == 0 && gemm_backend() == GEMM_OPENBLAS, "the config did not win over BNLAB_GEMM");
    CHECK_MSG(gemm_reason(), "train.gemm");
    unsetenv("BNLAB_GEMM");
    CHECK(gemm_select(GEMM_AUTO) == 0, "auto");
    CHECK(gemm_backend() == (gemm_libxsmm_avx512() ? GEMM_LIBXSMM : GEMM_OPENBLAS), "auto broke its rule");
    CHECK_MSG(gemm_reason(), "auto");
    printf("libxsmm target on this CPU: %s (AVX-512 kernels: %s); auto chooses %s\n", gemm_libxsmm_target(),
           gemm_libxsmm_avx512() ? "yes" : "no", gemm_backend_name(gemm_backend()));
    run_backend(GEMM_OPENBLAS);
    run_backend(GEMM_LIBXSMM);
    run_backend(GEMM_PORTABLE);
    test_hold();
    test_skip_zeros(GEMM_OPENBLAS);
    test_skip_zeros(GEMM_LIBXSMM);
    test_skip_zeros(GEMM_PORTABLE);
    return check_summary("gemm");
}
