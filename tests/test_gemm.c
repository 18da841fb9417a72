// The GEMM backends (nn/gemm.h) against float64: every product shape of the paper's network (784-100-100-100-10,
// dense first layer and sparse-input first layer) for training batches of 60 and evaluation batches of 1000, on both
// backends, each element within the rigorous float bound of a K-term sum, |C - C64| <= K u sum_k |a_ik b_kj|
// (u = 2^-24; holds for any summation order, so it does not favour either backend). The libxsmm run must actually run
// its JIT kernels (gemm_uses_jit), and a planted error must fail the same comparison.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nn/gemm.h"
#include "base/rng.h"
#include "base/util.h"

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

int main(void) {
    // The selection: environment, config, rule.
    setenv("BNLAB_GEMM", "nonsense", 1);
    CHECK(gemm_select(GEMM_AUTO) != 0, "BNLAB_GEMM=nonsense accepted");
    CHECK_MSG(bnlab_errmsg(), "BNLAB_GEMM");
    setenv("BNLAB_GEMM", "openblas", 1);
    CHECK(gemm_select(GEMM_AUTO) == 0 && gemm_backend() == GEMM_OPENBLAS, "BNLAB_GEMM=openblas ignored");
    CHECK_MSG(gemm_reason(), "BNLAB_GEMM=openblas");
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
    test_hold();
    return check_summary("gemm");
}
